"""Reports of a long-range run: CSV and JSON per run, a Markdown table of medians, PNG plots.

Every file is written atomically (:func:`~lstm_sentiment.atomic.write_atomic`), so a reader never sees half
a file and an interrupted run leaves the last complete one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import math
import platform
import statistics
from pathlib import Path

import lightning
import torch

from lstm_sentiment import interrupt
from lstm_sentiment.atomic import write_atomic, write_text_atomic

from .config import CELL_LABELS
from .results import LongRangeReport, RunResult, config_dict
from .tasks import TASK_SPECS

FORMAT_VERSION = 1
CSV_FIELDS = ("task", "cell", "length", "seed", "metric", "final", "solved", "solved_step", "steps", "wall_s")
# Every file a report folder holds (``run_longrange`` refuses a folder with anything else but the temporary
# folders that a killed writer of these left, which it removes).
_PLOTS = ("metric_vs_length.png", "learning_curves.png", "forget_gate.png")
REPORT_FILES = frozenset(("results.csv", "results.json", "summary.md", *_PLOTS))
CELL_COLORS = {"rnn": "tab:red", "gru": "tab:blue", "lstm": "tab:green", "lstm-bias1": "tab:olive"}


def _savefig(fig, path: Path) -> None:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def medians(report: LongRangeReport) -> list[dict]:
    """Median over seeds of each (cell, length).

    Returns:
        One dict per (cell, length), in config order: ``cell``, ``length``, ``seeds``, ``median_final``,
        ``solved`` (how many seeds solved), ``median_solved_step`` (over the seeds that solved; None if
        none did), ``median_steps``, ``median_wall_s``.
    """
    rows = []
    for cell in report.config.cells:
        for length in report.config.lengths:
            runs = [r for r in report.runs if r.cell == cell and r.length == length]
            if not runs:
                continue
            solved_steps = [r.solved_step for r in runs if r.solved_step is not None]
            rows.append({
                "cell": cell,
                "length": length,
                "seeds": len(runs),
                "median_final": statistics.median(r.final for r in runs),
                "solved": len(solved_steps),
                "median_solved_step": statistics.median(solved_steps) if solved_steps else None,
                "median_steps": statistics.median(r.steps for r in runs),
                "median_wall_s": statistics.median(r.wall_s for r in runs),
            })
    return rows


def to_csv(runs: list[RunResult]) -> str:
    """One row per run (no learning curve), columns :data:`CSV_FIELDS`; an unsolved run's
    ``solved_step`` is empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for run in runs:
        row = {name: getattr(run, name) for name in CSV_FIELDS}
        row["solved_step"] = "" if run.solved_step is None else run.solved_step
        row["final"] = f"{run.final:.6g}"
        row["wall_s"] = f"{run.wall_s:.2f}"
        writer.writerow(row)
    return buffer.getvalue()


def to_json(report: LongRangeReport) -> dict:
    """The whole report as a JSON-ready dict: config, criterion, environment, ``planned_runs`` and
    ``partial`` (fewer runs finished than planned: the command was stopped, or is still running), runs with
    their curves, medians and (recall) the memory trace."""
    task = TASK_SPECS[report.config.task]
    return {
        "format_version": FORMAT_VERSION,
        "task": task.name,
        "metric": task.metric,
        "baseline": task.baseline,
        "threshold": task.threshold,
        "criterion": task.criterion,
        "config": config_dict(report.config),
        "total_wall_s": report.total_wall_s,
        # A stopped run's results.json said nothing of the runs it lacks (summary.md has its "Partial" line).
        "planned_runs": report.config.planned_runs,
        "partial": len(report.runs) < report.config.planned_runs,
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "lightning": lightning.__version__,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "threads": report.config.threads,
            "workers": report.config.workers,
        },
        "medians": medians(report),
        "runs": [vars(run) for run in report.runs],
        "memory": report.memory,
    }


def _null_for_non_finite(value):
    """``value`` with every NaN or infinite float as None: JSON (RFC 8259) has no NaN, and a diverged run's
    "final": NaN made results.json unreadable to strict parsers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _null_for_non_finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_null_for_non_finite(item) for item in value]
    return value


def to_markdown(report: LongRangeReport) -> str:
    """The summary: a cells × lengths table of median test metrics (solved seeds in brackets), then the
    solved steps and wall times, then the criterion and total wall time."""
    config = report.config
    task = TASK_SPECS[config.task]
    rows = medians(report)
    name = "test MSE" if task.metric == "mse" else "test accuracy"
    lengths = [n for n in config.lengths if any(r["length"] == n for r in rows)]
    planned = config.planned_runs
    partial = [] if len(report.runs) >= planned else [
        f"**Partial**: {len(report.runs)} of {count(planned, 'run')} finished (the command was stopped, or is still running).",
        "",
    ]
    lines = [
        *partial,
        f"Task **{task.name}**, median {name} over seeds (seeds that solved / seeds run). "
        f"Solved: {task.criterion}.",
        "",
        "| cell | " + " | ".join(f"T={n}" for n in lengths) + " |",
        "|---|" + "---:|" * len(lengths),
    ]
    for cell in config.cells:
        cells = []
        for length in lengths:
            row = next((r for r in rows if r["cell"] == cell and r["length"] == length), None)
            cells.append("" if row is None else f"{row['median_final']:.4f} ({row['solved']}/{row['seeds']})")
        lines.append(f"| {cell} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| cell | T | median first solved step | median steps run | median wall s |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        step = "—" if row["median_solved_step"] is None else f"{row['median_solved_step']:g}"
        lines.append(
            f"| {row['cell']} | {row['length']} | {step} | {row['median_steps']:g} | {row['median_wall_s']:.1f} |"
        )
    lines += [
        "",
        f"Budget {count(config.steps, 'step')} per run (a run stops at the first evaluation that solves"
        f"{'' if config.stop_when_solved else ', here disabled'}), evaluated every {count(config.evaluated_every, 'step')} on "
        f"{config.test_size} fresh test sequences per length; batch {config.batch_size}, Adam lr {config.lr:g}, "
        f"gradient norm clipped at {config.clip_norm:g}, hidden size {config.hidden_size}; {config.workers} "
        f"worker process(es) of {config.threads} thread(s). First solved step: median over the seeds that solved.",
        f"Total wall time: {report.total_wall_s:.1f} s ({report.total_wall_s / 60:.1f} min) for {count(len(report.runs), 'run')} "
        f"(the runs' own wall times sum to {sum(run.wall_s for run in report.runs):.1f} s).",
        "",
        *([] if config.traced or config.task != "recall" else [
            "No forget_gate.png: the gate trace runs on an lstm or lstm-bias1 cell, and neither was run.",
            "",
        ]),
    ]
    return "\n".join(lines)


def figure(task, value: float) -> str:
    """A final test metric as the progress lines show it: MSE to 3 significant digits (0.009968 read
    "0.0100, solved" to 4 decimals, against "solved < 0.01"), accuracy to 4 decimals."""
    return f"{value:.3g}" if task.metric == "mse" else f"{value:.4f}"


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless n is 1 ("1 runs")."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def remove_plots(out: Path) -> None:
    """Remove the plots of a report in ``out`` (an earlier one, whose tables were just replaced)."""
    for name in _PLOTS:
        (out / name).unlink(missing_ok=True)


def write_tables(report: LongRangeReport, out: Path) -> None:
    """Write ``results.csv``, ``results.json`` and ``summary.md`` into ``out``, all three before a Ctrl-C or
    SIGTERM that arrives meanwhile takes effect: a stop between them left results.csv a run ahead."""
    tables = {"results.csv": to_csv(report.runs), "results.json": json.dumps(_null_for_non_finite(to_json(report)), indent=1, ensure_ascii=False, allow_nan=False) + "\n", "summary.md": to_markdown(report)}
    with interrupt.held():
        for name, text in tables.items():
            write_text_atomic(out / name, text)


def write_all(report: LongRangeReport, out: Path) -> None:
    """Write the tables and the plots (``metric_vs_length.png``, ``learning_curves.png`` and, when the
    report has a memory trace, ``forget_gate.png``)."""
    import matplotlib  # why here: about a second to import; the tables after each run need none of it

    matplotlib.use("Agg")  # files only; no display on a server
    write_tables(report, out)
    plot_metric_vs_length(report, out / "metric_vs_length.png")
    plot_learning_curves(report, out / "learning_curves.png")
    if report.memory:
        plot_forget_gate(report.memory, out / "forget_gate.png")


def _reference_lines(ax, task) -> None:
    """Dashed: the trivial answer's score; dotted: the solved threshold."""
    ax.axhline(task.baseline, color="gray", linestyle="--", linewidth=1, label=f"baseline {task.baseline:.3g}")
    relation = "<" if task.metric == "mse" else "≥"
    ax.axhline(task.threshold, color="black", linestyle=":", linewidth=1, label=f"solved {relation} {task.threshold:g}")


def plot_metric_vs_length(report: LongRangeReport, path: Path) -> None:
    """Final test metric against T, per cell: median over seeds (line) and each seed (dots)."""
    import matplotlib.pyplot as plt  # why here: see write_all

    task = TASK_SPECS[report.config.task]
    fig, ax = plt.subplots(figsize=(7.4, 4.0))
    rows = medians(report)
    for cell in report.config.cells:
        cell_rows = [r for r in rows if r["cell"] == cell]
        color = CELL_COLORS.get(cell)
        ax.plot([r["length"] for r in cell_rows], [r["median_final"] for r in cell_rows], "o-", color=color, label=CELL_LABELS[cell])
        runs = [r for r in report.runs if r.cell == cell]
        ax.scatter([r.length for r in runs], [r.final for r in runs], s=12, color=color, alpha=0.4)
    _reference_lines(ax, task)
    ax.set_xscale("log")
    lengths = sorted(report.config.lengths)
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.minorticks_off()
    if task.metric == "mse":
        ax.set_yscale("log")
        ax.set_ylabel("final test MSE (log)")
    else:
        ax.set_ylabel("final test accuracy")
    ax.set_xlabel("sequence length T")
    ax.set_title(f"{task.name}: {report.config.steps}-step budget, median of {report.config.seeds} seed(s)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: no line is hidden
    fig.tight_layout()
    _savefig(fig, path)
    plt.close(fig)


def plot_learning_curves(report: LongRangeReport, path: Path) -> None:
    """Test metric against optimizer step, one panel per length, one line per (cell, seed)."""
    import matplotlib.pyplot as plt  # why here: see write_all

    task = TASK_SPECS[report.config.task]
    lengths = list(report.config.lengths)
    cols = min(len(lengths), 4)
    rows_n = -(-len(lengths) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.0 * cols + 1.2, 2.8 * rows_n), sharey=True, squeeze=False)
    for ax, length in zip(axes.flat, lengths):
        for cell in report.config.cells:
            for i, run in enumerate(r for r in report.runs if r.cell == cell and r.length == length):
                steps = [p["step"] for p in run.curve]
                values = [p["test"] for p in run.curve]
                # A marker at each evaluation: a run evaluated once drew a line of one point, nothing to see.
                ax.plot(steps, values, color=CELL_COLORS.get(cell), alpha=0.7, linewidth=1, marker=".", markersize=3, label=CELL_LABELS[cell] if i == 0 else None)
        _reference_lines(ax, task)
        ax.set_title(f"T={length}", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        if task.metric == "mse":
            ax.set_yscale("log")
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(lengths):]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("test MSE (log)" if task.metric == "mse" else "test accuracy", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    legend = fig.legend(handles, labels, loc="center right", fontsize=7)  # outside the panels: curves stay visible
    fig.suptitle(f"{task.name}: learning curves (one line per seed)", fontsize=10)
    # The panels end where the legend starts: a fixed tenth of the width was too little for one or two
    # panels, and the legend covered the right edge of the last one.
    legend_width = legend.get_window_extent().width / fig.bbox.width
    fig.tight_layout(rect=(0, 0, 1 - legend_width - 0.01, 1))
    _savefig(fig, path)
    plt.close(fig)


def plot_forget_gate(memory: dict, path: Path) -> None:
    """Forget gate and cell state over time of the traced recall-task LSTMs (see :mod:`.memory`), one
    column per LSTM (the chrono LSTM beside the forget-bias-1 LSTM), rows shared across columns."""
    import matplotlib.pyplot as plt  # why here: see write_all
    from matplotlib.ticker import MaxNLocator  # why here: see write_all

    traces = list(memory.values())
    fig, axes = plt.subplots(3, len(traces), figsize=(5.0 * len(traces) + 1.0, 6.6), sharex=True, sharey="row", squeeze=False)
    for column, trace in zip(axes.T, traces):
        steps = range(len(trace["f_mean"]))
        ax = column[0]
        ax.plot(steps, trace["f_mean"], color="gray", label="all units")
        ax.plot(steps, trace["f_memory"], color=CELL_COLORS[trace["cell"]], label=f"{len(trace['memory_units'])} memory units")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title(
            f"{trace['cell']}, T={trace['length']}, seed {trace['seed']}: test accuracy {trace['accuracy']:.3f}",
            fontsize=9,
        )
        ax = column[1]
        ax.plot(steps, trace["c_norm_pos"], color="tab:orange", label="positive first word")
        ax.plot(steps, trace["c_norm_neg"], color="tab:purple", label="negative first word")
        ax.legend(fontsize=8, loc="upper left")
        ax = column[2]
        ax.plot(steps, trace["c_unit_pos"], color="tab:orange", label=f"positive (unit {trace['memory_units'][0]})")
        ax.plot(steps, trace["c_unit_neg"], color="tab:purple", label=f"negative (unit {trace['memory_units'][0]})")
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set_xlabel("step t (t = 0 is the sentiment word, then fillers)", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole positions
        ax.legend(fontsize=8, loc="upper left")
    axes[0][0].set_ylabel("mean f_t")
    axes[1][0].set_ylabel("mean ‖c_t‖₂")
    axes[2][0].set_ylabel("mean c_t of the best-separating unit")
    fig.suptitle(f"Recall task: forget gate and cell state over {traces[0]['sequences']} test sequences", fontsize=10)
    fig.tight_layout()
    _savefig(fig, path)
    plt.close(fig)
