"""What a long-range run produced: one :class:`RunResult` per trained run, the :class:`LongRangeReport` of
the whole benchmark, and the config as JSON. Read by :mod:`.runner`, which fills them, and by
:mod:`.report`, which writes them out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .config import LongRangeConfig


@dataclass
class RunResult:
    """One trained (cell, length, seed).

    Attributes:
        task, cell, length, seed: what was trained.
        metric: "mse" or "accuracy".
        final: the test metric at the last evaluation.
        solved: whether any evaluation met the criterion.
        solved_step: the first optimizer step whose evaluation met the criterion, else None.
        steps: optimizer steps actually taken (fewer than the budget when it stopped once solved).
        wall_s: seconds of ``Trainer.fit``, evaluations included (machine-dependent; noisy on a shared CPU).
        curve: one dict per evaluation: ``step``, ``test`` (the metric), ``train_loss`` (mean over the
            steps since the previous evaluation), ``elapsed_s``.
    """

    task: str
    cell: str
    length: int
    seed: int
    metric: str
    final: float
    solved: bool
    solved_step: int | None
    steps: int
    wall_s: float
    curve: list[dict] = field(default_factory=list)


@dataclass
class LongRangeReport:
    """Everything one benchmark run produced.

    Attributes:
        config: the config it ran with.
        runs: one :class:`RunResult` per finished (length, seed, cell), in config order (lengths, then
            seeds, then cells), whatever order the workers finished them in.
        total_wall_s: seconds from the start of the worker processes (their start-up, torch's import,
            included) to the last run's end, reports excluded; with several workers less than the sum of
            the runs' ``wall_s``.
        memory: for the recall task with an LSTM cell, cell name -> the gate trace summary of
            :func:`~.memory.trace_memory`, for the traced chrono LSTM and the forget-bias-1 LSTM of the same
            length and seed (see :func:`~.memory.pick_traced_run`).
    """

    config: LongRangeConfig
    runs: list[RunResult]
    total_wall_s: float
    memory: dict | None = None


def config_dict(config: LongRangeConfig) -> dict:
    """``asdict(config)`` with tuples as lists, for JSON."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(config).items()}
