"""Prediction over inputs of any length: texts in, records out, a chunk at a time, in input order.

Memory holds two chunks (:data:`CHUNK_TEXTS` texts each) at most, whatever the input's length. With
``workers``, worker processes each classify whole tasks of a chunk (see
:class:`~lstm_sentiment.inference.pool.PredictPool`) while this process reads the next one and writes records.
Records are those of :meth:`SentimentModel.predict`; only the batches differ, so probabilities may differ
from a single ``predict`` call over all texts in the last bits of float32 (about 1e-7).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from pathlib import Path

import torch

from lstm_sentiment import interrupt
from lstm_sentiment.atomic import write_atomic
from lstm_sentiment.data.files import BadInput
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import SentimentModel, refuse_one_text
from lstm_sentiment.inference.pool import PredictPool
from lstm_sentiment.inference.routing import ByScript, ModelRef, Target, classify, in_input_order, target_of, warn_truncations
from lstm_sentiment.output import KeptColumns, write_records

CHUNK_TEXTS = 4_000


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(texts)
    while chunk := list(islice(it, size)):
        yield chunk


_END = object()  # what the reader thread of _live_chunks puts after the last text


def _live_chunks(texts: Iterable[str], size: int, wait: float) -> Iterator[list[str]]:
    """Chunks of up to ``size`` texts, each cut short when no text has come for ``wait`` seconds, and then
    an empty chunk every ``wait`` seconds while the input pauses: the caller writes the records it holds and
    looks for Ctrl-C meanwhile. A thread reads ``texts`` (at most one chunk ahead), as a pipe that pauses
    blocks its reader."""
    # A SimpleQueue (C, no lock of Python's) per text and a token per chunk for the bound: a bounded
    # queue.Queue, locked twice per text, cost 12 % of a large piped input.
    items: queue.SimpleQueue = queue.SimpleQueue()
    room = threading.Semaphore(0)  # a chunk taken by the consumer: the reader may put one more
    stopped = threading.Event()  # the consumer is done: a reader that wakes up reads no further

    def read() -> None:
        try:
            for count, text in enumerate(texts, 1):
                items.put(text)
                if count % size == 0:
                    room.acquire()
                    if stopped.is_set():
                        return
        except BaseException as error:  # noqa: BLE001  # raised again in the consuming thread (texts are never exceptions)
            items.put(error)
        items.put(_END)

    threading.Thread(target=read, name="lstm-sentiment-input", daemon=True).start()
    chunk: list[str] = []
    taken = 0
    try:
        while True:
            try:
                item = items.get(timeout=wait)
            except queue.Empty:
                if chunk:
                    yield chunk
                    chunk = []
                yield []
                continue
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            chunk.append(item)
            taken += 1
            if taken % size == 0:
                room.release()
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    finally:
        # A consumer that stops early (an error, or a caller that leaves the loop) leaves no reader
        # blocked for good; one waiting on the input itself ends after its next text.
        stopped.set()
        room.release()


def iter_predictions(
    texts: Iterable[str],
    model: SentimentModel | str | Path | None = None,
    lang: str = "auto",
    chunk_size: int = CHUNK_TEXTS,
    workers: int = 0,
    threads: int | None = None,
    precision: str = "float32",
    pool: PredictPool | None = None,
    wait: float | None = None,
) -> Iterator[dict]:
    """Prediction records (see :meth:`SentimentModel.predict`), one per text, in input order, lazily.

    Args:
        texts: any iterable, read ``chunk_size`` texts at a time; a
            :class:`~lstm_sentiment.data.files.BadInput` among them gets a record with its ``error``
            (``label``, ``score`` and ``probs`` null) at its place.
        model: a loaded :class:`SentimentModel`, a bundle directory or a shipped model name; None: the
            shipped models, by ``lang`` ("auto": each text to zh or en by its script; see
            :func:`~lstm_sentiment.inference.routing.target_of`).
        chunk_size: texts per chunk (≥ 1).
        workers: processes that classify (each with one torch thread) while this one reads and writes;
            0 (default): classify in this process. On 2 idle cores, 2 workers gave 1.7 times the texts
            per second of one process (see BENCHMARKS.md). A loaded ``model`` is loaded again from its
            ``path``, once, for the workers to share.
        threads: torch threads for the model in this process while predicting (restored after); None
            leaves torch's setting. Unused with workers.
        precision: "float32" (default) or "bfloat16" (see :meth:`SentimentModel.load`); ignored for a
            loaded ``model``, which keeps its own.
        pool: a running pool to use instead of starting ``workers`` processes (its workers keep the models
            they loaded, from one call to the next).
        wait: for input that arrives over time (stdin, a pipe): seconds without a new text after which the
            records of the texts read so far are made and yielded; None (default): every chunk is filled,
            so records come a chunk late.
    Raises:
        ValueError: chunk_size < 1, workers < 0, an unknown precision or lang, a model and a lang both.
        SentimentError: a model that cannot be loaded.
        TypeError: ``texts`` is one string or bytes object, or holds something that is neither a string nor a
            ``BadInput`` (raised when its chunk is read: the records of the chunk before it are not yielded).
    """
    refuse_one_text(texts)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    target = target_of(model, lang, precision)
    if wait is None:
        chunks = _chunks(texts, chunk_size)
        first = next(chunks, None)
        if first is None:
            return  # no pool started for nothing
        chunks = chain((first,), chunks)
    else:
        # Its reader thread starts at the first chunk asked for, after the pool's workers are forked: a
        # fork beside a thread blocked in a read left the workers hung.
        chunks = _live_chunks(texts, chunk_size, wait)
    if pool is not None:
        yield from _predict_chunks(chunks, _in_pool(pool, target))
        return
    if workers:
        preload = target.refs if isinstance(target, ByScript) else (target,)
        with PredictPool(workers, preload) as own:
            yield from _predict_chunks(chunks, _in_pool(own, target))
        return
    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield from _predict_chunks(chunks, _in_this_process(target, model if isinstance(model, SentimentModel) else None))
    finally:
        torch.set_num_threads(saved)


# start(texts) begins classifying texts and returns a function that waits for their records and the
# truncated texts by max_tokens (routing.classify's result).
Start = Callable[[list[str]], Callable[[], tuple[list[dict], dict[int, int]]]]


def _predict_chunks(chunks: Iterable[list], start: Start) -> Iterator[dict]:
    """Records of every chunk, in input order. Each chunk is started before the previous one's records
    are collected, so workers classify it while this process writes them."""
    truncated: dict[int, int] = {}
    seen = 0  # texts in the chunks before this one, to name a bad item by its place in the input

    def begin(texts: list) -> tuple[int, tuple[list[int], Callable], tuple[list[int], list[dict]]]:
        nonlocal seen
        wrong = next((i for i, text in enumerate(texts) if not isinstance(text, (str, BadInput))), None)
        if wrong is not None:
            raise TypeError(f"texts[{seen + wrong}] is {type(texts[wrong]).__name__}, not a string")
        seen += len(texts)
        bad = [i for i, text in enumerate(texts) if isinstance(text, BadInput)]
        good = [i for i, text in enumerate(texts) if not isinstance(text, BadInput)]
        refused = [{"text": texts[i].text, "label": None, "score": None, "probs": None, "error": texts[i].error} for i in bad]
        return len(texts), (good, start([texts[i] for i in good])), (bad, refused)

    def finish(size: int, started: tuple[list[int], Callable], refused: tuple[list[int], list[dict]]) -> list[dict]:
        good, result = started
        records, counts = result()
        for max_tokens, count in counts.items():
            truncated[max_tokens] = truncated.get(max_tokens, 0) + count
        return in_input_order(size, [refused, (good, records)])

    pending = None
    for texts in chunks:
        interrupt.check()  # a Ctrl-C whose KeyboardInterrupt was lost stops the run here
        if not texts:  # the input paused (_live_chunks): what is held goes out before waiting for more
            if pending is not None:
                yield from finish(*pending)
            else:
                start([])  # nothing to classify; a pool looks for a Ctrl-C it noted (its handler only notes)
            pending = None
            continue
        following = begin(texts)
        if pending is not None:
            yield from finish(*pending)
        pending = following
    if pending is not None:
        yield from finish(*pending)
    warn_truncations(truncated)


def _in_this_process(target: Target, loaded: SentimentModel | None) -> Start:
    models: dict[ModelRef, SentimentModel] = {ModelRef.of(loaded): loaded} if loaded is not None else {}

    def model_for(ref: ModelRef) -> SentimentModel:
        if ref not in models:
            models[ref] = ref.load()
        return models[ref]

    def start(texts: list[str]):
        return lambda: classify(target, texts, model_for)  # runs when collected: one chunk's records at a time

    return start


def _in_pool(pool: PredictPool, target: Target) -> Start:
    def start(texts: list[str]):
        futures = pool.submit(target, texts)
        return lambda: pool.collect(futures)

    return start


class RecordCounter:
    """Passes records through, counting them and those with an ``error``; ``first_failed`` is the input
    number (from 1) of the first of those."""

    def __init__(self, records: Iterable[dict]) -> None:
        self._records = records
        self.count = 0
        self.failed = 0
        self.first_error: str | None = None
        self.first_failed: int | None = None

    def __iter__(self) -> Iterator[dict]:
        for record in self._records:
            self.count += 1
            if record.get("error"):
                self.failed += 1
                if self.first_error is None:
                    self.first_error, self.first_failed = record["error"], self.count
            yield record


def kept_note(output: Path) -> str:
    """What a failed write to ``output`` leaves: "OUTPUT left as it was", or "OUTPUT not written" for a file
    that was not there (it was "left as it was" too)."""
    return f"{output} left as it was" if output.exists() else f"{output} not written"


def predict_file(texts: Iterable[str], output: Path, fmt: str = "jsonl", model=None, columns: KeptColumns | None = None, **options) -> RecordCounter:
    """Classify ``texts`` into ``output`` ("jsonl", "json", "csv" or "tsv"), streaming, written atomically.

    Records go to a temporary file beside ``output``, renamed over it at the end; if anything fails the
    old ``output`` is left as it was. ``model`` and ``options`` (``lang``, ``workers``, ``precision``…)
    are :func:`iter_predictions`'s; ``columns``, the :class:`KeptColumns` whose ``texts()`` are ``texts``,
    puts the input rows' other columns on their records.

    Returns:
        the counts of records written and of failed ones.
    Raises:
        SentimentError: no texts, or none that could be classified (``output`` is left as it was, or not
            written where there was none).
    """
    records = iter_predictions(texts, model, **options)
    counter = RecordCounter(records if columns is None else columns.records(records))

    kept = kept_note(output)

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as stream:  # newlines as write_text_atomic writes them
            write_records(counter, fmt, stream, spool_dir=tmp.parent)
        interrupt.check()  # nothing replaces the old output after a Ctrl-C, even one whose exception was lost
        if counter.count == 0:
            raise SentimentError(f"no texts in the input; {kept}")
        if counter.failed == counter.count:
            raise SentimentError(f"none of the {counter.count} input(s) could be classified ({counter.first_error}); {kept}")

    write_atomic(output, write)
    return counter
