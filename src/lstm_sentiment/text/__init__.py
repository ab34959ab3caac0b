"""Normalisation, segmentation (jieba / English rules) and the vocabulary."""

from lstm_sentiment.text.tokenize import Tokenized, Tokenizer, detect_lang
from lstm_sentiment.text.vocab import PAD_ID, UNK_ID, Vocab

__all__ = ["PAD_ID", "Tokenized", "Tokenizer", "UNK_ID", "Vocab", "detect_lang"]
