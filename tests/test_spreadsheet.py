"""Formula injection: text that a spreadsheet would run as a formula stays text (engine/rendering/spreadsheet.py)."""

import csv
import json

import openpyxl
import pytest

from engine.cli import main
from engine.rendering.spreadsheet import csv_cell, xlsx_cell

from conftest import KB_DIR

#: One hostile id per character a spreadsheet reads as the start of a formula.
HOSTILE = {"=": '=HYPERLINK("http://evil","click")', "+": "+1+2", "-": "-2+3", "@": "@SUM(1+1)",
           "tab": "\t=1+2", "cr": "\r=1+2"}


def _input(tmp_path, ident):
    """An input whose id is ``ident`` exactly: JSON Lines, because CSV and Excel cells are
    stripped of blanks as they are read (a leading tab would not reach the output)."""
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": ident, "industry": "ict"}) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("start", sorted(HOSTILE))
def test_a_hostile_id_is_a_string_cell_in_xlsx_output(tmp_path, start):
    ident = HOSTILE[start]
    out = tmp_path / "out.xlsx"
    assert main(["batch", str(_input(tmp_path, ident)), "--out", str(out), "--workers", "1", "--kb", str(KB_DIR),
                 "--reports", str(tmp_path / "reports")]) == 0
    book = openpyxl.load_workbook(out)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    # XML reads a carriage return as a newline (for every text cell, not only these): the
    # text after it is kept exactly.
    expected = ident.replace("\r", "\n")
    # The analyst's sheet: the input's id column (after the row number), under three header rows.
    results = book.worksheets[0]
    assert results.cell(row=3, column=2).value == "id"
    written = results.cell(row=4, column=2)
    assert written.data_type == "s" and written.value == expected
    # The machine columns, as in CSV.
    machine = book["data"].cell(row=2, column=2)
    assert machine.data_type == "s" and machine.value == expected
    # The report's file name keeps no character that could leave the folder.
    assert [p.parent for p in (tmp_path / "reports").iterdir()] == [tmp_path / "reports"]


@pytest.mark.parametrize("start", sorted(HOSTILE))
def test_a_hostile_id_is_quoted_as_text_in_csv_output(tmp_path, start):
    ident = HOSTILE[start]
    out = tmp_path / "out.csv"
    assert main(["batch", str(_input(tmp_path, ident)), "--out", str(out), "--workers", "1", "--kb", str(KB_DIR)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["id"] == "'" + ident


def test_a_hostile_value_in_an_error_message_is_neutralised_too(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,industry\n=1+2,=cmd\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--kb", str(KB_DIR)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["id"] == "'=1+2" and row["result"] == "error" and "'=cmd'" in row["message"]
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())


def test_plain_text_numbers_and_empty_cells_are_left_as_they_are():
    assert [csv_cell(v) for v in ("E1", "企业", 5, None, "", "a=b")] == ["E1", "企业", 5, None, "", "a=b"]
    sheet = openpyxl.Workbook(write_only=True).create_sheet("s")
    assert [xlsx_cell(sheet, v) for v in ("E1", 5, None)] == ["E1", 5, None]
    assert xlsx_cell(sheet, "=1").data_type == "s"
