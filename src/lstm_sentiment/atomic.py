"""Atomic writes: a reader sees the old file (or directory) or the new one, never a half-written one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from lstm_sentiment.errors import SentimentError


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it over ``path``.

    Works for a file or a directory. For a directory the old one is moved aside first and removed after,
    since rename cannot replace a non-empty directory.

    Raises:
        SentimentError: ``path`` is a directory and ``write`` made a file, or the other way round (nothing
            is replaced).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        target = tmp / "new"
        write(target)
        if path.exists() and path.is_dir() != target.is_dir():
            raise SentimentError(f"{path} is a {'directory' if path.is_dir() else 'file'}; choose another name")
        _default_permissions(target)
        if path.is_dir():
            old = tmp / "old"
            os.replace(path, old)
            os.replace(target, path)
        else:
            os.replace(target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _default_permissions(path: Path) -> None:
    # mkdtemp makes 0700 directories (and some writers 0600 files); give the result the modes a plain
    # mkdir/open would have had under the current umask.
    umask = os.umask(0)
    os.umask(umask)
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        item.chmod((0o777 if item.is_dir() else 0o666) & ~umask)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
