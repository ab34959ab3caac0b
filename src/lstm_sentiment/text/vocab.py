"""Token ↔ id mapping, saved as ``vocab.txt`` (one token per line, line number = id)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


class Vocab:
    """Ids 0 and 1 are ``<pad>`` and ``<unk>``; the rest in ``itos`` order (:meth:`build`'s, by count; a
    vector table's, with a base model's new words after it).

    Args:
        itos: tokens in id order, starting with ``<pad>``, ``<unk>``.
    Raises:
        ValueError: itos does not start with the two special tokens, or holds a duplicate.
    """

    def __init__(self, itos: Sequence[str]) -> None:
        if list(itos[:2]) != [PAD, UNK]:
            raise ValueError(f"vocab must start with {PAD!r}, {UNK!r}, got {list(itos[:2])}")
        self.itos = list(itos)
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocab holds a duplicate token")

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_count: int = 1) -> "Vocab":
        """Vocabulary of the tokens seen at least ``min_count`` times, by descending count, ties by first
        appearance."""
        counts = Counter(token for tokens in token_lists for token in tokens)
        kept = [token for token, n in counts.most_common() if n >= min_count and token not in (PAD, UNK)]
        return cls([PAD, UNK, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token ids; unknown tokens map to ``UNK_ID``."""
        get = self.stoi.get
        return [get(token, UNK_ID) for token in tokens]

    def save(self, path: Path) -> None:
        """Write one token per line, UTF-8."""
        Path(path).write_text("\n".join(self.itos) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Vocab":
        """Read a file written by :meth:`save`."""
        return cls(Path(path).read_text(encoding="utf-8").rstrip("\n").split("\n"))
