"""Training data: encoded texts, and length-bucketed batches reshuffled every epoch (padding: :mod:`lstm_sentiment.inference.batches`)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from lstm_sentiment.inference.batches import pad_batch

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


def collate(batch: list[tuple[list[int], int]]) -> tuple[Tensor, Tensor, Tensor]:
    """``(token_ids (N, L), lengths (N,), labels (N,))``."""
    ids, lengths = pad_batch([x for x, _ in batch])
    return ids, lengths, torch.tensor([y for _, y in batch], dtype=torch.long)


def bucketed_loader(id_lists: Sequence[Sequence[int]], label_ids: Sequence[int], batch_size: int, shuffle: bool, seed: int) -> torch.utils.data.DataLoader:
    """Batches of :func:`collate` over :class:`EncodedTexts`, drawn by a :class:`BucketBatchSampler`."""
    sampler = BucketBatchSampler([len(x) for x in id_lists], batch_size, shuffle=shuffle, seed=seed)
    return torch.utils.data.DataLoader(EncodedTexts(id_lists, label_ids), batch_sampler=sampler, collate_fn=collate)


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
