"""Encoded texts, length-bucketed batches and padding."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from itertools import chain

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from lstm_sentiment.text.vocab import PAD_ID

# Batches are cut from pools of this many batches sorted by length: padding shrinks to a few percent
# while the order between pools stays random.
POOL_BATCHES = 50


class EncodedTexts(Dataset):
    """(token ids, class id) pairs; every text has at least one token."""

    def __init__(self, ids: Sequence[Sequence[int]], labels: Sequence[int]) -> None:
        self.ids = [list(x) for x in ids]
        self.labels = list(labels)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[list[int], int]:
        return self.ids[index], self.labels[index]


def pad_batch(id_lists: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
    """Right-pad with ``PAD_ID``: token ids int64 (N, L_max) and lengths int64 (N,)."""
    lengths = torch.tensor([len(x) for x in id_lists], dtype=torch.long)
    ids = torch.full((len(id_lists), int(lengths.max())), PAD_ID, dtype=torch.long)
    # One tensor from all ids and one masked write, instead of a small tensor per row.
    flat = torch.tensor(list(chain.from_iterable(id_lists)), dtype=torch.long)
    ids[torch.arange(ids.size(1))[None, :] < lengths[:, None]] = flat  # row-major order = concatenation order
    return ids, lengths


def length_batches(lengths: Sequence[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, shortest first, for inference.

    A batch holds at most ``batch_size`` texts and at most ``batch_tokens`` padded steps (N · L_max), so
    padding stays small and a batch of long texts takes no more memory than one of short texts.
    """
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        # Sorted ascending, so lengths[i] is the longest of the batch once i joins it.
        if batch and (len(batch) == batch_size or (len(batch) + 1) * lengths[i] > batch_tokens):
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


def collate(batch: list[tuple[list[int], int]]) -> tuple[Tensor, Tensor, Tensor]:
    """``(token_ids (N, L), lengths (N,), labels (N,))``."""
    ids, lengths = pad_batch([x for x, _ in batch])
    return ids, lengths, torch.tensor([y for _, y in batch], dtype=torch.long)


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of similar length, reshuffled each epoch from ``seed + epoch``.

    With ``shuffle`` under ``torch.distributed`` each process takes every world_size-th batch, cut to the
    same count, so processes see disjoint data and step together. Evaluation (no shuffle) gives every
    process all batches: a small validation set may have fewer batches than processes, and duplicated
    counts leave accuracy and F1 unchanged.

    Args:
        lengths: tokens per example.
        batch_size: examples per batch.
        shuffle: False keeps a fixed, sorted order (evaluation).
        seed: base seed of the shuffles.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int = 0) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of each epoch."""
        self.epoch = epoch

    def _world(self) -> tuple[int, int]:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    def _batches(self) -> list[list[int]]:
        order = list(range(len(self.lengths)))
        rng = random.Random(self.seed + self.epoch)
        if self.shuffle:
            rng.shuffle(order)
        pool = self.batch_size * POOL_BATCHES if self.shuffle else len(order)
        batches = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start : start + pool], key=self.lengths.__getitem__)
            batches += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        if not self.shuffle:
            return batches
        rng.shuffle(batches)
        rank, world = self._world()
        per_rank = len(batches) // world if world > 1 else len(batches)
        return batches[rank::world][:per_rank]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())
