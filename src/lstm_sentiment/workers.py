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
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

TASK_TEXTS = 500
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
POLL_SECONDS = 0.1  # how often a wait for results looks for a noted signal
TRIM_EVERY = 16  # tasks between returns of free heap memory to the system (see _release_free_memory)

# (model path or shipped name, precision) → SentimentModel, in each worker process.
_models: dict[tuple[str, str], object] = {}
_tasks_done = 0


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _start_worker() -> None:
    import torch

    # First, before any operator: a forked child inherits no OpenMP threads, and one that entered a
    # parallel region with the parent's thread count would wait for them forever.
    torch.set_num_threads(1)
    # Ctrl-C reaches the whole process group: the parent stops the pool, and a worker that raised
    # KeyboardInterrupt of its own would print a traceback. SIGTERM ends a worker quietly (the parent's
    # handler, inherited by the fork, would print its message once per worker).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by the fork (see PredictPool)


@contextmanager
def _blocked(signums: set[int]) -> Iterator[None]:
    """Hold ``signums`` back from this thread and those it starts (delivered when the block ends)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _model(spec: tuple[str, str]):
    from lstm_sentiment.sentiment import SentimentModel

    if spec not in _models:
        _models[spec] = SentimentModel.load(spec[0], precision=spec[1])
    return _models[spec]


def classify(model, texts: list[str]) -> tuple[int, list[dict]]:
    """The model's ``max_tokens`` (for the truncation warning) and :meth:`SentimentModel.predict`'s records,
    without the warning (the caller gives one for all its tasks)."""
    return model.tokenizer.max_tokens, model.records(texts, model.encode(texts))


def _predict_task(spec: tuple[str, str], texts: list[str]) -> tuple[int, list[dict]]:
    global _tasks_done
    result = classify(_model(spec), texts)
    _tasks_done += 1
    if _tasks_done % TRIM_EVERY == 0:
        _release_free_memory()
    return result


def _release_free_memory() -> None:
    # Batches of every shape leave free holes in glibc's heap that it does not hand back, and a worker's
    # memory crept up by about 50 MB over 100,000 texts. malloc_trim returns them; after every task it
    # cost 10 % of the speed (the pages come straight back), every TRIM_EVERY tasks nothing measurable.
    libc = ctypes.CDLL(None)  # this process's own symbols, libc's among them: no library search
    if hasattr(libc, "malloc_trim"):  # glibc only
        libc.malloc_trim(0)


class PredictPool:
    """Worker processes that return :meth:`SentimentModel.predict` records for lists of texts.

    Use as a context manager. :meth:`submit` returns at once, so the caller can read the next chunk while
    the workers classify this one.

    Args:
        workers: processes, at least 1.
        preload: (model, precision) pairs to load here before the workers start, to be shared by them.
    Raises:
        ValueError: workers < 1.
        SentimentError: a preload model that cannot be loaded.
    """

    def __init__(self, workers: int, preload: Sequence[tuple[str, str]] = ()) -> None:
        from lstm_sentiment.text.tokenize import warm_up

        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        warm_up()
        for spec in preload:
            _model(spec)
        # Objects the collector never visits stay on pages the workers share (see gc.freeze in CPython's
        # docs). They stay frozen here too: a later full collection in this process would otherwise write
        # to every one of them and copy the pages (about 40 MB, measured). Collecting first means only
        # live objects are frozen.
        gc.collect()
        gc.freeze()
        self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker)
        self._signalled: int | None = None
        self._handlers: dict[int, object] = {}
        try:
            if threading.current_thread() is threading.main_thread():  # only there may handlers be set
                for signum in _STOP_SIGNALS:
                    self._handlers[signum] = signal.signal(signum, self._on_signal)
            # With fork, the first submit starts every worker, from this process as it is now, and the
            # executor's threads. The stop signals are blocked meanwhile: the workers and threads inherit
            # the mask, so no worker runs this process's handler before its initializer, and the
            # signals reach this thread only, once the block ends, where the handler runs.
            with _blocked(_STOP_SIGNALS):
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
        KeyboardInterrupt for Ctrl-C). This pool's handler stays until :meth:`close` has stopped the
        workers, so that another press cannot break off the closing."""
        if self._signalled is not None:
            signum, self._signalled = self._signalled, None
            handler = self._handlers.get(signum)
            if callable(handler):
                handler(signum, None)
            else:  # SIG_DFL or SIG_IGN: the signal's own action
                self._restore_handlers()
                signal.raise_signal(signum)

    def _restore_handlers(self) -> None:
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)
        self._handlers = {}

    def submit(self, model: str, precision: str, texts: Sequence[str]) -> list[Future]:
        """Start classifying ``texts`` with the bundle or shipped model ``model``; see :meth:`collect`."""
        texts = list(texts)
        spec = (model, precision)
        self._check()
        return [self._executor.submit(_predict_task, spec, texts[i : i + TASK_TEXTS]) for i in range(0, len(texts), TASK_TEXTS)]

    def collect(self, futures: list[Future]) -> tuple[int, list[dict]]:
        """The model's ``max_tokens`` and the records of :meth:`submit`, in input order (waits for them).

        Raises:
            SentimentError: the model could not be loaded (raised in the worker, passed on here).
            KeyboardInterrupt: Ctrl-C while waiting (within :data:`POLL_SECONDS`).
        """
        max_tokens, records = 0, []
        for future in futures:
            while True:
                try:
                    max_tokens, part = future.result(timeout=POLL_SECONDS)
                    break
                except FutureTimeout:
                    self._check()  # the signal handler cannot wake this wait
            records.extend(part)
        self._check()
        return max_tokens, records

    def close(self) -> None:
        try:
            self._executor.shutdown(wait=True, cancel_futures=True)
        finally:
            self._restore_handlers()

    def __enter__(self) -> "PredictPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
