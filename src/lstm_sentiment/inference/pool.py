"""Prediction across processes: each worker segments, encodes and classifies whole tasks of texts.

The model's LSTM kernel is most of the work (about three quarters of a zh-reviews text's CPU time in
float32, segmentation a sixth), and its small per-step matrix products gain little from more OpenMP
threads in one process, so the way to use more cores is more processes, each with one torch thread, each
running the whole pipeline on its own texts. The pool loads the segmenters' dictionaries and the models it is
told of in this process, then forks the workers, which share those pages copy-on-write instead of
holding a copy each (jieba's dictionary alone is about 70 MB of Python objects); a model no one told it
of is loaded by each worker at the first task that names it. Needs the ``fork`` start method (Linux,
macOS).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

import torch

from lstm_sentiment import interrupt
from lstm_sentiment.inference.model import SentimentModel
from lstm_sentiment.inference.routing import ModelRef, Target, classify
from lstm_sentiment.text.tokenize import warm_up

TASK_TEXTS = 500
POLL_SECONDS = 0.1  # how often a wait for results looks for a noted signal
TRIM_EVERY = 16  # tasks between returns of free heap memory to the system (see _release_free_memory)

# This process's own symbols, libc's among them (no library search): malloc_trim.
_LIBC = ctypes.CDLL(None)
# The models each worker process has loaded (and those the parent loaded before forking).
_models: dict[ModelRef, SentimentModel] = {}
_tasks_done = 0


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _start_worker(parent: int) -> None:
    # First, before any operator: a forked child inherits no OpenMP threads, and one that entered a
    # parallel region with the parent's thread count would wait for them forever.
    torch.set_num_threads(1)
    # Ctrl-C reaches the whole process group: the parent stops the pool, and a worker that raised
    # KeyboardInterrupt of its own would print a traceback. SIGTERM ends a worker quietly (the parent's
    # handler, inherited by the fork, would print its message once per worker).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by the fork (see PredictPool)
    interrupt.exit_with_parent(parent)


@contextmanager
def _blocked(signums: Iterable[int]) -> Iterator[None]:
    """Hold ``signums`` back from this thread and those it starts (delivered when the block ends)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _model(ref: ModelRef) -> SentimentModel:
    if ref not in _models:
        # The workers are forked CPU processes: a model the parent had put on CUDA could not be used in them
        # ("Cannot re-initialize CUDA in forked subprocess").
        _models[ref] = ref.load(device="cpu")
    return _models[ref]


def _predict_task(target: Target, texts: list[str]) -> tuple[list[dict], dict[int, int]]:
    global _tasks_done
    result = classify(target, texts, _model)
    _tasks_done += 1
    if _tasks_done % TRIM_EVERY == 0:
        _release_free_memory()
    return result


def _release_free_memory() -> None:
    # Batches of every shape leave free holes in glibc's heap that it does not hand back, and a worker's
    # memory crept up by about 50 MB over 100,000 texts. malloc_trim returns them; after every task it
    # cost 10 % of the speed (the pages come straight back), every TRIM_EVERY tasks nothing measurable.
    if hasattr(_LIBC, "malloc_trim"):  # glibc only
        _LIBC.malloc_trim(0)


class PredictPool:
    """Worker processes that return :meth:`SentimentModel.predict` records for lists of texts.

    Each task is classified by :func:`~lstm_sentiment.inference.routing.classify` in a worker, routing by
    script included, with the models that worker has loaded.

    Use as a context manager. :meth:`submit` returns at once, so the caller can read the next chunk while
    the workers classify this one.

    Args:
        workers: processes, at least 1.
        preload: models to load here before the workers start, to be shared by them.
    Raises:
        ValueError: workers < 1.
        SentimentError: a preload model that cannot be loaded.
    """

    def __init__(self, workers: int, preload: Sequence[ModelRef] = ()) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        warm_up()
        # Dropped again at close: each pool of a Python session kept its models in this process for good.
        self._loaded = [ref for ref in dict.fromkeys(preload) if ref not in _models]
        for ref in preload:
            _model(ref)
        # Objects the collector never visits stay on pages the workers share (see gc.freeze in CPython's
        # docs). They stay frozen here too: a later full collection in this process would otherwise write
        # to every one of them and copy the pages (about 40 MB, measured). Collecting first means only
        # live objects are frozen.
        gc.collect()
        gc.freeze()
        self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker, initargs=(os.getpid(),))
        self._signalled: int | None = None
        self._handlers: dict[int, object] = {}
        try:
            if threading.current_thread() is threading.main_thread():  # only there may handlers be set
                for signum in interrupt.SIGNALS:
                    self._handlers[signum] = signal.signal(signum, self._on_signal)
            # With fork, the first submit starts every worker, from this process as it is now, and the
            # executor's threads. The stop signals are blocked meanwhile: the workers and threads inherit
            # the mask, so no worker runs this process's handler before its initializer, and the
            # signals reach this thread only, once the block ends, where the handler runs.
            with _blocked(interrupt.SIGNALS):
                self._executor.submit(int).result()
            self._check()
        except BaseException:
            # Ctrl-C while they start: no caller holds the pool to close it, and workers left running
            # would keep the interpreter from exiting (they ignore SIGINT).
            self.close()
            raise

    def _on_signal(self, signum: int, frame) -> None:
        # Ctrl-C raised as KeyboardInterrupt anywhere in this thread could land inside the executor while
        # it holds its lock (in submit, say), and closing it would then wait for that lock forever (issue
        # 13 saw 5 hangs in 15 tries). Ending the workers here is no better: one killed while it writes
        # its result leaves half a message that the executor's thread waits for forever. So the signal
        # is only noted; it is acted on at the next safe point (see _check, at most POLL_SECONDS away),
        # and close() lets the running tasks finish. More presses meanwhile change nothing.
        if self._signalled is None:
            self._signalled = signum

    def _check(self) -> None:
        """Give the signal received while working to the handler it was meant for (Python's own raises
        KeyboardInterrupt for Ctrl-C), and stop for a press noted before this pool started whose
        KeyboardInterrupt was lost (see :mod:`lstm_sentiment.interrupt`). This pool's handler stays until
        :meth:`close` has stopped the workers, so that another press cannot break off the closing."""
        self._deliver(self._handlers)
        interrupt.check()

    def _deliver(self, handlers: dict[int, object]) -> None:
        if self._signalled is None:
            return
        signum, self._signalled = self._signalled, None
        handler = handlers.get(signum)
        if callable(handler):
            handler(signum, None)
        else:  # SIG_DFL or SIG_IGN: the signal's own action
            self._restore_handlers()
            signal.raise_signal(signum)

    def _restore_handlers(self) -> None:
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)
        self._handlers = {}

    def submit(self, target: Target, texts: Sequence[str]) -> list[Future]:
        """Start classifying ``texts`` for ``target``, in tasks of :data:`TASK_TEXTS`; see :meth:`collect`."""
        texts = list(texts)
        self._check()
        return [self._executor.submit(_predict_task, target, texts[i : i + TASK_TEXTS]) for i in range(0, len(texts), TASK_TEXTS)]

    def collect(self, futures: list[Future]) -> tuple[list[dict], dict[int, int]]:
        """The records of :meth:`submit`, in input order, and the truncated texts by ``max_tokens`` (see
        :func:`~lstm_sentiment.inference.routing.classify`); waits for them.

        Raises:
            SentimentError: the model could not be loaded (raised in the worker, passed on here).
            KeyboardInterrupt: Ctrl-C while waiting (within :data:`POLL_SECONDS`).
        """
        records: list[dict] = []
        truncated: dict[int, int] = {}
        for future in futures:
            while True:
                try:
                    part, counts = future.result(timeout=POLL_SECONDS)
                    break
                except FutureTimeout:
                    self._check()  # the signal handler cannot wake this wait
            records.extend(part)
            for max_tokens, count in counts.items():
                truncated[max_tokens] = truncated.get(max_tokens, 0) + count
        self._check()
        return records, truncated

    def close(self) -> None:
        """Stop the workers (running tasks finish; queued ones are dropped), drop the models this pool loaded
        and unfreeze the collector, then give a signal received meanwhile to its handler: a press while the
        pool closes at the end of a run still stops the run.

        Raises:
            KeyboardInterrupt: Ctrl-C while closing (or before), as :meth:`_check` raises it.
        """
        try:
            self._executor.shutdown(wait=True, cancel_futures=True)
        finally:
            handlers = dict(self._handlers)
            self._restore_handlers()
            for ref in self._loaded:
                _models.pop(ref, None)
            gc.unfreeze()  # the workers that shared the frozen pages are gone
        self._deliver(handlers)

    def __enter__(self) -> "PredictPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
