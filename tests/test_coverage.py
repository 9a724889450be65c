"""Condition coverage, MC/DC (engine/authoring/coverage.py): every condition of every rule shown
deciding its rule alone, holding in one scenario and failing in another (masking MC/DC), every
threshold at its boundary and just across; reported by `policykb check` with a profile that
would cover each gap. The figures are of the fixture tests/fixtures/mcdc, built for this."""

import datetime as dt
import json
import shutil
from fractions import Fraction

import pytest
import yaml

import engine
from engine.cli import main
from engine.authoring.coverage import Bound, condition_coverage, deciding
from engine.authoring.lint import lint
from engine.model import conditions as cond

from conftest import FIXTURES, KB_DIR

MCDC = FIXTURES / "mcdc"
RULES = "rules/rules.yaml"


def _cases():
    return yaml.safe_load((MCDC / "scenarios" / "cases.yaml").read_text(encoding="utf-8"))


def _copy(tmp_path, *names, add=()):
    """A copy of tests/fixtures/mcdc without the scenarios named, with ``add`` appended."""
    copy = tmp_path / "kb"
    shutil.copytree(MCDC, copy)
    kept = [c for c in _cases() if c["name"] not in names]
    assert len(kept) == len(_cases()) - len(names), "a scenario to drop is not in the fixture"
    (copy / "scenarios" / "cases.yaml").write_text(
        yaml.safe_dump(kept + list(add), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return copy


def _gaps(path):
    kb = engine.load(path)
    return [(entry.rule_id, entry.line, words) for entry in condition_coverage(kb).gaps for _, words in entry.gaps(kb)]


def _line(text):
    """The line of rules.yaml in the fixture holding ``text`` (so the tests name conditions, not numbers)."""
    lines = (MCDC / RULES).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


ALONE = " while deciding the rule alone (only where other conditions decided it)"


# --------------------------------------------------------------------------- the knowledge bases

def test_the_bundled_scenarios_reach_full_mcdc():
    coverage = condition_coverage(engine.load(KB_DIR))
    assert [(e.rule_id, e.line, e.gaps()) for e in coverage.gaps] == []
    summary = coverage.summary()
    assert summary["covered"] == summary["conditions"] and summary["thresholds_covered"] == summary["thresholds"]
    assert (summary["criterion"], summary["variant"]) == ("MC/DC", "masking")


def test_the_fixture_is_covered():
    assert _gaps(MCDC) == []
    assert lint(MCDC) == []


# --------------------------------------------------------------------------- what a pair needs

@pytest.mark.parametrize("dropped, gap", [
    ("A recognized enterprise of sector C is not eligible",
     ("eligible.recognized", _line("sector, in:"), "never seen failing")),
    ("One yuan less than 1亿元 gets no grant A",
     ("grant_a.capital", _line("capital, at_least"), "never seen just below the boundary, e.g. CNY 99,999,999")),
    ("Without any investment there is no grant C",
     ("grant_c.investment", _line("investment, more_than"), "never seen exactly at the boundary, CNY 0")),
    ("The day after the window the measures are no longer in force",
     ("in_force.window", _line("between:"), "never seen just above the boundary, e.g. 2024-03-01")),
    # Exports decide grant B only where there is no laboratory and the sector is A.
    ("Without a laboratory or exports there is no grant B",
     ("grant_b.lab_or_exports", _line("exports, is: true"), "never seen failing" + ALONE)),
    # A laboratory decides grant B only where the other branch of `any` fails.
    ("A laboratory is enough for grant B without exports",
     ("grant_b.lab_or_exports", _line("has_lab"), "never seen holding")),
])
def test_each_scenario_the_coverage_needs_leaves_its_gap_when_dropped(tmp_path, dropped, gap):
    assert _gaps(_copy(tmp_path, dropped)) == [gap]


def test_seen_holding_and_failing_is_not_enough_the_condition_must_decide(tmp_path):
    """The old criterion: eligibility seen holding and failing. Failing only where the measures
    are not in force either, it never decides grant A — deleting it would pass every scenario."""
    both_out = {"name": "An unrecognized enterprise out of the window gets no grant A", "extends": "one",
                "input": {"recognized": False, "application_date": "2021-02-28"},
                "output": {"status": {"grant_a": "denied"}}}
    copy = _copy(tmp_path, "An unrecognized enterprise is not eligible and gets no grant A",
                 "A recognized enterprise of sector C is not eligible", add=[both_out])
    kb = engine.load(copy)
    entry = next(e for e in condition_coverage(kb).conditions
                 if e.rule_id == "grant_a.capital" and isinstance(e.node, cond.ConclusionRef)
                 and e.node.conclusion == "eligible")
    assert entry.held and entry.failed                           # the old criterion is met
    assert entry.gaps(kb) == [("failing", "never seen failing" + ALONE)]


def test_an_unknown_value_is_neither_holding_nor_failing(tmp_path):
    unknown = {"name": "An enterprise of unknown sector", "extends": "one", "input": {"sector": None},
               "output": {"status": {"eligible": "undetermined"}}}
    assert _gaps(_copy(tmp_path, "A recognized enterprise of sector C is not eligible", add=[unknown])) == \
        [("eligible.recognized", _line("sector, in:"), "never seen failing")]


def test_an_unknown_neighbour_keeps_a_condition_from_deciding(tmp_path):
    """Unrecognized with the sector unknown: the rule is denied, but recognized would leave it
    undetermined, not granted, so the recognition does not decide it."""
    neighbour = {"name": "An unrecognized enterprise of unknown sector is not eligible", "extends": "one",
                 "input": {"recognized": False, "sector": None}, "output": {"not_conclusions": ["eligible"]}}
    copy = _copy(tmp_path, "An unrecognized enterprise is not eligible and gets no grant A", add=[neighbour])
    assert ("eligible.recognized", _line("recognized, is: true"), "never seen failing" + ALONE) in _gaps(copy)


def test_a_boundary_seen_where_the_threshold_does_not_decide_is_a_gap(tmp_path):
    """One yuan less than 1亿元 while the enterprise is not eligible anyway tests nothing."""
    masked = {"name": "One yuan less, unrecognized", "extends": "one",
              "input": {"capital": 99_999_999, "recognized": False}, "output": {"status": {"grant_a": "denied"}}}
    assert _gaps(_copy(tmp_path, "One yuan less than 1亿元 gets no grant A", add=[masked])) == \
        [("grant_a.capital", _line("capital, at_least"),
          "never seen just below the boundary, e.g. CNY 99,999,999," + ALONE)]


def test_two_yuan_below_an_inclusive_bound_is_not_just_across(tmp_path):
    two_below = {"name": "Two yuan less gets no grant A", "extends": "one", "input": {"capital": 99_999_998},
                 "output": {"not_benefits": ["grant_a"]}}
    assert _gaps(_copy(tmp_path, "One yuan less than 1亿元 gets no grant A", add=[two_below])) == \
        [("grant_a.capital", _line("capital, at_least"), "never seen just below the boundary, e.g. CNY 99,999,999")]


def test_masking_pairs_cover_where_unique_cause_pairs_do_not(tmp_path):
    """A laboratory holding (sector A, no exports) and failing (sector B, exports): the other
    conditions differ, but in both the other branch fails, so the laboratory decides — a masking
    pair, not a unique-cause one."""
    lab_b = {"name": "A sector-B exporter without a laboratory, again", "extends": "one",
             "input": {"sector": "b"}, "output": {"status": {"grant_b": "denied"}}}
    copy = _copy(tmp_path, "Without a laboratory or exports there is no grant B",
                 "A sector-B exporter without a laboratory gets no grant B", add=[lab_b])
    kb = engine.load(copy)
    lab = next(e for e in condition_coverage(kb).conditions
               if isinstance(e.node, cond.FactTest) and e.node.fact == "has_lab")
    assert lab.covered and not lab.unique_cause
    full = next(e for e in condition_coverage(engine.load(MCDC)).conditions
                if isinstance(e.node, cond.FactTest) and e.node.fact == "has_lab")
    assert full.covered and full.unique_cause


def test_deciding_flips_one_leaf_in_three_valued_logic():
    kb = engine.load(MCDC)
    rule = kb.rules["grant_b.lab_or_exports"]
    status = {"in_force": True}
    facts = {"has_lab": False, "sector": "a", "exports": True}
    assert [d for _, d in deciding(cond.evaluate(rule.when, facts, status))] == [True, False, True, True]
    facts = {"has_lab": False, "sector": "a"}                   # exports unknown: the rule is undetermined
    assert [d for _, d in deciding(cond.evaluate(rule.when, facts, status))] == [False, False, False, False]
    facts = {"has_lab": True, "sector": "b", "exports": True}
    assert [d for _, d in deciding(cond.evaluate(rule.when, facts, status))] == [True, True, False, False]


def test_just_across_is_one_step_on_the_side_where_the_test_changes():
    inclusive = Bound(100, -1)             # at_least 100: holds at 100, fails at 99
    inclusive.see(101), inclusive.see(98)
    assert (inclusive.at, inclusive.across) == (False, False)
    inclusive.see(100, deciding=False), inclusive.see(99, deciding=False)
    assert (inclusive.at_seen, inclusive.across_seen, inclusive.at, inclusive.across) == (True, True, False, False)
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


# --------------------------------------------------------------------------- a profile that would cover it

@pytest.mark.parametrize("dropped", [
    "A recognized enterprise of sector C is not eligible",
    "One yuan less than 1亿元 gets no grant A",
    "Without a laboratory or exports there is no grant B",
    "A laboratory is enough for grant B without exports",
    "The day before the window nothing is in force and no grant is given",
])
def test_the_profile_a_gap_suggests_closes_it(tmp_path, dropped):
    copy = _copy(tmp_path, dropped)
    gaps = [f for f in lint(copy) if f.code == "condition-coverage"]
    assert gaps and all("a profile that would cover it: e.g. the scenario '" in f.message for f in gaps)
    written = [dict(gap.profile, name=f"Suggested {n}", output={}) for n, gap in enumerate(gaps)]
    (copy / "scenarios" / "suggested.yaml").write_text(yaml.safe_dump(written, allow_unicode=True), encoding="utf-8")
    assert [f.text() for f in lint(copy)] == []


def test_the_suggestion_changes_one_fact_of_a_scenario(tmp_path):
    (gap,) = [f for f in lint(_copy(tmp_path, "A recognized enterprise of sector C is not eligible"))
              if f.code == "condition-coverage"]
    assert "with sector: c: {extends: one, input: {sector: c}}" in gap.message
    assert gap.profile == {"extends": "one", "input": {"sector": "c"}}


def test_a_condition_that_never_decides_its_rule_is_reported_as_redundant(tmp_path):
    """Grant D needs the enterprise eligible and recognized; eligible already needs the
    recognition, so the second condition can never decide the rule on its own."""
    copy = tmp_path / "kb"
    shutil.copytree(MCDC, copy)
    rules = (copy / RULES).read_text(encoding="utf-8")
    (copy / RULES).write_text(rules.replace("\nprecedence:", """
  - id: flagged.recognized_twice
    cites: 2(1)
    quote: 对经认定的甲类、乙类企业
    when:
      all:
        - conclusion: eligible
        - {fact: recognized, is: true}
    then: flagged
    explain: {zh: 重复。, en: Twice.}

precedence:"""), encoding="utf-8")
    conclusions = (copy / "conclusions.yaml").read_text(encoding="utf-8")
    (copy / "conclusions.yaml").write_text(conclusions.replace(
        "benefits:", "  - {id: flagged, article: 2(1), zh: 重复, en: Flagged}\nbenefits:"), encoding="utf-8")
    found = [f for f in lint(copy) if f.code == "condition-coverage" and f.rule_id == "flagged.recognized_twice"]
    redundant = [f for f in found if "(recognized)" in f.message and f.gap == "failing"]
    assert redundant and redundant[0].profile is None
    assert "it may be redundant — the rule's other conditions decide the rule whenever it is known (the rule " \
           "also tests recognized through eligible)" in redundant[0].message


def test_a_condition_no_value_can_make_fail_says_nothing(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(MCDC, copy)
    path = copy / RULES
    path.write_text(path.read_text(encoding="utf-8").replace("{fact: sector, in: [a, b]}",
                                                             "{fact: sector, in: [a, b, c]}"), encoding="utf-8")
    (gap,) = [f for f in lint(copy) if f.code == "condition-coverage"]
    assert gap.gap == "failing" and "no value of sector makes it fail: the condition says nothing" in gap.message


# --------------------------------------------------------------------------- policykb check

def test_check_prints_each_gap_with_its_profile_and_strict_fails_on_one(tmp_path, capsys):
    copy = _copy(tmp_path, "A recognized enterprise of sector C is not eligible")
    assert main(["check", "--kb", str(copy)]) == 0
    out = capsys.readouterr().out
    assert (f"{copy / RULES}:{_line('sector, in:')}: warning[condition-coverage] rule eligible.recognized: "
            "Sector is one of A, B (sector): never seen failing; a profile that would cover it: e.g. the scenario "
            f"'A recognized sector-A exporter with 1亿元 of capital gets grants A, B and C' ({copy / 'scenarios' / 'cases.yaml'}:1)"
            " with sector: c: {extends: one, input: {sector: c}}\n") in out
    summary = next(line for line in out.splitlines() if line.startswith("condition coverage"))
    assert summary.startswith("condition coverage (MC/DC, masking): ") and summary.endswith("; 1 gap")
    assert main(["check", "--kb", str(copy), "--strict"]) == 2
    capsys.readouterr()
    assert main(["check", "--kb", str(copy), "--format", "json"]) == 0
    (gap,) = [f for f in json.loads(capsys.readouterr().out) if f["code"] == "condition-coverage"]
    assert gap["rule_id"] == "eligible.recognized" and gap["line"] == _line("sector, in:") and gap["gap"] == "failing"
    assert gap["condition"] == "Sector is one of A, B (sector)"
    assert gap["profile"] == {"extends": "one", "input": {"sector": "c"}}
    assert main(["check", "--kb", str(copy), "--no-scenarios", "--strict"]) == 0
    assert "condition coverage" not in capsys.readouterr().out


def test_check_of_the_bundled_kb_reports_full_mcdc(capsys):
    assert main(["check", "--kb", str(KB_DIR), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "condition coverage (MC/DC, masking): " in out and "; 0 gaps\n" in out and "condition-coverage" not in out


def test_each_end_of_a_window_gets_its_own_profile(tmp_path):
    copy = _copy(tmp_path, "On the first day of the window the measures are in force",
                 "On the last day of the window the measures are still in force")
    gaps = [f for f in lint(copy) if f.code == "condition-coverage"]
    assert [(f.rule_id, f.gap) for f in gaps] == [("in_force.window", "boundary")] * 2
    assert sorted(str(f.profile["input"]["application_date"]) for f in gaps) == ["2021-03-01", "2024-02-29"]
