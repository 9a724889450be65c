"""Replay (engine/register/replay.py, issue 22 item 4): saved cases re-evaluated under an edited
knowledge base, on SQLite and on a real PostgreSQL server (``$POLICYKB_TEST_POSTGRES_URL``;
``bash .ci/run`` starts a throw-away one), without touching the records.

What changes is computed here independently, by evaluating both sides directly; the ids of the
edited rules are read from the loaded knowledge bases, not written here.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

import engine
from conftest import KB_DIR, edited_kb
from engine.register import open_register
from engine.register.replay import kb_changes, replay
from test_register import where  # noqa: F401 — the register's location on each back end

PROFILES = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted((KB_DIR / "examples").iterdir()) if path.suffix in (".yaml", ".json")}

SETTLING = "documents/digital_economy_measures/rules/article_13_1_settling.yaml"
GROWTH = "documents/industry_development_measures_2022/rules/article_02_growth.yaml"
THRESHOLD = ("{fact: paid_in_capital, at_least: 1亿元}", "{fact: paid_in_capital, at_least: 3亿元}")
AMOUNT = ("range: {min: 150万元, max: 600万元}", "range: {min: 150万元, max: 900万元}")
DROPPED = "  - id: office_purchase_rent_subsidy.rented_office\n"


# --------------------------------------------------------------------------- the back ends

@pytest.fixture
def register(where):
    with open_register(where) as opened:
        yield opened


# --------------------------------------------------------------------------- the knowledge bases

@pytest.fixture(scope="module")
def old():
    return engine.load(KB_DIR)


@pytest.fixture(scope="module")
def new_folder(tmp_path_factory):
    """The bundled kb with a rule's threshold raised, another rule's amount raised, and one of a
    conclusion's two rules (of another document) dropped."""
    folder = edited_kb(tmp_path_factory.mktemp("edited"), SETTLING, *THRESHOLD)
    _replace(folder / SETTLING, *AMOUNT)
    path = folder / GROWTH
    text = path.read_text(encoding="utf-8")
    start = text.index(DROPPED)
    end = text.find("\n  - id: ", start + 1)
    path.write_text(text[:start] + (text[end + 1:] if end >= 0 else ""), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def new(new_folder):
    return engine.load(new_folder)


def _replace(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _rule_at(kb, file: str, text: str) -> str:
    """The id of the rule of ``kb`` whose YAML block in ``file`` holds ``text``."""
    path = kb.root / file
    line = path.read_text(encoding="utf-8")[:path.read_text(encoding="utf-8").index(text)].count("\n") + 1
    here = [r for r in kb.rules.values() if r.where.file and os.path.samefile(r.where.file, path)
            and r.where.line <= line]
    return max(here, key=lambda r: r.where.line).id


def _view(result: dict) -> dict:
    return {"status": result["status"], "amounts": {b["id"]: b["amount"] for b in result["benefits"]},
            "missing": sorted(result["missing"]), "next": result["next_fact"],
            "superseded": {s["id"]: s["by"] for s in result["superseded"]}, "conclusions": sorted(result["conclusions"])}


def _changed_ids(before: dict, after: dict) -> set[str]:
    """The conclusions and benefits whose status or amount (or next question) differ."""
    a, b = _view(before), _view(after)
    ids = {i for i in set(a["status"]) | set(b["status"]) if a["status"].get(i) != b["status"].get(i)}
    ids |= {i for i in set(a["amounts"]) | set(b["amounts"]) if a["amounts"].get(i) != b["amounts"].get(i)}
    return ids | {i for i in set(a["next"]) | set(b["next"]) if a["next"].get(i) != b["next"].get(i)}


def _save(register, old, names=None) -> dict[int, str]:
    """Every example profile as a case, with a decision recorded under ``old``."""
    saved = {}
    for stem, profile in PROFILES.items():
        case = register.add_case((names or {}).get(stem, stem), profile)
        register.record_evaluation(case.id, old, by="ann", note="first decision")
        saved[case.id] = stem
    return saved


def _snapshot(register) -> tuple:
    return ([c.to_dict() for c in register.cases(include_erased=True)], [r.to_dict() for r in register.records()])


# --------------------------------------------------------------------------- the tests

def test_replay_reports_exactly_the_cases_the_edit_changes_grouped_by_the_edited_rule(register, old, new):
    saved = _save(register, old)
    before = _snapshot(register)
    report = replay(register, new, old_kb=old)

    expected: dict[int, set[str]] = {}
    for case_id, stem in saved.items():
        then = engine.evaluate(PROFILES[stem], kb=old)
        now = engine.evaluate(PROFILES[stem], kb=new, as_of=then["as_of"])
        if _view(then) != _view(now):
            expected[case_id] = _changed_ids(then, now)
    assert expected, "the edit changes no example: the test would prove nothing"
    assert {e["case_id"] for e in report.cases} == set(expected)
    assert sorted(report.unchanged) == sorted(set(saved) - set(expected))
    assert report.replayed == len(saved) and not report.skipped
    for entry in report.cases:
        reported = {c["id"] for c in entry["changes"] if "id" in c}
        assert reported <= expected[entry["case_id"]] | {c["id"] for c in entry["changes"] if c["what"] == "conclusion"}
        assert all(c["because"] for c in entry["changes"])

    threshold, amount = _rule_at(old, SETTLING, THRESHOLD[0]), _rule_at(old, SETTLING, AMOUNT[0])
    dropped = (set(old.rules) - set(new.rules)).pop()
    assert {c["key"] for c in report.kb_changes} >= {f"rule:{threshold}", f"rule:{amount}", f"rule:{dropped}"}
    assert {c["key"]: c["change"] for c in report.kb_changes}[f"rule:{dropped}"] == "removed"
    groups = {g["key"]: g for g in report.groups}
    for rule in (threshold, amount, dropped):
        benefit = old.rules[rule].then
        affected = {cid for cid, ids in expected.items() if benefit in ids}
        if affected:   # the cases whose benefit of that rule changes, and no other
            assert {c["case_id"] for c in groups[f"rule:{rule}"]["cases"]} == affected
            for case in groups[f"rule:{rule}"]["cases"]:
                assert {item.get("id") for item in case["changes"]} == {benefit}
        else:
            assert f"rule:{rule}" not in groups
    assert any(f"rule:{r}" in groups for r in (threshold, amount, dropped))

    assert _snapshot(register) == before
    assert register.verify().ok and register.verify().checked == len(saved)

    text = report.text("zh")
    label = old.conclusions[old.rules[threshold].then].zh
    if f"rule:{threshold}" in groups:
        assert f"{label}（{old.rules[threshold].then}）" in text and threshold in text
    json.dumps(report.to_dict(), ensure_ascii=False)


def test_workers_give_the_same_report(register, old, new, tmp_path):
    _save(register, old)
    one, two = replay(register, new, old_kb=old), replay(register, new, old_kb=old, workers=2)
    assert json.dumps(one.to_dict(), sort_keys=True) == json.dumps(two.to_dict(), sort_keys=True)
    assert one.html("en") == two.html("en") and one.text("zh") == two.text("zh")
    one.write_xlsx(tmp_path / "one.xlsx", "zh")
    two.write_xlsx(tmp_path / "two.xlsx", "zh")
    assert (tmp_path / "one.xlsx").read_bytes() == (tmp_path / "two.xlsx").read_bytes()


def test_dask_gives_the_same_report(register, old, new):
    pytest.importorskip("dask.distributed")
    _save(register, old)
    here = replay(register, new, old_kb=old)
    on_dask = replay(register, new, old_kb=old, engine="dask", workers=2)
    assert json.dumps(here.to_dict(), sort_keys=True) == json.dumps(on_dask.to_dict(), sort_keys=True)
    assert on_dask.replayed == here.replayed > 0 and on_dask.cases


def test_the_page_escapes_and_the_workbook_neutralises_case_names(register, old, new, tmp_path):
    script, formula = "<script>alert(1)</script>", '=HYPERLINK("http://example.com","click")'
    stems = [s for s in PROFILES if _view(engine.evaluate(PROFILES[s], kb=old))
             != _view(engine.evaluate(PROFILES[s], kb=new, as_of=engine.evaluate(PROFILES[s], kb=old)["as_of"]))]
    _save(register, old, names={stems[0]: script, stems[-1]: formula})
    report = replay(register, new, old_kb=old)
    assert {script, formula} <= {e["name"] for e in report.cases}
    for lang in ("zh", "en"):
        page = report.html(lang)
        assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)   # nothing loaded from elsewhere
    from openpyxl import load_workbook
    report.write_xlsx(tmp_path / "replay.xlsx", "en")
    cells = [cell for sheet in load_workbook(tmp_path / "replay.xlsx") for row in sheet.iter_rows() for cell in row
             if cell.value == formula]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_no_change_is_an_empty_report_that_says_so(register, old):
    saved = _save(register, old)
    report = replay(register, old)
    assert report.empty and not report.groups and sorted(report.unchanged) == sorted(saved)
    assert "没有案件的结果发生变化" in report.text("zh") and "No case's outcome changes." in report.text("en")
    assert "No case&#x27;s outcome changes." in report.html("en")


def test_without_the_old_kb_a_change_is_put_to_a_knowledge_base_other_than_the_one_recorded(register, old, new):
    _save(register, old)
    report = replay(register, new)
    assert report.cases
    assert [g["key"] for g in report.groups] == [f"kb_other:{old.version}"]
    assert "a knowledge base other than the one recorded" in report.text("en")


def test_another_date_is_put_to_the_date(register, old):
    saved = _save(register, old)
    report = replay(register, old, as_of="2035-01-01")
    expected = {cid for cid, stem in saved.items()
                if _view(engine.evaluate(PROFILES[stem], kb=old)) != _view(engine.evaluate(PROFILES[stem], kb=old,
                                                                                          as_of="2035-01-01"))}
    assert {e["case_id"] for e in report.cases} == expected and expected
    assert {g["key"] for g in report.groups} == {"as_of"}


def test_a_case_never_recorded_needs_the_old_kb_and_a_selection_is_replayed_alone(register, old, new):
    saved = _save(register, old)
    fresh = register.add_case("never recorded", PROFILES["new_ict_key_enterprise"])
    erased = register.add_case("erased", PROFILES["new_ict_key_enterprise"])
    register.erase(erased.id, by="ann", reason="asked")
    report = replay(register, new)
    assert {(s["case_id"], s["reason"]) for s in report.skipped} == {(fresh.id, "not_recorded")}
    report = replay(register, new, old_kb=old, cases=[fresh.id, erased.id, next(iter(saved))])
    assert report.replayed == 2 and {(s["case_id"], s["reason"]) for s in report.skipped} == {(erased.id, "erased")}
    then = engine.evaluate(PROFILES["new_ict_key_enterprise"], kb=old)
    now = engine.evaluate(PROFILES["new_ict_key_enterprise"], kb=new)
    assert (fresh.id in {e["case_id"] for e in report.cases}) == (_view(then) != _view(now))


def test_an_edited_profile_is_named_among_the_causes(register, old):
    case = register.add_case("edited", PROFILES["new_ict_key_enterprise"])
    register.record_evaluation(case.id, old)
    profile = dict(PROFILES["new_ict_key_enterprise"], registered_in_xicheng=False)
    register.edit_case(case.id, profile, expected_version=case.version)
    report = replay(register, old)
    assert report.cases and report.cases[0]["profile_edited"]
    assert {g["key"] for g in report.groups} == {"profile"}


def test_kb_changes_names_a_document_whose_dates_changed(old, tmp_path):
    document = next(d for d in old.documents.values() if d.expiry_date is not None)
    path = document.folder / "document.yaml"
    stamp = document.expiry_date.isoformat()
    folder = edited_kb(tmp_path, str(path.relative_to(KB_DIR)), f"expiry_date: {stamp}", "expiry_date: 2099-12-31")
    changes = kb_changes(old, engine.load(folder))
    assert [(c["key"], c["change"]) for c in changes] == [(f"document:{document.id}", "changed")]
    assert changes[0]["new"]["expiry_date"] == "2099-12-31" and changes[0]["old"]["expiry_date"] == stamp
    assert kb_changes(old, old) == []
