"""Long-range memory, measured: the project's LSTM against a tanh RNN and a GRU on long-gap tasks.

``run_longrange(LongRangeConfig(...), out_dir)`` trains every cell × length × seed under one budget and
writes CSV, JSON, a Markdown table and PNG plots. Tasks: the adding problem (:func:`adding_batch`) and
first-word sentiment recall (:func:`recall_batch`).
"""

from .config import LongRangeConfig, parse_cells, parse_lengths
from .runner import LongRangeReport, RunResult, run_longrange, train_one
from .tasks import ADDING_BASELINE_MSE, TASK_SPECS, adding_batch, recall_batch

__all__ = [
    "ADDING_BASELINE_MSE",
    "LongRangeConfig",
    "LongRangeReport",
    "RunResult",
    "TASK_SPECS",
    "adding_batch",
    "parse_cells",
    "parse_lengths",
    "recall_batch",
    "run_longrange",
    "train_one",
]
