"""The fair training loop: every cell gets the same data, optimizer, clipping, batch size and step budget.

Runs are independent, so :func:`run_longrange` trains ``config.workers`` of them at once, each in its own
process with ``config.threads`` torch threads. Training runs in a Lightning ``Trainer`` (``max_steps``, an endless :class:`~.tasks.FreshBatches` stream).
Its cost per step, measured on the 2-core machine against a bare PyTorch loop of the same steps
(300 steps, Trainer construction included), was +0.66 ms on a 5.7 ms step (tanh RNN, T=50), +0.25 ms
on 10.5 ms (LSTM, T=50) and +0.81 ms on 55 ms (LSTM, T=200): the same small constant for every cell,
so it does not change which cell learns in how many steps, and adds at most ~12% to the cheapest
wall times.

Shape letters: N sequences, L = T steps, H hidden units.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Callable

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from lstm_sentiment import interrupt
from lstm_sentiment.atomic import check_output_folder, claimed, make_folders, remove_empty
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.logs import quiet_lightning

from . import report
from .config import LSTM_CELLS, LongRangeConfig, check_run
from .memory import pick_traced_run, trace_memory
from .models import SequenceModel
from .results import LongRangeReport, RunResult
from .tasks import TASK_SPECS, FreshBatches, TaskSpec, make_test_set, train_seed


def evaluate(model: SequenceModel, task: TaskSpec, batches: list[tuple[Tensor, Tensor]]) -> float:
    """Test metric of ``model`` over fixed batches: MSE (adding) or accuracy (recall), over all sequences."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            answer = model(x)
            if task.metric == "mse":
                total += float(((answer - y) ** 2).sum())
            else:
                total += float((answer.argmax(dim=-1) == y).sum())
            count += y.numel()
    model.train(was_training)
    return total / count


class LongRangeModule(L.LightningModule):
    """Lightning wrapper: the task's loss (MSE or cross-entropy) and Adam.

    Args:
        model: the network to train.
        task: what it is trained on.
        lr: Adam learning rate.
    """

    def __init__(self, model: SequenceModel, task: TaskSpec, lr: float) -> None:
        super().__init__()
        self.model, self.task, self.lr = model, task, lr
        self.recent_losses: list[float] = []

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        answer = self.model(x)
        loss = F.mse_loss(answer, y) if self.task.metric == "mse" else F.cross_entropy(answer, y)
        self.recent_losses.append(float(loss.detach()))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class Evaluator(L.Callback):
    """Scores the model on the test set every ``every`` steps and at the last step; may stop the run.

    Evaluation lives in a callback rather than Lightning's validation loop so that each evaluation's
    step is exact (also the last one when the budget is not a multiple of ``every``) and a solved run
    stops on that very step.
    """

    def __init__(self, task: TaskSpec, batches, every: int, max_steps: int, stop_when_solved: bool) -> None:
        self.task, self.batches, self.every, self.max_steps = task, batches, every, max_steps
        self.stop_when_solved = stop_when_solved
        self.curve: list[dict] = []
        self.solved_step: int | None = None
        self.start = time.perf_counter()

    def on_train_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step  # optimizer steps taken so far
        if step % self.every and step < self.max_steps:
            return
        value = evaluate(pl_module.model, self.task, self.batches)
        losses = pl_module.recent_losses
        self.curve.append(
            {"step": step, "test": value, "train_loss": sum(losses) / max(len(losses), 1),
             "elapsed_s": time.perf_counter() - self.start}
        )
        losses.clear()
        if self.solved_step is None and self.task.is_solved(value):
            self.solved_step = step
            if self.stop_when_solved:
                trainer.should_stop = True


def train_one(
    config: LongRangeConfig, cell: str, length: int, seed: int, test_batches=None
) -> tuple[RunResult, SequenceModel]:
    """Train one cell on one length with one seed.

    Args:
        config: the shared budget and hyperparameters.
        cell: "rnn", "gru", "lstm" or "lstm-bias1".
        length: T.
        seed: initial weights come from ``torch.manual_seed(seed)``; training batches from
            :func:`~.tasks.train_seed` (seed, length), identical for every cell.
        test_batches: the fixed test set of this length; drawn with :func:`~.tasks.make_test_set` if None.
    Returns:
        ``(result, trained model)``.
    Raises:
        ValueError: a cell not in :data:`~.config.CELLS`, a length below 2, or a seed outside 0 …
            :data:`~.config.MAX_SEEDS` - 1 (seed -1 drew its training batches from the test set's generator).
    """
    check_run(cell, length, seed)
    task = TASK_SPECS[config.task]
    if test_batches is None:
        test_batches = make_test_set(task, length, config.test_size)
    torch.manual_seed(seed)
    model = SequenceModel(config.task, cell, config.hidden_size, length, config.embed_dim)
    module = LongRangeModule(model, task, config.lr)
    evaluator = Evaluator(task, test_batches, config.eval_every, config.steps, config.stop_when_solved)
    loader = DataLoader(FreshBatches(task, length, config.batch_size, train_seed(seed, length)), batch_size=None)
    with quiet_lightning():
        trainer = L.Trainer(
            max_steps=config.steps,
            accelerator="cpu",
            devices=1,
            gradient_clip_val=config.clip_norm,
            gradient_clip_algorithm="norm",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            callbacks=[evaluator],
        )
        start = time.perf_counter()
        interrupt.fit(trainer, module, train_dataloaders=loader)
        wall = time.perf_counter() - start
    last = evaluator.curve[-1]
    result = RunResult(
        task=config.task, cell=cell, length=length, seed=seed, metric=task.metric, final=last["test"],
        solved=evaluator.solved_step is not None, solved_step=evaluator.solved_step,
        steps=trainer.global_step, wall_s=wall, curve=evaluator.curve,
    )
    return result, model


def _start_worker(threads: int, parent: int) -> None:
    torch.set_num_threads(threads)
    interrupt.exit_with_parent(parent)


def _train_job(config: LongRangeConfig, cell: str, length: int, seed: int) -> tuple[RunResult, dict | None]:
    """:func:`train_one` in a worker process; returns the weights only of models traced afterwards."""
    result, model = train_one(config, cell, length, seed)
    return result, model.state_dict() if config.traced and cell in LSTM_CELLS else None


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    kill = getattr(pool, "kill_workers", None)  # Python 3.14's; before it, the pool's own table
    if kill is not None:
        kill()
        return
    for process in list((pool._processes or {}).values()):
        process.kill()


def _run_order(config: LongRangeConfig, run: RunResult) -> tuple[int, int, int]:
    return config.lengths.index(run.length), run.seed, config.cells.index(run.cell)


def _available_bytes() -> int | None:
    """Memory the kernel can give without swapping (Linux's MemAvailable), None where it is not known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(config: LongRangeConfig, available: int | None = None) -> None:
    """Refuse a benchmark whose estimated peak (:meth:`LongRangeConfig.peak_bytes`) is above the memory
    available, before anything runs: past it the system kills a worker mid-run.

    Args:
        config: the benchmark.
        available: bytes available; read from /proc/meminfo if None (no check where it cannot be read).
    Raises:
        SentimentError: naming the estimate, what is available and the flags that shrink it.
    """
    available = _available_bytes() if available is None else available
    needed = config.peak_bytes()
    if available is None or needed <= available:
        return
    gib = 2**30
    raise SentimentError(
        f"this run needs about {needed / gib:,.1f} GiB of memory (T up to {max(config.lengths):,}, batch "
        f"{config.batch_size}, H = {config.hidden_size}, {config.workers} run(s) at once) and "
        f"{available / gib:,.1f} GiB are available: use shorter lengths, a smaller batch or hidden size, or fewer "
        "workers (--lengths, --batch-size, --hidden-size, --workers; LongRangeConfig's fields)"
    )


def run_longrange(
    config: LongRangeConfig, out_dir: str | Path, log: Callable[[str], None] | None = None
) -> LongRangeReport:
    """Train every cell × length × seed of ``config`` in ``config.workers`` processes and write the reports
    to ``out_dir``.

    Writes (atomically, each replaced after every finished run so an interrupted run keeps what it
    finished, its summary marked partial): ``results.csv``, ``results.json``, ``summary.md``, and at the end
    ``metric_vs_length.png``, ``learning_curves.png`` and, for the recall task with an LSTM,
    ``forget_gate.png``. An earlier report in ``out_dir`` is kept until the first run finishes; then its
    tables are replaced and its plots removed. Runs are not resumed: every run of ``config`` is trained.
    The workers start by spawn, which imports the calling script again: a script calls this under
    ``if __name__ == "__main__":``.

    Args:
        config: what to run.
        out_dir: output directory, created if missing (a link's target where it is a link to nothing); an existing one must be empty or hold an earlier
            report (only the files above).
        log: receives one progress line per finished run; stderr if None.
    Returns:
        The :class:`LongRangeReport`.
    Raises:
        SentimentError: ``out_dir`` holds other files (they would be replaced), cannot be written or is being
            written by another run (:func:`~lstm_sentiment.atomic.claimed`); the run would need more memory
            than is available (:func:`check_memory`).
        concurrent.futures.process.BrokenProcessPool: a worker process ended before its run finished (killed
            for memory, or a script without that guard; a note says so).
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker starting (spawn imports the calling script again) met this call at the script's top
        # level: multiprocessing's own refusal then printed two tracebacks. The parent names the cause.
        raise SystemExit(1)
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out_dir)
    jobs = [(cell, length, seed) for length in config.lengths for seed in range(config.seeds) for cell in config.cells]
    # Longest sequences first, so that the last runs to finish are short ones and no worker idles long.
    jobs.sort(key=lambda job: -job[1])
    # As many workers as there are runs: for the memory estimate, the log and the summary.
    config = replace(config, workers=config.busy_workers)
    check_memory(config)
    # Held from Python too: a run_longrange() into the folder of a command's run replaced its report unseen.
    with claimed(out, "--out"):
        return _run_all(config, jobs, out, log)


def _run_all(config: LongRangeConfig, jobs: list[tuple[str, int, int]], out: Path, log: Callable[[str], None]) -> LongRangeReport:
    check_output_folder(out, report.REPORT_FILES, "results.json", "a longrange report", "--out", whole=False)
    # Through a link to a folder not yet made, that folder is made (as train makes a bundle's): out.mkdir
    # failed on the link with "[Errno 17] File exists".
    target = Path(os.path.realpath(out))
    made = make_folders(target)
    task = TASK_SPECS[config.task]
    runs: list[RunResult] = []
    lstm_states: dict[tuple[str, int, int], tuple[RunResult, dict]] = {}
    log(
        f"longrange: task={config.task}, {report.count(len(jobs), 'run')} on {config.workers} worker(s), budget {report.count(config.steps, 'step')} "
        f"each; solved = {task.criterion}"
    )
    start = time.perf_counter()
    # spawn, not fork: a forked child inherits the parent's torch thread pools in an undefined state.
    pool = ProcessPoolExecutor(
        config.workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker, initargs=(config.threads, os.getpid()),
    )
    try:
        futures = [pool.submit(_train_job, config, *job) for job in jobs]
        for future in as_completed(futures):
            result, state = future.result()
            runs.append(result)
            runs.sort(key=lambda run: _run_order(config, run))
            if state is not None:
                lstm_states[(result.cell, result.length, result.seed)] = (result, state)
            solved = f"solved at step {result.solved_step}" if result.solved else "not solved"
            log(
                f"[{len(runs)}/{len(jobs)}] {result.cell:>10} T={result.length:<4} seed={result.seed}: test "
                f"{task.metric} {report.figure(task, result.final)}, {solved}, {report.count(result.steps, 'step')}, {result.wall_s:.1f} s"
            )
            report.write_tables(LongRangeReport(config, runs, time.perf_counter() - start), out)
            if len(runs) == 1:
                # The earlier report's tables are replaced now; its plots (drawn at the end) would stay
                # beside them, of another task or other cells, until this run ends, or for good if stopped.
                report.remove_plots(out)
    except BaseException as err:
        # SIGTERM to this process, a failed run: shutdown() would wait for the runs in progress (minutes
        # each at T=400), and Lightning in the workers takes SIGTERM as a note to itself.
        _kill_workers(pool)
        remove_empty(made)  # a first run that failed (out of memory) left the folders it made, empty
        if isinstance(err, BrokenProcessPool):
            # Kept a BrokenProcessPool, which the command names as a worker killed for memory; Python's traceback shows the note.
            err.add_note(
                "A worker is killed by the system for want of memory, or ends at its start where a script calls "
                "run_longrange at its top level: workers start by spawn, which imports the script again; call it "
                'under `if __name__ == "__main__":`.'
            )
        raise
    finally:
        pool.shutdown(cancel_futures=True)
    result = LongRangeReport(config, runs, time.perf_counter() - start)
    if lstm_states:
        result.memory = {}
        for cell, (run, state) in pick_traced_run(lstm_states).items():
            model = SequenceModel(config.task, cell, config.hidden_size, run.length, config.embed_dim)
            model.load_state_dict(state)
            result.memory[cell] = trace_memory(model, make_test_set(task, run.length, config.test_size), run)
    report.write_all(result, out)
    log(f"longrange: total wall time {result.total_wall_s:.1f} s ({result.total_wall_s / 60:.1f} min); reports in {out}")
    return result
