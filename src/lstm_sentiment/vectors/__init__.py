"""Pretrained word vectors with subword fallback: the shipped ``zh`` and ``en`` tables and their builder."""

from lstm_sentiment.vectors.subword import SUBWORD_FILE, WordVectors, has_word_char, ngram_rows, shipped_vectors

__all__ = ["SUBWORD_FILE", "WordVectors", "has_word_char", "ngram_rows", "shipped_vectors"]
