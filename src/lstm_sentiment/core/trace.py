"""Per-step gate values recorded by the explicit LSTM path."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor


@dataclass(frozen=True)
class GateTrace:
    """Gates and states of one layer and one direction at every time step.

    Each field is float (N, L, H), indexed by the position of the input token, also for the reverse
    direction (``trace.h[:, t]`` is the reverse direction's state after reading the sequence's tokens from
    its last, ``lengths[n] - 1``, back to t).
    Positions at or past a sequence's length hold NaN, so a padded step can never pass for a real value;
    ``lengths`` (N,) int64 tells which steps are real.

    Attributes:
        i: input gate i_t, in (0, 1).
        f: forget gate f_t, in (0, 1).
        g: candidate cell state g_t (c̃_t), in (-1, 1).
        o: output gate o_t, in (0, 1).
        c: cell state c_t, unbounded.
        h: hidden state h_t = o_t ⊙ tanh(c_t), in (-1, 1).
        lengths: int64 (N,), valid steps per sequence.
    """

    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor
    c: Tensor
    h: Tensor
    lengths: Tensor

    @classmethod
    def from_steps(cls, steps: dict[str, list[Tensor]], valid: Tensor, lengths: Tensor) -> "GateTrace":
        """Stack per-step (N, H) tensors into (N, L, H) and mask padding with NaN.

        Args:
            steps: name -> list of L tensors (N, H), in token order.
            valid: bool (N, L), True at real steps.
            lengths: int64 (N,).
        """
        pad = ~valid.unsqueeze(-1)  # (N, L, 1)
        stacked = {name: torch.stack(steps[name], dim=1).masked_fill(pad, float("nan")) for name in STEP_FIELDS}
        return cls(**stacked, lengths=lengths)


# The per-step fields of GateTrace, in declaration order (i, f, g, o, c, h): every field but ``lengths``.
STEP_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(GateTrace) if f.name != "lengths")
