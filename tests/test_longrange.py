"""Tests of the long-range memory benchmark: task generators, config and CLI errors, reports, the quick run."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from conftest import assert_one_line_error, run_cli
from lstm_sentiment import longrange
from lstm_sentiment.cli import app
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.longrange import (
    ADDING_BASELINE_MSE,
    LongRangeConfig,
    adding_batch,
    parse_cells,
    parse_lengths,
    recall_batch,
    run_longrange,
    train_one,
)
from lstm_sentiment.longrange.config import QUICK
from lstm_sentiment.longrange.tasks import (
    FILLER_WORDS,
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    TASK_SPECS,
    VOCAB,
    FreshBatches,
    make_test_set,
    train_seed,
)
from lstm_sentiment.longrange.models import SequenceModel
from lstm_sentiment.longrange.results import LongRangeReport, RunResult
from lstm_sentiment.longrange.runner import check_memory


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("length", [2, 3, 7, 50, 201])
def test_adding_target_is_the_sum_of_the_two_marked_values(length):
    x, y = adding_batch(4096, length, _generator(length))
    assert x.shape == (4096, length, 2) and x.dtype == torch.float32
    assert y.shape == (4096,) and y.dtype == torch.float32
    values, markers = x[..., 0], x[..., 1]
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(markers.sum(1), torch.full((4096,), 2.0))
    half = length // 2
    assert torch.equal(markers[:, :half].sum(1), torch.ones(4096))  # one marker in the first half
    assert torch.equal(markers[:, half:].sum(1), torch.ones(4096))  # and one in the second
    assert torch.allclose(y, (values * markers).sum(1), atol=0, rtol=0)
    assert float(values.min()) >= 0.0 and float(values.max()) < 1.0


def test_adding_marker_positions_cover_each_half():
    # Markers must be drawn over the whole of each half, not a fixed position.
    length = 10
    x, _ = adding_batch(20_000, length, _generator(1))
    counts = x[..., 1].sum(0)  # (T,) how often each step is marked
    assert bool((counts > 0).all())
    assert torch.allclose(counts / 20_000, torch.full((length,), 1 / 5), atol=0.02)


def test_always_answering_one_scores_the_baseline_mse():
    # E[(u_a + u_b - 1)^2] = Var(u_a + u_b) = 1/6. The squared error of one sequence has standard deviation
    # sqrt(E[Y^4] - (1/6)^2) with Y triangular on [-1, 1]: sqrt(1/15 - 1/36) ≈ 0.197; over 100 000 sequences
    # the standard error is ≈ 0.00062, so 0.003 is about 5 standard errors.
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    _, y = adding_batch(100_000, 20, _generator(2))
    mse = float(((y - 1.0) ** 2).mean())
    assert mse == pytest.approx(0.1667, abs=0.003)
    # ... and 1.0 is the best constant: the mean target is 1.
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)


def test_recall_label_is_the_sentiment_of_the_first_word():
    # A float or a str reached torch.randint, whose error listed its overloads over ten lines.
    with pytest.raises(ValueError, match=r"recall_batch needs int n and length; got n=2\.5, length=4"):
        recall_batch(2.5, 4, _generator(3))
    with pytest.raises(ValueError, match=r"adding_batch needs int n and length; got n=3, length='4'"):
        adding_batch(3, "4", _generator(3))
    tokens, y = recall_batch(4096, 30, _generator(3))
    assert tokens.shape == (4096, 30) and tokens.dtype == torch.int64
    assert y.shape == (4096,) and y.dtype == torch.int64
    n_pos, n_neg = len(POSITIVE_WORDS), len(NEGATIVE_WORDS)
    for row, label in zip(tokens[:200].tolist(), y[:200].tolist()):
        first = VOCAB[row[0]]
        assert label == (1 if first in POSITIVE_WORDS else 0)
        assert first in POSITIVE_WORDS + NEGATIVE_WORDS
        assert all(VOCAB[t] in FILLER_WORDS for t in row[1:])
    assert bool((y == (tokens[:, 0] < n_pos).long()).all())
    assert bool((tokens[:, 1:] >= n_pos + n_neg).all())  # nothing but fillers after step 0
    assert float(y.float().mean()) == pytest.approx(0.5, abs=0.03)  # so guessing scores 0.5


def test_fillers_carry_no_sentiment_words_and_vocab_has_no_duplicates():
    assert len(set(VOCAB)) == len(VOCAB)
    assert not set(FILLER_WORDS) & set(POSITIVE_WORDS + NEGATIVE_WORDS)


def test_test_set_is_fixed_and_apart_from_training_batches():
    task = TASK_SPECS["adding"]
    first = make_test_set(task, 50, 300, batch_size=128)
    again = make_test_set(task, 50, 300, batch_size=128)
    assert [x.shape[0] for x, _ in first] == [128, 128, 44]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, again))
    train_x, _ = next(iter(FreshBatches(task, 50, 128, train_seed(0, 50))))
    assert not torch.equal(train_x, first[0][0])
    # Training streams are seeded from 10^6 up, test sets by their length: the seeds never meet.
    assert min(train_seed(s, n) for s in range(5) for n in (2, 400, 10_000)) > 10_000


def test_same_seed_gives_every_cell_the_same_training_batches():
    task = TASK_SPECS["recall"]
    a = next(iter(FreshBatches(task, 20, 8, train_seed(1, 20))))
    b = next(iter(FreshBatches(task, 20, 8, train_seed(1, 20))))
    c = next(iter(FreshBatches(task, 20, 8, train_seed(2, 20))))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])


def test_parsers_and_config_name_the_bad_field_and_value():
    assert parse_lengths("50, 100,200") == (50, 100, 200)
    assert parse_cells("RNN,lstm") == ("rnn", "lstm")
    with pytest.raises(ValueError, match=r"lengths.*'abc'"):
        parse_lengths("50,abc")
    with pytest.raises(ValueError, match=r"lengths.*\b1\b"):
        parse_lengths("1,50")
    with pytest.raises(ValueError, match=r"cells.*'lstmx'"):
        parse_cells("rnn,lstmx")
    with pytest.raises(ValueError, match=r"seeds.*0"):
        LongRangeConfig(seeds=0)
    with pytest.raises(ValueError, match=r"task.*'copy'"):
        LongRangeConfig(task="copy")
    with pytest.raises(ValueError, match=r"lr.*-1"):
        LongRangeConfig(lr=-1.0)
    with pytest.raises(ValueError, match="unknown config field"):
        LongRangeConfig.from_overrides(stepz=3)
    quick = LongRangeConfig.quick(seeds=1)
    assert quick.seeds == 1 and quick.lengths == (10, 20)
    # --quick --steps 20 kept the preset's 25 between evaluations: one, at the end, while the summary said 25.
    assert LongRangeConfig.quick(steps=20).evaluated_every == 20 and LongRangeConfig.quick(steps=20, eval_every=5).evaluated_every == 5
    assert LongRangeConfig.from_overrides(steps=10).evaluated_every == 10 and LongRangeConfig.quick().evaluated_every == QUICK["eval_every"]
    # The field stays as given: a clamp in the config stuck through replace() (steps 20, then 1,000: every 20).
    assert replace(LongRangeConfig(steps=20), steps=1000).evaluated_every == 50


def test_summary_names_the_workers_that_ran(tmp_path):
    # One run on the default 2 workers: the summary said "2 worker process(es)".
    config = LongRangeConfig(task="recall", lengths=(6,), cells=("lstm",), seeds=1, steps=4, eval_every=2, test_size=32, hidden_size=4)
    run_longrange(config, tmp_path / "out", log=lambda line: None)
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "; 1 worker process(es) of" in summary and "evaluated every 2 steps" in summary


def test_python_users_config_a_guardless_script_and_a_folder_in_use(tmp_path):
    import numpy as np

    from lstm_sentiment.atomic import claimed

    # A list and numpy's ints were "must be a non-empty tuple"; steps=20 kept eval_every 50, and the summary
    # said "evaluated every 50 steps" of a run evaluated once, at step 20.
    config = LongRangeConfig(task="adding", lengths=[np.int64(8), 6], cells=["gru"], seeds=np.int64(1), steps=1, test_size=16, hidden_size=4)
    assert (config.lengths, config.cells, config.seeds, config.evaluated_every) == ((6, 8), ("gru",), 1, 1) and type(config.seeds) is int
    # Seed -1 drew its training batches from the test set's generator.
    with pytest.raises(ValueError, match=r"seed must be an int from 0 to 9,999; got -1"):
        train_one(config, "gru", 6, -1)
    assert {"run_longrange", "LongRangeConfig", "train_one"} <= set(dir(longrange))
    # A run_longrange() into the folder of a command's run replaced that run's report unseen. Held by
    # another thread here: the thread that holds a folder may claim it again.
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with claimed(tmp_path / "held", "--out"):
            holding.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(60)
    try:
        with pytest.raises(SentimentError, match="being written by another run"):
            run_longrange(config, tmp_path / "held", log=lambda line: None)
    finally:
        done.set()
        holder.join()
    run_longrange(replace(config, lengths=(6,)), tmp_path / "one", log=lambda line: None)
    summary = (tmp_path / "one" / "summary.md").read_text(encoding="utf-8")
    assert "Budget 1 step per run" in summary and "evaluated every 1 step on" in summary
    # A script calling run_longrange at its top level: each spawned worker ran it again, two tracebacks of
    # multiprocessing's, then a BrokenProcessPool that named no cause.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from lstm_sentiment.longrange import LongRangeConfig, run_longrange\n"
        "run_longrange(LongRangeConfig(lengths=(6,), cells=('gru',), seeds=1, steps=1, test_size=16, hidden_size=4), 'out')\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 1 and done.stderr.count("Traceback") == 1, done.stderr[-3000:]
    assert done.stderr.rstrip().endswith('call it under `if __name__ == "__main__":`.') and not (tmp_path / "out").exists()


def test_lengths_in_order_a_stopped_run_marked_in_json_and_a_missing_trace_said(tmp_path):
    # --lengths 8,6 gave columns 8, then 6; results.json of a stopped run had no mark of it; a recall run
    # without an LSTM wrote no forget_gate.png without a word.
    config = LongRangeConfig(task="recall", lengths=(8, 6), cells=("gru",), seeds=1, steps=4, eval_every=2, test_size=32, hidden_size=4)
    assert config.lengths == (6, 8) and not config.traced
    report = run_longrange(config, tmp_path / "out", log=lambda line: None)
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "| cell | T=6 | T=8 |" in summary
    assert "No forget_gate.png: the gate trace runs on an lstm or lstm-bias1 cell, and neither was run." in summary
    assert not (tmp_path / "out" / "forget_gate.png").exists()
    saved = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert (saved["planned_runs"], saved["partial"], saved["config"]["lengths"]) == (2, False, [6, 8])
    from lstm_sentiment.longrange.report import to_json, to_markdown

    stopped = LongRangeReport(report.config, report.runs[:1], 1.0)
    assert (to_json(stopped)["planned_runs"], to_json(stopped)["partial"]) == (2, True)
    traced = LongRangeConfig(task="recall", lengths=(6,), cells=("gru", "lstm-bias1"))
    assert traced.traced and "forget_gate" not in to_markdown(LongRangeReport(traced, [], 1.0))
    assert "forget_gate" not in to_markdown(LongRangeReport(replace(config, task="adding"), [], 1.0))


def test_cli_warns_of_more_threads_than_cores(tmp_path):
    # --threads 2 beside the 2 default workers on 2 cores passed without a word.
    cores = os.cpu_count() or 1
    (tmp_path / "file").write_text("x", encoding="utf-8")  # refused before any run: the warning comes first
    result = run_cli("longrange", "--quick", "--threads", str(cores), "--out", str(tmp_path / "file"))
    if cores > 1:
        assert result.stderr.splitlines()[0] == (
            f"warning: 2 workers of {cores} threads each on {cores} cores: their OpenMP threads spin against each other "
            "and every run slows; give --threads 1 or fewer --workers"
        )
    assert_one_line_error(result, 1, r"file is a file; choose another --out$")
    # One thread a worker spins against nothing, however many workers share the cores.
    quiet = run_cli("longrange", "--quick", "--threads", "1", "--out", str(tmp_path / "file"))
    assert "warning" not in quiet.stderr and quiet.returncode == 1


def test_a_link_to_a_folder_not_yet_made_is_made_and_written_through(tmp_path):
    # It failed with "[Errno 17] File exists" where train makes the link's target.
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "runs" / "today")
    config = LongRangeConfig(task="adding", lengths=(6,), cells=("gru",), seeds=1, steps=4, eval_every=2, test_size=16, hidden_size=4)
    run_longrange(config, link, log=lambda line: None)
    assert link.is_symlink() and (tmp_path / "runs" / "today" / "results.json").is_file()


@pytest.mark.parametrize("lengths", [(20,), (10, 20), (5, 10, 15, 20)])
def test_learning_curves_legend_covers_no_panel(tmp_path, monkeypatch, lengths):
    # With one or two lengths the legend, given a fixed tenth of the width, covered the last panel's edge.
    from lstm_sentiment.longrange import report as report_module

    figures = []
    monkeypatch.setattr(report_module, "_savefig", lambda fig, path: figures.append(fig))
    cells = ("rnn", "gru", "lstm", "lstm-bias1")
    config = LongRangeConfig(task="adding", lengths=lengths, cells=cells)
    curve = [{"step": step, "test": 1.0 / step, "train_loss": 1.0, "elapsed_s": 0.1} for step in (1, 2)]
    runs = [RunResult("adding", cell, length, 0, "mse", 0.5, False, None, 2, 0.2, curve) for length in lengths for cell in cells]
    report_module.plot_learning_curves(LongRangeReport(config, runs, 1.0), tmp_path / "curves.png")
    # "lstm" alone did not say which of the two LSTMs a line was.
    assert [t.get_text() for t in figures[0].legends[0].get_texts()][:4] == ["rnn (tanh)", "gru", "lstm (chrono)", "lstm-bias1 (forget bias 1)"]
    legend = figures[0].legends[0].get_window_extent()
    panels = [ax.get_window_extent() for ax in figures[0].axes if ax.get_visible()]
    assert len(panels) == len(lengths) and all(panel.x1 < legend.x0 for panel in panels), (legend, panels)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--lengths", "50,abc"], "lengths"),
        (["--lengths", "1"], "lengths"),
        (["--cells", "rnn,transformer"], "cells"),
        (["--task", "copy"], "task"),
        (["--seeds", "0"], "seeds"),
        (["--workers", "0"], "workers"),
        (["--cells", "lstm-bias2"], "cells"),
        # Threads past the cores spin: --threads 1000 ran a quick run six times as long.
        (["--threads", "100000"], "--threads 100000 is more than the"),
        (["--workers", "999"], "--workers 999 is more than the"),  # it started 16 processes on 2 cores
        (["--task", "ADDING", "--threads", "100000"], "--threads 100000"),  # ADDING read as --cells are (it was refused)
        # Named as given: the message showed Python's tuple, "got (20, 10, 10)".
        (["--lengths", "20,10,10"], "--lengths must not repeat; 10 is given 2 times"),
        (["--cells", "lstm,rnn,LSTM"], "--cells must not repeat; 'lstm' is given 2 times"),
    ],
)
def test_cli_bad_input_is_a_one_line_usage_error(tmp_path, args, needle):
    result = CliRunner().invoke(app, ["longrange", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("error: ") and needle in message
    assert len(message.splitlines()) == 1
    assert "Traceback" not in message
    assert isinstance(result.exception, SystemExit) and result.exception.code == 2
    assert not (tmp_path / "out").exists()  # nothing ran


def test_out_holding_other_files_is_refused_before_any_run(tmp_path):
    # --out replaced a user's summary.md and results.csv, or filled a model bundle, without a word.
    config = LongRangeConfig.quick(steps=2, eval_every=1, lengths=(10,), seeds=1)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.md").write_text("my notes", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"mine holds files that are not a longrange report; choose another --out"):
        run_longrange(config, mine)
    (mine / "notes.txt").write_text("more", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"mine holds notes\.txt, not a longrange report's"):
        run_longrange(config, mine)
    assert (mine / "summary.md").read_text(encoding="utf-8") == "my notes" and len(list(mine.iterdir())) == 2
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"file is a file, not a folder"):
        run_longrange(config, tmp_path / "file" / "out")


def test_a_report_that_cannot_be_written_is_named_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    # On a full disk: "error: No space left on device", no path, and a 0-byte .results.csv.tmp left behind.
    import errno

    from lstm_sentiment.longrange import report

    def full(self, *args, **kwargs):
        self.touch()
        raise OSError(errno.ENOSPC, "No space left on device")

    config = LongRangeConfig(task="adding", lengths=(10,), cells=("lstm",))
    runs = [RunResult("adding", "lstm", 10, 0, "mse", 0.5, False, None, 2, 0.2, [])]
    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(SentimentError, match=r"results\.csv: cannot write \(No space left on device\)$"):
        report.write_tables(LongRangeReport(config, runs, 1.0), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writers_temporary_folder_is_removed_and_the_report_folder_taken(tmp_path):
    # The report's files are written as every other output is (atomic.write_atomic); a run killed while
    # writing leaves a temporary folder of a process that is gone, which the next run's check removes.
    from lstm_sentiment.atomic import check_output_folder
    from lstm_sentiment.longrange.report import REPORT_FILES

    (tmp_path / "results.json").write_text("{}", encoding="utf-8")
    dead = tmp_path / ".results.csv.999999999.x1"
    dead.mkdir()
    (dead / "new").write_text("half", encoding="utf-8")
    check_output_folder(tmp_path, REPORT_FILES, "results.json", "a longrange report", "--out", whole=False)
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    (tmp_path / ".results.csv.1.x1").mkdir()  # process 1 is alive: another run writing there now
    with pytest.raises(SentimentError, match=r"holds \.results\.csv\.1\.x1, not a longrange report's"):
        check_output_folder(tmp_path, REPORT_FILES, "results.json", "a longrange report", "--out", whole=False)


def test_a_run_that_fails_leaves_no_folder_it_made(tmp_path, monkeypatch):
    # Out of memory at the first run (torch asked for 95.4 GiB) left an empty --out. The estimate refuses
    # such a run before any folder is made, so it is told here that the memory is there.
    from lstm_sentiment.longrange import runner

    monkeypatch.setattr(runner, "_available_bytes", lambda: 2**60)
    out = tmp_path / "new" / "out"
    config = LongRangeConfig.from_overrides(lengths=(100_000_000,), seeds=1, steps=1, eval_every=1, cells=("rnn",), hidden_size=2)
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        run_longrange(config, out)
    assert list(tmp_path.iterdir()) == []


def test_a_run_past_the_memory_is_refused_before_anything_runs(tmp_path):
    # T = 1,000,000 ran until the system killed a worker (23.8 GB), then a BrokenProcessPool traceback.
    from conftest import assert_one_line_error, run_cli

    out = tmp_path / "new" / "out"
    result = run_cli("longrange", "--out", str(out), "--quick", "--lengths", "1000000")
    assert_one_line_error(
        result, 1, r"this run needs about 1,[\d,.]+ GiB of memory \(T up to 1,000,000, batch 32, H = 128, 2 run\(s\) at once\) "
        r"and [\d,.]+ GiB are available: use shorter lengths, a smaller batch or hidden size, or fewer workers \(--lengths, "
        r"--batch-size, --hidden-size, --workers; LongRangeConfig.s fields\)$"
    )
    assert list(tmp_path.iterdir()) == []
    config = LongRangeConfig.quick(lengths=(1000,))
    check_memory(config, available=config.peak_bytes())  # exactly enough passes
    # Two seeds of one cell and length run at once: both count.
    one = LongRangeConfig.quick(lengths=(1000,), cells=("gru",), seeds=2, workers=2)
    assert one.peak_bytes() == 2**29 + 2 * one.run_bytes("gru", 1000)
    with pytest.raises(SentimentError, match=rf"needs about {config.peak_bytes() / 2**30:.1f} GiB .* and 1\.0 GiB are available"):
        check_memory(config, available=2**30)
    # A batch of 10^8 at H = 2 was put at 4.7 GiB and passed; it asked for 140 GiB at its first step.
    huge = LongRangeConfig.from_overrides(lengths=(2,), cells=("lstm",), seeds=1, steps=2, hidden_size=2, batch_size=10**8, workers=1)
    assert huge.peak_bytes() > 90 * 2**30


@pytest.mark.parametrize("cell,batch,length,hidden", [("gru", 8, 2000, 128), ("lstm", 8, 2000, 128), ("lstm", 264, 1000, 64)])
def test_memory_estimate_is_at_most_a_half_above_a_measured_peak(cell, batch, length, hidden):
    # The estimate behind the refusal above, against the peak memory of a real run (a fresh process: the
    # peak is the process's high-water mark). Below the measured peak it would let a killed run through.
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a large pytest process
    # started from the parent's size (1.2 GB measured where the run's own peak was 0.95).
    script = (
        "import re; from pathlib import Path; from lstm_sentiment.longrange.config import LongRangeConfig; "
        "from lstm_sentiment.longrange.runner import train_one; "
        f"c = LongRangeConfig.from_overrides(lengths=({length},), cells=({cell!r},), seeds=1, steps=2, eval_every=1, batch_size={batch}, test_size=256, hidden_size={hidden}); "
        f"train_one(c, {cell!r}, {length}, 0); "
        "peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text())[1]) * 1024; "
        f"print(peak, c.run_bytes({cell!r}, {length}))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    measured, estimate = map(int, done.stdout.split()[-2:])
    assert measured <= estimate <= 1.5 * measured, (measured, estimate)


def test_a_killed_worker_is_one_line_with_the_flags_that_help():
    from concurrent.futures.process import BrokenProcessPool

    from lstm_sentiment.cli import _out_of_memory

    assert _out_of_memory(BrokenProcessPool("gone"), "longrange") == (
        "a worker process was killed (by the system: out of memory, most likely); try shorter --lengths, "
        "a smaller --batch-size or --hidden-size, or fewer --workers"
    )
    assert _out_of_memory(BrokenProcessPool("gone"), "predict").endswith("; try fewer --workers")
    assert _out_of_memory(ValueError("other"), "predict") is None


def test_held_signals_arrive_when_the_block_is_done():
    # A SIGTERM between results.csv and results.json left the csv a run ahead of the json and summary.
    from lstm_sentiment import interrupt

    previous = signal.signal(signal.SIGTERM, interrupt.on_signal)
    interrupt.reset()
    done = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupt.held():
                os.kill(os.getpid(), signal.SIGTERM)
                done.append("after the signal")
        assert done == ["after the signal"] and interrupt.received() == signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is interrupt.on_signal
    finally:
        signal.signal(signal.SIGTERM, previous)
        interrupt.reset()


def test_cli_help_states_the_config_defaults():
    result = CliRunner().invoke(app, ["longrange", "--help"])
    assert result.exit_code == 0
    config = LongRangeConfig()
    # Undo the line wrapping: rich's box, or click's plain help (narrow terminals), which breaks after a hyphen.
    help_text = re.sub(r"(?<=\w-) (?=\w)", "", " ".join(result.output.replace("│", " ").split()))
    for fragment in (
        f"Default: {config.task}.",
        f"Default: {','.join(map(str, config.lengths))}.",
        f"Default: {config.seeds}.",
        f"Default: {config.steps}.",
        f"Default: {config.batch_size}.",
        f"Default: {config.lr}.",
        f"Default: {config.eval_every}.",
        f"Default: {config.workers}.",
        f"Default: {','.join(config.cells)}.",
    ):
        assert fragment in help_text


def test_recall_run_traces_both_lstms_on_the_same_run(tmp_path):
    config = LongRangeConfig(
        task="recall", lengths=(6, 8), cells=("lstm", "lstm-bias1"), seeds=1, steps=40, eval_every=20,
        test_size=64, hidden_size=16,
    )
    report = run_longrange(config, tmp_path, log=lambda line: None)
    assert list(report.memory) == ["lstm", "lstm-bias1"]
    # Runs come back in config order whatever order the two workers finished them in.
    assert [(r.length, r.cell) for r in report.runs] == [(6, "lstm"), (6, "lstm-bias1"), (8, "lstm"), (8, "lstm-bias1")]
    lead = report.memory["lstm"]
    chrono_runs = [r for r in report.runs if r.cell == "lstm"]
    want_length = max([r.length for r in chrono_runs if r.solved] or [8])
    for cell, memory in report.memory.items():
        assert memory["cell"] == cell and memory["length"] == lead["length"] == want_length
        assert memory["seed"] == 0 and memory["sequences"] == 64
        run = next(r for r in report.runs if r.cell == cell and r.length == want_length)
        assert memory["accuracy"] == run.final  # traced from that run's own trained weights
        for key in ("f_mean", "f_memory", "c_norm_pos", "c_norm_neg", "c_unit_pos", "c_unit_neg"):
            assert len(memory[key]) == want_length and all(math.isfinite(v) for v in memory[key])
        assert all(0.0 < v < 1.0 for v in memory["f_mean"] + memory["f_memory"])  # f_t is a sigmoid
    assert (tmp_path / "forget_gate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["memory"]["lstm-bias1"]["memory_units"] == report.memory["lstm-bias1"]["memory_units"]
    assert saved["environment"]["workers"] == 2
    # A report stopped after its first run says so; the figure that decides "solved" keeps its digits.
    from lstm_sentiment.longrange.report import figure, to_markdown

    partial = to_markdown(LongRangeReport(config, report.runs[:1], 1.0))
    assert partial.startswith("**Partial**: 1 of 4 runs finished") and "for 1 run (" in partial
    assert "Partial" not in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert figure(TASK_SPECS["adding"], 0.009968) == "0.00997" and figure(TASK_SPECS["recall"], 0.99) == "0.9900"
    # Another report into the same folder: the recall plots of the first were left beside its tables.
    other = LongRangeConfig(task="adding", lengths=(6,), cells=("gru",), seeds=1, steps=4, eval_every=2, test_size=16, hidden_size=4)
    run_longrange(other, tmp_path, log=lambda line: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning_curves.png", "metric_vs_length.png", "results.csv", "results.json", "summary.md"]


def test_lstm_cells_differ_only_in_their_bias_initialisation():
    torch.manual_seed(0)
    chrono = SequenceModel("adding", "lstm", 32, 100)
    torch.manual_seed(0)
    bias1 = SequenceModel("adding", "lstm-bias1", 32, 100)
    b_i, b_f, b_g, b_o = chrono.rnn.bias_ih_l0.detach().chunk(4)
    assert float(b_f.min()) >= 0.0 and float(b_f.max()) <= math.log(99)  # T_max = the task's T
    assert torch.equal(b_i, -b_f) and float(chrono.rnn.bias_hh_l0.detach().abs().max()) == 0.0
    assert float(b_g.abs().max()) == 0.0 and float(b_o.abs().max()) == 0.0
    assert torch.equal(chrono.rnn.weight_hh_l0, bias1.rnn.weight_hh_l0)
    assert bias1.rnn.init == "default" and bias1.rnn.forget_bias == 1.0


def test_quick_run_writes_reports_and_the_lstm_beats_the_baseline(tmp_path):
    out = tmp_path / "quick"
    result = CliRunner().invoke(app, ["longrange", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = LongRangeConfig.quick()
    n_runs = len(config.lengths) * config.seeds * len(config.cells)

    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == n_runs
    assert {(r["cell"], int(r["length"]), int(r["seed"])) for r in rows} == {
        (c, n, s) for c in config.cells for n in config.lengths for s in range(config.seeds)
    }
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert report["task"] == "adding" and report["threshold"] == 0.01 and len(report["runs"]) == n_runs
    assert report["config"]["lengths"] == list(config.lengths)
    assert all(run["curve"] and run["curve"][-1]["step"] == run["steps"] for run in report["runs"])
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| lstm |" in summary and "test MSE < 0.01" in summary and "Total wall time" in summary
    for name in ("metric_vs_length.png", "learning_curves.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*"))  # atomic writes left no temporary folder behind

    # The claim of the quick run: with the fixed seeds, every LSTM run at the shortest length ends well
    # below the 0.167 of always answering 1.0. (Measured: see the README section "Long-range memory".)
    shortest = min(config.lengths)
    lstm = [float(r["final"]) for r in rows if r["cell"] == "lstm" and int(r["length"]) == shortest]
    assert max(lstm) < 0.5 * ADDING_BASELINE_MSE, lstm


@contextmanager
def _two_workers_running(tmp_path: Path, stderr) -> Iterator[subprocess.Popen]:
    """A longrange run of two long RNN runs on 2 workers, in a session of its own, once its resource tracker
    and both workers run; every process of it killed at the end, whatever the test did."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_sentiment", "longrange", "--task", "adding", "--lengths", "400", "--seeds", "2",
         "--cells", "rnn", "--steps", "100000", "--workers", "2", "--out", str(tmp_path / "out")],
        stderr=stderr, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_running_in_group(process.pid)) < 4 and time.monotonic() < deadline:  # + resource tracker, 2 workers
            time.sleep(0.5)
        assert len(_running_in_group(process.pid)) == 4, "the workers never started"
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_sigterm_stops_the_runs_in_progress(tmp_path):
    # The pool's shutdown waited for the runs in progress (minutes each at T=400), and Lightning in the
    # workers took their own SIGTERM as a note: "error: terminated", then the three processes ran on.
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr, _two_workers_running(tmp_path, stderr) as process:
        time.sleep(3)  # and into their runs
        assert process.poll() is None, log.read_text()
        os.kill(process.pid, signal.SIGTERM)  # to the parent alone, as a service manager or `kill` sends it
        process.wait(timeout=20)
        assert log.read_text().splitlines()[-1] == "error: terminated"
        time.sleep(1)  # killed workers are gone by now; they stay in the run's process group
        assert _running_in_group(process.pid) == [], "workers left running"


def test_workers_end_with_a_parent_killed_by_sigkill(tmp_path):
    # SIGKILL (the system's out-of-memory killer) lets the parent stop nothing: its two workers and the
    # resource tracker lived on, idle, ~450 MB each, until killed by hand.
    with _two_workers_running(tmp_path, subprocess.DEVNULL) as process:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        deadline = time.monotonic() + 15
        while _running_in_group(process.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _running_in_group(process.pid) == [], "workers outlived their parent"


def _running_in_group(pgid: int) -> list[int]:
    """Processes of process group ``pgid`` that are not zombies (Linux /proc; this machine's init may leave
    an orphan's zombie unreaped)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(group) == pgid and state != "Z":
            found.append(int(stat.parent.name))
    return found


def test_recall_needs_a_test_set_of_both_classes():
    # test_size=1 trained every run, then wrote NaN (a class's mean over no sequence) into results.json.
    with pytest.raises(ValueError, match=r"test_size must be >= 32 for recall"):
        LongRangeConfig(task="recall", test_size=1)
    assert LongRangeConfig(task="adding", test_size=1).test_size == 1


def test_results_json_holds_null_for_a_diverged_run():
    # --lr 1e37 wrote "final": NaN, which JSON (RFC 8259) and strict parsers refuse.
    from lstm_sentiment.longrange.report import _null_for_non_finite

    data = {"runs": [{"final": float("nan"), "curve": [0.5, float("inf")], "steps": (1, 2)}], "n": 3}
    assert _null_for_non_finite(data) == {"runs": [{"final": None, "curve": [0.5, None], "steps": [1, 2]}], "n": 3}
    json.dumps(_null_for_non_finite(data), allow_nan=False)
