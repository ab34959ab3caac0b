"""Words from text: jieba for Chinese (with any Latin words inside it), a Treebank-style rule for English.

Negation words are ordinary tokens and are never dropped ("我不喜欢这个电影" → 我 / 不 / 喜欢 / 这个 / 电影).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from lstm_sentiment.text.normalize import has_han, normalize, t2s_pattern

LANGS = ("auto", "zh", "en")
DEFAULT_MAX_TOKENS = 256
# Characters kept from each end of a very long text before segmentation, so a 1 MB text costs no more
# than a long review; at most a few characters per token in either language.
_CHARS_PER_TOKEN = 8

# English words, with the Penn Treebank contractions split off as SST-2/GLUE text is
# ("doesn't" → "does n't", "it's" → "it 's"), numbers, and single punctuation marks.
_EN_TOKEN = re.compile(r"[^\W_]+(?=n't\b)|n't\b|'[^\W_]+|[^\W_]+|[^\w\s]")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()  # loads the cached dictionary once per process
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary and OpenCC's tables now rather than at the first Chinese text."""
    _jieba()
    t2s_pattern()


def detect_lang(text: str) -> str:
    """"zh" if the text holds a Han character, else "en" (language by script)."""
    return "zh" if has_han(text) else "en"


@dataclass(frozen=True)
class Tokenized:
    """One text after normalisation and segmentation.

    Attributes:
        tokens: the words, at most ``max_tokens``.
        lang: "zh" or "en", the tokenizer used.
        truncated: True if tokens were dropped from the middle.
    """

    tokens: tuple[str, ...]
    lang: str
    truncated: bool


class Tokenizer:
    """Normalise and segment text into words.

    Args:
        lang: "auto" (by script: jieba when the text holds Han characters, keeping Latin words inside
            it, as in "剧情太boring了" → 剧情 / 太 / boring / 了), "zh" or "en".
        max_tokens: longer texts keep their first ``max_tokens // 2`` and last ``max_tokens - max_tokens // 2``
            tokens (the opening and the verdict of a review), with a warning.
    Raises:
        ValueError: unknown lang or max_tokens < 2.
    """

    def __init__(self, lang: str = "auto", max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
        if max_tokens < 2:
            raise ValueError(f"max_tokens must be >= 2, got {max_tokens}")
        self.lang = lang
        self.max_tokens = max_tokens

    def settings(self) -> dict:
        """What a model bundle stores to rebuild this tokenizer."""
        return {"lang": self.lang, "max_tokens": self.max_tokens}

    def words(self, text: str) -> tuple[list[str], str]:
        """All words of ``text`` (no truncation) and the language used."""
        text = normalize(text)
        lang = detect_lang(text) if self.lang == "auto" else self.lang
        if lang == "zh":
            words = [w for w in _jieba().lcut(text) if not w.isspace()]
        else:
            words = _EN_TOKEN.findall(text)
        return words, lang

    def __call__(self, text: str) -> Tokenized:
        """Tokenize one text, truncating to ``max_tokens`` (head and tail kept)."""
        limit = self.max_tokens * _CHARS_PER_TOKEN
        if len(text) > 2 * limit:
            text = text[:limit] + " " + text[-limit:]
        words, lang = self.words(text)
        truncated = len(words) > self.max_tokens
        if truncated:
            head = self.max_tokens // 2
            words = words[:head] + words[len(words) - (self.max_tokens - head) :]
        return Tokenized(tuple(words), lang, truncated)


def warn_truncated(count: int, max_tokens: int) -> None:
    """One warning for all texts of a batch that were cut to ``max_tokens``."""
    if count:
        warnings.warn(f"{count} text(s) longer than {max_tokens} tokens were truncated (head and tail kept)", stacklevel=2)
