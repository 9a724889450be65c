"""Runs every YAML scenario of kb/scenarios/ (each is one test, named by its sentence)."""

import json

import pytest

import engine
from engine.authoring import scenarios

from conftest import KB_DIR

_KB = engine.load(KB_DIR)
_SCENARIOS = scenarios.load_scenarios(_KB)


def test_there_are_at_least_sixty_scenarios():
    assert len(_SCENARIOS) >= 60


@pytest.mark.parametrize("scenario", _SCENARIOS, ids=[s.name for s in _SCENARIOS])
def test_scenario(scenario):
    problems = scenarios.run(scenario, _KB)
    assert not problems, f"{scenario.where}: " + "; ".join(problems)


# --------------------------------------------------------------------------- which knowledge base

_STRICTER = ("- name: With the capital threshold raised to 2亿元, 1.2亿元 of paid-in capital earns no settlement subsidy\n"
             "  extends: new_ict_key_enterprise\n  input: {paid_in_capital: 1.2亿元}\n"
             "  output:\n    not_benefits: [settlement_subsidy]\n")


def _stricter_copy(tmp_path):
    """A copy of kb/ whose settlement threshold is 2亿元, with a scenario only that copy passes."""
    from conftest import edited_kb
    copy = edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                     "{fact: paid_in_capital, at_least: 1亿元}", "{fact: paid_in_capital, at_least: 2亿元}")
    (copy / "scenarios" / "stricter.yaml").write_text(_STRICTER, encoding="utf-8")
    return copy


def test_a_scenario_inside_a_copy_of_the_kb_runs_against_that_copy(tmp_path, capsys):
    from engine.cli import main
    copy = _stricter_copy(tmp_path)
    assert main(["test", str(copy / "scenarios" / "stricter.yaml")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().endswith("1 passed, 0 failed")
    assert f"knowledge base: {copy} (holds the scenarios)" in captured.err
    extra = copy / "scenarios" / "edits"   # a folder inside the copy, too
    extra.mkdir()
    (copy / "scenarios" / "stricter.yaml").rename(extra / "stricter.yaml")
    assert main(["test", str(extra), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kb"] == str(copy) and report["passed"] == 1


def test_kb_says_otherwise(tmp_path, capsys):
    from engine.cli import main
    copy = _stricter_copy(tmp_path)
    assert main(["test", "--kb", str(KB_DIR), str(copy / "scenarios" / "stricter.yaml")]) == 1
    captured = capsys.readouterr()
    assert "0 passed, 1 failed" in captured.out and f"knowledge base: {KB_DIR} (--kb)" in captured.err


def test_scenarios_in_two_knowledge_bases_are_refused_in_one_line(tmp_path, capsys):
    from engine.cli import main
    copy = _stricter_copy(tmp_path)
    code = main(["test", str(copy / "scenarios" / "stricter.yaml"), str(KB_DIR / "scenarios" / "listing_grant.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "two knowledge bases" in err and str(copy) in err and str(KB_DIR) in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_scenario_outside_every_knowledge_base_uses_the_bundled_one(tmp_path, capsys):
    from engine.cli import main
    path = tmp_path / "alone.yaml"
    path.write_text(_STRICTER, encoding="utf-8")
    assert main(["test", str(path)]) == 1
    assert "(bundled)" in capsys.readouterr().err
