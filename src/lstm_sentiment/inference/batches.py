"""Inference batches: texts grouped by length and right-padded, so padding stays small.

Training pads its batches with :func:`pad_batch` too (:mod:`lstm_sentiment.training.batches`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import chain

import torch
from torch import Tensor

from lstm_sentiment.text.vocab import PAD_ID


def pad_batch(id_lists: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
    """Right-pad with ``PAD_ID``: token ids int64 (N, L_max) and lengths int64 (N,).

    Raises:
        TypeError: an id that is not an integer (a float such as 1.5 was cut to 1 without a word, a string
            failed inside torch).
    """
    lengths = torch.tensor([len(x) for x in id_lists], dtype=torch.long)
    ids = torch.full((len(id_lists), int(lengths.max())), PAD_ID, dtype=torch.long)
    # One tensor from all ids and one masked write, instead of a small tensor per row. An int64 array takes
    # integers alone (torch.tensor(..., dtype=torch.long) cut 1.5 to 1) and is faster than either.
    try:
        flat = array("q", chain.from_iterable(id_lists))
    except (TypeError, OverflowError) as error:
        raise TypeError(f"token ids must be integers of int64's range ({error})") from None
    if flat:
        ids[torch.arange(ids.size(1))[None, :] < lengths[:, None]] = torch.frombuffer(flat, dtype=torch.long)  # row-major order = concatenation order
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
