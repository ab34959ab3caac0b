"""Pretrained word vectors through gensim, or word2vec trained on the training texts.

Formats (gensim ``KeyedVectors.load_word2vec_format``): word2vec text (header "count dim") and binary
(``.bin``), fastText ``.vec`` (word2vec text format) and GloVe (no header).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lstm_sentiment.errors import SentimentError
from lstm_sentiment.text.vocab import PAD_ID, UNK_ID, Vocab


def _has_header(path: Path) -> bool:
    with open(path, "rb") as f:
        first = f.readline().split()
    return len(first) == 2 and all(part.isdigit() for part in first)


def load_vectors(path: Path):
    """Load a vectors file as gensim ``KeyedVectors``; the format is told from the suffix and first line.

    Raises:
        SentimentError: missing or unparsable file.
    """
    from gensim.models import KeyedVectors

    path = Path(path)
    if not path.is_file():
        raise SentimentError(f"{path}: embeddings file not found")
    binary = path.suffix.lower() == ".bin"
    try:
        no_header = not binary and not _has_header(path)
        return KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=no_header, unicode_errors="replace")
    except (ValueError, EOFError, UnicodeDecodeError) as err:
        raise SentimentError(f"{path}: not a word2vec/GloVe/fastText vectors file ({err})") from None


def _stable_hash(text: str) -> int:
    # gensim seeds each word's initial vector from hash(word); Python's hash is salted per process,
    # which would make two runs with the same seed differ.
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(token_lists: Sequence[Sequence[str]], dim: int, min_count: int, epochs: int, seed: int):
    """Skip-gram word2vec (Mikolov et al. 2013) on the training texts only, single-threaded so the
    same seed gives the same vectors. Returns gensim ``KeyedVectors``."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        sentences=[list(t) for t in token_lists],
        vector_size=dim,
        window=5,
        min_count=min_count,
        sg=1,
        negative=5,
        epochs=epochs,
        seed=seed,
        workers=1,
        hashfxn=_stable_hash,
    )
    return model.wv


def embedding_matrix(vocab: Vocab, vectors, token_lists: Sequence[Sequence[str]], seed: int) -> tuple[torch.Tensor, dict]:
    """Rows of ``vectors`` for the vocabulary; ``<pad>`` zero, other rows N(0, σ²) with σ the vectors' std.

    Returns:
        float32 (V, E) matrix and coverage: share of vocabulary types and of training tokens found.
    """
    dim = vectors.vector_size
    rng = np.random.default_rng(seed)
    scale = float(np.std(vectors.vectors)) if len(vectors) else 0.1
    matrix = rng.normal(0.0, scale, size=(len(vocab), dim)).astype(np.float32)
    matrix[PAD_ID] = 0.0
    found = np.zeros(len(vocab), dtype=bool)
    for i, token in enumerate(vocab.itos):
        if i in (PAD_ID, UNK_ID):
            continue
        if token in vectors.key_to_index:
            matrix[i] = vectors[token]
            found[i] = True
    counts = Counter(t for tokens in token_lists for t in tokens)
    total = sum(counts.values()) or 1
    token_hits = sum(n for t, n in counts.items() if t in vectors.key_to_index)
    coverage = {
        "vocab_types": len(vocab) - 2,
        "types_found": int(found.sum()),
        "type_coverage": round(float(found.sum()) / max(len(vocab) - 2, 1), 4),
        "token_coverage": round(token_hits / total, 4),
    }
    return torch.from_numpy(matrix), coverage
