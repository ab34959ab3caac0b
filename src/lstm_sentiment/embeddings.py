"""Word vectors for a vocabulary: the shipped pretrained tables (with subword fallback), or a file
through gensim.

Formats (gensim ``KeyedVectors.load_word2vec_format``): word2vec text (header "count dim") and binary
(``.bin``), fastText ``.vec`` (word2vec text format) and GloVe (no header).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lstm_sentiment.errors import SentimentError
from lstm_sentiment.text.vocab import PAD, PAD_ID, UNK, Vocab
from lstm_sentiment.vectors import WordVectors, has_word_char


def _has_header(path: Path) -> bool:
    with open(path, "rb") as f:
        first = f.readline().split()
    return len(first) == 2 and all(part.isdigit() for part in first)


def load_vectors(path: Path):
    """Load a vectors file as gensim ``KeyedVectors``; the format is told from the suffix and first line.

    Raises:
        SentimentError: missing or unparsable file.
    """
    from gensim.models import KeyedVectors  # why here: gensim takes about 0.5 s to import; only --embeddings needs it

    path = Path(path)
    if not path.is_file():
        raise SentimentError(f"{path}: embeddings file not found")
    if path.stat().st_size == 0:
        raise SentimentError(f"{path}: empty file, not a word2vec/GloVe/fastText vectors file")
    binary = path.suffix.lower() == ".bin"
    try:
        no_header = not binary and not _has_header(path)
        return KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=no_header, unicode_errors="replace")
    except (ValueError, EOFError, UnicodeDecodeError) as err:
        raise SentimentError(f"{path}: not a word2vec/GloVe/fastText vectors file ({err})") from None


def vocabulary_and_matrix(vectors, token_lists: Sequence[Sequence[str]], min_count: int, seed: int) -> tuple[Vocab, torch.Tensor, dict]:
    """The vocabulary and its initial word vectors.

    With :class:`~lstm_sentiment.vectors.WordVectors` (subword fallback): every pretrained word, then every
    word of ``token_lists`` (each has a vector, its own or the mean of its n-gram rows). With gensim
    ``KeyedVectors``: the words seen at least ``min_count`` times. Rows without a vector (``<unk>``, and
    words with neither a row nor a letter, digit or Han character) are N(0, σ²), σ the vectors' std;
    ``<pad>`` is zero.

    Returns:
        the :class:`Vocab`, float32 (V, E) matrix, and coverage: vocabulary size and the share of tokens
        found in the pretrained rows, read through subwords, and left as ``<unk>``.
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
    found = sum(n for t, n in counts.items() if t in known)
    unk = sum(n for t, n in counts.items() if t not in known and not (subwords and has_word_char(t)))
    coverage = {
        "vocab_types": len(vocab) - 2,
        "token_coverage": round(found / total, 4),
        "subword_token_share": round((total - found - unk) / total, 4),
        "unk_token_share": round(unk / total, 4),
    }
    return vocab, torch.from_numpy(matrix), coverage
