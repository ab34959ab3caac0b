"""Labelled data named on the command line: a split of the built-in corpus, or a file."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from lstm_sentiment.data.corpus import NAME, SPLITS, load_zh_reviews
from lstm_sentiment.data.dataset import LabelledTexts
from lstm_sentiment.data.files import check_file_arguments, read_labelled, refuse_one_label_string


def load_dataset(spec: str | Path, text_column: str | None = None, label_column: str | None = None, known_labels: Collection[str] | None = None) -> LabelledTexts:
    """``zh-reviews:SPLIT`` (train, validation or test; ``zh-reviews`` alone: its test split) or a labelled
    CSV/TSV/JSONL file (a str, or any ``os.PathLike``) (see :func:`~lstm_sentiment.data.files.read_labelled`; ``known_labels``, the classes
    of the model or training data it goes with, keeps labels among them as written).

    Raises:
        ValueError: an unknown split of the corpus, or a column named beside it.
        SentimentError: an unreadable file, a missing column.
        TypeError: ``spec`` is no str or ``os.PathLike``, a column no str or None
            (:func:`~lstm_sentiment.data.files.check_file_arguments`), ``known_labels`` one str or bytes.
    """
    check_file_arguments(spec, text_column=text_column, label_column=label_column, path_name="spec")
    refuse_one_label_string(known_labels)  # before a corpus is read too
    if isinstance(spec, os.PathLike):  # a file, even one named zh-reviews:test (a PurePath failed on .partition)
        return read_labelled(Path(spec), text_column, label_column, known_labels)
    name, colon, split = spec.partition(":")
    if name != NAME:
        return read_labelled(Path(spec), text_column, label_column, known_labels)
    split = split if colon else "test"
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} of {NAME}; choose one of {', '.join(SPLITS)}")
    if text_column is not None or label_column is not None:
        # Ignored without a word, as the commands refuse it: the corpus has its own columns.
        raise ValueError(f"{NAME} comes with its own columns; text_column and label_column are for a file")
    return load_zh_reviews()[SPLITS.index(split)]
