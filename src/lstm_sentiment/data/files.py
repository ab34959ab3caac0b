"""Reading user files: labelled datasets (CSV, TSV, JSONL with a header) and texts to predict.

Encoding: UTF-8, with or without a byte-order mark; anything else is refused with the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shlex
import sys
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lstm_sentiment.data.dataset import LabelledTexts, canonical_labels, is_missing_label
from lstm_sentiment.errors import SentimentError, warn_caller
from lstm_sentiment.text.normalize import LONE_SURROGATE, han_count, has_words, lone_surrogate

# The csv module refuses fields over 128 KiB; a review pasted whole may be longer (a 1 MB text is cut to
# the model's maximum before segmentation), so fields up to 64 MiB are read.
csv.field_size_limit(64 * 2**20)

# Chinese names too (评论 "review", 文本 "text", 内容 "content"; 标签 "label", 情感 "sentiment"): a file with
# 评论,情感 was "no text column (text/review/sentence/content)".
TEXT_COLUMNS = ("text", "review", "sentence", "content", "comment", "评论", "文本", "内容")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "标签", "情感")
# Said of input that opens with "[" where JSON Lines are read: a file by its first byte, stdin by its first line.
_JSON_ARRAY = "a JSON array (as predict -o FILE.json writes), not one JSON object per line; use JSON Lines"
_SUFFIX_FORMAT = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".txt": "txt"}


def file_format(path: Path, given: str | None = None) -> str:
    """"csv", "tsv", "jsonl" or "txt", by suffix, or ``given`` (one of those: predict's ``--input-format``)
    whatever the suffix; a pipe without a suffix (``-i <(cmd)``, ``/dev/stdin``) is "txt", as stdin is.

    Raises:
        SentimentError: a directory, a missing file, an unknown suffix (none given), or a JSON array where
            JSON Lines are read.
    """
    fmt = given or _SUFFIX_FORMAT.get(Path(path).suffix.lower())
    if Path(path).is_dir():
        raise SentimentError(f"{path}: is a directory; give a file")
    if not Path(path).exists():  # before the suffix: a mistyped name is missing, whatever it ends with
        raise SentimentError(f"{path}: cannot read (No such file or directory)")
    if fmt is None and not Path(path).suffix and not Path(path).is_file():
        return "txt"  # a process substitution's /dev/fd/63 was "unknown file type ''"
    if fmt is None:
        raise SentimentError(f"{path}: unknown file type {Path(path).suffix!r}; use .csv, .tsv or .jsonl with a header (predict also reads .txt, one text a line, and any name with --input-format)")
    if fmt == "jsonl" and _starts_with(path, b"["):
        raise SentimentError(f"{path}: {_JSON_ARRAY} (.jsonl)")
    return fmt


def _starts_with(path: Path, mark: bytes) -> bool:
    """Whether the regular file's first byte after a BOM and white space is ``mark``; False for a pipe
    (peeking would consume its data) or a file that cannot be read."""
    if not Path(path).is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False  # the reader names the fault
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(mark)


_HEAD = 4096  # bytes of a file looked at for its encoding before the first line is read


# File signatures (the first bytes of a format, as its specification fixes them) of files taken for text.
_BINARY = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or an .ods workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 file (an Excel .xls workbook is one)"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),  # an xz file was "UTF-16 or UTF-32 (21 of its first 176 bytes are NUL)"
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    *((b"BZh%d1AY&SY" % level, "bzip2-compressed") for level in range(1, 10)),  # the digit: the block size
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "a program (ELF)"),
)


def _refuse_utf16(head: bytes, source: str) -> None:
    """A UTF-16 or UTF-32 byte-order mark, or NUL bytes in a tenth of the head or more (UTF-16 without a
    mark: ASCII and line ends take a NUL each): the whole file is in another encoding. Read line by line,
    every line would be garbage or "not UTF-8", and the NUL bytes between them more lines than the file has.
    A NUL in UTF-8 text stands alone (a control character, removed in normalisation)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        raise SentimentError(f"{source}: UTF-16 or UTF-32 (it starts with a byte-order mark for one); save the file as UTF-8")
    for signature, kind in _BINARY:
        if head.startswith(signature):  # a zip (an Excel workbook) or a program renamed .csv was called UTF-16
            advice = "decompress it first (xz -dc, zcat: predict reads a pipe)" if kind.endswith("-compressed") else "save or export it as UTF-8 text (CSV UTF-8, say)"
            raise SentimentError(f"{source}: {kind}, not text; {advice}")
    nuls = head.count(0)
    if nuls >= 2 and nuls * 10 >= len(head):
        raise SentimentError(f"{source}: UTF-16 or UTF-32 ({nuls} of its first {len(head)} bytes are NUL), or not text; save the file as UTF-8")
    # Chinese in UTF-16 holds a NUL at each line end only: two lines read as three records, "not UTF-8".
    if nuls and not _utf8_head(head) and any(_reads_as_utf16(head, encoding) for encoding in ("utf-16-le", "utf-16-be")):
        raise SentimentError(f"{source}: UTF-16 without a byte-order mark (it reads as UTF-16, not as UTF-8); save the file as UTF-8")


def _utf8_head(head: bytes) -> bool:
    """Whether ``head`` is UTF-8, but for a character cut at its end."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(head) - 3 and err.reason == "unexpected end of data"
    return True


def _reads_as_utf16(head: bytes, encoding: str) -> bool:
    """Whether ``head`` is Chinese or English text in ``encoding`` ("utf-16-le" or "-be"): it decodes
    strictly (but for a character cut at its end) to printable characters and whitespace with a line end
    among them, nine in ten of them ASCII, CJK (U+3000–9FFF) or full-width forms, and each code unit that
    holds a NUL byte is ASCII or a common Han character (U+4E00–9FFF). GBK or Windows-1252 bytes beside a
    stray NUL decode too, but mostly as Hangul, Yi or private-use characters, and their NUL falls elsewhere."""
    even = head[: len(head) // 2 * 2]
    try:
        text = even.decode(encoding)
    except UnicodeDecodeError as err:
        if err.start < len(even) - 2:
            return False
        text = even[: err.start].decode(encoding)
    order = "little" if encoding.endswith("le") else "big"
    units = [int.from_bytes(even[i : i + 2], order) for i in range(0, len(even), 2)]
    with_nul = [unit for unit in units if unit >> 8 == 0 or unit & 0xFF == 0]
    shown = [ch for ch in text if not ch.isspace()]
    common = sum(ch < "\x80" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in shown)
    return (
        "\n" in text
        and all(ch.isprintable() for ch in shown)
        and common >= 0.9 * len(shown)
        and all(unit < 0x80 or 0x4E00 <= unit <= 0x9FFF for unit in with_nul)
    )


def decode_lines(data: bytes, source: str, first_line: int = 1) -> str:
    """Bytes → str as UTF-8 (BOM dropped), naming the line of the first undecodable byte.

    Raises:
        SentimentError: a UTF-16/32 byte-order mark, or bytes that are not UTF-8.
    """
    if first_line == 1:
        _refuse_utf16(data, source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = first_line + data.count(b"\n", 0, err.start)
        start, end = data.rfind(b"\n", 0, err.start) + 1, data.find(b"\n", err.start)
        raw = data[start : end if end >= 0 else len(data)]
        error, remedy = _not_utf8(line, raw, err.start - start, source)
        raise SentimentError(f"{source}: {error}{remedy}") from None


def read_text_file(path: Path) -> str:
    """Whole file as text; SentimentError if missing or not UTF-8."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SentimentError(f"{path}: cannot read ({err.strerror})") from None
    return decode_lines(data, str(path))


def _lines(text: str) -> list[str]:
    """Lines ended by LF or CRLF only: JSON Lines' rule, and ``wc -l``'s. ``str.splitlines`` also breaks at
    U+2028, U+0085, form feed, a lone CR, …, which a JSON string may hold raw and a text may contain."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


class RepeatedKeyError(ValueError):
    """A JSON object names a key twice; ``args[0]`` is the key."""


def unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """``object_pairs_hook`` for :func:`json.loads` that refuses a repeated key.

    Raises:
        RepeatedKeyError: the first key named twice.
    """
    # json.loads keeps the last of a repeated key without a word ({"text": "差", "text": "好"} reads 好),
    # as a CSV header naming a column twice would, which is refused.
    row = dict(pairs)
    if len(row) < len(pairs):
        raise RepeatedKeyError(next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i])))
    return row


def too_many_digits() -> str:
    """What a JSON number over Python's limit on decoding long integers is called here: Python's own message
    tells the user to call ``sys.set_int_max_str_digits()``."""
    return f"a number of more than {sys.get_int_max_str_digits()} digits"


def _json_object(line: str, number: int) -> tuple[dict | None, str | None]:
    """(the JSON object of one JSONL line, None), or (None, why it is none, naming the line)."""
    try:
        row = json.loads(line, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as err:
        # json's messages that end on "at" take the place there ("Invalid control character at" was cut short).
        where = f" column {err.colno}" if err.msg.endswith(" at") else f" at column {err.colno}"
        return None, f"line {number} is not valid JSON ({err.msg}{where})"
    except RepeatedKeyError as err:
        return None, f"line {number} names the key {err.args[0]!r} twice"
    except ValueError:  # json.loads's one ValueError besides JSONDecodeError: see too_many_digits
        return None, f"line {number} holds {too_many_digits()}"
    except RecursionError:
        # json.loads recurses once per nesting level: a line of 100,000 "[" was a traceback.
        return None, f"line {number} is nested too deeply"
    if not isinstance(row, dict):
        return None, f"line {number} is not a JSON object"
    return row, None


def _jsonl_rows(lines: Iterable[str], path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each JSONL line; SentimentError names a blank line or one that is not a JSON
    object (as prediction does: a labelled row is never dropped without a word)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise SentimentError(f"{path}: line {number} is blank")
        row, error = _json_object(line, number)
        if error is not None:
            raise SentimentError(f"{path}: {error}")
        yield number, row


def _records(path: Path) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Column names and (line number, row dict) pairs of a CSV/TSV/JSONL file."""
    if str(path) == "-":  # it said "-: cannot read (No such file or directory)"
        raise SentimentError("-: labelled data is read from a file, not stdin; save it as .csv, .tsv or .jsonl")
    fmt = file_format(path)
    if fmt == "txt" and not Path(path).suffix:
        raise SentimentError(f"{path}: a pipe has no suffix to name its format; save labelled data as .csv, .tsv or .jsonl")
    if fmt == "txt":
        raise SentimentError(f"{path}: a labelled dataset needs a header; use .csv, .tsv or .jsonl")
    text = read_text_file(path)
    if not text.strip():  # "no text column … name it with --text-column" could not help
        raise SentimentError(f"{path}: empty file")
    if fmt == "jsonl":
        rows = list(_jsonl_rows(_lines(text), path))
        # Keys of every object, not only the first: a first row without a label is that row's fault.
        columns = list(dict.fromkeys(key for _, row in rows for key in row))
        return columns, iter(rows)
    reader = _dict_reader(io.StringIO(text, newline=""), fmt, str(path))
    columns = list(reader.fieldnames or [])
    # DictReader would keep the last column of a name and drop the others without a word. Columns without
    # a name are never read: a spreadsheet's export holds some (an index, cells once touched: "text,label,,").
    repeated = [name for name in _repeated(columns) if name.strip()]
    if repeated:
        raise SentimentError(f"{path}: the header names {', '.join(map(repr, repeated))} more than once")
    return columns, _csv_rows(reader, path, len(columns))


def _dict_reader(stream: Iterable[str], fmt: str, source: str) -> csv.DictReader:
    """A strict DictReader of the lines of ``stream`` (a text stream opened with ``newline=""``), a CR alone
    inside a row kept in its field (see :class:`_LoneCrsKept`)."""
    # strict: a quoted field must end at its closing quote. Without it a stray opening quote (a text that
    # starts with '"') swallows the rows after it up to the next quote into one text, without a word.
    delimiter = "\t" if fmt == "tsv" else ","
    return _RowReader(_LoneCrsKept(stream, source, delimiter), delimiter=delimiter, strict=True)


# A CR alone inside a row crosses the csv reader as U+FDD0, one of Unicode's noncharacters (set aside for
# a program's internal use), and is put back in the fields of that row alone.
_CR_MARK = "\ufdd0"
# This many lines in a row that end at a CR alone, no LF among them, are rows that end so, not one text
# (a one-column file's rows, whose fields cannot tell).
_CR_ROWS = 1000


class _LoneCrsKept:
    """Lines of a CSV/TSV file read with ``newline=""`` (each ending at LF, CRLF or a CR alone), joined
    again where a CR alone ended one, the CR as :data:`_CR_MARK`: as in a .txt file, a row ends at LF or
    CRLF only. The csv module ends an unquoted row at a lone CR, which split a text in two (two records
    for one row, the line numbers after it off by one). A file whose header ends at a CR alone has old
    Mac line ends (Excel for Mac's CSV): its CRs end rows. So do those of a run of lines that each hold
    as many fields as a header of two or more (a header with an LF written onto such rows), and those of
    :data:`_CR_ROWS` lines in a row. ``joined`` says whether a line given since it was last set False held
    a CR joined in.

    Warns:
        UserWarning: at the first line joined, naming it.
    """

    def __init__(self, lines: Iterable[str], source: str, delimiter: str) -> None:
        self._lines = iter(lines)
        self._source = source
        self._delimiter = delimiter
        self._flagged = False
        self.joined = False

    def __iter__(self) -> Iterator[str]:
        header = next(self._lines, None)
        if header is None:
            return
        yield header
        if header.endswith("\r"):
            yield from self._lines
            return
        width = self._fields(header)
        parts: list[str] = []  # of one line ended by LF (or the file's end), each ended by a CR alone
        for number, line in enumerate(self._lines, 2):
            if line.endswith("\r"):
                if not parts:
                    first = number
                parts.append(line[:-1])
                if len(parts) == _CR_ROWS:  # rows that end at a CR alone under a header that ends at LF
                    yield from (part + "\r" for part in parts)
                    yield from self._lines
                    return
            elif parts:
                parts.append(line)
                yield from self._rows_or_joined(parts, width, first)
                parts = []
            else:  # the usual line, passed on as it is
                yield line
        if parts:
            parts[-1] += "\r"
            yield from self._rows_or_joined(parts, width, first)

    def _fields(self, line: str) -> int:
        return len(next(csv.reader([line.rstrip("\r\n")], delimiter=self._delimiter), []))

    def _rows_or_joined(self, parts: list[str], width: int, number: int) -> Iterator[str]:
        """``parts`` (the last with its own line end) as rows of their own where each holds the header's
        ``width`` fields of two or more, else as one line joined at :data:`_CR_MARK`, warned of."""
        if width > 1 and all(self._fields(part) == width for part in parts):
            yield from (part + "\r" for part in parts[:-1])
            yield parts[-1]
            return
        if len(parts) > 1:
            self.joined = True
            if not self._flagged:
                self._flagged = True
                warn_caller(f"{self._source}: line {number} holds a carriage return (\\r) inside it, read as part of its field")
        yield _CR_MARK.join(parts)


class _RowReader(csv.DictReader):
    """A DictReader of :class:`_LoneCrsKept` lines: each row's :data:`_CR_MARK` back as the CR it stands
    for, in every field (a str, None, or under the key None the list of fields past the header's); a row
    without a joined line is left as it is (a U+FDD0 of the file's own stays)."""

    def __init__(self, lines: _LoneCrsKept, **kwargs) -> None:
        super().__init__(lines, **kwargs)
        self.lines = lines

    def __next__(self) -> dict:
        self.lines.joined = False
        row = super().__next__()
        if not self.lines.joined:
            return row
        return {key: [_cr_back(v) for v in value] if isinstance(value, list) else _cr_back(value) for key, value in row.items()}


def _cr_back(field: str | None) -> str | None:
    return field.replace(_CR_MARK, "\r") if field else field


def _csv_rows(reader: csv.DictReader, path: Path, width: int) -> Iterator[tuple[int, dict]]:
    """(line number, row) of each CSV/TSV row; SentimentError names a row with more or fewer fields than
    the header."""
    for number, row, fault in _checked_rows(reader, width, path):
        if fault:
            raise SentimentError(f"{path}: {fault}")
        yield number, row


def _checked_rows(reader: csv.DictReader, width: int, path: Path) -> Iterator[tuple[int, dict, str | None]]:
    """(last line, row, :func:`_row_fault`) of each row; a row read across several lines starts after the
    previous row's last line.

    A row of one line with text after its closing quote (``1\t"Best" movie``: an unquoted TSV export) comes
    as an empty row with its fault, and reading goes on from the next line, where it ended the whole run.

    Raises:
        SentimentError: a quoted field that is never closed, or one that spans lines with text after its
            closing quote, naming the lines: the rows after such a quote cannot be told apart, so reading stops.
    """
    last = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            first, last = last + 1, reader.reader.line_num
            fault = _quote_fault(err, first, last)
            if first != last or "unexpected end of data" in str(err):
                raise SentimentError(f"{path}: {fault}") from None
            yield last, {}, fault
            continue
        first, last = last + 1, reader.line_num
        if not any(_filled(value) for value in row.values()):
            # Commas alone (",,"): a spreadsheet's export leaves such rows below the data. Nothing is in
            # them, as in a blank line, which the reader skips; train refused them as "has no label".
            continue
        yield last, row, _row_fault(row, width, first, last)


def _filled(value: str | list[str] | None) -> bool:
    """Whether a DictReader value (a field, the list of fields past the header's, or None) holds anything
    but whitespace."""
    return any(field.strip() for field in value) if isinstance(value, list) else bool(value and value.strip())


def _quote_fault(err: csv.Error, first: int, last: int) -> str:
    """What a csv.Error raised by a strict reader means, for the row from line ``first`` to ``last``."""
    if "unexpected end of data" in str(err):
        return f"the quote that opens line {first} is never closed; quote whole texts, doubling quotes inside them (\"\")"
    where = f"line {first}" if first == last else f"the quoted text from line {first} to line {last}"
    return f"{where} goes on after its closing quote (a stray \"?); quote whole texts, doubling quotes inside them (\"\")"


def _row_fault(row: dict, width: int, first: int, last: int) -> str | None:
    """What is wrong with a DictReader row read from lines ``first`` … ``last`` that has more or fewer
    fields than the header's ``width`` (DictReader files extra fields under the key None and fills
    missing ones with None), or None when it has ``width``."""
    if None not in row and None not in row.values():
        return None
    fields = width + len(row.get(None, ())) - sum(value is None for value in row.values())
    where = f"line {last}" if first == last else f"the row from line {first} to line {last}"
    return f"{where} has {fields} field{'' if fields == 1 else 's'}, the header {width}"


def _repeated(columns: list[str]) -> list[str]:
    # Counted once: columns.count per column took 18 s for a header of 40,000 columns.
    return sorted(name for name, n in Counter(columns).items() if n > 1)


def _numbered(columns: list[str]) -> list[str]:
    """``columns`` with each named column's later repeats as ``name_2``, ``name_3``… (a name not taken)."""
    taken, named = set(columns), []
    for name in columns:
        new, k = name, 1
        while name and new in named:
            k += 1
            new = f"{name}_{k}"
            new = new if new not in taken else new + "_"
        named.append(new)
    return named


_RENAME = {"\t": "tabs? name the file .tsv)", ",": "commas? name the file .csv)"}


def _found(columns: list[str], role: str | None = None) -> str:
    """"columns found: …", then what would help: a header read as one column that holds a separator of
    another dialect is named (no column name would help), else naming the column with --ROLE-column."""
    found = f"columns found: {', '.join(map(str, columns)) or 'none'}"
    other = next((sep for sep in "\t,;|" if len(columns) == 1 and columns[0] and sep in columns[0]), None)
    # A tab-separated file named .csv (or a comma one named .tsv) was told to name its column.
    if other in _RENAME:
        return found.replace("\t", "\\t") + f" (separated by {_RENAME[other]}"
    if other:
        return found + f" (separated by {other!r}? CSV takes commas, TSV tabs)"
    named = f"; name it with --{role}-column" if role else ""
    if 2 * sum(map(_a_number, columns)) >= len(columns):
        # A file without a header listed its first row as the columns, and asked for a column name. (Half
        # or more: a header may name a column "2019"; a row of text and label is half numbers.)
        return found + f"; the first line reads as a row of data (numbers for column names): add a header line, e.g. text,label{named.replace('; ', ', or ')}"
    return found + named


def _a_number(column: str | None) -> bool:
    try:
        return math.isfinite(float(column or ""))  # not "nan" or "inf", which float reads too
    except ValueError:
        return False


def _matching_columns(columns: list[str], wanted: str | None, candidates: tuple[str, ...]) -> list[str]:
    """The columns :func:`pick_column` may take, in its order of preference: ``wanted`` as written, else
    case-insensitively (one at most); with no ``wanted``, each of ``candidates`` present."""
    lowered = {c.strip().lower(): c for c in columns if c is not None}
    if wanted is not None:
        return [wanted] if wanted in columns else [lowered[wanted.lower()]] if wanted.lower() in lowered else []
    return [lowered[name] for name in candidates if name in lowered]


def pick_column(columns: list[str], wanted: str | None, candidates: tuple[str, ...], role: str, source: str) -> str:
    """The column named ``wanted``, or the first of ``candidates`` present (case-insensitive); a warning
    names the others present, one of which may be the one meant."""
    present = _matching_columns(columns, wanted, candidates)
    if wanted is not None and not present:
        raise SentimentError(f"{source}: no {role} column {wanted!r}; {_found(columns)}")
    if len(present) > 1:
        # A file with 'sentiment' (the labels) and 'label' (something else) trained on the wrong one
        # without a word: validation 0.50.
        others = ", ".join(map(repr, present[1:]))
        warn_caller(f"{source}: {role} column {present[0]!r} guessed, {others} fits too; name the one meant with --{role}-column")
    if present:
        return present[0]
    raise SentimentError(
        f"{source}: no {role} column ({'/'.join(candidates)}); {_found(columns, role)}"
    )


def check_file_arguments(path: object, path_name: str = "path", **columns: object) -> None:
    """Raise TypeError for a ``path`` (the argument named ``path_name``) that is not a str or
    ``os.PathLike``, or a column (given by keyword) that is neither a name (str) nor None: ``None`` failed
    inside pathlib, ``text_column=0`` on "'int' object has no attribute 'lower'"."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{path_name} must be a str or os.PathLike, got {type(path).__name__}")
    for name, value in columns.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a column name (str) or None, got {type(value).__name__}")


def refuse_one_label_string(known_labels: object) -> None:
    """Raise TypeError for one str or bytes object given as ``known_labels``: "negative" was a collection of
    its letters, and 0/1 labels stayed unfolded."""
    if isinstance(known_labels, (str, bytes)):
        raise TypeError(f"known_labels must be a collection of class names (model.id2label), not one {type(known_labels).__name__}: {known_labels!r}")


MORE_BAD_LINES = 5  # read_labelled names the lines of this many bad rows after the first


def read_labelled(path: Path, text_column: str | None = None, label_column: str | None = None, known_labels: Collection[str] | None = None) -> LabelledTexts:
    """A labelled dataset from CSV, TSV or JSONL with a header row.

    Args:
        path: the file; its suffix gives the format.
        text_column, label_column: column names; guessed from :data:`TEXT_COLUMNS` / :data:`LABEL_COLUMNS`
            when None.
        known_labels: the classes of the model or training data the file goes with (see
            :func:`canonical_labels`).
    Returns:
        texts and canonical labels (see :func:`canonical_labels`), in file order.
    Raises:
        SentimentError: unreadable file, bad encoding or JSON, missing column, no rows, or a bad row, named by
            its line: a CSV/TSV row with more or fewer fields than the header, a missing, blank or NaN label, a
            missing or empty text, a JSONL text that is not a string or a label that is not a string or number;
            the first such row in full, the number of the others and the lines of the next five.
            Training data stays strict: a row silently dropped or read as "" would change what is learned.
        TypeError: as :func:`check_file_arguments`; ``known_labels`` one str or bytes.
    """
    check_file_arguments(path, text_column=text_column, label_column=label_column)
    refuse_one_label_string(known_labels)
    columns, rows = _records(path)
    source = str(path)
    text_col = pick_column(columns, text_column, TEXT_COLUMNS, "text", source)
    label_col = pick_column(columns, label_column, LABEL_COLUMNS, "label", source)
    if label_column is None and _predictions(columns, label_col):
        # Its guessed 'label' is what a model said: evaluate scored a model against itself (accuracy 1.0).
        # predict keeps the input's columns, a label column as input_<name> (output.input_column_key) or, of
        # another name (sentiment), as it was: the renamed one first, as the column the input's 'label' was.
        kept = sorted((c for c in columns if c != label_col and c.lower().removeprefix("input_").strip() in LABEL_COLUMNS),
                      key=lambda c: not c.lower().startswith("input_"))
        truth = f"; or name the true labels with --label-column {kept[0]}" if kept else ""
        raise SentimentError(f"{source}: this is predict's output: its {label_col!r} column holds predictions, beside 'score' and the probabilities; read the file predict was given{truth}")
    if label_col == text_col:
        raise SentimentError(f"{source}: {text_col!r} is both the text and the label column; name the other with --text-column or --label-column")
    texts, labels, bad = [], [], []
    for number, row in rows:
        checked = _labelled_row(row, text_col, label_col)
        if isinstance(checked, str):
            bad.append((number, checked))
            continue
        texts.append(checked[0])
        labels.append(checked[1])
    if bad:
        # The first is named in full and the others by line: one rerun a bad row made a file of many a chore.
        number, what = bad[0]
        lines = ", ".join(str(n) for n, _ in bad[1:MORE_BAD_LINES + 1]) + (", …" if len(bad) > MORE_BAD_LINES + 1 else "")
        more = f" ({len(bad) - 1} more bad row(s): line {lines})" if len(bad) > 1 else ""
        raise SentimentError(f"{source}: line {number} {what}{more}")
    if not texts:
        raise SentimentError(f"{source}: no labelled rows")
    return LabelledTexts(texts, canonical_labels(labels, known_labels), source)


def _predictions(columns: list[str], label_col: str) -> bool:
    """Whether the columns are those of ``predict``'s records (CSV/TSV: ``prob_…`` columns; JSONL: ``probs``)
    around the label column."""
    return label_col == "label" and "score" in columns and ("probs" in columns or any(c.startswith("prob_") for c in columns))


def _labelled_row(row: dict, text_col: str, label_col: str) -> tuple[str, object] | str:
    """(text, label) of a row, or what is wrong with it (the caller names file and line)."""
    text, label = row.get(text_col), row.get(label_col)
    if is_missing_label(label):
        marked = "" if label is None or not str(label).strip() else f" ({label}: a missing value)"
        return f"has no label in {label_col!r}{marked}"
    if not isinstance(label, (str, int, float)):
        return f"has a label that is not a string or number: {json.dumps(label, ensure_ascii=False)[:80]}"
    if isinstance(label, str) and any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in label.strip()):
        # "bad\nline" became a class: it broke every one-line warning naming it, and predict's CSV header.
        return f"has a label holding a line break or another control character: {json.dumps(label, ensure_ascii=False)[:80]}"
    if text is None:
        return f"has no text in {text_col!r}"
    if not isinstance(text, str):
        return f"has a text that is not a string: {json.dumps(text, ensure_ascii=False)[:80]}"
    if not text.strip():
        return f"has an empty text in {text_col!r}"
    surrogate = lone_surrogate(text)
    if surrogate:  # a JSONL escape such as "\ud800" alone: training ran to its end, then could not write the vocabulary
        return f"holds a lone surrogate ({surrogate}) in {text_col!r}, not text"
    if not has_words(text):
        # &nbsp; or <br /> alone: predict gives such a text an "empty text" error, and training read it as nothing.
        return f"has no words in {text_col!r} once normalised (markup, links, mentions or control characters only: {text[:40]!r})"
    return text, label


@dataclass(frozen=True)
class BadInput:
    """An input line that holds no text to classify (not UTF-8, not JSON, a blank JSONL line, a text
    that is an object or a list). Prediction gives it a record with ``error`` at its place, so outputs
    stay aligned with inputs.

    Attributes:
        text: the line as read (undecodable bytes as U+FFFD).
        error: what is wrong, naming the line ("line 3 is not valid JSON (Expecting value at column 1)").
        remedy: for a line that is not UTF-8, what :func:`save_as_utf8` says ("; save the file as UTF-8:
            iconv -f GB18030 …"); "" otherwise.
    """

    text: str
    error: str
    remedy: str = field(default="", compare=False)  # advice drawn from the same bytes, not a fact about the line


def argument_texts(texts: Sequence[str]) -> list[str | BadInput]:
    """Texts given as command-line arguments: each kept, or a :class:`BadInput` for one that is not UTF-8
    (Python keeps such bytes of ``sys.argv`` as lone surrogates, which no UTF-8 output can hold). An
    argument that Python read in a locale's encoding other than UTF-8, keeping its bytes so, is read as UTF-8."""
    items: list[str | BadInput] = []
    for number, text in enumerate(texts, 1):
        bad = _UNDECODED.search(text)
        if bad is None:
            items.append(text)
            continue
        raw = text.encode("utf-8", errors="surrogateescape")  # the bytes the shell gave
        try:
            # UTF-8 read under a locale that is not (LC_ALL=C with PYTHONUTF8=0): "not UTF-8", it said.
            items.append(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            items.append(BadInput(raw.decode("utf-8", errors="replace"), f"argument {number} is not UTF-8 (byte 0x{raw[err.start]:02x})"))
    return items


def read_texts(path: Path | str, text_column: str | None = None, strict: bool = True) -> list[str | BadInput]:
    """Texts to predict: ``-`` for stdin or a .txt file (one per line, blank lines kept as inputs),
    or the text column of a CSV/TSV/JSONL file. See :func:`iter_texts` for ``strict``."""
    return list(iter_texts(path, text_column, strict))


def _not_utf8(number: int, raw: bytes, start: int, source: str) -> tuple[str, str]:
    """(error, remedy) for line ``number`` of ``source``, whose bytes ``raw`` are not UTF-8: why it cannot be
    read (its first byte that is not UTF-8, at ``start``, and the encoding it reads as, where
    :func:`_guess_encoding` finds one), and :func:`save_as_utf8`'s advice, the encoding guessed once for both."""
    guess = _guess_encoding(raw)
    return f"line {number} is not UTF-8 (byte 0x{raw[start]:02x})" + (f" but reads as {_ENCODINGS[guess]}" if guess else ""), save_as_utf8(source, guess)


# What a file that is not UTF-8 is most often in: GBK, the encoding Excel on Chinese Windows saves a CSV in
# (GB18030 holds it), and Windows-1252, Excel's on Western Windows (Latin-1 and its curly quotes); EUC-KR,
# Excel's on Korean Windows, because its bytes read as GBK too.
_ENCODINGS = {"EUC-KR": "EUC-KR Korean", "GB18030": "GBK (GB18030) Chinese", "WINDOWS-1252": "Windows-1252 (Western European)"}
_HANGUL = "[\uac00-\ud7a3]"
_SPACED_HANGUL = re.compile(f"{_HANGUL} +{_HANGUL}")
_WESTERN = re.compile("[\u00c0-\u00cf\u00d1-\u00dc\u00df-\u00ef\u00f1-\u00fc\u00ff\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u20ac\u2122\u00a0-\u00bf]")


def _guess_encoding(raw: bytes) -> str | None:
    """The encoding of :data:`_ENCODINGS` that bytes that are not UTF-8 read as, or None.

    EUC-KR: the bytes read as Hangul syllables with no Han character, and a space between two of them.
    Korean in EUC-KR is GB2312 too (최악의 영화 as 弥厩狼 康拳), and GB2312 Chinese is EUC-KR (很好 as 붤봤),
    but Korean puts a space between words, Chinese does not, and most Chinese reads as Hangul mixed with
    Hanja. GB18030: the bytes are GB2312 (whose double bytes are all in 0xA1–0xFE: a Latin-1 line, Big5 and
    Shift-JIS are not) holding two Han characters or more. Windows-1252:
    every character beyond ASCII an accented letter or a typographic sign of Western text beside an ASCII
    letter, and fewer of them than ASCII letters (a Cyrillic Windows-1251 line decodes too, a word of accented
    letters for each word; Turkish Windows-1254's ğ ş ı read as ð þ ý, which Western text hardly holds, and
    are left unnamed).
    """
    try:
        korean = raw.decode("euc_kr")
        if _SPACED_HANGUL.search(korean) and han_count(korean) == 0:
            return "EUC-KR"
    except UnicodeDecodeError:
        pass
    try:
        # GB2312, GBK's common core, strictly: Big5 and Shift-JIS decode as GB18030 too, to rare Han
        # characters (Big5's 這部電影 as 硂场筿紇), and its iconv command made them garbage.
        if han_count(raw.decode("gb2312")) >= 2:
            return "GB18030"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    wide = [i for i, c in enumerate(text) if not c.isascii()]
    letters = sum(c.isascii() and c.isalpha() for c in text)
    # In a word: a lone byte 0xff in '{"text": "\xff"}' is no sign of any encoding.
    in_words = all(any(0 <= j < len(text) and text[j].isascii() and text[j].isalpha() for j in (i - 1, i + 1)) for i in wide)
    western = all(_WESTERN.match(text[i]) for i in wide)
    return "WINDOWS-1252" if wide and western and in_words and len(wide) < letters else None


def save_as_utf8(source: str, guess: str | None) -> str:
    """The end of a message refusing ``source``: save it as UTF-8, with the command that does so when a line
    that is not UTF-8 reads as ``guess``, one of :data:`_ENCODINGS` (:func:`_guess_encoding`)."""
    if guess is None or source.startswith("<"):
        return "; save the file as UTF-8"
    return f"; save the file as UTF-8: iconv -f {guess} -t UTF-8 {shlex.quote(source)} > utf8{Path(source).suffix}"


def _decoded_lines(stream, source: str, strict: bool) -> Iterator[str | BadInput]:
    """Lines of a binary stream as :func:`_lines` of the whole decoded text gives them, one by one;
    a line that is not UTF-8 raises (``strict``) or is one :class:`BadInput`.

    Raw lines end at b"\n", which is never part of a multi-byte UTF-8 character, so decoding line by
    line names the same line as decoding the whole.
    """
    for number, raw in enumerate(stream, 1):
        if number == 1:
            _refuse_utf16(raw, source)
        try:
            # utf-8-sig on the first line drops a byte-order mark
            yield from _lines(raw.decode("utf-8-sig" if number == 1 else "utf-8"))  # one line: raw ends at its LF
        except UnicodeDecodeError as err:
            error, remedy = _not_utf8(number, raw, err.start, source)
            if strict:
                raise SentimentError(f"{source}: {error}{remedy}") from None
            yield BadInput(raw.decode("utf-8", errors="replace").rstrip("\r\n"), error, remedy)


INPUT_FORMATS = ("txt", "csv", "tsv", "jsonl")


def input_format(path: Path | str, given: str | None = None) -> str:
    """:func:`file_format` of a file of texts to predict; ``-`` (stdin) is read as ``given``, or without
    it as "txt", one text per line.

    Raises:
        ValueError: ``given`` is not one of :data:`INPUT_FORMATS`.
        SentimentError: as :func:`file_format`.
    """
    if given is not None and given not in INPUT_FORMATS:
        raise ValueError(f"the input format must be one of {', '.join(INPUT_FORMATS)}; got {given!r}")
    if str(path) == "-":
        return given or "txt"
    return file_format(Path(path), given)


def iter_texts(path: Path | str, text_column: str | None = None, strict: bool = True) -> Iterator[str | BadInput]:
    """:func:`read_texts`, one text at a time: memory stays flat however long the file.

    Args:
        strict: a line that holds no text (see :class:`BadInput`) raises SentimentError naming the file
            and line; False: it is returned as a :class:`BadInput` and reading goes on.
    Raises:
        SentimentError: when reached: an unreadable file, a missing column (for CSV/TSV and JSONL the
            header, or the first JSON object, is checked before the first text is returned), a
            ``text_column`` for a .txt file or stdin, and with ``strict`` a bad line.
        TypeError: at once, as :func:`check_file_arguments`.
    """
    check_file_arguments(path, text_column=text_column)
    return (text for text, _ in iter_rows(path, text_column, strict))


def iter_rows(path: Path | str, text_column: str | None = None, strict: bool = True, fmt: str | None = None) -> Iterator[tuple[str | BadInput, dict]]:
    """:func:`iter_texts`, each text with the other columns of its row: a CSV/TSV row's other named fields
    (strings) or a JSONL object's other keys (any JSON value), in the file's order. ``{}`` for a .txt line,
    stdin read as lines, and a line whose row could not be read (not UTF-8, not JSON, more or fewer fields
    than the header); a column without a name (a spreadsheet's trailing comma, pandas' index) is not kept.
    Bytes that are not UTF-8 in another column, or a lone surrogate in a JSON string, are kept as U+FFFD (or
    ``?``): no UTF-8 output could hold them. ``fmt`` (see :func:`input_format`) reads ``path``, or stdin
    (``-``), as that format whatever its suffix: a CSV piped in was read as lines, its header a text."""
    check_file_arguments(path, text_column=text_column)
    fmt = input_format(path, fmt)
    name = "<stdin>" if str(path) == "-" else str(path)
    if text_column is not None and fmt == "txt":
        # Read silently as lines, the column would be ignored and its header line classified as a text.
        raise SentimentError(f"{name}: a text column names a column of a CSV/TSV/JSONL file; this input is read as one text per line")
    if str(path) == "-":
        stdin = _stdin_bytes()
        if hasattr(stdin, "peek"):  # a BufferedReader; a stand-in stdin (io.BytesIO) may lack it
            _refuse_utf16(stdin.peek(_HEAD)[:_HEAD], name)
        yield from _rows(stdin, name, fmt, text_column, strict)
        return
    try:
        stream = Path(path).open("rb")
    except OSError as err:
        raise SentimentError(f"{path}: cannot read ({err.strerror})") from None
    with stream:
        # More than the first line: a UTF-16 Chinese line holds no NUL before its line end.
        _refuse_utf16(stream.peek(_HEAD)[:_HEAD], name)
        yield from _rows(stream, Path(path), fmt, text_column, strict)


def _rows(stream, path: Path | str, fmt: str, text_column: str | None, strict: bool) -> Iterator[tuple[str | BadInput, dict]]:
    """The rows of the binary ``stream`` read as ``fmt``; ``path`` names it in messages."""
    if fmt == "txt":
        yield from _alone(_flag_carriage_returns(_decoded_lines(stream, str(path), strict), str(path)))
    elif fmt == "jsonl":
        yield from _iter_jsonl_rows(_decoded_lines(stream, str(path), strict), path, text_column, strict)
    else:
        yield from _iter_csv_rows(stream, path, fmt, text_column, strict)


def _flag_carriage_returns(lines: Iterable[str | BadInput], source: str) -> Iterator[str | BadInput]:
    """``lines``, with a warning at the first that holds a CR: a text may (lines end at LF only, see
    :func:`_lines`), but a file of old Mac line ends (CR alone: Excel for Mac's "Text") is then one text,
    classified as one without a word."""
    flagged = False
    for number, line in enumerate(lines, 1):
        if not flagged and isinstance(line, str) and "\r" in line:
            flagged = True
            warn_caller(f"{source}: line {number} holds a carriage return (\\r) inside it, read as part of one text; a file of old Mac line ends is one text (convert them: tr '\\r' '\\n')")
        yield line


def _alone(texts: Iterable[str | BadInput]) -> Iterator[tuple[str | BadInput, dict]]:
    return ((text, {}) for text in texts)


def _stdin_bytes():
    """stdin's bytes through a reader of this module's own on its descriptor. Prediction reads stdin in a
    thread (:mod:`lstm_sentiment.inference.stream`), and one blocked in ``sys.stdin``'s reader at exit made
    the interpreter abort ("could not acquire lock for <stdin> at interpreter shutdown"). A stand-in stdin
    without a descriptor (a test's) is read as it is."""
    try:
        descriptor = sys.stdin.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return sys.stdin.buffer
    return open(descriptor, "rb", closefd=False)


def _bad(path: Path, line: str, error: str, strict: bool) -> BadInput:
    if strict:
        raise SentimentError(f"{path}: {error}")
    return BadInput(line, error)


def _iter_jsonl_rows(lines: Iterator[str | BadInput], path: Path, text_column: str | None, strict: bool) -> Iterator[tuple[str | BadInput, dict]]:
    col = None
    first_fault = None  # of the lines before the first JSON object
    first_keys = None  # of the first object without the text column
    # Until an object shows the text column, lines wait here in input order: a first object without it
    # ({"id": 1}) refused the whole file, where the same object on line 2 got an error record at its place.
    waiting: list[tuple[int, str, dict] | tuple[str | BadInput, dict]] = []
    for number, line in enumerate(lines, 1):
        if isinstance(line, BadInput):
            first_fault = first_fault or line.error
            item = line, {}
        elif not line.strip():
            # An empty text would be '{"text": ""}'; a blank line is a fault, kept in place so outputs
            # stay aligned with the input's lines.
            first_fault = first_fault or f"line {number} is blank"
            item = _bad(path, line, f"line {number} is blank", strict), {}
        else:
            if number == 1 and line.lstrip("\ufeff \t").startswith("["):
                # As file_format refuses a file: stdin read as JSON Lines has no file to peek at first.
                raise SentimentError(f"{path}: {_JSON_ARRAY}")
            row, error = _json_object(line, number)
            if error is not None:
                first_fault = first_fault or error
                item = _bad(path, line, error, strict), {}
            elif col is None and not _matching_columns(list(row), text_column, TEXT_COLUMNS):
                first_keys = first_keys if first_keys is not None else list(row)
                if len(waiting) >= _WAITING_LINES:
                    pick_column(first_keys, text_column, TEXT_COLUMNS, "text", str(path))  # raises
                waiting.append((number, line, row))
                continue
            else:
                if col is None:
                    col = pick_column(list(row), text_column, TEXT_COLUMNS, "text", str(path))
                    for held in waiting:
                        yield _object_item(path, *held, col, strict) if len(held) == 3 else held
                    waiting = []
                item = _object_item(path, number, line, row, col, strict)
        if col is None and first_keys is not None:
            waiting.append(item)
        else:
            yield item
    if col is None and first_keys is not None:
        pick_column(first_keys, text_column, TEXT_COLUMNS, "text", str(path))  # raises: no object names it
    if col is None and first_fault is not None:
        # A whole file in GBK said "no text column … columns found: none", naming neither line nor encoding.
        hint = "; save the file as UTF-8" if "not UTF-8" in first_fault else ""
        raise SentimentError(f"{path}: no line holds a JSON object to read; the first: {first_fault}{hint}")
    if col is None:
        raise SentimentError(f"{path}: empty file")


# Lines held while no object has shown the text column: past them, the file is refused as one without it.
_WAITING_LINES = 1000


def _object_item(path: Path, number: int, line: str, row: dict, col: str, strict: bool) -> tuple[str | BadInput, dict]:
    """The text of ``row``'s column ``col`` and its other values, or an error at its place."""
    others = _writable({key: value for key, value in row.items() if key != col}, f"{path}: line {number}")
    value = row.get(col)
    if not isinstance(value, str):  # a number's or an object's Python repr is no text
        what = "missing" if col not in row else f"a JSON {_JSON_TYPES.get(type(value), 'value')}, not text"
        return _bad(path, line, f"line {number}: {col!r} is {what}", strict), others
    surrogate = lone_surrogate(value)  # a JSON escape such as "\ud800" alone: no UTF-8 can hold it
    if surrogate:
        return _bad(path, line, f"line {number}: {col!r} holds a lone surrogate ({surrogate}), not text", strict), others
    return value, others


def _writable(values: dict, where: str) -> dict:
    """A JSON object's keys and values as JSON output can hold them: NaN and ±Infinity (which Python's json
    reads, and writes by default; 1e400 reads as Infinity) as null, every lone surrogate (a ``"\\ud800"``
    escape) as ``?``.

    Warns:
        UserWarning: naming ``where`` (the file and line), for each kind replaced: NaN went out as ``NaN``,
            which no JSON reader takes, and a surrogate was replaced without a word.
    """
    try:
        dumped = json.dumps(values, ensure_ascii=False, allow_nan=False)
    except ValueError:
        warn_caller(f"{where}: NaN or Infinity in its other columns (JSON has neither), kept as null (an empty cell in CSV or TSV output)")
        values = _finite(values)
        dumped = json.dumps(values, ensure_ascii=False)
    if not LONE_SURROGATE.search(dumped):
        return values
    warn_caller(f"{where}: a lone surrogate (a \\ud800-style escape) in its other columns, written as ?")
    return json.loads(dumped.encode("utf-8", errors="replace").decode("utf-8"))


def _finite(value):
    """``value`` (a JSON value) with every NaN or infinite float inside it as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


_JSON_TYPES = {dict: "object", list: "array", int: "number", float: "number", bool: "boolean", type(None): "null"}
# What errors="surrogateescape" makes of bytes that are not UTF-8.
_UNDECODED = re.compile("[\udc80-\udcff]")


def _iter_csv_rows(stream, path: Path, fmt: str, text_column: str | None, strict: bool) -> Iterator[tuple[str | BadInput, dict]]:
    # surrogateescape: a bad byte is kept in the row as a lone surrogate instead of stopping the reader,
    # so the row it is in, and only that row, is refused.
    # Closed with the generator: dropped open, the wrapper warned (ResourceWarning); closing it closes the
    # file, which the caller's `with` then finds closed.
    with io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        reader = _dict_reader(text, fmt, str(path))
        # "no text column … name it with --text-column" could not help either
        if reader.fieldnames is None:
            raise SentimentError(f"{path}: empty file")
        if not reader.fieldnames:
            raise SentimentError(f"{path}: line 1, the header, is blank")
        columns = list(reader.fieldnames)
        header = [c for c in columns if c and _UNDECODED.search(c)]
        if header:
            raw = ",".join(header).encode("utf-8", errors="surrogateescape")
            raise SentimentError(f"{path}: line 1 (the header) is not UTF-8{save_as_utf8(str(path), _guess_encoding(raw))}")
        col = pick_column(columns, text_column, TEXT_COLUMNS, "text", str(path))
        named_twice = _repeated(columns)
        if col in named_twice:  # DictReader would read the last of them, perhaps not the one meant
            raise SentimentError(f"{path}: the header names {col!r} more than once")
        repeated = [name for name in named_twice if name]
        if repeated:
            # DictReader keeps the last field of a name: the others' values were gone from the records.
            reader.fieldnames = _numbered(columns)
            renamed = [new for old, new in zip(columns, reader.fieldnames) if old != new]
            warn_caller(f"{path}: the header names {', '.join(map(repr, repeated))} more than once; kept as {', '.join(map(repr, renamed))} after the first")
        for number, row, fault in _checked_rows(reader, len(columns), path):
            value = "" if row.get(col) is None else str(row[col])
            bad = _UNDECODED.search(value)
            # An unquoted comma splits a text, a missing field empties it: either way the text read is not
            # the one written, nor are the other fields.
            others = {} if fault else {name: _replaced(field) for name, field in row.items() if name and name != col}
            if bad:
                raw = value.encode("utf-8", errors="surrogateescape")
                error, remedy = _not_utf8(number, raw, len(value[: bad.start()].encode("utf-8", errors="surrogateescape")), str(path))
                if strict:
                    raise SentimentError(f"{path}: {error}{remedy}")
                yield BadInput(_replaced(value), error, remedy), others
            elif fault:
                fields = [v for v in row.values() if isinstance(v, str)] + list(row.get(None, ()))
                yield _bad(path, "\t,"[fmt == "csv"].join(fields), fault, strict), {}
            else:
                yield value, others


def _replaced(field: str) -> str:
    """A field read with surrogateescape, its bytes that are not UTF-8 as U+FFFD."""
    if not _UNDECODED.search(field):
        return field
    return field.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
