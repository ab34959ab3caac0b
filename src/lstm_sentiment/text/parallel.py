"""Tokenizing many texts across processes, in input order: opt-in.

With jieba-rs (see :mod:`lstm_sentiment.text.tokenize`) one process segments about 8,000 zh-reviews texts
a second, a fifth of what the model costs, and on the shared 2-core benchmark machine a pool of 2 workers
was slower than one process at every size tried (10,000 texts: 6,337 against 8,132 a second with pool
start; 60,000: 7,474 against 9,227), so nothing uses one unless asked (``workers`` ≥ 2 here, or
``predict --workers N``). Workers are forked when the pool is made, load the segmenters' dictionaries
themselves (so a caller that makes the pool before importing torch gets small workers) and take tasks of
:data:`TASK_TEXTS` texts. Needs the ``fork`` start method (Linux, macOS).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from lstm_sentiment.text.tokenize import Tokenized, Tokenizer, warm_up

TASK_TEXTS = 500


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _tokenize_task(tokenizer: Tokenizer, texts: list[str]) -> list[tuple[tuple[str, ...], str, bool]]:
    # Plain tuples pickle faster than dataclasses on the way back.
    return [(t.tokens, t.lang, t.truncated) for t in map(tokenizer, texts)]


class TokenizerPool:
    """Worker processes that tokenize lists of texts; results come back in input order.

    Use as a context manager. :meth:`submit` returns at once, so the caller can run the model on one chunk
    while the workers segment the next.

    Args:
        workers: processes, at least 1; needs the ``fork`` start method (Linux, macOS).
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=warm_up)
        # With fork, the first submit starts every worker: start them now, so they fork from the process
        # as it is (before torch, when the caller has not imported it) and load jieba in the background.
        self._executor.submit(int)

    def submit(self, tokenizer: Tokenizer, texts: Sequence[str]) -> list[Future]:
        """Start tokenizing ``texts``; pass the returned futures to :meth:`collect`."""
        texts = list(texts)
        return [self._executor.submit(_tokenize_task, tokenizer, texts[i : i + TASK_TEXTS]) for i in range(0, len(texts), TASK_TEXTS)]

    @staticmethod
    def collect(futures: list[Future]) -> list[Tokenized]:
        """The results of :meth:`submit`, in input order (waits for them)."""
        return [Tokenized(*t) for future in futures for t in future.result()]

    def map(self, tokenizer: Tokenizer, texts: Sequence[str]) -> list[Tokenized]:
        """Tokenize ``texts`` and wait for the result."""
        return self.collect(self.submit(tokenizer, texts))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "TokenizerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def tokenize_many(tokenizer: Tokenizer, texts: Sequence[str], workers: int | None = None) -> list[Tokenized]:
    """``[tokenizer(t) for t in texts]``, in this process unless ``workers`` ≥ 2.

    Args:
        workers: processes; None, 0 or 1: this one.
    """
    if not workers or workers <= 1:
        return [tokenizer(text) for text in texts]
    with TokenizerPool(workers) as pool:
        return pool.map(tokenizer, texts)
