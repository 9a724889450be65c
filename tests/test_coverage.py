"""Condition coverage (engine/authoring/coverage.py): every condition of every rule seen holding and
failing, every threshold at its boundary and just across; reported by `policykb check`."""

import datetime as dt
import json
import shutil
from fractions import Fraction

import pytest
import yaml

import engine
from engine.cli import main
from engine.authoring.coverage import Bound, condition_coverage

from conftest import FIXTURES, KB_DIR

MINIMAL = FIXTURES / "minimal"


def _minimal_without(tmp_path, *names, add=()):
    """A copy of tests/fixtures/minimal without the scenarios named, with ``add`` appended."""
    copy = tmp_path / "kb"
    shutil.copytree(MINIMAL, copy)
    cases = copy / "scenarios" / "cases.yaml"
    kept = [c for c in yaml.safe_load(cases.read_text(encoding="utf-8")) if c["name"] not in names]
    assert len(kept) == 13 - len(names), "a scenario to drop is not in the minimal fixture"
    cases.write_text(yaml.safe_dump(kept + list(add), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return copy


def _gaps(path):
    kb = engine.load(path)
    return [(entry.rule_id, entry.line, words) for entry in condition_coverage(kb).gaps for _, words in entry.gaps(kb)]


def test_the_bundled_scenarios_cover_every_condition_both_ways():
    coverage = condition_coverage(engine.load(KB_DIR))
    assert [(e.rule_id, e.line, e.gaps()) for e in coverage.gaps] == []
    summary = coverage.summary()
    assert summary["covered"] == summary["conditions"] > 100 and summary["thresholds_covered"] == summary["thresholds"]


def test_the_minimal_fixture_is_covered():
    assert _gaps(MINIMAL) == []


@pytest.mark.parametrize("dropped, gap", [
    ("An enterprise of another sector is not eligible", ("eligible.recognized", 15, "never seen failing")),
    ("One yuan less gets no grant A",
     ("grant_a.capital", 26, "never seen just below the boundary, e.g. CNY 99,999,999")),
    ("Without any area there is no grant B", ("grant_b.cost", 39, "never seen exactly at the boundary, 0 m²")),
    ("One square metre is enough for grant B", ("grant_b.cost", 39, "never seen just above the boundary, e.g. 1 m²")),
    ("The day before the window the measures are not yet in force",
     ("in_force.window", 5, "never seen just below the boundary, e.g. 2021-02-28")),
    ("On the last day of the window the measures are still in force",
     ("in_force.window", 5, "never seen exactly at the boundary, 2024-02-29")),
])
def test_each_scenario_the_coverage_needs_leaves_its_gap_when_dropped(tmp_path, dropped, gap):
    assert _gaps(_minimal_without(tmp_path, dropped)) == [gap]


def test_an_unknown_value_is_neither_holding_nor_failing(tmp_path):
    unknown = {"name": "An enterprise of unknown sector", "extends": "one", "input": {"sector": None},
               "output": {"status": {"eligible": "undetermined"}}}
    assert _gaps(_minimal_without(tmp_path, "An enterprise of another sector is not eligible", add=[unknown])) == \
        [("eligible.recognized", 15, "never seen failing")]


def test_two_yuan_below_an_inclusive_bound_is_not_just_across(tmp_path):
    two_below = {"name": "Two yuan less gets no grant A", "extends": "one", "input": {"capital": 99_999_998},
                 "output": {"not_benefits": ["grant_a"]}}
    assert _gaps(_minimal_without(tmp_path, "One yuan less gets no grant A", add=[two_below])) == \
        [("grant_a.capital", 26, "never seen just below the boundary, e.g. CNY 99,999,999")]


def test_just_across_is_one_step_on_the_side_where_the_test_changes():
    inclusive = Bound(100, -1)             # at_least 100: holds at 100, fails at 99
    inclusive.see(101), inclusive.see(98)
    assert (inclusive.at, inclusive.across) == (False, False)
    inclusive.see(100), inclusive.see(99)
    assert (inclusive.at, inclusive.across) == (True, True)
    exclusive = Bound(Fraction(0), +1)     # more_than 0 (a number): fails at 0, holds just above
    exclusive.see(Fraction(1, 2))
    assert (exclusive.at, exclusive.across) == (False, True)
    late = Bound(dt.date(2024, 2, 29), +1)  # the end of a between: holds on it, fails the day after
    late.see(dt.date(2024, 3, 2))
    assert not late.across
    late.see(dt.date(2024, 3, 1))
    assert late.across and late.neighbour == dt.date(2024, 3, 1)


def test_check_prints_the_summary_and_each_gap_and_strict_fails_on_one(tmp_path, capsys):
    copy = _minimal_without(tmp_path, "An enterprise of another sector is not eligible")
    assert main(["check", "--kb", str(copy)]) == 0
    out = capsys.readouterr().out
    assert (f"{copy / 'rules' / 'rules.yaml'}:15: warning[condition-coverage] rule eligible.recognized: "
            "Sector is one of A, B (sector): never seen failing\n") in out
    assert ("condition coverage: 8 of 9 conditions of 4 rules seen holding and failing by 12 scenarios, "
            "5 of 5 thresholds on both sides; 1 gap\n") in out
    assert main(["check", "--kb", str(copy), "--strict"]) == 2
    capsys.readouterr()
    assert main(["check", "--kb", str(copy), "--format", "json"]) == 0
    (gap,) = [f for f in json.loads(capsys.readouterr().out) if f["code"] == "condition-coverage"]
    assert gap["rule_id"] == "eligible.recognized" and gap["line"] == 15 and gap["gap"] == "failing"
    assert gap["condition"] == "Sector is one of A, B (sector)"
    assert main(["check", "--kb", str(copy), "--no-scenarios", "--strict"]) == 0
    assert "condition coverage" not in capsys.readouterr().out


def test_check_of_the_bundled_kb_reports_full_coverage(capsys):
    assert main(["check", "--kb", str(KB_DIR), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "thresholds on both sides; 0 gaps\n" in out and "condition-coverage" not in out
