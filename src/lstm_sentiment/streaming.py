"""Prediction over inputs of any length: texts in, records out, a chunk at a time, in input order.

Memory holds two chunks (:data:`CHUNK_TEXTS` texts each) at most, whatever the input's length. With
``workers``, worker processes each classify whole tasks of a chunk (see
:class:`~lstm_sentiment.workers.PredictPool`) while this process reads the next one and writes records.
Records are those of :meth:`SentimentModel.predict`; only the batches differ, so probabilities may differ
from a single ``predict`` call over all texts in the last bits of float32 (about 1e-7).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from itertools import chain, islice
from pathlib import Path

from lstm_sentiment.data.files import BadInput
from lstm_sentiment.workers import PredictPool, classify

CHUNK_TEXTS = 4_000


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(texts)
    while chunk := list(islice(it, size)):
        yield chunk


def iter_predictions(
    texts: Iterable[str],
    model=None,
    lang: str = "auto",
    chunk_size: int = CHUNK_TEXTS,
    workers: int = 0,
    threads: int | None = None,
    precision: str = "float32",
    pool: PredictPool | None = None,
) -> Iterator[dict]:
    """Prediction records (see :meth:`SentimentModel.predict`), one per text, in input order, lazily.

    Args:
        texts: any iterable, read ``chunk_size`` texts at a time; a
            :class:`~lstm_sentiment.data.files.BadInput` among them gets a record with its ``error``
            (``label``, ``score`` and ``probs`` null) at its place.
        model: a loaded :class:`SentimentModel`, a bundle directory or a shipped model name; None: the
            shipped models, by ``lang`` ("auto": each text to zh or en by its script).
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
    Raises:
        ValueError: chunk_size < 1, workers < 0, an unknown precision (when the first model loads).
        SentimentError: a model that cannot be loaded.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    chunks = _chunks(texts, chunk_size)
    first = next(chunks, None)
    if first is None:
        return  # no pool started for nothing
    chunks = chain((first,), chunks)
    route = _router(model, lang)
    if pool is not None:
        yield from _predict_chunks(chunks, route, _in_pool(pool, precision))
        return
    if workers:
        names = [model] if model is not None else [lang] if lang != "auto" else ["zh", "en"]
        with PredictPool(workers, [_spec(name, precision) for name in names]) as own:
            yield from _predict_chunks(chunks, route, _in_pool(own, precision))
        return
    import torch

    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield from _predict_chunks(chunks, route, _in_this_process(precision))
    finally:
        torch.set_num_threads(saved)


def _router(model, lang: str) -> Callable[[str], object]:
    """text → the model (object, path or name) that classifies it."""
    from lstm_sentiment.text.tokenize import detect_lang

    if model is not None:
        return lambda text: model
    if lang != "auto":
        return lambda text: lang
    return detect_lang


def group_indices(texts: Sequence[str], key: Callable[[str], Hashable]) -> dict[Hashable, list[int]]:
    """Indices of ``texts`` grouped by ``key(text)``, each group in input order."""
    groups: dict[Hashable, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(key(text), []).append(i)
    return groups


def in_input_order(size: int, parts: Iterable[tuple[list[int], list[dict]]]) -> list[dict]:
    """Records of ``size`` inputs back in input order from ``(indices, records)`` pairs covering them."""
    records: list[dict | None] = [None] * size
    for index, part in parts:
        for i, record in zip(index, part):
            records[i] = record
    return records  # type: ignore[return-value]


class _Truncations:
    """Counts of truncated texts per model's maximum, warned about once at the end."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def add(self, max_tokens: int, records: list[dict]) -> None:
        count = sum(1 for r in records if r.get("truncated"))
        if count:
            self.counts[max_tokens] = self.counts.get(max_tokens, 0) + count

    def warn(self) -> None:
        from lstm_sentiment.text.tokenize import warn_truncated

        for max_tokens, count in self.counts.items():
            warn_truncated(count, max_tokens)


# start(model, texts) begins classifying texts and returns a function that waits for
# (the model's max_tokens, its records).
Start = Callable[[object, list[str]], Callable[[], tuple[int, list[dict]]]]


def _predict_chunks(chunks: Iterable[list[str]], route, start: Start) -> Iterator[dict]:
    """Records of every chunk, in input order. Each chunk is started before the previous one's records
    are collected, so workers classify it while this process writes them."""
    truncations = _Truncations()

    def begin(texts: list) -> tuple[int, list, tuple[list[int], list[dict]]]:
        bad = [i for i, text in enumerate(texts) if isinstance(text, BadInput)]
        good = [i for i, text in enumerate(texts) if not isinstance(text, BadInput)]
        groups = {name: [good[j] for j in index] for name, index in group_indices([texts[i] for i in good], route).items()}
        refused = [{"text": texts[i].text, "label": None, "score": None, "probs": None, "error": texts[i].error} for i in bad]
        return len(texts), [(index, start(name, [texts[i] for i in index])) for name, index in groups.items()], (bad, refused)

    def finish(size: int, groups: list, refused: tuple[list[int], list[dict]]) -> list[dict]:
        parts = [refused]
        for index, result in groups:
            max_tokens, part = result()
            truncations.add(max_tokens, part)
            parts.append((index, part))
        return in_input_order(size, parts)

    pending = None
    for texts in chunks:
        following = begin(texts)
        if pending is not None:
            yield from finish(*pending)
        pending = following
    if pending is not None:
        yield from finish(*pending)
    truncations.warn()


def _in_this_process(precision: str) -> Start:
    from lstm_sentiment.sentiment import SentimentModel

    loaded: dict[str, SentimentModel] = {}

    def start(name, texts: list[str]):
        if isinstance(name, SentimentModel):
            model = name
        else:
            if str(name) not in loaded:
                loaded[str(name)] = SentimentModel.load(name, precision=precision)
            model = loaded[str(name)]
        return lambda: classify(model, texts)  # runs when collected: one chunk's records at a time

    return start


def _spec(model, precision: str) -> tuple[str, str]:
    """(path or name, precision) of a model for the workers: a loaded one goes by its path and keeps its
    precision."""
    path = getattr(model, "path", None)
    return (str(path), model.precision) if path is not None else (str(model), precision)


def _in_pool(pool: PredictPool, precision: str) -> Start:
    def start(name, texts: list[str]):
        futures = pool.submit(*_spec(name, precision), texts)
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


def predict_file(texts: Iterable[str], output: Path, fmt: str = "jsonl", model=None, **options) -> RecordCounter:
    """Classify ``texts`` into ``output`` ("jsonl", "json" or "csv"), streaming, written atomically.

    Records go to a temporary file beside ``output``, renamed over it at the end; if anything fails the
    old ``output`` is left as it was. ``model`` and ``options`` (``lang``, ``workers``, ``precision``…)
    are :func:`iter_predictions`'s.

    Returns:
        the counts of records written and of failed ones.
    Raises:
        SentimentError: no texts, or none that could be classified (``output`` is left as it was).
    """
    from lstm_sentiment.atomic import write_atomic
    from lstm_sentiment.errors import SentimentError
    from lstm_sentiment.output import write_records

    counter = RecordCounter(iter_predictions(texts, model, **options))

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as stream:  # newlines as write_text_atomic writes them
            write_records(counter, fmt, stream, spool_dir=tmp.parent)
        if counter.count == 0:
            raise SentimentError(f"no texts in the input; {output} left as it was")
        if counter.failed == counter.count:
            raise SentimentError(f"none of the {counter.count} input(s) could be classified ({counter.first_error}); {output} left as it was")

    write_atomic(output, write)
    return counter
