"""How a trained LSTM holds the first word across the fillers: forget gate f_t and cell state c_t over time.

Runs the project's LSTM with ``return_trace=True`` (the explicit path, same Parameters as the fused
kernel it trained with) on test sequences of the recall task.
Shape letters: N sequences, L = T steps, H hidden units.
"""

from __future__ import annotations

import torch

from .config import LSTM_CELLS
from .models import SequenceModel

MEMORY_UNITS = 8  # how many units count as "the memory": those whose final c_T best separates the labels


def pick_traced_run(lstm_runs: dict) -> dict:
    """Choose the LSTM runs to trace: the chrono LSTM ("lstm") at the longest length any of its seeds
    solved (its lowest such seed), else at the longest length's first seed; and the forget-bias-1 LSTM
    ("lstm-bias1") at that same length and seed, so the two are read on the same test sequences. Without
    an "lstm" run, the choice is made on "lstm-bias1"'s own runs.

    Args:
        lstm_runs: (cell, length, seed) -> (RunResult, weights) of the LSTM runs.
    Returns:
        cell -> (RunResult, weights), one or two entries, "lstm" first.
    """
    lead = "lstm" if any(key[0] == "lstm" for key in lstm_runs) else "lstm-bias1"
    runs = {key[1:]: result for key, (result, _) in lstm_runs.items() if key[0] == lead}
    solved = [key for key, result in runs.items() if result.solved]
    candidates = solved or list(runs)
    length = max(key[0] for key in candidates)
    seed = min(key[1] for key in candidates if key[0] == length)
    return {cell: lstm_runs[(cell, length, seed)] for cell in LSTM_CELLS if (cell, length, seed) in lstm_runs}


def trace_memory(model: SequenceModel, batches: list, run) -> dict:
    """Summarise the forget gate and cell state of a trained recall-task LSTM over time.

    Args:
        model: a trained ``SequenceModel`` whose ``rnn`` is :class:`~lstm_sentiment.core.LSTM`.
        batches: test batches ``(tokens int64 (N, L), labels int64 (N,))``, all of one length.
        run: the model's RunResult (its cell, length, seed and final accuracy go into the summary).
    Returns:
        A JSON-ready dict; every list has one value per step t = 0 … T-1:
        ``f_mean`` mean f_t over all units and sequences; ``f_memory`` mean f_t over the
        :data:`MEMORY_UNITS` memory units; ``c_norm_pos`` / ``c_norm_neg`` mean ‖c_t‖₂ (over H) of positive /
        negative sequences; ``c_unit_pos`` / ``c_unit_neg`` mean c_t of the single best-separating unit.
        Also ``memory_units`` (their indices), ``cell``, ``length``, ``seed``, ``accuracy``, ``solved``,
        ``sequences``.
    """
    tokens = torch.cat([x for x, _ in batches])  # (N, L)
    labels = torch.cat([y for _, y in batches])  # (N,)
    model.eval()
    with torch.no_grad():
        _, _, trace = model.rnn(model.inputs(tokens), return_trace=True)
    gates = trace[0][0]  # layer 0, forward direction; fields (N, L, H), no padding here
    pos, neg = labels == 1, labels == 0
    c_last = gates.c[:, -1]  # (N, H)
    separation = (c_last[pos].mean(0) - c_last[neg].mean(0)).abs()  # (H,)
    units = separation.argsort(descending=True)[:MEMORY_UNITS]
    top = int(units[0])
    c_norm = gates.c.norm(dim=-1)  # (N, L)
    return {
        "cell": run.cell,
        "length": run.length,
        "seed": run.seed,
        "accuracy": run.final,
        "solved": run.solved,
        "sequences": int(labels.numel()),
        "memory_units": units.tolist(),
        "f_mean": gates.f.mean(dim=(0, 2)).tolist(),
        "f_memory": gates.f[:, :, units].mean(dim=(0, 2)).tolist(),
        "c_norm_pos": c_norm[pos].mean(0).tolist(),
        "c_norm_neg": c_norm[neg].mean(0).tolist(),
        "c_unit_pos": gates.c[pos][:, :, top].mean(0).tolist(),
        "c_unit_neg": gates.c[neg][:, :, top].mean(0).tolist(),
    }
