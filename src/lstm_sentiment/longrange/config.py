"""Configuration of a long-range memory benchmark run, and the parsers of its comma-separated flags."""

from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass, fields, replace

from lstm_sentiment.config import FLOAT32_MAX, MAX_LR, MAX_SIZE

TASKS = ("adding", "recall")
CELLS = ("rnn", "gru", "lstm", "lstm-bias1")
LSTM_CELLS = ("lstm", "lstm-bias1")  # the project's LSTM, whose gates the recall task traces afterwards
# How plots name each cell: "lstm" alone did not say which of the two LSTMs a line was.
CELL_LABELS = {"rnn": "rnn (tanh)", "gru": "gru", "lstm": "lstm (chrono)", "lstm-bias1": "lstm-bias1 (forget bias 1)"}
MAX_SEEDS = 10_000
TEST_BATCH = 256  # test sequences evaluated at once

# Bytes of one run's peak memory per sequence × step × hidden unit, by cell, apart for the training batch
# (activations stored for backpropagation through time, and their gradients) and the evaluation batch
# (outputs only). Measured here: peak RSS of ``train_one`` (adding and recall, H = 64, T = 500 and 1,000,
# batch 8 and 264, 256 test sequences; the growth with T solved for both): training 56 (lstm), 35 (gru),
# 6 (rnn) bytes, evaluation 19 (gru) and 12 (rnn); rounded up by about 10 %. The lstm's evaluation, measured
# again as the growth from 32 to 256 test sequences (H = 64 to 256, T = 500 to 2,000, both tasks), took 7.1
# to 9.5 bytes (the 13 of a first fit put the 256 test sequences of T = 2,000 at 1.55 times their peak).
# One coefficient for both batches (10 for lstm, fitted where the 256 test sequences dominate) put a run of
# batch 264 at 0.87 GB that peaked at 1.65, and one of batch 10^8 at 4.7 GiB (it asked for 140).
_TRAIN_BYTES = {"rnn": 8, "gru": 42, "lstm": 64, "lstm-bias1": 64}
_EVAL_BYTES = {"rnn": 14, "gru": 22, "lstm": 11, "lstm-bias1": 11}
# Below this many units a step costs as much as at this many (measured: the fused LSTM's training step at
# H = 2 took 413 bytes a sequence, as 6.5 units would at 64 bytes).
_MIN_UNITS = 8
_GATES = {"rnn": 1, "gru": 3, "lstm": 4, "lstm-bias1": 4}
_PROCESS_BYTES = 2**29  # torch and Lightning loaded, before the first step (measured: about 400 MB)
# The recall task's gate trace, per test sequence × step × unit: f, i, g, o, c and h in float32 (24 bytes)
# and their copies while traced (per-step lists, stacked, NaN-masked; the input projection; c by class).
# Measured: peak RSS growth of ``trace_memory`` 77–79 bytes (T = 200, H = 128 and T = 400, H = 64, 512
# sequences); 24, the fields alone, let a long recall run pass the check and run out of memory after training.
_TRACE_BYTES = 80
# Labels are drawn at random: with 32 sequences a test set of one class has probability 2 · 2^-32.
MIN_RECALL_TEST = 32


@dataclass(frozen=True)
class LongRangeConfig:
    """One benchmark: every cell × length × seed, trained under the same budget.

    The defaults are the full run of the README (adding task, T = 50, 100, 200, 400, four cells, three
    seeds, hidden size 128, two worker processes). Its step budget was chosen so that the whole run fits
    in 20 minutes on the two busy cores of a 2-core machine (per-step costs measured in the pilot below,
    scaled to the longer lengths; see the README section "Long-range memory" for the measured time),
    not so that any cell wins.

    Attributes:
        task: "adding" (regression, test MSE) or "recall" (classification, test accuracy).
        lengths: sequence lengths T to train on, each ≥ 2 (the adding task marks one step in each half);
            kept in increasing order (tables, plots and results.json read them so), whatever order given.
        cells: recurrent cells to compare, from ("rnn", "gru", "lstm", "lstm-bias1"): "lstm" is chrono-
            initialised with T_max = T, "lstm-bias1" has forget-gate bias 1.0 (see :mod:`.models`).
        seeds: number of seeds, run as 0 … seeds-1; a seed fixes the initial weights and the training
            batches, which are the same for every cell at that seed and length.
        hidden_size: H, units of h_t (and c_t), the same for every cell.
        steps: optimizer steps per run (the same for every cell); a run stops earlier once it solves the
            task if ``stop_when_solved``.
        batch_size: sequences per training step, each batch freshly drawn.
        lr: Adam learning rate, the same for every cell. Picked before the default run on a one-seed pilot
            at T=50 (adding and recall, 1000 steps, lr 0.003 and 0.01): at 0.01 the gated cells solved 5 of
            the 6 (cell, task) pairs, at 0.003 only 3 (README, "How the defaults were chosen"); the tanh RNN
            solved neither task at either rate.
        clip_norm: gradients are rescaled to this global L2 norm when above it (Pascanu et al. 2013).
        eval_every: steps between evaluations on the test set (the resolution of "first solved step"); a
            run also evaluates at its last step, so one above ``steps`` evaluates once, at the end
            (:attr:`evaluated_every`).
        test_size: sequences in the fixed test set of each length, drawn from a generator that training
            never uses; for recall at least :data:`MIN_RECALL_TEST` (its gate trace compares the cell
            states of the two classes, and a test set of one class wrote NaN into results.json).
        embed_dim: width of the learned word embedding (recall task only).
        threads: torch intra-op threads of each worker while training. 1 by default: on the 2-core
            machine a second thread sped a step up by at most 1.3×, and made it up to 25× slower when the
            other core was busy (oversubscribed OpenMP threads spin).
        workers: runs trained at once, each in its own process. 2 by default, one per core of the
            2-core machine: runs are independent, so two processes of one thread each use both cores
            without the spinning of two threads in one step.
        stop_when_solved: end a run at the first evaluation that meets the criterion; its final metric is
            then that evaluation's.
    Raises:
        ValueError: naming the field and the bad value.
    """

    task: str = "adding"
    lengths: tuple[int, ...] = (50, 100, 200, 400)
    cells: tuple[str, ...] = CELLS
    seeds: int = 3
    hidden_size: int = 128
    steps: int = 800
    batch_size: int = 32
    lr: float = 1e-2
    clip_norm: float = 1.0
    eval_every: int = 50
    test_size: int = 512
    embed_dim: int = 16
    threads: int = 1
    workers: int = 2
    stop_when_solved: bool = True

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}; got {self.task!r}")
        # A list, or numpy's ints, are what a researcher has at hand: "must be a non-empty tuple" refused them.
        if not isinstance(self.lengths, (tuple, list)) or not self.lengths:
            raise ValueError(f"lengths must be a non-empty tuple or list of ints; got {self.lengths!r}")
        object.__setattr__(self, "lengths", tuple(_as_int(length) for length in self.lengths))
        for length in self.lengths:
            if isinstance(length, bool) or not isinstance(length, int) or length < 2:
                raise ValueError(f"lengths must be ints >= 2; got {length!r}")
        _refuse_repeats("lengths", self.lengths)
        # --lengths 400,50 made the summary's columns and the learning-curve panels run 400, then 50.
        object.__setattr__(self, "lengths", tuple(sorted(self.lengths)))
        if not isinstance(self.cells, (tuple, list)) or not self.cells:
            raise ValueError(f"cells must be a non-empty tuple or list; got {self.cells!r}")
        object.__setattr__(self, "cells", tuple(self.cells))
        for cell in self.cells:
            if cell not in CELLS:
                raise ValueError(f"cells must be from {', '.join(CELLS)}; got {cell!r}")
        _refuse_repeats("cells", self.cells)
        for name in ("seeds", "hidden_size", "steps", "batch_size", "eval_every", "test_size", "embed_dim", "threads", "workers"):
            value = _as_int(getattr(self, name))
            object.__setattr__(self, name, value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1; got {value!r}")
            # Past these the run list or a tensor dimension cannot be built: a hang or a traceback.
            limit = MAX_SEEDS if name == "seeds" else MAX_SIZE
            if value > limit:
                raise ValueError(f"{name} must be an int <= {limit:,}; got {value!r}")
        if self.task == "recall" and self.test_size < MIN_RECALL_TEST:
            raise ValueError(f"test_size must be >= {MIN_RECALL_TEST} for recall (the trace compares both classes); got {self.test_size!r}")
        if max(self.lengths) > MAX_SIZE:
            raise ValueError(f"lengths must be ints <= {MAX_SIZE:,}; got {max(self.lengths)!r}")
        if not isinstance(self.stop_when_solved, bool):
            raise ValueError(f"stop_when_solved must be a bool; got {self.stop_when_solved!r}")
        for name, most in (("lr", MAX_LR), ("clip_norm", FLOAT32_MAX)):
            value = getattr(self, name)
            # inf trains every cell to NaN; past float32's range the optimizer cannot hold it (a traceback).
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= most:
                raise ValueError(f"{name} must be a number > 0 and <= {most:.1e}; got {value!r}")

    def run_bytes(self, cell: str, length: int) -> int:
        """Estimated peak memory of one run (one worker process), in bytes: 8–44 % above the peaks
        measured on this project's machine (see ``_TRAIN_BYTES``); weights, gradients and Adam's two
        moments counted as four float32 copies of the recurrent weights."""
        per_step = _TRAIN_BYTES[cell] * self.batch_size + _EVAL_BYTES[cell] * min(self.test_size, TEST_BATCH)
        weights = 16 * _GATES[cell] * self.hidden_size * (self.hidden_size + self.embed_dim + 2)
        return _PROCESS_BYTES + per_step * length * max(self.hidden_size, _MIN_UNITS) + weights

    def peak_bytes(self) -> int:
        """Estimated peak memory of the whole benchmark, in bytes: the ``workers`` largest runs at once
        (runs go longest first), or the recall task's gate trace of its longest length afterwards (every
        test sequence at once), whichever is larger."""
        # Each cell and length once per seed (up to the workers): two seeds of the longest run go at once.
        each = min(self.seeds, self.workers)
        runs = sorted((self.run_bytes(cell, length) for cell in self.cells for length in self.lengths for _ in range(each)), reverse=True)
        training = _PROCESS_BYTES + sum(runs[: self.workers])  # this process beside the workers
        trace = _PROCESS_BYTES + _TRACE_BYTES * self.test_size * max(self.lengths) * self.hidden_size if self.traced else 0
        return max(training, trace)

    @property
    def evaluated_every(self) -> int:
        """Steps between a run's evaluations as they happen: ``eval_every``, at most ``steps`` (steps=20 beside
        the default 50 evaluated once, at step 20, and the summary said "every 50 steps")."""
        return min(self.eval_every, self.steps)

    @property
    def planned_runs(self) -> int:
        """Runs of the whole benchmark: every cell × length × seed."""
        return len(self.cells) * len(self.lengths) * self.seeds

    @property
    def busy_workers(self) -> int:
        """Worker processes that run at once: ``workers``, at most one a run."""
        return min(self.workers, self.planned_runs)

    @property
    def traced(self) -> bool:
        """Whether the run ends with a gate trace and ``forget_gate.png``: the recall task with an LSTM cell."""
        return self.task == "recall" and any(cell in LSTM_CELLS for cell in self.cells)

    @classmethod
    def quick(cls, **overrides) -> "LongRangeConfig":
        """The ``--quick`` preset (recall: 34 s on the 2 busy cores, see the README): short sequences, few steps, 2 seeds.

        Args:
            **overrides: field values that replace the preset's (flags given next to ``--quick``).
        Raises:
            ValueError: an unknown field, or a bad value.
        """
        return replace(cls(**QUICK), **_known(overrides))

    @classmethod
    def from_overrides(cls, **overrides) -> "LongRangeConfig":
        """The default config with some fields replaced; ``None`` values are ignored.

        Raises:
            ValueError: an unknown field, or a bad value.
        """
        return cls(**_known(overrides))


def check_run(cell: str, length: int, seed: int) -> None:
    """Raise ValueError unless ``cell``, ``length`` and ``seed`` name one run of a benchmark: a cell of
    :data:`CELLS`, an int length ≥ 2 and an int seed in 0 … :data:`MAX_SEEDS` - 1 (a seed of -1 trained on
    the test set: its training stream's seed is the test set's, see ``tasks.train_seed``)."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 2:
        raise ValueError(f"length must be an int >= 2; got {length!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < MAX_SEEDS:
        raise ValueError(f"seed must be an int from 0 to {MAX_SEEDS - 1:,}; got {seed!r}")


def _refuse_repeats(name: str, values: tuple) -> None:
    """Raise ValueError naming the first value of ``values`` given more than once, and how often: named as
    given, where the tuple's repr was Python's, not the command's."""
    repeated = next((x for x in values if values.count(x) > 1), None)
    if repeated is not None:
        raise ValueError(f"{name} must not repeat; {repeated!r} is given {values.count(repeated)} times")


QUICK = dict(lengths=(10, 20), seeds=2, steps=300, eval_every=25, test_size=256)


def _as_int(value):
    """``value`` as a Python int where it is an integer of another type (numpy's int64), else as it is."""
    if isinstance(value, int):  # bool too, refused as such by the checks
        return value
    try:
        return operator.index(value)
    except TypeError:
        return value


def _known(overrides: dict) -> dict:
    names = {f.name for f in fields(LongRangeConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
    return {key: value for key, value in overrides.items() if value is not None}


def parse_lengths(text: str) -> tuple[int, ...]:
    """Parse ``--lengths``, e.g. ``"50,100,200"``.

    Args:
        text: comma-separated integers, each ≥ 2; spaces allowed.
    Returns:
        The lengths in the order given.
    Raises:
        ValueError: an empty item, a non-integer, or a value < 2.
    """
    items = [item.strip() for item in text.split(",")]
    lengths = []
    for item in items:
        try:
            value = int(item)
        except ValueError:
            raise ValueError(f"lengths must be comma-separated integers >= 2; got {item!r} in {text!r}") from None
        if value < 2:
            raise ValueError(f"lengths must be integers >= 2; got {value} in {text!r}")
        lengths.append(value)
    return tuple(lengths)


def parse_cells(text: str) -> tuple[str, ...]:
    """Parse ``--cells``, e.g. ``"rnn,lstm"`` (case-insensitive).

    Raises:
        ValueError: a name not in ("rnn", "gru", "lstm", "lstm-bias1").
    """
    cells = tuple(item.strip().lower() for item in text.split(","))
    for cell in cells:
        if cell not in CELLS:
            raise ValueError(f"cells must be from {', '.join(CELLS)}; got {cell!r} in {text!r}")
    return cells
