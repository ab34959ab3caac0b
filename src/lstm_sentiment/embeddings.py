"""Word vectors for a vocabulary: the shipped pretrained tables (with subword fallback), or a file
through gensim.

Formats (gensim ``KeyedVectors.load_word2vec_format``): word2vec text (header "count dim") and binary
(``.bin``), fastText ``.vec`` (word2vec text format) and GloVe (no header), each also ``.gz`` or ``.bz2``
compressed.
"""

from __future__ import annotations

import codecs
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lstm_sentiment.errors import SentimentError, warn_caller
from lstm_sentiment.text.vocab import PAD, PAD_ID, UNK, Vocab
from lstm_sentiment.vectors import WordVectors, has_word_char


def _open(path: Path):
    """The file's bytes, decompressed for ``.gz`` and ``.bz2`` as gensim reads them (smart_open)."""
    from gensim import utils

    return utils.open(str(path), "rb")


def _is_header(line: bytes) -> bool:
    """Whether a text file's first line is word2vec's "count dim" header (GloVe has none)."""
    parts = line.split()
    return len(parts) == 2 and all(part.isdigit() for part in parts)


def _is_text(path: Path) -> bool:
    """Whether the first 4 KiB after the header line are UTF-8 text (no control bytes but whitespace): a
    binary word2vec file's float32 values give such bytes within a few vectors."""
    with _open(path) as f:
        f.readline()
        head = f.read(4096)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        # A multi-byte character cut by the 4 KiB boundary is still text.
        if err.start < len(head) - 3:
            return False
        text = head[: err.start].decode("utf-8")
    return bool(text) and all(ch.isprintable() or ch in "\n\r\t" for ch in text)


def _first_bad_line(path: Path, header: bool) -> str | None:
    """Where a text vectors file breaks the format, as "line N …", or None.

    gensim reports a short line as a numpy broadcast error without its place, and reads a line that starts
    with a space as the empty word; a scan on the error path alone costs nothing when the file is sound.
    """
    size = None
    with _open(path) as f:
        for number, raw in enumerate(f, 1):
            if number == 1 and header:
                size = int(raw.split()[1])
                continue
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if "\t" in line:
                return f"line {number} separates its values by tabs; the format separates them by spaces"
            parts = line.rstrip(" ").split(" ")
            if not parts[0]:
                return f"line {number} starts with a space: its word is empty"
            if len(parts) == 1 and size is None:  # a CSV given as vectors was told "line 3 has 1 values, not 0"
                return f"line {number} holds no values after its word (a line is a word and its numbers, separated by spaces)"
            size = len(parts) - 1 if size is None else size
            if len(parts) - 1 != size:
                # A last line without its newline is where a copy or download stopped.
                cut = "; the file ends inside it: cut short?" if not raw.endswith(b"\n") else ""
                return f"line {number} has {len(parts) - 1} values, not {size}{cut}"
            try:
                [float(value) for value in parts[1:]]
            except ValueError as err:
                return f"line {number}: {err}"
    return None


class _Duplicates(logging.Filter):
    """Takes gensim's "duplicate word …" log records (one line each, without our ``warning:`` prefix) and
    keeps the words, to be told in one warning."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg.startswith("duplicate word"):
            self.words.append(str(record.args[0]))
            return False
        return True


def check_vectors_file(path: Path) -> Path:
    """``path`` as a Path, if it names a non-empty file: what :func:`load_vectors` checks first, for a
    caller to check before its other work (train read and tokenized all its data, then said "not found").

    Raises:
        SentimentError: a directory, a missing file or an empty one.
        TypeError: ``path`` is not a str or os.PathLike (5 said pathlib's "expected str, bytes or os.PathLike").
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"embeddings must be a vectors file's path (str or Path), not {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise SentimentError(f"{path}: a directory; give the vectors file")
    if not path.is_file():
        raise SentimentError(f"{path}: embeddings file not found")
    if path.stat().st_size == 0:
        raise SentimentError(f"{path}: empty file, not a word2vec/GloVe/fastText vectors file")
    return path


def load_vectors(path: Path):
    """Load a vectors file as gensim ``KeyedVectors``; the format is told from the suffix and first line.

    ``.gz`` and ``.bz2`` files are read decompressed (``vectors.txt.gz``, ``vectors.bin.gz``).

    Raises:
        SentimentError: missing, unreadable or unparsable file (naming the first line that breaks the text
            format), a damaged or misnamed compressed file, UTF-16 or other non-UTF-8 text, a text file named
            ``.bin``, an empty word, or values that are not finite.
    """
    path = check_vectors_file(path)
    try:
        return _read_vectors(path)
    except (OSError, EOFError) as err:
        # gzip's "Not a gzipped file" is an OSError, a .gz or .bz2 cut short an EOFError, which click took for
        # Ctrl-C ("interrupted", exit 130).
        compressed = path.suffix.lower() in (".gz", ".bz2")
        raise SentimentError(f"{path}: {err}" + (f" (a damaged file, or not {path.suffix} compressed?)" if compressed else "")) from None


def _read_vectors(path: Path):
    """The vectors of an existing, non-empty file: :func:`load_vectors` past its checks of the path."""
    from gensim.models import KeyedVectors  # why here: gensim takes about 0.5 s to import; only --embeddings needs it

    with _open(path) as f:
        first = f.readline()
    if first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise SentimentError(f"{path}: UTF-16 text; vectors files are read as UTF-8, save it so")
    if first.startswith(codecs.BOM_UTF8):
        # Notepad's UTF-8: read as part of the first word, it broke the header ("line 2 has 20 values, not 1").
        raise SentimentError(f"{path}: starts with a byte-order mark; save it as UTF-8 without one")
    binary = ".bin" in [suffix.lower() for suffix in path.suffixes[-2:]]
    if binary and _is_text(path):
        # Read as binary, a text file's digits become float32 values of 1e-19 or 1e31: training ran to NaN and
        # blamed the model's weights at the end.
        raise SentimentError(f"{path}: a text file, but .bin is read as binary word2vec; give text vectors a .txt or .vec name")
    header = binary or _is_header(first)
    if not binary and b"\t" in first:
        # Without a header, a tab-separated first line read as one word of no values: numpy warnings, then
        # "ModelConfig.embedding_dim must be > 0".
        raise SentimentError(f"{path}: not a word2vec/GloVe/fastText vectors file ({_first_bad_line(path, header)})")
    gensim_log, duplicates = logging.getLogger("gensim.models.keyedvectors"), _Duplicates()
    gensim_log.addFilter(duplicates)
    try:
        vectors = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=not header, unicode_errors="replace")
    except (ValueError, EOFError, UnicodeDecodeError) as err:
        where = None if binary else _first_bad_line(path, header)
        raise SentimentError(f"{path}: not a word2vec/GloVe/fastText vectors file ({where or err})") from None
    finally:
        gensim_log.removeFilter(duplicates)
    if not vectors.vector_size:
        # A file of one word per line loaded as vectors of no numbers: "ModelConfig.embedding_dim must be > 0".
        raise SentimentError(f"{path}: not a word2vec/GloVe/fastText vectors file (its lines hold a word and no numbers)")
    # Bytes that are not UTF-8 are read as U+FFFD: a GBK file trained on, its words matching none of the data's.
    garbled = [word for word in vectors.index_to_key if word is not None and "\ufffd" in word]
    if len(garbled) > 0.05 * len(vectors.index_to_key):
        raise SentimentError(f"{path}: not UTF-8 ({len(garbled)} of {len(vectors.index_to_key)} words are not); save the file as UTF-8")
    if garbled:
        warn_caller(f"{path}: {len(garbled)} words are not UTF-8 and match no word of any text")
    if duplicates.words:
        # gensim leaves a zero row and a None key at the end for each repeated word: they would count in σ.
        kept = [word for word in vectors.index_to_key if word is not None]
        trimmed = KeyedVectors(vectors.vector_size)
        trimmed.add_vectors(kept, vectors[kept])
        vectors = trimmed
        shown = ", ".join(duplicates.words[:5]) + (", …" if len(duplicates.words) > 5 else "")
        count = len(duplicates.words)
        warn_caller(f"{path}: {count} word{'s' if count > 1 else ''} with more than one row ({shown}); the first row of each is used")
    if "" in vectors.key_to_index:
        where = None if binary else _first_bad_line(path, header)
        raise SentimentError(f"{path}: {where or 'holds an empty word'}")
    table = vectors.vectors
    if not binary and table.shape[1] > 1 and (table == table[:, :1]).all(axis=1).any():
        # gensim copies a line's lone value into every number of its row (numpy broadcasting): a file cut
        # after "word 0.5" loaded. Only such a row costs the scan; a true row of equal values passes it.
        where = _first_bad_line(path, header)
        if where:
            raise SentimentError(f"{path}: not a word2vec/GloVe/fastText vectors file ({where})")
    if not np.isfinite(vectors.vectors).all():  # "nan" and "inf" parse as floats
        raise SentimentError(f"{path}: holds values that are not finite numbers (nan or inf)")
    if header and not binary:
        declared, lines = int(first.split()[0]), _vector_lines(path)
        if lines > declared:
            # gensim reads as many rows as the header counts: the rest of the file went unread, unsaid.
            raise SentimentError(f"{path}: the header counts {declared} words, the file holds {lines} lines of vectors; correct the header")
    return vectors


def _vector_lines(path: Path) -> int:
    """Non-blank lines after a text file's header line."""
    with _open(path) as f:
        f.readline()
        return sum(1 for line in f if line.strip())


def vocabulary_and_matrix(vectors, token_lists: Sequence[Sequence[str]], min_count: int, seed: int) -> tuple[Vocab, torch.Tensor, dict]:
    """The vocabulary and its initial word vectors.

    With :class:`~lstm_sentiment.vectors.WordVectors` (subword fallback): every pretrained word, then every
    word of ``token_lists`` (each has a vector, its own or the mean of its n-gram rows). With gensim
    ``KeyedVectors``: the words seen at least ``min_count`` times. Rows without a vector (``<unk>``, and
    words with neither a row nor a letter, digit or Han character) are N(0, σ²), σ the vectors' std;
    ``<pad>`` is zero.

    Returns:
        the :class:`Vocab`, float32 (V, E) matrix, and coverage: vocabulary size and three shares of the
        tokens: of words with a pretrained row; of words read through subwords (``WordVectors``), or of words
        kept without a row, whose vectors start from N(0, σ²) (gensim); and of ``<unk>``.
    """
    counts = Counter(t for tokens in token_lists for t in tokens)
    subwords = isinstance(vectors, WordVectors)
    if subwords:
        known = vectors.index
        words = vectors.words + [w for w, _ in counts.most_common() if w not in known and w not in (PAD, UNK)]
        vocab = Vocab([PAD, UNK, *[w for w in words if w not in (PAD, UNK)]])
        table = vectors.word_vectors.numpy()
    else:
        known = vectors.key_to_index
        vocab = Vocab.build(token_lists, min_count=min_count)
        table = vectors.vectors
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, float(np.std(table)) if len(table) else 0.1, size=(len(vocab), table.shape[1])).astype(np.float32)
    matrix[PAD_ID] = 0.0
    for i, word in enumerate(vocab.itos[2:], 2):
        row = vectors.vector(word) if subwords else (vectors[word] if word in known else None)
        if row is not None:
            matrix[i] = row
    total = sum(counts.values()) or 1
    if subwords:
        found = sum(n for t, n in counts.items() if t in known)
        unk = sum(n for t, n in counts.items() if t not in known and not has_word_char(t))
    else:
        # Of the words kept (seen min_count times), those with a row start from it, the others from noise;
        # the rest are <unk>. Counted on the file alone, --min-count 1000 read as 83 % covered, 0 % in fact.
        found = sum(n for t, n in counts.items() if t in vocab.stoi and t in known)
        unk = sum(n for t, n in counts.items() if t not in vocab.stoi)
    coverage = {
        "vocab_types": len(vocab) - 2,
        "token_coverage": round(found / total, 4),
        ("subword_token_share" if subwords else "learned_token_share"): round((total - found - unk) / total, 4),
        "unk_token_share": round(unk / total, 4),
    }
    return vocab, torch.from_numpy(matrix), coverage
