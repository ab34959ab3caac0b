"""The train, validation and test data of a training run, and the split policy for a single file."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from lstm_sentiment.data.corpus import NAME, corpus_counts, load_zh_reviews
from lstm_sentiment.data.dataset import SENTENCE_MIN_CHARS, LabelledTexts, check_trainable, deduplicate, stratified_split, warn_score_labels, with_sentences
from lstm_sentiment.data.sources import load_dataset
from lstm_sentiment.errors import SentimentError, warn_caller
from lstm_sentiment.text.normalize import same_text_key

log = logging.getLogger("lstm_sentiment")

# Fractions (train, validation, test) split off one file, stratified, with stratified_split's fixed seed.
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
# With a test file of its own, 10 % of the file still goes to validation and the rest to training.
SPLIT_FRACTIONS_WITH_TEST = (0.9, 0.1, 0.0)


def training_splits(
    data: str,
    valid: Path | None = None,
    test: Path | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
) -> tuple[LabelledTexts, LabelledTexts, LabelledTexts | None]:
    """(train, validation, test) for ``lstm-sentiment train``.

    Args:
        data: ``zh-reviews`` (its fixed 80/10/10 splits; ``valid`` and ``test`` unused) or a labelled file,
            de-duplicated (:func:`deduplicate`), texts being the same when :func:`same_text_key` makes them
            so; what it drops is logged.
        valid: a validation file; None: 10 % of ``data``, stratified (:data:`SPLIT_FRACTIONS`).
        test: a test file; None: 10 % of ``data`` when ``valid`` is None too, else no test.
        text_column, label_column: the files' columns; guessed when None.
    Raises:
        SentimentError: unreadable files, one-class data, a class with fewer than 2 examples (3 when the
            validation split is cut from ``data``).
    Warns:
        UserWarning: labels that look like scores (:func:`warn_score_labels`); a test split that would miss a
            class (its texts then train); validation or test texts also in the training data.
    """
    if data == NAME:
        log.info("%s after de-duplication: %s", NAME, corpus_counts())
        return load_zh_reviews()
    full, read_as = _without_repeats(load_dataset(data, text_column, label_column))
    warn_score_labels(full)
    if valid is None:
        check_trainable(full, split=True)
        fractions = SPLIT_FRACTIONS_WITH_TEST if test is not None else SPLIT_FRACTIONS
        train_part, valid_part, split_test = stratified_split(full, fractions)
        missing = sorted(set(full.labels) - set(split_test.labels))
        if test is None and missing:
            # A report of n=0 (accuracy 0, macro-F1 nan) would read as a measured failure, and one of a
            # class or two, with others missing, as a measurement (n=1, accuracy 1.0 on 10 texts).
            counts = Counter(full.labels)
            few = ", ".join(f"{label} {counts[label]}" for label in missing)
            warn_caller(f"{data}: too few texts in a class for a test split that holds every class ({few}; 4 needed); no test figures (give --test FILE)")
            train_part, valid_part, _ = stratified_split(full, SPLIT_FRACTIONS_WITH_TEST)  # the test texts train
            split_test = None
    else:
        train_part, split_test = full, None
        valid_part = load_dataset(str(valid), text_column, label_column, set(full.labels))
    # known: -1 and 1 of a test file are two of the training data's -1/0/1, not "negative" and "positive".
    test_part = load_dataset(str(test), text_column, label_column, set(full.labels)) if test is not None else split_test
    if valid is not None or test is not None:  # parts split off the de-duplicated file share nothing
        seen = {read_as[text] for text in train_part.texts}
        for part in (valid_part, test_part):
            _warn_shared(seen, part)
    # The corpus says its counts above; a file's split sizes were in the model card alone.
    tested = "no test split" if test_part is None else f"{len(test_part):,} test" + ("" if test is not None else " (cut from it)")
    log.info("%s: %s training texts, %s validation%s, %s", data, f"{len(train_part):,}", f"{len(valid_part):,}", "" if valid is not None else " (cut from it)", tested)
    return train_part, valid_part, test_part


def with_training_sentences(train_part: LabelledTexts, valid_part: LabelledTexts, test_part: LabelledTexts | None) -> LabelledTexts:
    """``train --sentences``: ``train_part`` followed by the sentences of its texts (:func:`with_sentences`),
    none a text of ``valid_part`` or ``test_part``; logs how many were added. ``train_part`` itself when none.

    Warns:
        UserWarning: no sentence to add (the run trains on the whole texts alone).
    """
    trained = with_sentences(train_part, [part for part in (valid_part, test_part) if part is not None])
    added = len(trained) - len(train_part)
    if not added:
        warn_caller(f"--sentences: no sentence of {train_part.source} to add (none of its texts holds two of {SENTENCE_MIN_CHARS} characters or more with a letter, digit or Han character, cut at 。！？!?；;…~～ and line breaks, or each such sentence is a validation or test text, a whole training text, or given under both labels); training on the whole texts")
        return train_part
    log.info("%s: %d sentences of its %d texts added (--sentences)", train_part.source, added, len(train_part))
    return trained


def _without_repeats(data: LabelledTexts) -> tuple[LabelledTexts, dict[str, str]]:
    """The texts de-duplicated, and each text's :func:`same_text_key` (kept for the overlap warnings)."""
    # A text repeated in the file would land in train and test both (review exports repeat "好评" and the
    # like) and inflate the test figures; one under two labels teaches nothing but noise. Texts are the
    # same when the model reads them the same: case, spaces, entities and full-width forms aside.
    read_as = {text: same_text_key(text) for text in set(data.texts)}
    kept = deduplicate(data, key=read_as.__getitem__)
    if len(kept) < len(data):
        # A text deduplicate dropped whole had two labels: its reading is not among the kept ones.
        kept_readings = {read_as[text] for text in kept.texts}
        conflicting = sum(read_as[text] not in kept_readings for text in data.texts)
        copies = len(data) - conflicting - len(kept)
        # Rows and texts both: "texts under two labels: 10" was said of 5 texts in 10 rows.
        distinct = len({read_as[text] for text in data.texts if read_as[text] not in kept_readings})
        two = f"; texts under two labels: {distinct}, in {conflicting} rows" if conflicting else ""
        log.info("%s: de-duplicated as the model reads the texts, %d of %d rows left (copies of a kept text: %d%s)", data.source, len(kept), len(data), copies, two)
        try:
            check_trainable(kept)
        except SentimentError as err:  # say that the file had enough before
            texts, labels = len(set(data.texts)), len(set(data.labels))
            # Labels in the text column: every "text" (0 or 1) stood under many labels, all dropped.
            swapped = f"; {texts} distinct texts and {labels} distinct labels: are the text and label columns swapped?" if labels > texts else ""
            raise SentimentError(f"{err} after de-duplication (copies dropped: {copies}{two}){swapped}") from None
    return kept, read_as


def _warn_shared(seen: set[str], part: LabelledTexts | None) -> None:
    """Warn when ``part`` holds texts whose :func:`same_text_key` is in ``seen`` (the training texts')."""
    if part is None:
        return
    shared = sum(same_text_key(text) in seen for text in part.texts)
    if shared:
        warn_caller(f"{part.source}: {shared} of {len(part)} texts also in the training data (as the model reads them); its figures count them as unseen")
