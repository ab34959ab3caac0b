"""Datasets: the built-in ``zh-reviews`` corpus and user files."""

from lstm_sentiment.data.dataset import LabelledTexts, check_trainable, label_order, stratified_split
from lstm_sentiment.data.corpus import load_zh_reviews
from lstm_sentiment.data.files import read_labelled, read_texts

__all__ = ["LabelledTexts", "check_trainable", "label_order", "load_zh_reviews", "read_labelled", "read_texts", "stratified_split"]
