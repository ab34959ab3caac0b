"""Prediction records and reports as JSON, JSON Lines, CSV or a terminal table."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from rich.table import Table
from rich.text import Text

FORMATS = ("table", "json", "jsonl", "csv")


def _labels(records: Iterable[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        for label in record.get("probs") or {}:
            seen.setdefault(label, None)
    return list(seen)


def records_to_text(records: Sequence[dict], fmt: str) -> str:
    """Serialise prediction records (see :meth:`SentimentModel.predict`) as "json", "jsonl" or "csv".

    CSV columns: text, label, score, one ``prob_<label>`` column per class, flags.
    """
    buffer = io.StringIO(newline="")
    write_records(records, fmt, buffer)
    return buffer.getvalue()


def write_records(records: Iterable[dict], fmt: str, stream: TextIO, spool_dir: Path | None = None) -> int:
    """Write records to a text stream as :func:`records_to_text` would, one record at a time.

    CSV's header names every class seen in any record, so records that are not a list are first spooled
    as JSON lines to a temporary file (in ``spool_dir``) and read back: memory stays flat.

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
    if fmt == "csv":
        if isinstance(records, Sequence):
            return _write_csv(records, _labels(records), stream)
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=spool_dir) as spool:
            seen: dict[str, None] = {}
            for r in records:
                for label in r.get("probs") or {}:
                    seen.setdefault(label, None)
                spool.write(json.dumps(r, ensure_ascii=False) + "\n")
            spool.seek(0)
            return _write_csv((json.loads(line) for line in spool), list(seen), stream)
    raise ValueError(f"format must be json, jsonl or csv here, got {fmt!r}")


def _indent(text: str) -> str:
    return "  " + text.replace("\n", "\n  ")


def _write_csv(records: Iterable[dict], labels: list[str], stream: TextIO) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    # The csv module quotes a field holding the line terminator's characters only, so a lone CR (a JSONL
    # text may hold one) went out bare, and every CSV reader ends a row there: such rows are quoted whole.
    quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["text", "label", "score", *[f"prob_{label}" for label in labels], "flags"])
    count = 0
    for r in records:
        probs = r.get("probs") or {}
        flags = ";".join(f"{k}={r[k]}" for k in ("error", "warning", "truncated") if k in r)
        row = [r["text"], r["label"] or "", "" if r["score"] is None else r["score"], *[probs.get(label, "") for label in labels], flags]
        (quoted if "\r" in r["text"] else writer).writerow(row)
        count += 1
    return count


def records_table(records: Sequence[dict], title: str | None = None):
    """A rich Table of prediction records (texts shortened to 60 characters)."""
    table = Table(title=title)
    for column, justify in (("#", "right"), ("text", "left"), ("label", "left"), ("score", "right"), ("note", "left")):
        table.add_column(column, justify=justify)
    for i, r in enumerate(records, 1):
        text = r["text"] if len(r["text"]) <= 60 else r["text"][:57] + "…"
        note = ", ".join(str(r[k]) if k != "truncated" else "truncated" for k in ("error", "warning", "truncated") if k in r)
        score = "" if r["score"] is None else f"{r['score']:.4f}"
        table.add_row(str(i), shown(text), shown(r["label"] or "-"), score, shown(note))
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


def report_table(report: dict):
    """A rich Table of an evaluation report: per-class figures, then the confusion matrix."""
    dtype = f"  ({report['compute_dtype']})" if report.get("compute_dtype", "float32") != "float32" else ""
    ece = ""
    if "ece" in report:
        unscaled = f"; {report['ece_unscaled']:.4f} at T=1" if "ece_unscaled" in report else ""  # absent from older metrics.json
        ece = f"  ECE={report['ece']:.4f} (T={report['temperature']:.2f}{unscaled})"
    table = Table(title=shown(f"{report.get('source', '')}  n={report['n']}  accuracy={report['accuracy']:.4f}  macro-F1={report['macro_f1']:.4f}{ece}{dtype}"), collapse_padding=len(report["labels"]) > 3)
    labels = report["labels"]
    table.add_column("class", overflow="fold")
    # A narrow terminal shrinks every column alike: with 5 classes in 80 columns the figures read "0.92…".
    # They keep the width of "0.0000"; the headers fold instead, and with more than 3 classes neighbouring
    # cells share their padding, so that 5 classes fit in 80 columns.
    for column in ("precision", "recall", "f1"):
        table.add_column(column, justify="right", min_width=6, overflow="fold")
    for column in ("support", *[f"pred {label}" for label in labels]):
        table.add_column(shown(column), justify="right", overflow="fold")
    for label, row in zip(labels, report["confusion_matrix"]):
        c = report["per_class"][label]
        figures = ("–" if c[name] is None else f"{c[name]:.4f}" for name in ("precision", "recall", "f1"))
        table.add_row(shown(label), *figures, str(c["support"]), *map(str, row))
    return table
