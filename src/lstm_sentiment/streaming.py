"""Prediction over inputs of any length: texts in, records out, a chunk at a time, in input order.

Memory holds two chunks (:data:`CHUNK_TEXTS` texts each) at most, whatever the input's length. With
``workers``, worker processes segment the next chunk while the model classifies one (see
:class:`~lstm_sentiment.text.parallel.TokenizerPool`).
Records are those of :meth:`SentimentModel.predict`; only the batches differ, so probabilities may differ
from a single ``predict`` call over all texts in the last bits of float32 (about 1e-7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from lstm_sentiment.text.parallel import TokenizerPool

CHUNK_TEXTS = 4_000


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(texts)
    while chunk := list(islice(it, size)):
        yield chunk


class _Chunk:
    """One chunk on its way: its texts, and per model the indices it holds and their tokenization."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.groups: list[tuple[object, list[int], object]] = []  # (model, indices, futures or Tokenized list)


def iter_predictions(
    texts: Iterable[str],
    model=None,
    lang: str = "auto",
    chunk_size: int = CHUNK_TEXTS,
    workers: int | None = None,
    threads: int | None = None,
) -> Iterator[dict]:
    """Prediction records (see :meth:`SentimentModel.predict`), one per text, in input order, lazily.

    Args:
        texts: any iterable, read ``chunk_size`` texts at a time.
        model: a loaded :class:`SentimentModel`, a bundle directory or a shipped model name; None: the
            shipped models, by ``lang`` ("auto": each text to zh or en by its script).
        chunk_size: texts per chunk (≥ 1).
        workers: segmentation processes beside this one, which then overlap the model; 0 (default):
            segment in this process. With jieba-rs segmentation is about a fifth of the work, and on the
            shared 2-core benchmark machine one worker was not measurably faster (see BENCHMARKS.md)
            while it added about 130 MB of memory; it can pay where cores are idle.
        threads: torch threads for the model while predicting (restored after); None leaves torch's
            setting. The LSTM's small per-step products gain little from more threads, and on a busy
            machine OpenMP threads waiting for each other made a 2-thread run 5 to 16 times slower than a
            1-thread one (measured here), so the command line uses 1.
    Raises:
        ValueError: chunk_size < 1.
        SentimentError: a model that cannot be loaded.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    chunks = _chunks(texts, chunk_size)
    first = next(chunks, None)
    if first is None:
        return
    if workers is None:
        workers = 0
    # The pool forks before torch is imported (below), so the workers carry only the segmenters.
    pool = TokenizerPool(workers) if workers >= 1 else None
    try:
        yield from _predict_chunks(first, chunks, model, lang, pool, threads)
    finally:
        if pool is not None:
            pool.close()


def _predict_chunks(first: list[str], chunks: Iterator[list[str]], model, lang: str, pool: TokenizerPool | None, threads: int | None) -> Iterator[dict]:
    import torch

    if threads is None:
        yield from _predict_chunks_on(first, chunks, model, lang, pool)
        return
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield from _predict_chunks_on(first, chunks, model, lang, pool)
    finally:
        torch.set_num_threads(saved)


def _predict_chunks_on(first: list[str], chunks: Iterator[list[str]], model, lang: str, pool: TokenizerPool | None) -> Iterator[dict]:
    from lstm_sentiment.sentiment import SentimentModel
    from lstm_sentiment.text.tokenize import detect_lang, warn_truncated

    loaded: dict[str, SentimentModel] = {}

    def load(name) -> SentimentModel:
        if isinstance(name, SentimentModel):
            return name
        if str(name) not in loaded:
            loaded[str(name)] = SentimentModel.load(name)
        return loaded[str(name)]

    if model is not None:
        route: Callable[[str], object] = lambda text: model  # noqa: E731
    elif lang != "auto":
        route = lambda text: lang  # noqa: E731
    else:
        route = detect_lang

    truncated: dict[int, tuple[SentimentModel, int]] = {}

    def start(texts: list[str]) -> _Chunk:
        chunk = _Chunk(texts)
        by_model: dict[object, list[int]] = {}
        for i, text in enumerate(texts):
            by_model.setdefault(route(text), []).append(i)
        for name, index in by_model.items():
            m = load(name)
            group = [texts[i] for i in index]
            work = pool.submit(m.tokenizer, group) if pool is not None else m.encode(group, workers=0)
            chunk.groups.append((m, index, work))
        return chunk

    def finish(chunk: _Chunk) -> list[dict]:
        records: list[dict | None] = [None] * len(chunk.texts)
        for m, index, work in chunk.groups:
            encoded = TokenizerPool.collect(work) if pool is not None else work
            count = sum(e.truncated for e in encoded)
            if count:
                truncated[id(m)] = (m, truncated.get(id(m), (m, 0))[1] + count)
            for i, record in zip(index, m.records([chunk.texts[i] for i in index], encoded)):
                records[i] = record
        return records  # type: ignore[return-value]

    pending = start(first)
    for texts in chunks:
        following = start(texts)  # workers segment this chunk while the model runs on the pending one
        yield from finish(pending)
        pending = following
    yield from finish(pending)
    for m, count in truncated.values():
        warn_truncated(count, m.tokenizer.max_tokens)


class RecordCounter:
    """Passes records through, counting them and those with an ``error``."""

    def __init__(self, records: Iterable[dict]) -> None:
        self._records = records
        self.count = 0
        self.failed = 0
        self.first_error: str | None = None

    def __iter__(self) -> Iterator[dict]:
        for record in self._records:
            self.count += 1
            if record.get("error"):
                self.failed += 1
                if self.first_error is None:
                    self.first_error = record["error"]
            yield record


def predict_file(
    texts: Iterable[str],
    output: Path,
    fmt: str = "jsonl",
    model=None,
    lang: str = "auto",
    chunk_size: int = CHUNK_TEXTS,
    workers: int | None = None,
    threads: int | None = None,
) -> RecordCounter:
    """Classify ``texts`` into ``output`` ("jsonl", "json" or "csv"), streaming, written atomically.

    Records go to a temporary file beside ``output``, renamed over it at the end; if anything fails the
    old ``output`` is left as it was.

    Returns:
        the counts of records written and of failed ones.
    """
    from lstm_sentiment.atomic import write_atomic
    from lstm_sentiment.output import write_records

    counter = RecordCounter(iter_predictions(texts, model, lang, chunk_size, workers, threads))

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as stream:  # newlines as write_text_atomic writes them
            write_records(counter, fmt, stream, spool_dir=tmp.parent)

    write_atomic(output, write)
    return counter
