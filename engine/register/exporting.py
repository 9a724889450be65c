"""Export of a register: every case and every record, as JSON Lines, CSV or XLSX.

- JSON Lines: one object a line, ``{"kind": "case", …}`` then ``{"kind": "record", …}``, each with
  every field (profiles and results as objects, erased ones as null);
- CSV: one table, a row per case then a row per record, a ``kind`` column first; profiles and
  results as their canonical JSON text;
- XLSX: a sheet ``cases`` and a sheet ``records``; a profile or result longer than a cell may hold
  (32,767 characters) says so and points to the JSON Lines export.

Text cells go through :func:`engine.rendering.spreadsheet.csv_cell` / ``xlsx_cell``: a name or a
note beginning ``=`` is shown as text, never run as a formula.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from engine.errors import write_problem
from engine.register.canonical import canonical_json
from engine.register.data import Case, Record
from engine.register.errors import RegisterError
from engine.rendering.spreadsheet import csv_cell, save_workbook, xlsx_cell

KINDS = {".jsonl": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}

CASE_COLUMNS = ["id", "name", "notes", "version", "created_at", "updated_at", "created_by", "erased", "profile"]
RECORD_COLUMNS = ["seq", "case_id", "recorded_at", "recorded_by", "note", "as_of", "kb_hash", "kb_version",
                  "policykb_version", "durable_rules_version", "profile_sha256", "result_sha256", "prev_hash",
                  "record_hash", "reviewed_by", "profile", "result"]
#: The CSV's columns: a case's, then a record's that a case lacks.
CSV_COLUMNS = ["kind"] + CASE_COLUMNS + [c for c in RECORD_COLUMNS if c not in CASE_COLUMNS]

#: The most characters an Excel cell holds.
XLSX_CELL = 32767


def export(cases: list[Case], records: list[Record], path, kind: str | None = None) -> int:
    """Write ``cases`` and ``records`` to ``path``; returns the number of rows (cases + records).

    Raises
    ------
    RegisterError
        For a kind other than jsonl, csv, xlsx, or a file that cannot be written (nothing is left
        half-written: the file appears whole or not at all).
    """
    path = Path(path)
    kind = (kind or KINDS.get(path.suffix.lower(), "")).lower().lstrip(".")
    if kind not in KINDS.values():
        raise RegisterError(f"cannot export to {path.name}: write a .jsonl, .csv or .xlsx file (or give the kind)",
                            zh=f"无法导出为 {path.name}：请写 .jsonl、.csv 或 .xlsx 文件（或指明格式）")
    case_rows = [dict(case.to_dict(), kind="case") for case in cases]
    record_rows = [dict(record.to_dict(), kind="record") for record in records]
    partial = path.with_name(f".{path.name}.partial")
    try:
        if kind == "jsonl":
            with open(partial, "w", encoding="utf-8", newline="\n") as out:
                for row in case_rows + record_rows:
                    out.write(json.dumps(_first(row), ensure_ascii=False) + "\n")
        elif kind == "csv":
            with open(partial, "w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(CSV_COLUMNS)
                for row in case_rows + record_rows:
                    writer.writerow([csv_cell(_text(row.get(column))) for column in CSV_COLUMNS])
        else:
            _xlsx(case_rows, record_rows, partial)
        os.replace(partial, path)
    except OSError as exc:
        problem = write_problem(path, exc)
        raise RegisterError(problem.message, zh=problem.zh) from None
    finally:
        if partial.exists():
            partial.unlink()
    return len(case_rows) + len(record_rows)


def _first(row: dict) -> dict:
    return {"kind": row["kind"], **{k: v for k, v in row.items() if k != "kind"}}


def _text(value):
    """A cell's value: JSON text for a profile or result, "" for None, else as it is."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return canonical_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _xlsx(case_rows: list[dict], record_rows: list[dict], path: Path) -> None:
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    for title, columns, rows in (("cases", CASE_COLUMNS, case_rows), ("records", RECORD_COLUMNS, record_rows)):
        sheet = book.create_sheet(title)
        sheet.append(columns)
        for row in rows:
            cells = []
            for column in columns:
                value = _text(row.get(column))
                if isinstance(value, str) and len(value) > XLSX_CELL:
                    value = f"({len(value)} characters, more than a cell holds: see the JSON Lines export)"
                cells.append(xlsx_cell(sheet, value))
            sheet.append(cells)
    save_workbook(book, path)
