"""A CJK-capable font for matplotlib, installed with the project, so Chinese tokens never render as boxes.

The font is Noto Sans SC Regular (SIL Open Font License 1.1, from notofonts/noto-cjk), shipped by the
data-only PyPI package ``pylopdf-fonts-zh-cn``, a dependency of this project. matplotlib's default
DejaVu Sans has no Han characters; a family list ``[DejaVu Sans, Noto Sans SC]`` makes matplotlib
(≥ 3.6, Agg) take each glyph from the first family that has it: Latin and math symbols from DejaVu,
Chinese from Noto.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

from lstm_sentiment.errors import SentimentError

FONT_PACKAGE = "pylopdf-fonts-zh-cn"


def cjk_font_path() -> Path:
    """Path of the Noto Sans SC font file.

    Raises:
        SentimentError: the font package is not installed (it is a dependency of lstm-sentiment).
    """
    try:  # why here: a missing font package is one error line when a font is asked for, not at import
        import pylopdf_fonts_zh_cn
    except ImportError:
        raise SentimentError(f"the CJK font package {FONT_PACKAGE} is missing; reinstall lstm-sentiment or pip install {FONT_PACKAGE}") from None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise SentimentError(f"{path}: CJK font file missing from {FONT_PACKAGE}; reinstall it")
    return path


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Add the CJK font to matplotlib's font manager (once per process) and return its family name."""
    from matplotlib import font_manager  # why here: about a second to import, for pictures only

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def font_families() -> list[str]:
    """The ``font.family`` list to render text in any of our languages: DejaVu Sans, then the CJK font."""
    return ["DejaVu Sans", register_cjk_font()]


@lru_cache(maxsize=1)
def _drawn_code_points() -> frozenset[int]:
    """The code points that DejaVu Sans or the CJK font has a glyph for (their cmap tables)."""
    from fontTools.ttLib import TTFont  # why here: pictures only
    from matplotlib import font_manager

    codes: set[int] = set()
    for path in (font_manager.findfont("DejaVu Sans", fallback_to_default=False), cjk_font_path()):
        codes |= TTFont(str(path), lazy=True).getBestCmap().keys()
    return frozenset(codes)


def drawable(text: str) -> str:
    """``text`` as :func:`font_families` can draw it: a character neither font has (most emoji: 🦩, 🥰) is
    written ``[U+1F9A9]`` (bracketed: two in a row read "U+1F9A9U+1F970"), where matplotlib drew an empty box and printed a warning per glyph; a format
    character or combining mark without a glyph (a keycap's U+20E3, a flag's tag characters) is dropped."""
    drawn = _drawn_code_points()
    out = []
    for ch in text:
        if ord(ch) in drawn or ch in "\n ":
            out.append(ch)
        elif unicodedata.category(ch) not in ("Cf", "Mn", "Me"):
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


def font_subset(text: str) -> bytes:
    """The CJK font cut down to the characters of ``text`` (OpenType, for an HTML ``@font-face``).

    A page with a few dozen Chinese characters then carries some 40 KB of font instead of 8 MB, and
    shows Chinese on machines with no CJK font installed.
    """
    # why here: fontTools is needed by HTML pages only.
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # The subsetter reports every glyph at INFO, and the CLI logs INFO to stderr.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    options = subset.Options()
    options.notdef_outline = True
    font = TTFont(str(cjk_font_path()), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()
