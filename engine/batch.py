"""Screening many enterprises: ``policykb batch``.

Rows are read one at a time from CSV, JSON Lines or Excel (:func:`read_rows`), evaluated in
chunks — in this process, in worker processes (``--workers``), or on Dask (:mod:`engine.dask_engine`)
— and written in input order as CSV, JSON Lines or Excel (:class:`Writer`), so memory does not
grow with the input. Nothing is lost: a row that cannot be read or evaluated is an output row
with its error, and the batch goes on. Output goes to ``OUTPUT.incomplete`` and is renamed to
``OUTPUT`` only when every row is written; an interrupted run leaves the ``.incomplete`` file,
ending with a row that says so, never a silently short ``OUTPUT``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import PolicyKBError, ProfileError, nearest
from .kb import KnowledgeBase, load

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
CHUNK = 250
ID_COLUMNS = ("id", "row_id")


def format_of(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ProfileError(f"'{path.name}' is not a batch file: use .csv, .jsonl or .xlsx", file=str(path))
    return kind


# --------------------------------------------------------------------------- reading

@dataclass
class Row:
    number: int                   # 1-based, in input order
    ident: str | None
    data: dict | None
    error: str | None = None
    cells: dict | None = None     # a spreadsheet row as read, converted where it is evaluated


def read_rows(path: Path, kb: KnowledgeBase, sheet: str | None = None) -> Iterator[Row]:
    """The rows of a batch file, one at a time. The header is read and checked at once, so a
    bad header stops the batch before anything is written."""
    kind = format_of(path)
    if not path.is_file():
        raise ProfileError("no such file", file=str(path))
    if kind == "csv":
        return _csv_rows(path, kb)
    if kind == "jsonl":
        return _jsonl_rows(path)
    return _xlsx_rows(path, kb, sheet)


def count_rows(path: Path, sheet: str | None = None) -> int | None:
    """How many rows a file has (for the progress bar's time left), when cheap to know."""
    kind = format_of(path)
    if kind == "xlsx":
        return None
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(lines - 1, 0) if kind == "csv" else lines


def _check_header(header: list, kb: KnowledgeBase, path: Path) -> None:
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise ProfileError(f"column '{column}' appears twice", file=str(path), line=1)
        seen.add(column)
        if column in ID_COLUMNS or column in kb.facts:
            continue
        raise ProfileError(f"column '{column}' is not a fact", file=str(path), line=1,
                           suggestion=nearest(str(column), list(kb.facts) + list(ID_COLUMNS)))


def _cell(kb: KnowledgeBase, name: str, value):
    """A spreadsheet cell as the profile reader takes it: lists as ``a;b``, records as JSON."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    fact = kb.facts[name]
    if isinstance(value, str):
        value = value.strip()
        if fact.type == "list":
            return [item.strip() for item in value.split(";") if item.strip()]
        if fact.type == "records":
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ProfileError(f"{name}: not valid JSON ({exc.msg})") from None
            except (ValueError, RecursionError) as exc:
                raise ProfileError(f"{name}: not usable JSON ({exc})") from None
    if isinstance(value, _dt.datetime):
        return value.date()
    return value


def _profile(kb: KnowledgeBase, number: int, values: dict) -> Row:
    ident = next((str(values[c]).strip() for c in ID_COLUMNS if values.get(c) not in (None, "")), None)
    try:
        data = {name: _cell(kb, name, value) for name, value in values.items() if name not in ID_COLUMNS}
    except ProfileError as exc:
        return Row(number, ident or values.get("name"), None, exc.message)
    return Row(number, ident or data.get("name"), {k: v for k, v in data.items() if v is not None})


def _csv_rows(path: Path, kb: KnowledgeBase) -> Iterator[Row]:
    # Bytes that are not UTF-8 are kept as surrogates, so one bad row is an error row and the
    # reading goes on (a decoding error of the file object would end it silently).
    handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(handle)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        return iter(())
    except csv.Error as exc:
        handle.close()
        raise ProfileError(f"cannot read the header: {exc}", file=str(path), line=1) from None
    try:
        "".join(header).encode("utf-8")
        _check_header(header, kb, path)
    except UnicodeEncodeError:
        handle.close()
        raise ProfileError("the header is not UTF-8 text; save the file as UTF-8", file=str(path), line=1) from None
    except ProfileError:
        handle.close()
        raise
    return _csv_body(handle, reader, header, kb)


def _csv_body(handle, reader, header: list[str], kb: KnowledgeBase) -> Iterator[Row]:
    try:
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield Row(number, None, None, f"line {reader.line_num}: cannot read the row: {exc}")
                continue
            if not any(cell.strip() for cell in cells):
                continue
            number += 1
            try:
                "".join(cells).encode("utf-8")
            except UnicodeEncodeError:
                yield Row(number, None, None, f"line {reader.line_num}: not UTF-8 text; save the file as UTF-8")
                continue
            if len(cells) != len(header):
                yield Row(number, None, None, f"line {reader.line_num}: {len(cells)} cells for {len(header)} columns")
                continue
            yield Row(number, None, None, cells=dict(zip(header, cells)))
    finally:
        handle.close()


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        number = 0
        for line_number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            number += 1
            try:
                data = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield Row(number, None, None, f"line {line_number}: not UTF-8 text")
                continue
            except json.JSONDecodeError as exc:
                yield Row(number, None, None, f"line {line_number}: not JSON ({exc.msg} at column {exc.colno})")
                continue
            except (ValueError, RecursionError) as exc:
                yield Row(number, None, None, f"line {line_number}: not usable JSON ({exc})")
                continue
            if not isinstance(data, dict):
                yield Row(number, None, None, f"line {line_number}: a row is a JSON object of facts")
                continue
            ident = next((str(data.pop(c)) for c in ID_COLUMNS if data.get(c) not in (None, "")), None)
            for column in ID_COLUMNS:
                data.pop(column, None)
            yield Row(number, ident or data.get("name"), data)


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
        header = next(rows, None)
        if header is None:
            book.close()
            return iter(())
        header = [str(h).strip() if h is not None else "" for h in header]
        while header and not header[-1]:
            header.pop()
        _check_header(header, kb, path)
    except BaseException:
        book.close()
        raise
    return _xlsx_body(book, rows, header)


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


# --------------------------------------------------------------------------- evaluating

def evaluate_rows(kb: KnowledgeBase, rows: list[Row], as_of, kind: str) -> list[dict]:
    """Evaluate rows and prepare their output for a ``kind`` file (``csv``, ``jsonl``,
    ``xlsx``), so that the process writing the file only writes. A row that fails is a row
    with its error, never an exception."""
    from .evaluation import evaluate
    out = []
    for row in rows:
        if row.cells is not None:
            row = _profile(kb, row.number, row.cells)
        item = {"row": row.number, "id": row.ident, "result": "error", "message": row.error}
        evaluation = None
        if row.error is None:
            try:
                evaluation = evaluate(row.data, as_of=as_of, kb=kb)
                item["result"] = "ok"
            except PolicyKBError as exc:
                item["message"] = str(exc)
            except Exception as exc:  # an internal error of one row must not stop the batch
                item["message"] = f"internal error: {type(exc).__name__}: {exc}"
        out.append(_prepared(kb, item, evaluation, kind))
    return out


def _prepared(kb: KnowledgeBase, item: dict, evaluation: dict | None, kind: str) -> dict:
    if kind == "jsonl":
        record = dict(item)
        if evaluation is not None:
            record["evaluation"] = evaluation
        line = json.dumps(record, ensure_ascii=False) + "\n"
    else:
        line = flat(kb, item, evaluation)
    granted = [(b["id"], b["amount"]["max"] if b["amount"] else None) for b in evaluation["benefits"]] \
        if evaluation is not None else None
    return {"row": item["row"], "line": line, "granted": granted}


_worker_kb: dict = {}


def _init_worker(kb_root: str) -> None:
    _worker_kb["kb"] = load(kb_root)


def _work(rows: list[Row], as_of, kind: str) -> list[dict]:
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


def evaluate_local(kb: KnowledgeBase, rows: Iterable[Row], as_of, workers: int, kind: str) -> Iterator[list[dict]]:
    """Results chunk by chunk, in input order; at most ``2 × workers`` chunks in flight."""
    if workers <= 1:
        for chunk in chunks(rows):
            yield evaluate_rows(kb, chunk, as_of, kind)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(str(kb.root),)) as pool:
        pending: deque = deque()
        for chunk in chunks(rows):
            pending.append(pool.submit(_work, chunk, as_of, kind))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# --------------------------------------------------------------------------- writing

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
    """Writes rows to ``OUTPUT.incomplete`` and renames it to ``OUTPUT`` when finished."""

    def __init__(self, path: Path, kb: KnowledgeBase):
        self.path, self.kb, self.kind = path, kb, format_of(path)
        self.partial = path.with_name(path.name + ".incomplete")
        self.columns = columns(kb)
        self.rows = 0
        if self.kind == "xlsx":
            import openpyxl
            self.book = openpyxl.Workbook(write_only=True)
            self.sheet = self.book.create_sheet("policykb")
            self.sheet.append(self.columns)
        else:
            self.handle = self.partial.open("w", encoding="utf-8", newline="")
            if self.kind == "csv":
                self.csv = csv.writer(self.handle, lineterminator="\n")
                self.csv.writerow(self.columns)

    def write(self, item: dict) -> None:
        """Write a row prepared by :func:`evaluate_rows` for this file's kind."""
        self.rows += 1
        if self.kind == "jsonl":
            self.handle.write(item["line"])
        elif self.kind == "csv":
            self.csv.writerow(["" if v is None else v for v in item["line"]])
        else:
            self.sheet.append(item["line"])

    def finish(self) -> Path:
        self._close()
        os.replace(self.partial, self.path)
        return self.path

    def abandon(self, reason: str) -> Path:
        """Mark the partial output as incomplete, with a last row that says so."""
        note = f"incomplete: {reason}; {self.rows} rows written"
        if self.kind == "jsonl":
            self.handle.write(json.dumps({"incomplete": True, "message": note}, ensure_ascii=False) + "\n")
        elif self.kind == "csv":
            self.csv.writerow(["", "", "incomplete", note] + [""] * (len(self.columns) - 4))
        else:
            self.sheet.append([None, None, "incomplete", note])
        self._close()
        return self.partial

    def _close(self) -> None:
        if self.kind == "xlsx":
            self.book.save(self.partial)
        else:
            self.handle.close()


# --------------------------------------------------------------------------- summary and progress

@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    benefits: dict = field(default_factory=dict)   # id -> {"granted", "ceiling_sum", "unfixed"}

    def add(self, kb: KnowledgeBase, item: dict) -> None:
        self.rows += 1
        if item["granted"] is None:
            self.errors += 1
            return
        for benefit, ceiling in item["granted"]:
            tally = self.benefits.setdefault(benefit, {"granted": 0, "ceiling_sum": 0, "unfixed": 0})
            tally["granted"] += 1
            if ceiling is not None:
                tally["ceiling_sum"] += ceiling
            else:
                tally["unfixed"] += 1

    def ordered(self, kb: KnowledgeBase) -> list[tuple[str, dict]]:
        return [(b, self.benefits.get(b, {"granted": 0, "ceiling_sum": 0, "unfixed": 0})) for b in kb.benefits]

    def text(self, kb: KnowledgeBase) -> str:
        from .values import format_money
        lines = [f"{self.rows:,} rows, {self.rows - self.errors:,} evaluated, {self.errors:,} errors",
                 f"{'benefit':<30} {'enterprises':>11} {'sum of ceilings':>20} {'amount not fixed':>17}"]
        for benefit, tally in self.ordered(kb):
            lines.append(f"{benefit:<30} {tally['granted']:>11,} {format_money(tally['ceiling_sum'], 'zh'):>20} "
                         f"{tally['unfixed']:>17,}")
        return "\n".join(lines) + "\n"

    def html(self, kb: KnowledgeBase, title: str) -> str:
        from .values import format_money
        e = html.escape
        rows = self.ordered(kb)
        top = max([t["granted"] for _, t in rows] + [1])
        bars = []
        for n, (benefit, tally) in enumerate(rows):
            width = round(600 * tally["granted"] / top)
            y = 10 + n * 28
            bars.append(f'<text x="0" y="{y + 15}">{e(kb.conclusions[benefit].zh)}</text>'
                        f'<rect x="230" y="{y}" width="{width}" height="20" fill="#4a8c5a"/>'
                        f'<text x="{236 + width}" y="{y + 15}">{tally["granted"]:,}</text>')
        table = "".join(f"<tr><td>{e(kb.conclusions[b].zh)} <code>{b}</code></td><td>{t['granted']:,}</td>"
                        f"<td>{e(format_money(t['ceiling_sum'], 'zh'))}</td><td>{t['unfixed']:,}</td></tr>" for b, t in rows)
        return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title><style>'
                'body{font-family:"Noto Sans CJK SC",sans-serif;max-width:60rem;margin:2rem auto}'
                'table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:right}'
                'td:first-child{text-align:left}svg text{font-size:13px}</style></head><body>'
                f"<h1>{e(title)}</h1><p>{self.rows:,} rows, {self.rows - self.errors:,} evaluated, {self.errors:,} errors</p>"
                f'<svg width="900" height="{20 + 28 * len(rows)}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
                "<table><tr><th>benefit</th><th>enterprises</th><th>sum of ceilings</th><th>amount not fixed</th></tr>"
                f"{table}</table></body></html>\n")


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
        progress_stream=None, quiet: bool = False, engine: str = "local", scheduler: str | None = None) -> Outcome:
    """Evaluate every row of ``source`` into ``out`` (see the module docstring)."""
    kind = format_of(out)
    rows = read_rows(source, kb, sheet)
    stream = progress_stream if progress_stream is not None else sys.stderr
    shown = not quiet and stream.isatty()
    progress = Progress(stream, count_rows(source, sheet) if shown else None, enabled=shown)
    if engine == "dask":
        from .dask_engine import evaluate_dask
        results = evaluate_dask(kb, rows, as_of, workers, scheduler, kind)
    else:
        results = evaluate_local(kb, rows, as_of, workers, kind)
    try:
        writer = Writer(out, kb)
    except OSError as exc:
        raise ProfileError(f"cannot write the output: {exc.strerror}", file=str(out)) from None
    summary = Summary()
    try:
        for chunk in results:
            for item in chunk:
                writer.write(item)
                summary.add(kb, item)
            progress.advance(len(chunk))
    except KeyboardInterrupt:
        progress.close()
        return Outcome(writer.abandon("interrupted"), summary, False, "interrupted")
    except BrokenProcessPool:
        progress.close()
        return Outcome(writer.abandon("a worker process died"), summary, False, "a worker process died")
    except BaseException as exc:
        progress.close()
        writer.abandon(f"stopped by an error: {type(exc).__name__}: {exc}")
        raise
    progress.close()
    return Outcome(writer.finish(), summary, True)
