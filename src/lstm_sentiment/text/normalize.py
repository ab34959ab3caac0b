"""Text normalisation applied before segmentation, the same at training and prediction time."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_TAG = re.compile(r"<[^>]{0,200}>")  # HTML tags such as <br /> (IMDb-style reviews carry them)
_SPACE = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # opencc-python-reimplemented: traditional → simplified Chinese

    return OpenCC("t2s")


def has_han(text: str) -> bool:
    """True if ``text`` holds a Han (Chinese) character."""
    return _HAN.search(text) is not None


def normalize(text: str) -> str:
    """Unicode NFKC, HTML tags and entities removed, traditional → simplified Chinese, lowercase,
    whitespace collapsed.

    NFKC folds full-width letters and digits (ＡＢＣ１２３ → ABC123), common in Chinese reviews.
    Lowercasing only changes cased scripts, so it is harmless for Chinese.
    """
    text = unicodedata.normalize("NFKC", text)
    text = html.unescape(_TAG.sub(" ", text))
    if has_han(text):
        text = _t2s().convert(text)
    return _SPACE.sub(" ", text).strip().lower()
