"""``policykb cases``: the case register on the command line, on SQLite and on PostgreSQL
(engine/cli/cases.py; the register itself is tested in test_register.py)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from engine.cli import main
from engine.register.schema import register_url
from test_register import where  # noqa: F401 — the register's location on each back end

KB = Path(__file__).resolve().parents[1] / "kb"
EXAMPLES = sorted((KB / "examples").glob("*.yaml"))


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *argv):
    code, out, err = _run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_add_record_show_list_and_verify(capsys, where):
    added = [_json(capsys, "cases", "add", str(path), "--register", where, "--by", "analyst-1") for path in EXAMPLES[:3]]
    names = [yaml.safe_load(p.read_text(encoding="utf-8")).get("name") for p in EXAMPLES[:3]]
    assert [a["name"] for a in added] == names and [a["version"] for a in added] == [1, 1, 1]
    listed = _json(capsys, "cases", "list", "--register", where)
    assert sorted(c["id"] for c in listed) == sorted(a["id"] for a in added)
    record = _json(capsys, "cases", "record", str(added[0]["id"]), "--register", where, "--note", "首次评估",
                   "--by", "analyst-1")
    assert record["case_id"] == added[0]["id"] and record["note"] == "首次评估" and record["recorded_by"] == "analyst-1"
    assert record["result"]["status"], "the record holds the whole result"
    shown = _json(capsys, "cases", "show", str(added[0]["id"]), "--register", where)
    assert [r["seq"] for r in shown["records"]] == [record["seq"]] and shown["case"]["profile"]["name"] == names[0]
    code, out, _ = _run(capsys, "cases", "verify", "--register", where, "--lang", "en")
    assert code == 0 and "intact: 1 records" in out
    # Filters: by name, and by the status of a benefit in the latest decision.
    granted = [b for b, s in record["result"]["status"].items() if s == "granted"]
    if granted:
        found = _json(capsys, "cases", "list", "--register", where, "--benefit", granted[0], "--status", "granted")
        assert [c["id"] for c in found] == [added[0]["id"]]
    if names[1]:
        found = _json(capsys, "cases", "list", "--register", where, "--search", names[1][1:4])
        assert added[1]["id"] in [c["id"] for c in found]


def test_an_edit_on_a_stale_version_is_refused_with_one_line(capsys, where, tmp_path):
    case = _json(capsys, "cases", "add", str(EXAMPLES[0]), "--register", where)
    changed = yaml.safe_load(EXAMPLES[0].read_text(encoding="utf-8"))
    changed["name"] = "改名后的公司"
    edited_file = tmp_path / "edited.yaml"
    edited_file.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    edited = _json(capsys, "cases", "edit", str(case["id"]), str(edited_file), "--register", where, "--version", "1")
    assert edited["version"] == 2
    code, out, err = _run(capsys, "cases", "edit", str(case["id"]), str(edited_file), "--register", where,
                          "--version", "1")
    assert code == 2 and err.count("\n") == 1 and err.startswith("policykb: error:") and "Traceback" not in err
    shown = _json(capsys, "cases", "show", str(case["id"]), "--register", where)
    assert [e["version"] for e in shown["edits"]] == [1, 2]          # every version kept


def test_import_saves_every_readable_row_and_says_which_were_not(capsys, where, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text("id,name,industry\n1,甲公司,ict\n2,乙公司,not-an-industry\n3,丙公司,ict\n", encoding="utf-8")
    imported = _json(capsys, "cases", "import", str(source), "--register", where)
    assert len(imported["added"]) == 2 and [s["row"] for s in imported["skipped"]] == [2]
    assert {c["name"] for c in _json(capsys, "cases", "list", "--register", where)} == {"甲公司", "丙公司"}


def test_erase_asks_for_yes_then_removes_the_data_and_the_chain_still_verifies(capsys, where):
    case = _json(capsys, "cases", "add", str(EXAMPLES[0]), "--register", where)
    _json(capsys, "cases", "record", str(case["id"]), "--register", where)
    code, _, err = _run(capsys, "cases", "erase", str(case["id"]), "--register", where)
    assert code == 2 and "--yes" in err
    _json(capsys, "cases", "erase", str(case["id"]), "--register", where, "--yes", "--reason", "企业申请删除")
    assert _json(capsys, "cases", "list", "--register", where) == []
    shown = _json(capsys, "cases", "show", str(case["id"]), "--register", where)
    assert shown["case"]["erased"] and shown["case"]["name"] is None and shown["case"]["profile"] is None
    assert _run(capsys, "cases", "verify", "--register", where)[0] == 0


def test_verify_names_an_altered_record_and_exits_1(capsys, where):
    case = _json(capsys, "cases", "add", str(EXAMPLES[0]), "--register", where)
    for _ in range(3):
        _json(capsys, "cases", "record", str(case["id"]), "--register", where)
    engine = sa.create_engine(register_url(where))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE records SET note = 'changed' WHERE seq = 2"))
    engine.dispose()
    code, out, _ = _run(capsys, "cases", "verify", "--register", where, "--lang", "en")
    assert code == 1 and "record 2" in out


def test_export_is_formula_safe(capsys, where, tmp_path):
    source = tmp_path / "risky.yaml"
    source.write_text('name: "=HYPERLINK(\\"http://evil.example\\", \\"x\\")"\nindustry: ict\n', encoding="utf-8")
    _json(capsys, "cases", "add", str(source), "--register", where)
    out = tmp_path / "cases.xlsx"
    _json(capsys, "cases", "export", "--out", str(out), "--register", where)
    book = openpyxl.load_workbook(out)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any("HYPERLINK" in str(c.value) for c in cells)
    assert all(c.data_type != "f" for c in cells)


def test_a_register_that_cannot_be_made_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = _run(capsys, "cases", "list", "--register", str(blocker / "r.sqlite3"))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_an_unknown_case_names_the_nearest(capsys, where):
    _json(capsys, "cases", "add", str(EXAMPLES[0]), "--register", where)
    name = yaml.safe_load(EXAMPLES[0].read_text(encoding="utf-8"))["name"]
    code, _, err = _run(capsys, "cases", "show", name[:-1] + "X", "--register", where, "--lang", "en")
    assert code == 2 and name in err


def test_replay_under_the_same_knowledge_base_changes_nothing_and_writes_its_reports(capsys, where, tmp_path):
    for path in EXAMPLES[:3]:
        case = _json(capsys, "cases", "add", str(path), "--register", where)
        _json(capsys, "cases", "record", str(case["id"]), "--register", where)
    before = _json(capsys, "cases", "show", "1", "--register", where)["records"]
    report = _json(capsys, "cases", "replay", "--kb", str(KB), "--register", where, "--workers", "2",
                   "--out", str(tmp_path / "replay.html"))
    assert report["groups"] == [] and report["cases"] == [] and report["unchanged"]
    assert "<html" in (tmp_path / "replay.html").read_text(encoding="utf-8").lower()
    code, out, _ = _run(capsys, "cases", "replay", "--kb", str(KB), "--register", where, "--out",
                        str(tmp_path / "replay.xlsx"))
    assert code == 0 and out.strip() and (tmp_path / "replay.xlsx").stat().st_size > 0
    assert _json(capsys, "cases", "show", "1", "--register", where)["records"] == before   # records untouched
    code, _, err = _run(capsys, "cases", "replay", "--kb", str(KB), "--register", where, "--out", "x.pdf")
    assert code == 2 and ".html" in err and ".xlsx" in err and "x.pdf" not in [p.name for p in tmp_path.iterdir()]
