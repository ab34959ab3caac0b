"""Long-range memory, measured: the project's LSTM against a tanh RNN and a GRU on long-gap tasks.

``run_longrange(LongRangeConfig(...), out_dir)`` trains every cell × length × seed under one budget and
writes CSV, JSON, a Markdown table and PNG plots. Tasks: the adding problem (:func:`adding_batch`) and
first-word sentiment recall (:func:`recall_batch`).

The names below are imported on first use (PEP 562), so that importing
``lstm_sentiment.longrange.config`` (the CLI does, for its defaults) does not load torch or Lightning.
"""

from importlib import import_module

_EXPORTS = {
    "LongRangeConfig": "config",
    "parse_cells": "config",
    "parse_lengths": "config",
    "LongRangeReport": "results",
    "RunResult": "results",
    "run_longrange": "runner",
    "train_one": "runner",
    "ADDING_BASELINE_MSE": "tasks",
    "TASK_SPECS": "tasks",
    "adding_batch": "tasks",
    "recall_batch": "tasks",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    # dir() and tab completion listed none of the names above: they are not in globals() until first used.
    return sorted({*globals(), *_EXPORTS})
