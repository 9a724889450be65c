"""Mutation testing (engine/authoring/mutation.py, ``policykb mutate``).

Exact expectations are on tests/fixtures/mutation_small, a knowledge base written so that every
mutant is caught but one, an equivalent mutant (a condition another one implies). The bundled
knowledge base is held to the property that no mutant survives.
"""

import json
import shutil
from collections import Counter

import pytest

from engine.authoring.mutation import OPERATORS, generate, mutate, rule_files
from engine.cli import main
from engine.loading.kb import load

from conftest import FIXTURES, KB_DIR

SMALL = FIXTURES / "mutation_small"
RULES = SMALL / "rules" / "rules.yaml"
SURVIVOR = "rule grant_a.capital: drop the condition Recognized (recognized) is yes"


def _run(capsys, *argv):
    code = main(["mutate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small():
    return load(SMALL)


def _by(mutants, line, operator):
    return [m for m in mutants if (m.line, m.operator) == (line, operator)]


# -- the mutants -------------------------------------------------------------------------------


def test_every_operator_makes_its_mutants_of_the_fixture(small):
    mutants = generate(small)
    assert Counter(m.operator for m in mutants) == {
        "drop_rule": 5, "drop_condition": 14, "flip_bound": 6, "move_bound": 11, "raise_cap": 5,
        "drop_value": 6, "flip_bool": 2}
    assert set(OPERATORS) == {m.operator for m in mutants}
    assert [m.key for m in mutants] == sorted(m.key for m in mutants)
    assert {m.path for m in mutants} == {"rules/rules.yaml"}


def test_a_mutant_is_one_edit_with_its_line_before_and_after(small):
    text = RULES.read_text(encoding="utf-8")
    lines = text.splitlines()
    for mutant in generate(small):
        mutated = mutant.apply(text)
        assert mutated != text
        first = mutant.before.splitlines()[0]
        assert lines[mutant.line - 1] == first or first.strip().startswith("- id:"), mutant
        assert mutant.before in text and (mutant.after == "" or mutant.after in mutated)


def test_the_edits_read_as_the_rule_author_would_write_them(small):
    mutants = generate(small)
    # A block-style fact test is removed with both its lines; a block list loses one line.
    (drop,) = _by(mutants, 14, "drop_condition")
    assert drop.before == "        - fact: recognized\n          is: true" and drop.after == ""
    assert [m.before.strip() for m in _by(mutants, 18, "drop_value") + _by(mutants, 19, "drop_value")] == ["- a", "- b"]
    # A flow list loses a value and its comma; a between end moves inwards (flip) and outwards.
    assert [m.after.strip() for m in _by(mutants, 65, "drop_value")] == [
        "- {fact: sector, not_in: [d]}", "- {fact: sector, not_in: [b]}"]
    assert [m.after.strip() for m in _by(mutants, 5, "flip_bound")] == [
        "when: {fact: application_date, between: [2021-03-02, 2024-02-29]}",
        "when: {fact: application_date, between: [2021-03-01, 2024-02-28]}"]
    # Money by one yuan, a number by its smallest unit (quoted: the loader refuses floats),
    # within_years by a year; nothing below zero, which the loader would not read.
    assert [m.after.strip() for m in _by(mutants, 31, "move_bound")] == [
        "- {fact: capital, at_least: 99999999元}", "- {fact: capital, at_least: 100000001元}"]
    assert [m.after.strip() for m in _by(mutants, 46, "move_bound")] == [
        '- {fact: area, more_than: "100.4"}', '- {fact: area, more_than: "100.6"}']
    assert [m.after.strip() for m in _by(mutants, 45, "move_bound")] == ["- {fact: cost, more_than: 1元}"]
    assert [m.after.strip() for m in _by(mutants, 44, "move_bound")] == [
        "- {fact: registration_date, within_years: 2}", "- {fact: registration_date, within_years: 4}"]
    # Caps and shares rise.
    assert [m.after.strip() for m in mutants if m.operator == "raise_cap"] == [
        "range: {min: 100万元, max: 2000001元}", "share: 11%", "- {per_unit: 101元, per: area}",
        "- max: 500001元", "up_to: 300001元"]
    assert _by(mutants, 2, "drop_rule")[0].before.startswith("  - id: in_force.window\n")


def test_the_change_is_in_words_with_labels_then_ids(small):
    (flip,) = _by(generate(small), 31, "flip_bound")
    assert flip.change("en") == ("rule grant_a.capital: Paid-in capital (capital) is at least CNY 100 million → "
                                 "Paid-in capital (capital) is more than CNY 100 million")
    assert flip.change("zh") == "规则 grant_a.capital：实收资本 (capital) 不低于 1亿元 → 实收资本 (capital) 高于 1亿元"


def test_the_rule_files_are_those_the_loader_reads(kb):
    files = rule_files(kb)
    assert files and all(path.parent.name == "rules" and path.suffix == ".yaml" for path in files)


# -- the command --------------------------------------------------------------------------------


def test_mutate_names_the_surviving_mutant_by_file_and_line(capsys):
    code, out, err = _run(capsys, "--kb", str(SMALL), "--workers", "2", "--lang", "en")
    assert code == 1
    assert out == f"{RULES}:30: {SURVIVOR}\n48 of 49 mutants caught, 1 survived\n"
    assert "49 mutants, 23 scenarios, 2 workers" in err


def test_mutate_in_chinese_reads_the_labels_in_chinese(capsys):
    code, out, _ = _run(capsys, "--kb", str(SMALL), "--workers", "1")
    assert code == 1
    assert out.splitlines()[0] == f"{RULES}:30: 规则 grant_a.capital：删除条件 经认定 (recognized) 为 是"


def test_mutate_json_lists_every_mutant_with_what_caught_it(capsys):
    code, out, _ = _run(capsys, "--kb", str(SMALL), "--workers", "2", "--format", "json", "--lang", "en")
    report = json.loads(out)
    assert code == 1
    assert (report["total"], report["caught"], report["survived"]) == (49, 48, 1)
    (survivor,) = [m for m in report["mutants"] if not m["caught"]]
    assert survivor == {"file": str(RULES), "line": 30, "operator": "drop_condition", "rule": "grant_a.capital",
                        "change": SURVIVOR, "before": "        - {fact: recognized, is: true}", "after": "",
                        "caught": False, "caught_by": None}
    by_change = {m["change"]: m for m in report["mutants"]}
    assert by_change["drop rule in_force.window (one way to In force (in_force))"]["caught_by"] == {
        "load": "no rule derives 'in_force'"}
    flip = by_change["rule grant_c.tagged: Application date (application_date) is at most 2023-12-31 → "
                     "Application date (application_date) is less than 2023-12-31"]
    assert flip["caught_by"]["scenario"] == "An application on 2023-12-31 still gets grant C"
    assert flip["caught_by"]["problem"] == "grant_c: expected status granted, got denied"
    assert [(m["file"], m["line"]) for m in report["mutants"]] == sorted((m["file"], m["line"]) for m in report["mutants"])


def test_mutate_gives_the_same_bytes_with_one_worker_or_two(capsys):
    one = _run(capsys, "--kb", str(SMALL), "--workers", "1", "--format", "json")
    two = _run(capsys, "--kb", str(SMALL), "--workers", "2", "--format", "json")
    assert one[:2] == two[:2]


def test_mutate_exits_0_when_every_mutant_is_caught(capsys, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(SMALL, copy)
    rules = copy / "rules" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    redundant = "        - {fact: recognized, is: true}\n"
    assert text.count(redundant) == 1
    rules.write_text(text.replace(redundant, ""), encoding="utf-8")
    code, out, _ = _run(capsys, "--kb", str(copy), "--workers", "2")
    assert code == 0 and out == "47 of 47 mutants caught, 0 survived\n"
    assert rules.read_text(encoding="utf-8") == text.replace(redundant, "")   # the kb is never written


def test_mutate_refuses_scenarios_that_fail_before_any_mutation(capsys, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(SMALL, copy)
    cases = copy / "scenarios" / "cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("max: 200万元}", "max: 300万元}", 1), encoding="utf-8")
    code, out, err = _run(capsys, "--kb", str(copy), "--workers", "1")
    assert code == 2 and out == ""
    assert "1 of 23 scenarios fail on the knowledge base as it is" in err and "policykb test" in err


def test_mutate_refuses_bad_input_with_exit_2(capsys, tmp_path):
    code, _, err = _run(capsys, "--kb", str(SMALL), "--workers", "0")
    assert code == 2 and "--workers must be at least 1" in err
    code, _, err = _run(capsys, "--kb", str(tmp_path / "nowhere"))
    assert code == 2 and "not found" in err
    copy = tmp_path / "kb"
    shutil.copytree(SMALL, copy)
    shutil.rmtree(copy / "scenarios")
    (copy / "scenarios").mkdir()
    code, _, err = _run(capsys, "--kb", str(copy))
    assert code == 2 and "no scenarios" in err


# -- the bundled knowledge base ---------------------------------------------------------------


def test_every_mutant_of_the_bundled_knowledge_base_is_caught():
    report = mutate(KB_DIR, workers=2, lang="en")
    survivors = [f"{m['file']}:{m['line']}: {m['change']}" for m in report["mutants"] if not m["caught"]]
    assert report["total"] > 0 and not survivors, "\n".join(survivors)
