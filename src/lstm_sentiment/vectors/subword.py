"""Word vectors that cover unseen words: a row per known word, and for any other word the mean of its
character n-gram rows.

Source: fastText (Bojanowski et al. 2017, "Enriching Word Vectors with Subword Information", TACL): a word
is wrapped as ``<word>``, its character n-grams of ``min_n``…``max_n`` characters are hashed (fastText's
FNV-1a, as ``gensim.models.fasttext.ft_ngram_hashes`` computes it) into ``buckets`` rows, and an unseen
word's vector is the mean of those rows (gensim's ``FastTextKeyedVectors.get_vector`` for an out-of-vocabulary word).

On disk (a folder): ``vectors.safetensors`` (``word_vectors`` float16 (W, E), ``ngram_vectors`` float16
(B, E)), ``words.txt`` (row order, one word per line), ``config.json`` (``dim``, ``min_n``, ``max_n``,
``buckets``, how it was built) and a card ``README.md``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from torch import Tensor

from lstm_sentiment.errors import SentimentError

SUBWORD_FILE = "vectors.safetensors"


def has_word_char(word: str) -> bool:
    """Whether ``word`` holds a letter, digit or Han character: only such words get a subword vector
    (an emoji or a run of punctuation has no n-grams worth reading and stays ``<unk>``)."""
    return any(ch.isalnum() for ch in word)


_FNV_OFFSET, _FNV_PRIME, _UINT32 = 2166136261, 16777619, 0xFFFFFFFF


def _fasttext_hash(ngram: str) -> int:
    """fastText's 32-bit FNV-1a of the UTF-8 bytes, each read as a *signed* char (a byte ≥ 0x80 is XORed
    sign-extended), as Facebook's ``Dictionary::hash`` and gensim's ``ft_hash_bytes`` compute it."""
    h = _FNV_OFFSET
    for byte in ngram.encode("utf-8"):
        h = ((h ^ (byte | 0xFFFFFF00 if byte >= 0x80 else byte)) * _FNV_PRIME) & _UINT32
    return h


def ngram_rows(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """Bucket rows of the character n-grams of ``<word>``: fastText's ``computeSubwords`` (n-grams of
    ``min_n``…``max_n`` characters, the lone ``<`` and ``>`` left out) and hash, equal to gensim's
    ``ft_ngram_hashes``. Written out rather than imported: gensim's import costs about 0.5 s and 64 MB of
    memory, which every prediction with an unseen word paid (the test suite checks the equality).

    Returns:
        row ids in [0, buckets); empty when the word holds no letter, digit or Han character.
    """
    if not has_word_char(word):
        return []
    chars = f"<{word}>"
    rows = []
    for i in range(len(chars)):
        for n in range(1, min(max_n, len(chars) - i) + 1):
            if n >= min_n and not (n == 1 and (i == 0 or i + 1 == len(chars))):
                rows.append(_fasttext_hash(chars[i : i + n]) % buckets)
    return rows


class WordVectors:
    """Rows for known words, n-gram rows for the rest.

    Args:
        words: the known words, in row order.
        word_vectors: float (W, E).
        ngram_vectors: float (B, E), B buckets of hashed character n-grams.
        config: ``min_n``, ``max_n`` and how the table was built (``config.json``).
    """

    def __init__(self, words: list[str], word_vectors: Tensor, ngram_vectors: Tensor, config: dict) -> None:
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.word_vectors = word_vectors.float()
        self.ngram_vectors = ngram_vectors.float()
        self.config = dict(config)
        self.min_n, self.max_n = int(config["min_n"]), int(config["max_n"])

    @property
    def dim(self) -> int:
        """E, the size of each vector."""
        return self.word_vectors.size(1)

    def subword_vector(self, word: str) -> Tensor | None:
        """float32 (E,): the mean of the word's n-gram rows; None for a word with no letter or digit."""
        rows = ngram_rows(word, self.min_n, self.max_n, self.ngram_vectors.size(0))
        return self.ngram_vectors[rows].mean(0) if rows else None

    def vector(self, word: str) -> Tensor | None:
        """float32 (E,): the word's own row when known, else its subword vector (None if it has none)."""
        i = self.index.get(word)
        return self.word_vectors[i] if i is not None else self.subword_vector(word)

    def save(self, path: Path, card: str) -> None:
        """Write the folder (see the module docstring); float16 on disk."""
        from safetensors.torch import save_file

        from lstm_sentiment.atomic import write_atomic

        def write(directory: Path) -> None:
            directory.mkdir()
            tables = {"word_vectors": self.word_vectors.half().contiguous(), "ngram_vectors": self.ngram_vectors.half().contiguous()}
            save_file(tables, str(directory / SUBWORD_FILE))
            (directory / "words.txt").write_text("\n".join(self.words) + "\n", encoding="utf-8")
            (directory / "config.json").write_text(json.dumps(self.config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            (directory / "README.md").write_text(card, encoding="utf-8")

        write_atomic(Path(path), write)

    @classmethod
    def load(cls, path: Path) -> "WordVectors":
        """Read a folder written by :meth:`save`.

        Raises:
            SentimentError: missing folder or file, or a table that does not match ``words.txt``.
        """
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(path)
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            words = (path / "words.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
            tables = load_file(str(path / SUBWORD_FILE))
            vectors = cls(words, tables["word_vectors"], tables["ngram_vectors"], config)
        except (OSError, KeyError, ValueError, SafetensorError) as err:
            raise SentimentError(f"{path}: unreadable word vectors ({str(err).splitlines()[0]})") from None
        if vectors.word_vectors.size(0) != len(words):
            raise SentimentError(f"{path}: {vectors.word_vectors.size(0)} vectors for {len(words)} words")
        return vectors


@lru_cache(maxsize=2)
def shipped_vectors(lang: str) -> WordVectors:
    """The pretrained vectors shipped in the package for "zh" or "en" (their card: ``README.md`` beside them)."""
    if lang not in ("zh", "en"):
        raise SentimentError(f"no shipped word vectors for {lang!r}; choose zh or en")
    return WordVectors.load(Path(str(resources.files("lstm_sentiment").joinpath("assets", "vectors", lang))))
