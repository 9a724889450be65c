"""Reading a batch file into rows: CSV (its encoding detected), JSON Lines or Excel.

The process that runs the batch only cuts the input into rows: a CSV record or a JSON line is
handed on as the bytes of the file (:attr:`Row.raw`) and decoded, parsed and checked where it is
evaluated (:mod:`engine.screening.parsing`), so that with workers the reading costs the main
process almost nothing. An Excel sheet cannot be cut into byte ranges; its cells are read here
and converted where they are evaluated.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.errors import ProfileError, nearest
from engine.loading.workbooks import BATCH_LIMITS, WorkbookLimits, check_workbook
from engine.model import KnowledgeBase
from engine.rendering.template import read_header

#: The batch file formats, by file ending.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
#: Rows read before the data to find the header: a band row, a label row and an id row.
HEADER_ROWS = 4


def format_of(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ProfileError(f"'{path.name}' is not a batch file: use .csv, .jsonl or .xlsx", file=str(path))
    return kind


#: Encodings a person may name with ``--encoding`` (any codec Python knows is accepted).
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "latin-1")


@dataclass(frozen=True)
class Layout:
    """How the raw rows of one file are read: its format, CSV header and text encoding."""

    kind: str
    header: tuple = ()
    encoding: str = "utf-8"
    label: str = "UTF-8"


@dataclass
class Row:
    number: int                   # 1-based, in input order
    ident: str | None = None
    data: dict | None = None
    error: str | None = None
    error_zh: str | None = None   # the error in Chinese, for a person reading Chinese
    cells: dict | None = None     # a spreadsheet row as read, converted where it is evaluated
    raw: bytes | None = None      # a CSV record or JSON line as in the file, read where it is evaluated
    line: int | None = None       # the file line the raw row ends on
    layout: Layout | None = None
    given: dict | None = None     # the input's cells by column id, as given (for the results sheet)
    checked: bool = False         # whether ``data`` is already a checked profile (typed facts)


class Source:
    """The rows of a batch file (iterate over it) and its columns: the ids its header names,
    or for JSON Lines, which has no header, the template's columns."""

    def __init__(self, rows: Iterator[Row], columns: list[str]):
        self.rows, self.columns = rows, list(columns)

    def __iter__(self) -> Iterator[Row]:
        return self.rows

    def __next__(self) -> Row:
        return next(self.rows)


def read_rows(path: Path, kb: KnowledgeBase, sheet: str | None = None, encoding: str | None = None,
              say=None) -> Source:
    """The rows of a batch file, one at a time. The header is read and checked at once, so a
    bad header stops the batch before anything is written. A header names each column by its
    fact's id or its label in Chinese or English (:func:`engine.rendering.template.read_header`): a
    template written by ``policykb template`` reads back with its label row, its id row, or
    both.

    Parameters
    ----------
    encoding : str, optional
        The text encoding of a CSV file; by default UTF-8 (with or without a BOM) when the whole
        file is UTF-8, otherwise GB18030 (what Excel saves on a Chinese Windows machine).
    say : callable, optional
        Called with one line saying which encoding a CSV file is read in.

    Raises
    ------
    ProfileError
        For a file that is missing, empty, of an unknown format, or whose header is bad.
    """
    kind = format_of(path)
    if not path.is_file():
        raise ProfileError("no such file", file=str(path))
    if encoding is not None and kind != "csv":
        raise ProfileError(f"--encoding applies to CSV input only; {kind} input is read as it is",
                           file=str(path))
    if kind == "csv":
        return _csv_rows(path, kb, encoding, say)
    if kind == "jsonl":
        from engine.rendering.template import columns
        return Source(_jsonl_rows(path), columns(kb))
    return _xlsx_rows(path, kb, sheet)


def count_rows(path: Path, sheet: str | None = None) -> int | None:
    """How many rows a file has (for the progress bar's time left), when cheap to know."""
    kind = format_of(path)
    if kind == "xlsx":
        return None
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(lines - 1, 0) if kind == "csv" else lines


def _empty(path: Path) -> ProfileError:
    return ProfileError("the file is empty: no header and no rows; the first line names the facts, "
                        "e.g. id,name,industry", file=str(path), line=1)


def detect_encoding(path: Path) -> tuple[str, str]:
    """The codec a CSV file is read with and how to name it to a person: UTF-8 with a BOM,
    UTF-8 when every byte of the file is UTF-8, otherwise GB18030 (a superset of GBK)."""
    with path.open("rb") as handle:
        if handle.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig", "UTF-8 with BOM (detected)"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030", "GB18030 (detected: the file is not UTF-8)"
    return "utf-8", "UTF-8 (detected)"


def _codec(path: Path, encoding: str | None) -> tuple[str, str]:
    if encoding is None:
        return detect_encoding(path)
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ProfileError(f"--encoding: '{encoding}' is not a text encoding", suggestion=nearest(encoding, ENCODINGS),
                           allowed=ENCODINGS) from None
    return name, f"{name} (--encoding)"


def _records(handle, line: int = 0) -> Iterator[tuple[int, bytes]]:
    """The CSV records of a binary file with the line each ends on. A record ends at a newline
    outside quotes: quotes come in pairs (a quote inside a field is doubled), so an odd count
    so far means the newline is inside a field. A quote or newline byte is never part of a
    multi-byte character in UTF-8 or GB18030, so the bytes can be cut before decoding."""
    pending: list[bytes] = []
    quotes = 0
    for text in handle:
        line += 1
        quotes += text.count(b'"')
        if quotes % 2:
            pending.append(text)
            continue
        if pending:
            pending.append(text)
            text, pending = b"".join(pending), []
        quotes = 0
        yield line, text
    if pending:   # an unterminated quote: the rest of the file, reported where it is parsed
        yield line, b"".join(pending)


def _blank_record(raw: bytes) -> bool:
    """A record of only blanks, commas and quotes (and a BOM) has no value."""
    return not raw.strip(codecs.BOM_UTF8 + b' \t\r\n,"')


def _csv_rows(path: Path, kb: KnowledgeBase, encoding: str | None, say) -> Source:
    codec, label = _codec(path, encoding)
    handle = path.open("rb")
    try:
        records = _records(handle)
        first: list[tuple[int, bytes]] = []
        for line, raw in records:
            if not _blank_record(raw):
                first.append((line, raw))
                if len(first) == HEADER_ROWS:
                    break
        if not first:
            raise _empty(path)
        rows = []
        for n, (line, raw) in enumerate(first):
            try:
                text = raw.decode(codec).lstrip("\ufeff")
            except UnicodeDecodeError:
                if n == 0:
                    raise ProfileError(f"the header is not {codec.upper()} text; save the file as UTF-8 or pass "
                                       "--encoding", file=str(path), line=line) from None
                break
            try:
                rows.append((line, [h.strip() for h in next(csv.reader([text]), [])]))
            except csv.Error as exc:
                if n == 0:
                    raise ProfileError(f"cannot read the header: {exc}", file=str(path), line=line) from None
                break
        header, used = read_header(rows, kb, path)
    except BaseException:
        handle.close()
        raise
    if say is not None:
        say(f"reading {path.name} as {label}")
    body = "utf-8" if codec == "utf-8-sig" else codec   # the BOM is only at the start
    layout = Layout("csv", tuple(header), body, body.upper())
    return Source(_csv_body(handle, _chain(first[used:], records), layout), header)


def _chain(first: list, rest) -> Iterator:
    yield from first
    yield from rest


def _csv_body(handle, records, layout: Layout) -> Iterator[Row]:
    try:
        number = 0
        for line, raw in records:
            # A row of only blanks, commas and quotes has no value: skipped, as a blank line.
            if _blank_record(raw):
                continue
            number += 1
            yield Row(number, raw=raw, line=line, layout=layout)
    finally:
        handle.close()


_JSONL = Layout("jsonl")


def _jsonl_rows(path: Path) -> Iterator[Row]:
    handle = path.open("rb")
    first = handle.read(1 << 16)
    handle.seek(0)
    if not first.strip(codecs.BOM_UTF8 + b" \t\r\n"):
        handle.close()
        raise _empty(path)
    return _jsonl_body(handle)


def _jsonl_body(handle) -> Iterator[Row]:
    with handle:
        number = 0
        for line, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            number += 1
            yield Row(number, raw=raw, line=line, layout=_JSONL)


def _xlsx_rows(path: Path, kb: KnowledgeBase, sheet: str | None,
               limits: WorkbookLimits = BATCH_LIMITS) -> Iterator[Row]:
    """The rows of an Excel sheet; a workbook too big to read (``limits``), or no workbook at
    all, is refused before openpyxl reads it (:func:`engine.loading.workbooks.check_workbook`)."""
    import openpyxl
    check_workbook(path, limits, name=str(path))
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file it cannot read
        raise ProfileError("not a readable .xlsx workbook; save it again from Excel as .xlsx (Excel Workbook)",
                           zh="无法读取的 .xlsx 工作簿；请在 Excel 中重新另存为 .xlsx（Excel 工作簿）",
                           file=str(path)) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ProfileError(f"no sheet '{sheet}'", file=str(path), suggestion=nearest(sheet, book.sheetnames),
                               allowed=book.sheetnames)
        rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
        first = []
        for line, cells in enumerate(rows, 1):
            if any(c not in (None, "") for c in cells):
                first.append((line, cells))
                if len(first) == HEADER_ROWS:
                    break
        if not first:
            raise _empty(path)
        header, used = read_header([(line, [str(c).strip() if c is not None else "" for c in cells])
                                    for line, cells in first], kb, path)
    except BaseException:
        book.close()
        raise
    return Source(_xlsx_body(book, _chain([cells for _, cells in first[used:]], rows), header), header)


def _xlsx_body(book, rows, header: list[str]) -> Iterator[Row]:
    try:
        number = 0
        for cells in rows:
            cells = list(cells)[: len(header)]
            if not any(c not in (None, "") for c in cells):
                continue
            number += 1
            yield Row(number, None, None, cells=dict(zip(header, cells)))
    finally:
        book.close()
