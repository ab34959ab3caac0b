"""Prediction records and reports as JSON, JSON Lines, CSV or a terminal table."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

# The keys of a prediction record (see SentimentModel.predict); any other key is a column of the input row.
RECORD_KEYS = ("text", "label", "score", "probs", "model", "error", "warning", "truncated")


def input_column_key(name: str) -> str:
    """The key of an input row's column in its record: its name, or ``input_<name>`` where that is a
    record's key or a CSV column of its own (``label``, ``score``, ``flags``, ``prob_…``; a labelled test
    file's ``label`` is kept as ``input_label`` beside the predicted one) or itself starts with ``input_``,
    so that no two columns get one key; in any case (``Label`` beside ``label`` clashed in tools that
    read names without case, SQL's among them)."""
    folded = name.lower()
    if folded in RECORD_KEYS or folded == "flags" or folded.startswith(("prob_", "input_")):
        return f"input_{name}"
    return name


class KeptColumns:
    """Input rows' other columns (see :func:`~lstm_sentiment.data.files.iter_rows`), held while their texts
    are classified and put back on their records, first, under :func:`input_column_key`.

    The texts go to the model alone (to worker processes too); records come back one per text, in input
    order, so each takes the oldest columns held. Only the texts read ahead of the records are held.
    """

    def __init__(self, rows: Iterable[tuple[object, dict]]) -> None:
        self._rows = rows
        self._held: deque[dict] = deque()  # appended by the reader (a thread, for live input), taken here

    def texts(self) -> Iterator[object]:
        for text, others in self._rows:
            self._held.append(others)
            yield text

    def records(self, records: Iterable[dict]) -> Iterator[dict]:
        for record in records:
            others = self._held.popleft()
            yield {**{input_column_key(name): value for name, value in others.items()}, **record} if others else record


class _Header:
    """The CSV header's variable parts, in order of first appearance: the input's columns, the classes; and
    whether a record names its model (``--lang auto``)."""

    def __init__(self) -> None:
        self.columns: dict[str, None] = {}
        self.labels: dict[str, None] = {}
        self.model = False

    def add(self, record: dict) -> None:
        self.model = self.model or "model" in record
        for key in record:
            if key not in RECORD_KEYS:
                self.columns.setdefault(key, None)
        for label in record.get("probs") or {}:
            self.labels.setdefault(label, None)


def records_to_text(records: Sequence[dict], fmt: str) -> str:
    """Serialise prediction records (see :meth:`SentimentModel.predict`) as "json", "jsonl", "csv" or "tsv"
    (the CSV columns, tab-separated).

    CSV columns: the input row's other columns (if any: see :func:`input_column_key`), text, label, score,
    model (when a record names one), one ``prob_<label>`` column per class, flags.
    """
    buffer = io.StringIO(newline="")
    write_records(records, fmt, buffer)
    return buffer.getvalue()


def write_records(records: Iterable[dict], fmt: str, stream: TextIO, spool_dir: Path | None = None) -> int:
    """Write records to a text stream as :func:`records_to_text` would, one record at a time.

    CSV's header names every class and input column seen in any record, so records that are not a list
    are first spooled as JSON lines to a temporary file (in ``spool_dir``) and read back: memory stays flat.

    Returns:
        the number of records written.
    """
    if fmt == "jsonl":
        count = 0
        for r in records:
            stream.write(json.dumps(r, ensure_ascii=False) + "\n")
            count += 1
        return count
    if fmt == "json":
        # json.dumps(list, indent=2) is "[" + each item at indent 2 joined by "," + "]"; JSON strings hold no
        # raw newline, so indenting item lines is the same text.
        count = 0
        for r in records:
            stream.write(("[\n" if count == 0 else ",\n") + _indent(json.dumps(r, ensure_ascii=False, indent=2)))
            count += 1
        stream.write("\n]\n" if count else "[]\n")
        return count
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        header = _Header()
        if isinstance(records, Sequence):
            for r in records:
                header.add(r)
            return _write_csv(records, header, stream, delimiter)
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=spool_dir) as spool:
            for r in records:
                header.add(r)
                spool.write(json.dumps(r, ensure_ascii=False) + "\n")
            spool.seek(0)
            return _write_csv((json.loads(line) for line in spool), header, stream, delimiter)
    raise ValueError(f"format must be json, jsonl, csv or tsv here, got {fmt!r}")


def _indent(text: str) -> str:
    return "  " + text.replace("\n", "\n  ")


def _write_csv(records: Iterable[dict], header: _Header, stream: TextIO, delimiter: str = ",") -> int:
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\n")
    # The csv module quotes a field holding the line terminator's characters only, so a lone CR (a JSONL
    # text may hold one) went out bare, and every CSV reader ends a row there: such rows are quoted whole.
    quoted = csv.writer(stream, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    columns, labels = list(header.columns), list(header.labels)
    model = ["model"] if header.model else []
    writer.writerow([*columns, "text", "label", "score", *model, *[f"prob_{label}" for label in labels], "flags"])
    count = 0
    for r in records:
        probs = r.get("probs") or {}
        flags = ";".join(f"{k}={r[k]}" for k in ("error", "warning", "truncated") if k in r)
        kept = [_field(r.get(column)) for column in columns]
        named = [r.get("model", "")] if header.model else []
        row = [*kept, r["text"], r["label"] or "", "" if r["score"] is None else r["score"], *named, *[probs.get(label, "") for label in labels], flags]
        (quoted if any("\r" in field for field in (r["text"], *kept)) else writer).writerow(row)
        count += 1
    return count


def _field(value) -> str:
    """An input column's value as a CSV field: a string as it is, a JSONL value other than a string as JSON,
    a column the row lacks empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fitting_console(table: Table, stderr: bool = False) -> Console:
    """A console that prints ``table`` with nothing cut away: to a file or pipe as wide as its widest row
    (every row on one line), in a terminal at least as wide as the table's narrowest layout. At the 80
    columns that rich assumes for a pipe an 8-class report lost its last confusion-matrix column, and
    ``COLUMNS=0`` printed nothing at all."""
    console = Console(stderr=stderr)
    measured = Measurement.get(console, console.options.update_width(_UNBOUNDED), table)
    width = measured.maximum if not console.is_terminal else max(console.width, measured.minimum)
    return Console(stderr=stderr, width=max(width, 1))


def fits_terminal(table: Table) -> bool:
    """Whether ``table`` prints within the terminal's width at its widest layout; True for a file or pipe
    (as wide as its rows there, see :func:`fitting_console`)."""
    console = Console()
    return not console.is_terminal or Measurement.get(console, console.options.update_width(_UNBOUNDED), table).maximum <= console.width


_UNBOUNDED = 100_000  # columns to measure a table in: more than any table here needs


def records_table(records: Sequence[dict], title: str | None = None):
    """A rich Table of prediction records (texts shortened to 60 characters); the label, score and number
    are never shortened (a narrow terminal read "posit…"), the text and note wrap; a model column when a
    record names its model (``--lang auto``)."""
    table = Table(title=title)
    labels = [r["label"] or "-" for r in records]
    table.add_column("#", justify="right", no_wrap=True, min_width=len(str(len(records))))
    table.add_column("text", justify="left", overflow="fold")
    table.add_column("label", justify="left", no_wrap=True, min_width=max(map(len, labels), default=1))
    table.add_column("score", justify="right", no_wrap=True, min_width=6)
    models = any("model" in r for r in records)
    if models:
        table.add_column("model", justify="left", no_wrap=True)
    table.add_column("note", justify="left", overflow="fold")
    for i, r in enumerate(records, 1):
        text = r["text"] if len(r["text"]) <= 60 else r["text"][:57] + "…"
        note = ", ".join(str(r[k]) if k != "truncated" else "truncated" for k in ("error", "warning", "truncated") if k in r)
        score = "" if r["score"] is None else f"{r['score']:.4f}"
        named = [r.get("model", "")] if models else []
        table.add_row(str(i), shown(text), shown(r["label"] or "-"), score, *named, shown(note))
    return table


def shown(text: str) -> Text:
    """Input text (and what comes from a user's files: class names, file names) for the terminal: as plain
    text (a "[/bold]" in it is no rich markup), control and format characters written as escapes (an ESC
    sequence in the input would clear or recolour the terminal, a right-to-left override U+202E reverse the
    rest of the row)."""
    return Text("".join(map(_escaped, text)))


def _escaped(c: str) -> str:
    category = unicodedata.category(c)
    if category == "Cc":
        return f"\\x{ord(c):02x}"
    if category == "Cf" and c != "\u200d":  # the zero-width joiner holds emoji sequences together (👨‍👩‍👧)
        return f"\\u{ord(c):04x}"
    return c


def print_report(report: dict, stderr: bool = False) -> None:
    """Print :func:`report_table` whole (:func:`fitting_console`). To a file or pipe the title is a line of
    its own: as the table's title it wrapped at the table's width ("… ECE=0.0195 (T=0.94;" then "0.0227 at
    T=1)"), breaking what a reader greps for. A report of several models (``by_model``) ends with one line
    per model: its texts' figures."""
    table = report_table(report)
    console = fitting_console(table, stderr=stderr)
    if not console.is_terminal:
        console.print(table.title, soft_wrap=True)
        table.title = None
    console.print(table)
    for name, part in report.get("by_model", {}).items():
        console.print(shown(f"by the {name} model: n={part['n']}  {_accuracy(part)}  macro-F1={part['macro_f1']:.4f}"), soft_wrap=True)


def _accuracy(report: dict) -> str:
    """"accuracy=0.8600 (95% CI 0.8441-0.8745)" (1,720 of 2,000): a figure of 2 texts read as sure as one of
    2,000. An ASCII hyphen: an en dash failed the report under an ASCII locale."""
    interval = report.get("accuracy_ci95")  # reports of older metrics.json files have none
    ci = f" (95% CI {interval[0]:.4f}-{interval[1]:.4f})" if interval else ""
    return f"accuracy={report['accuracy']:.4f}{ci}"


def report_table(report: dict):
    """A rich Table of an evaluation report: per-class figures, then the confusion matrix."""
    dtype = f"  ({report['compute_dtype']})" if report.get("compute_dtype", "float32") != "float32" else ""
    ece = ""
    if "ece" in report:
        # "at T=1" alone read as the card's "before", which is without the class biases too (absent from older metrics.json).
        unscaled = f"; {report['ece_unscaled']:.4f} at T=1, biases kept" if "ece_unscaled" in report else ""
        t = report["temperature"]
        shown_t = ", ".join(f"{name} {value:.2f}" for name, value in t.items()) if isinstance(t, dict) else f"{t:.2f}"
        ece = f"  ECE={report['ece']:.4f} (T={shown_t}{unscaled})"
    title = shown(f"{report.get('source', '')}  n={report['n']}  {_accuracy(report)}  macro-F1={report['macro_f1']:.4f}{ece}{dtype}")
    title.overflow = "fold"  # a path longer than the table breaks, not cut
    table = Table(title=title, collapse_padding=len(report["labels"]) > 3)
    labels = report["labels"]
    table.add_column("class", overflow="fold")
    # A narrow terminal shrinks every column alike: with 5 classes in 80 columns the figures read "0.92…".
    # They keep the width of "0.0000"; the headers fold instead, and with more than 3 classes neighbouring
    # cells share their padding, so that 5 classes fit in 80 columns.
    for column in ("precision", "recall", "f1"):
        table.add_column(column, justify="right", min_width=6, overflow="fold")
    counts = [str(c["support"]) for c in report["per_class"].values()] + [str(n) for row in report["confusion_matrix"] for n in row]
    for column in ("support", *[f"pred {label}" for label in labels]):
        table.add_column(shown(column), justify="right", overflow="fold", min_width=max(map(len, counts), default=1))
    for label, row in zip(labels, report["confusion_matrix"]):
        c = report["per_class"][label]
        figures = ("–" if c[name] is None else f"{c[name]:.4f}" for name in ("precision", "recall", "f1"))
        table.add_row(shown(label), *figures, str(c["support"]), *map(str, row))
    return table
