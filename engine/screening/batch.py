"""Screening many enterprises: ``policykb batch``.

Rows are cut from CSV, JSON Lines or Excel one at a time (:func:`read_rows`) — CSV records and
JSON lines as raw bytes, decoded and parsed where they are evaluated (:func:`parse_row`) — then
read, evaluated and formatted in chunks — in this process, in worker processes (``--workers``),
or on Dask (:mod:`engine.screening.dask_engine`) — and written in input order as CSV, JSON Lines or Excel
(:class:`Writer`), so memory does not grow with the input and the process writing the output
does little else. Text cells are kept from running as spreadsheet formulas
(:mod:`engine.rendering.spreadsheet`). Nothing is lost: a row that cannot be read or evaluated is an output row
with its error, and the batch goes on. Output goes to ``OUTPUT.incomplete`` and is renamed to
``OUTPUT`` only when every row is written; an interrupted run leaves the ``.incomplete`` file,
ending with a row that says so, never a silently short ``OUTPUT``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import html
import io
import json
import os
import sys
import time
import unicodedata
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from engine.errors import PolicyKBError, ProfileError, nearest
from engine.inferring.evaluation import reasoner, under_documents
from engine.loading.kb import KnowledgeBase, load
from engine.rendering.spreadsheet import csv_cell
from engine.rendering.template import ID_COLUMNS, cell_value, read_header
from engine.loading.values import ValueProblem

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
CHUNK = 250
#: Rows read before the data to find the header: a band row, a label row and an id row.
HEADER_ROWS = 4


def format_of(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ProfileError(f"'{path.name}' is not a batch file: use .csv, .jsonl or .xlsx", file=str(path))
    return kind


# --------------------------------------------------------------------------- reading
#
# The process that runs the batch only cuts the input into rows: a CSV record or a JSON line is
# handed on as the bytes of the file (`Row.raw`) and decoded, parsed and checked where it is
# evaluated (:func:`evaluate_rows`), so that with workers the reading costs the main process
# almost nothing. An Excel sheet cannot be cut into byte ranges; its cells are read here and
# converted where they are evaluated.

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


def _xlsx_rows(path: Path, kb: KnowledgeBase, sheet: str | None) -> Iterator[Row]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ProfileError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=str(path)) from None
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


# --------------------------------------------------------------------------- parsing (where rows are evaluated)

def _cell(kb: KnowledgeBase, name: str, value):
    """A spreadsheet cell of fact ``name`` as the profile reader takes it: text stripped (blank
    is unknown, None), a choice by its id or its label (zh or en), lists as ``a;b`` or
    ``标签；标签``, records as JSON, Excel dates as dates."""
    if value.__class__ is str:
        value = value.strip()
        if not value:
            return None
        kind = kb.facts[name].type
        if kind in ("enum", "list"):
            return cell_value(kb, name, value)   # a label not found is refused by problems()
        if kind == "records":
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ProfileError(f"{name}: not valid JSON ({exc.msg})") from None
            except (ValueError, RecursionError) as exc:
                raise ProfileError(f"{name}: not usable JSON ({exc})") from None
        return value
    if isinstance(value, _dt.datetime):
        return value.date()
    return value


def _choice(kb: KnowledgeBase, name: str, value):
    """A choice read from a cell, or an error naming the nearest label and every allowed one."""
    fact = kb.facts[name]
    for item in value if isinstance(value, list) else [value]:
        if item not in fact.values:
            labels = [words[lang] for words in fact.values.values() for lang in ("zh", "en")]
            raise ProfileError(f"{name}: '{item}' is not one of its values",
                               suggestion=nearest(item, labels + list(fact.values)),
                               allowed=[f"{words['zh']} / {words['en']} ({v})" for v, words in fact.values.items()])
    return value


#: Text cells of a column remembered once read, per column: enough for the few values most
#: columns repeat, bounded so that a column of unique text does not grow memory.
CELLS_REMEMBERED = 1024
_UNREADABLE = object()


def _checked_profile(kb: KnowledgeBase, number: int, header: tuple, cells: list) -> Row | None:
    """A row of cells under its column ids as a checked profile, each text cell read once per
    process and column and remembered (most columns of a batch repeat a few values: yes/no, a
    choice, a date, a round amount), so that a row costs look-ups rather than parsing. None
    when a cell cannot be read: :func:`_with_problems` then gives the row every problem it has."""
    by_header = kb.__dict__.setdefault("_cells_by_header", {})
    columns = by_header.get(header)
    if columns is None:   # per header: each column's cells read so far, None for an id column
        by_column = kb.__dict__.setdefault("_cells_read", {})
        columns = by_header[header] = tuple(None if name in ID_COLUMNS else by_column.setdefault(name, {})
                                            for name in header)
    facts = {}
    for name, column, value in zip(header, columns, cells):
        # Only text is remembered: as dict keys 1, 1.0 and True are one.
        if value.__class__ is str:
            if not value or column is None:
                continue
            fact = column.get(value, _UNREADABLE)
            if fact is _UNREADABLE:
                fact = _read_cell(kb, name, value)
                if fact is _UNREADABLE:
                    return None
                if len(column) < CELLS_REMEMBERED:
                    column[value] = fact
        elif value is None or column is None:
            continue
        else:
            fact = _read_cell(kb, name, value)
            if fact is _UNREADABLE:
                return None
        if fact is not None:
            facts[name] = fact
    given = dict(zip(header, cells))
    return Row(number, _ident(given) or facts.get("name"), facts, given=given, checked=True)


def _read_cell(kb: KnowledgeBase, name: str, value):
    """A cell as its fact's value (as :func:`engine.loading.profile.parse_profile` reads it), None when
    blank, or ``_UNREADABLE``."""
    from engine.loading.profile import convert
    fact = kb.facts.get(name)
    if fact is None:
        return _UNREADABLE
    try:
        cell = _cell(kb, name, value)
        return None if cell is None else convert(fact, cell, kb)
    except (ProfileError, ValueProblem):
        return _UNREADABLE


def _ident(values: dict) -> str | None:
    return next((str(values[c]).strip() for c in ID_COLUMNS if values.get(c) not in (None, "")), None)


def _profile(kb: KnowledgeBase, number: int, values: dict) -> Row:
    """A row of spreadsheet cells as a profile; every cell that cannot be read is in its error."""
    return _checked_profile(kb, number, tuple(values), list(values.values())) or _with_problems(kb, number, values)


def _with_problems(kb: KnowledgeBase, number: int, values: dict) -> Row:
    """A row whose cells did not all read: each cell as the profile reader takes it, and every
    cell that cannot be read in the row's error."""
    ident = _ident(values)
    data, problems = {}, []
    for name, value in values.items():
        # Most cells of a wide sheet are blank: skipped before any other work (this loop runs
        # for every cell of every row).
        if value is None or value == "" or name in ID_COLUMNS:
            continue
        try:
            converted = _cell(kb, name, value)
        except ProfileError as exc:
            problems.append(str(exc))
            continue
        if converted is not None:
            data[name] = converted
    # A name cell may hold a spreadsheet date or number: the row is named by its text, as
    # the checked reader names it.
    name = data.get("name")
    return Row(number, ident or (None if name is None else str(name)), data, "; ".join(problems) or None,
               given=values)


def parse_row(kb: KnowledgeBase, row: Row) -> Row:
    """A row as read from the file (raw bytes or spreadsheet cells) made a profile, or an error."""
    if row.cells is not None:
        return _profile(kb, row.number, row.cells)
    if row.raw is None:
        return row
    if row.layout.kind == "csv":
        return _csv_row(kb, row)
    return _jsonl_row(row)


def _csv_row(kb: KnowledgeBase, row: Row) -> Row:
    layout = row.layout
    try:
        text = row.raw.decode(layout.encoding)
    except UnicodeDecodeError:
        return Row(row.number, error=f"line {row.line}: not {layout.label} text; save the file as UTF-8 "
                                     "or pass --encoding")
    try:
        # A record that spans lines is read as a file would be, with its newlines inside quotes.
        cells = next(csv.reader([text]), [])
    except csv.Error as exc:
        return Row(row.number, error=f"line {row.line}: cannot read the row: {exc}")
    width = len(layout.header)
    if len(cells) < width or any(c.strip() for c in cells[width:]):
        return Row(row.number, error=f"line {row.line}: {len(cells)} cells for {width} columns",
                   given=dict(zip(layout.header, cells)))
    cells = cells[:width]
    return _checked_profile(kb, row.number, layout.header, cells) or \
        _with_problems(kb, row.number, dict(zip(layout.header, cells)))


def _jsonl_row(row: Row) -> Row:
    line = row.line
    try:
        data = json.loads(row.raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Row(row.number, error=f"line {line}: not UTF-8 text")
    except json.JSONDecodeError as exc:
        return Row(row.number, error=f"line {line}: not JSON ({exc.msg} at column {exc.colno})")
    except (ValueError, RecursionError) as exc:
        return Row(row.number, error=f"line {line}: not usable JSON ({exc})")
    if not isinstance(data, dict):
        return Row(row.number, error=f"line {line}: a row is a JSON object of facts")
    given = dict(data)
    ident = next((str(data.pop(c)) for c in ID_COLUMNS if data.get(c) not in (None, "")), None)
    for column in ID_COLUMNS:
        data.pop(column, None)
    return Row(row.number, ident or data.get("name"), data, given=given)


def problems(kb: KnowledgeBase, data: dict) -> list[str]:
    """Every problem of a profile's facts, one message each: the profile reader stops at the
    first, and a person fixing a row wants them all at once."""
    from engine.loading.profile import parse_profile
    found = []
    for name, value in data.items():
        try:
            parse_profile({name: value}, kb)
        except ProfileError as exc:
            fact = kb.facts.get(name)
            items = value if isinstance(value, list) else [value]
            if fact is not None and fact.type in ("enum", "list") and all(isinstance(i, str) for i in items):
                try:   # a choice written by a person: the nearest label, and every label allowed
                    _choice(kb, name, value)
                except ProfileError as better:
                    found.append(str(better))
                    continue
            found.append(str(exc))
    return found


# --------------------------------------------------------------------------- evaluating

@dataclass(frozen=True)
class Output:
    """What the evaluating process prepares for the writer: the output's kind (``csv``,
    ``jsonl``, ``xlsx``), the language of the results sheet's words, and whether each row's
    HTML report is wanted (``--reports``)."""

    kind: str
    lang: str = "zh"
    reports: bool = False


class Chunk(list):
    """Rows evaluated and prepared for the writer, in input order, with their part of the
    summary (:attr:`summary`), tallied where they were evaluated so that the process writing
    the output only writes and adds up."""

    def __init__(self, items=(), summary: "Summary | None" = None):
        super().__init__(items)
        self.summary = summary if summary is not None else Summary()


def evaluate_rows(kb: KnowledgeBase, rows: list[Row], as_of, kind: str | Output) -> Chunk:
    """Read, evaluate and prepare rows for a ``kind`` file (``csv``, ``jsonl``, ``xlsx``, or an
    :class:`Output`), so that the process writing the file only writes. A row that fails is a
    row with every problem it has in its message, never an exception."""
    from engine.inferring.evaluation import assess_facts, dated, screen
    from engine.loading.profile import parse_profile
    output = kind if isinstance(kind, Output) else Output(kind)
    # A CSV row holds statuses and amounts only: screened, without the derivation record an
    # explanation, a report or a JSON record needs (the same values; a test compares them).
    screening = output.kind == "csv" and not output.reports
    out = Chunk()
    text = _CsvText() if output.kind == "csv" else None
    for row in rows:
        row = parse_row(kb, row)
        item = {"row": row.number, "id": row.ident, "result": "error", "message": row.error}
        assessment = evaluation = None
        if row.error is not None:
            if row.data is not None:   # cells that could not be read, and whatever else is wrong
                item["message"] = "; ".join([row.error] + problems(kb, row.data))
        else:
            try:
                facts = row.data if row.checked else parse_profile(row.data, kb)
                if screening:
                    evaluation = screen(dated(facts, as_of), kb)
                else:
                    # The compiled rules, not the rule engine: the same result (tested), without
                    # durable_rules' per-profile cost, which is most of a row's time.
                    assessment = assess_facts(facts, kb, as_of=as_of, engine="compiled")
                    evaluation = assessment.result
                item["result"] = "ok"
            except ProfileError as exc:
                item["message"] = "; ".join(problems(kb, row.data)) or str(exc)
            except PolicyKBError as exc:
                item["message"] = str(exc)
            except Exception as exc:  # an internal error of one row must not stop the batch
                item["message"] = f"internal error: {type(exc).__name__}: {exc}"
        out.append(_prepared(kb, item, assessment, evaluation, output, text, row.given))
        out.summary.add(kb, evaluation)
    return out


class _CsvText:
    """One output row as a line of CSV text, written where the row is evaluated."""

    def __init__(self):
        self.buffer = io.StringIO()
        # The csv module quotes a field holding a character of the line terminator; with "\n"
        # alone a bare "\r" would go out unquoted and end the row early in a reader, so rows
        # are written with "\r\n" and end in "\n" like the header.
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def line(self, values: list) -> str:
        """``values`` as in :func:`flat`: its text columns neutralised as formulas; the columns
        after them hold only status words and whole numbers."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow([csv_cell(v) for v in values[:TEXT_COLUMNS]])
        # Words and whole numbers need no quoting: joined as the csv module would write them.
        rest = ",".join("" if v is None else str(v) for v in values[TEXT_COLUMNS:])
        return self.buffer.getvalue()[:-2] + ("," + rest if len(values) > TEXT_COLUMNS else "") + "\n"


def _prepared(kb: KnowledgeBase, item: dict, assessment, evaluation: dict | None, output: Output,
              text: _CsvText | None, given: dict | None) -> dict:
    kind = output.kind
    prepared = {"row": item["row"]}
    if kind == "jsonl":
        record = dict(item)
        if evaluation is not None:
            record["evaluation"] = evaluation
        line = json.dumps(record, ensure_ascii=False) + "\n"
    elif kind == "csv":
        line = text.line(flat(kb, item, evaluation))
    else:
        from engine.rendering.results_sheet import benefit_cells
        line = flat(kb, item, evaluation)
        prepared.update(result=item["result"], message=item["message"], given=given,
                        sheet=benefit_cells(assessment, output.lang) if assessment is not None else None)
    if output.reports and assessment is not None:
        from engine.rendering.report import report_html
        prepared.update(report=report_html(assessment, output.lang), id=item["id"])
    prepared["line"] = line
    return prepared


_worker_kb: dict = {}
#: Knowledge bases already loaded here, by folder: a worker started by fork finds its own in
#: this copy of the parent's memory instead of reading and checking every YAML file again.
_loaded: dict = {}


def _init_worker(kb_root: str, documents: tuple[str, ...]) -> None:
    kb = _loaded.get((kb_root, documents)) or load(kb_root)
    _worker_kb["kb"] = kb if tuple(kb.documents) == documents else under_documents(kb, list(documents))


def _work(rows: list[Row], as_of, kind: str | Output) -> list[dict]:
    return evaluate_rows(_worker_kb["kb"], rows, as_of, kind)


def chunks(rows: Iterable[Row], size: int | None = None) -> Iterator[list[Row]]:
    size = size or CHUNK
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def evaluate_local(kb: KnowledgeBase, rows: Iterable[Row], as_of, workers: int,
                   kind: str | Output) -> Iterator[list[dict]]:
    """Results chunk by chunk, in input order; at most ``2 × workers`` chunks in flight."""
    if workers <= 1:
        for chunk in chunks(rows):
            yield evaluate_rows(kb, chunk, as_of, kind)
        return
    _loaded[(str(kb.root), tuple(kb.documents))] = kb
    reasoner(kb)  # compiled once here, inherited by workers started by fork
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(str(kb.root), tuple(kb.documents))) as pool:
        pending: deque = deque()
        for chunk in chunks(rows):
            pending.append(pool.submit(_work, chunk, as_of, kind))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# --------------------------------------------------------------------------- writing

#: The columns of a result row that hold text (:func:`columns`); the others, one status and two
#: amounts per benefit, hold only status words and whole numbers.
TEXT_COLUMNS = 7


def columns(kb: KnowledgeBase) -> list[str]:
    cols = ["row", "id", "result", "message", "as_of", "conclusions", "superseded"]
    for benefit in kb.benefits:
        cols += [benefit, f"{benefit}_min", f"{benefit}_max"]
    return cols


def flat(kb: KnowledgeBase, item: dict, result: dict | None) -> list:
    """One output row: the columns of :func:`columns`."""
    if result is None:
        return [item["row"], item["id"], item["result"], item["message"]] + [None] * (3 + 3 * len(kb.benefits))
    amounts = {b["id"]: b["amount"] for b in result["benefits"]}
    superseded = [s["id"] for s in result["superseded"]]
    values = [item["row"], item["id"], "ok", None, result["as_of"], ";".join(result["conclusions"]), ";".join(superseded)]
    for benefit in kb.benefits:
        amount = amounts.get(benefit)
        status = "superseded" if benefit in superseded else result["status"][benefit]
        values += [status, amount["min"] if amount else None, amount["max"] if amount else None]
    return values


class Writer:
    """Writes rows to ``OUTPUT.incomplete`` and renames it to ``OUTPUT`` when finished.

    CSV and JSON Lines get the machine columns (:func:`columns`) or records; ``.xlsx`` gets the
    analyst's workbook (:mod:`engine.rendering.results_sheet`), headed by ``inputs`` (the input's column
    ids) in ``lang``. With ``reports`` (a folder), each evaluated row's HTML report is written
    there and, in ``.xlsx``, linked from its row.
    """

    def __init__(self, path: Path, kb: KnowledgeBase, inputs: list[str] | None = None, lang: str = "zh",
                 reports: Path | None = None, title: str = "policykb batch"):
        self.path, self.kb, self.kind = path, kb, format_of(path)
        self.partial = path.with_name(path.name + ".incomplete")
        self.columns = columns(kb)
        self.rows = 0
        self.reports = reports
        if reports is not None:
            try:
                reports.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ProfileError(f"--reports: cannot make the folder: {exc.strerror}", file=str(reports)) from None
        if self.kind == "xlsx":
            from engine.rendering.results_sheet import ResultsBook
            from engine.rendering.template import columns as template_columns
            self.book = ResultsBook(path, kb, inputs if inputs is not None else template_columns(kb), lang,
                                    self.columns, reports, title)
        else:
            self.handle = self.partial.open("w", encoding="utf-8", newline="")
            if self.kind == "csv":
                self.csv = csv.writer(self.handle, lineterminator="\n")
                self.csv.writerow([csv_cell(c) for c in self.columns])

    def write(self, item: dict) -> None:
        """Write a row prepared by :func:`evaluate_rows` for this file's kind."""
        self.rows += 1
        link = None
        if self.reports is not None and item.get("report") is not None:
            from engine.rendering.results_sheet import relative_link, report_name
            target = self.reports / report_name(item["row"], item.get("id"))
            try:
                target.write_text(item["report"], encoding="utf-8")
            except OSError as exc:
                raise ProfileError(f"--reports: cannot write: {exc.strerror}", file=str(target)) from None
            link = relative_link(target, self.path)
        if self.kind == "xlsx":
            self.book.write(item, link)
        else:
            self.handle.write(item["line"])   # a CSV or JSON line, prepared where it was evaluated

    def finish(self, summary: "Summary | None" = None) -> Path:
        self._close(summary)
        os.replace(self.partial, self.path)
        return self.path

    def abandon(self, reason: str, summary: "Summary | None" = None) -> Path:
        """Mark the partial output as incomplete, with a last row that says so."""
        note = f"incomplete: {reason}; {self.rows} rows written"
        if self.kind == "jsonl":
            self.handle.write(json.dumps({"incomplete": True, "message": note}, ensure_ascii=False) + "\n")
        elif self.kind == "csv":
            self.csv.writerow(["", "", "incomplete", csv_cell(note)] + [""] * (len(self.columns) - 4))
        else:
            self.book.incomplete(note)
        self._close(summary)
        return self.partial

    def _close(self, summary: "Summary | None" = None) -> None:
        if self.kind == "xlsx":
            self.book.save(self.partial, summary if summary is not None else Summary())
        else:
            self.handle.close()


# --------------------------------------------------------------------------- summary and progress

@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    # id -> {"granted", "ceiling_sum", "unfixed", "undetermined", "denied", "superseded"}
    benefits: dict = field(default_factory=dict)

    def add(self, kb: KnowledgeBase, result: dict | None) -> None:
        """Count one row: its evaluation's result (see :func:`engine.inferring.evaluation.screen`), or
        None for a row that could not be evaluated."""
        self.rows += 1
        if result is None:
            self.errors += 1
            return
        superseded = {s["id"] for s in result["superseded"]}
        status, tallies = result["status"], self.benefits
        for benefit in kb.benefits:
            word = status[benefit]
            if word != "granted":   # a superseded benefit is denied here, and counted apart
                tally = tallies.get(benefit) or self._tally(benefit)
                tally["superseded" if benefit in superseded else word] += 1
        for granted in result["benefits"]:
            tally = self._tally(granted["id"])
            tally["granted"] += 1
            if granted["amount"] and granted["amount"]["max"] is not None:
                tally["ceiling_sum"] += granted["amount"]["max"]
            else:
                tally["unfixed"] += 1

    def merge(self, other: "Summary") -> None:
        """Add the rows another summary counted (a chunk's, tallied where it was evaluated)."""
        self.rows += other.rows
        self.errors += other.errors
        for benefit, counts in other.benefits.items():
            tally = self._tally(benefit)
            for key, value in counts.items():
                tally[key] += value

    def _tally(self, benefit: str) -> dict:
        found = self.benefits.get(benefit)
        if found is None:
            found = self.benefits[benefit] = _tally()
        return found

    def ordered(self, kb: KnowledgeBase) -> list[tuple[str, dict]]:
        return [(b, self.benefits.get(b, _tally())) for b in kb.benefits]

    def text(self, kb: KnowledgeBase, lang: str = "zh") -> str:
        """The summary as lines for a terminal, in ``lang``: each benefit by its label, id after."""
        words = SUMMARY_WORDS[lang]
        names = {b: f"{kb.conclusions[b].label(lang)} ({b})" for b in kb.benefits}
        head = words["columns"]
        width = max([_width(n) for n in names.values()] + [_width(head[0])])   # a document may grant none
        widths = [max(_width(h), w) for h, w in zip(head[1:], (11, 12, 20, 17))]
        lines = [self.counts(lang), " ".join([_pad(head[0], width)] + [_rpad(h, w) for h, w in zip(head[1:], widths)])]
        for benefit, tally in self.ordered(kb):
            cells = [f"{tally['granted']:,}", f"{tally['undetermined']:,}", ceiling_text(tally, lang), f"{tally['unfixed']:,}"]
            lines.append(" ".join([_pad(names[benefit], width)] + [_rpad(c, w) for c, w in zip(cells, widths)]))
        return "\n".join(lines) + "\n"

    def counts(self, lang: str = "zh") -> str:
        """Rows read, evaluated and in error, in a sentence in ``lang``."""
        return SUMMARY_WORDS[lang]["counts"].format(rows=self.rows, ok=self.rows - self.errors, errors=self.errors)

    def html(self, kb: KnowledgeBase, title: str, lang: str = "zh") -> str:
        """The summary as a self-contained page with a bar chart, in ``lang``."""
        e = html.escape
        words = SUMMARY_WORDS[lang]
        rows = self.ordered(kb)
        top = max([t["granted"] for _, t in rows] + [1])
        bars = []
        for n, (benefit, tally) in enumerate(rows):
            width = round(480 * tally["granted"] / top)
            y = 10 + n * 28
            # Labels end left of the bars, whose start leaves room for the longest label.
            bars.append(f'<text x="440" y="{y + 15}" text-anchor="end">{e(kb.conclusions[benefit].label(lang))} '
                        f'({e(benefit)})</text>'
                        f'<rect x="450" y="{y}" width="{width}" height="20" fill="#4a8c5a"/>'
                        f'<text x="{456 + width}" y="{y + 15}">{tally["granted"]:,}</text>')
        table = "".join(f"<tr><td>{e(kb.conclusions[b].label(lang))} <code>{b}</code></td><td>{t['granted']:,}</td>"
                        f"<td>{t['undetermined']:,}</td><td>{e(ceiling_text(t, lang))}</td><td>{t['unfixed']:,}</td></tr>"
                        for b, t in rows)
        head = "".join(f"<th>{e(h)}</th>" for h in words["columns"])
        return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
                f'<title>{e(title)}</title><style>'
                'body{font-family:"Noto Sans CJK SC",sans-serif;max-width:64rem;margin:2rem auto}'
                'table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:right}'
                'td:first-child,th:first-child{text-align:left}svg text{font-size:13px}</style></head><body>'
                f"<h1>{e(title)}</h1><p>{e(self.counts(lang))}</p>"
                f'<svg width="1040" height="{20 + 28 * len(rows)}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
                f"<table><tr>{head}</tr>{table}</table></body></html>\n")


#: The summary's words, by language.
SUMMARY_WORDS = {
    "zh": {"counts": "共 {rows:,} 行，已评估 {ok:,} 行，错误 {errors:,} 行",
           "columns": ("支持事项", "给予企业数", "待定", "上限合计", "金额未定"),
           "title": "policykb 批量筛查"},
    "en": {"counts": "{rows:,} rows, {ok:,} evaluated, {errors:,} errors",
           "columns": ("benefit", "enterprises", "undetermined", "sum of ceilings", "amount not fixed"),
           "title": "policykb batch"},
}


def ceiling_text(tally: dict, lang: str) -> str:
    """The sum of a benefit's fixed ceilings as money, or "—" when no granted amount is fixed:
    an amount the text does not fix is never summed as 0元."""
    from engine.loading.values import format_money
    if tally["granted"] - tally["unfixed"] == 0:
        return "—"
    return format_money(tally["ceiling_sum"], lang)


def _tally() -> dict:
    return {"granted": 0, "ceiling_sum": 0, "unfixed": 0, "undetermined": 0, "denied": 0, "superseded": 0}


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _rpad(text: str, width: int) -> str:
    return " " * (width - _width(text)) + text


class Progress:
    """Rows done, rows per second and time left, on one line of a terminal."""

    def __init__(self, stream, total: int | None, enabled: bool):
        self.stream, self.total, self.enabled = stream, total, enabled
        self.started = self.last = time.monotonic()
        self.done = 0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self.last >= 0.2 or self.done == self.total):
            self.last = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        text = f"{self.done:,} rows  {rate:,.0f} rows/s"
        if self.total:
            left = (self.total - self.done) / rate if rate else 0
            text = f"{self.done:,}/{self.total:,} rows  {rate:,.0f} rows/s  {int(left) // 60}m{int(left) % 60:02d}s left"
        return text.ljust(60)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# --------------------------------------------------------------------------- the command

@dataclass
class Outcome:
    path: Path
    summary: Summary
    complete: bool
    reason: str | None = None


def run(kb: KnowledgeBase, source: Path, out: Path, *, workers: int = 1, as_of=None, sheet=None,
        progress_stream=None, quiet: bool = False, engine: str = "local", scheduler: str | None = None,
        encoding: str | None = None, say=None, lang: str = "zh", reports: Path | None = None) -> Outcome:
    """Evaluate every row of ``source`` into ``out`` (see the module docstring). ``encoding``
    and ``say`` are those of :func:`read_rows`; ``lang`` is the language of the results
    workbook and the reports; ``reports`` a folder for each row's HTML report.

    Raises
    ------
    ProfileError
        For an input that cannot be read, an output of an unknown kind, or an output that is
        the input itself (the results would replace what they were read from).
    """
    kind = Output(format_of(out), lang, reports is not None)
    if out.exists() and source.exists() and os.path.samefile(out, source):
        raise ProfileError("--out names the input file: the results would replace it; write them to another file",
                           file=str(out))
    rows = read_rows(source, kb, sheet, encoding, say)
    stream = progress_stream if progress_stream is not None else sys.stderr
    shown = not quiet and stream.isatty()
    progress = Progress(stream, count_rows(source, sheet) if shown else None, enabled=shown)
    if engine == "dask":
        from engine.screening.dask_engine import evaluate_dask
        results = evaluate_dask(kb, rows, as_of, workers, scheduler, kind)
    else:
        results = evaluate_local(kb, rows, as_of, workers, kind)
    try:
        writer = Writer(out, kb, rows.columns, lang, reports, f"policykb batch: {source.name}")
    except OSError as exc:
        raise ProfileError(f"cannot write the output: {exc.strerror}", file=str(out)) from None
    summary = Summary()
    try:
        for chunk in results:
            for item in chunk:
                writer.write(item)
            summary.merge(chunk.summary)
            progress.advance(len(chunk))
    except KeyboardInterrupt:
        progress.close()
        return Outcome(writer.abandon("interrupted", summary), summary, False, "interrupted")
    except BrokenProcessPool:
        progress.close()
        return Outcome(writer.abandon("a worker process died", summary), summary, False, "a worker process died")
    except BaseException as exc:
        progress.close()
        writer.abandon(f"stopped by an error: {type(exc).__name__}: {exc}", summary)
        raise
    progress.close()
    return Outcome(writer.finish(summary), summary, True)
