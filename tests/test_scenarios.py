"""Runs every YAML scenario of kb/scenarios/ (each is one test, named by its sentence)."""

import json

import yaml

import pytest

import engine
from engine.authoring import expectations, scenarios

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


# --------------------------------------------------------------------------- what a scenario can say

from conftest import FIXTURES, REPO  # noqa: E402

MCDC = FIXTURES / "mcdc"
_FIXTURE_KB = engine.load(MCDC)
OFFER = "其他政策"


def _scenario(tmp_path, text, kb=_FIXTURE_KB):
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    (case,) = scenarios.load_scenarios(kb, [path])
    return case


def _offer(benefit, amount):
    return f"  input:\n    other_support:\n      - {{benefit: {benefit}, policy: {OFFER}, amount: {amount}}}\n"


@pytest.mark.parametrize("given, output, problem", [
    # Article 3 (就高且不重复) against another policy's offer: above the max, inside, at or below the floor.
    (_offer("grant_a", "300万元"), f"    overlaps: [{{benefit: grant_a, with: {OFFER}, decision: superseded}}]\n"
                                  f"    superseded: {{grant_a: {OFFER}}}\n", None),
    (_offer("grant_a", "150万元"), f"    overlaps: [{{benefit: grant_a, with: {OFFER}, decision: open, reason: within_range}}]\n",
     None),
    (_offer("grant_a", "50万元"), f"    overlaps: [{{benefit: grant_a, with: {OFFER}, decision: kept}}]\n", None),
    (_offer("grant_b", "40万元"), "    overlaps: [{benefit: grant_b, decision: open}]\n    no_overlaps: [grant_a]\n", None),
    (_offer("grant_a", "150万元"), f"    overlaps: [{{benefit: grant_a, with: {OFFER}, decision: kept}}]\n",
     f"overlaps: expected grant_a with {OFFER} kept, got grant_a with {OFFER} open (within_range)"),
    (_offer("grant_a", "150万元"), "    no_overlaps: [grant_a]\n",
     f"overlaps: expected none for grant_a, got grant_a with {OFFER} open (within_range)"),
    ("  input: {}\n", "    overlaps: [{benefit: grant_a}]\n", "overlaps: expected grant_a with anything, got no overlap"),
    (_offer("grant_a", "300万元"), "    superseded: {grant_a: null}\n", None),
    # The documents in force, the facts asked, what is missing and how a benefit was granted.
    ("  input: {}\n", "    in_force: {mcdc: true}\n", None),
    ("  input: {application_date: 2024-03-01}\n", "    in_force: {mcdc: true}\n",
     "mcdc: expected in force true, got false"),
    ("  input: {recognized: null}\n", "    next_fact: {eligible: recognized, grant_a: recognized, grant_b: null}\n", None),
    ("  input: {recognized: null}\n", "    next_fact: {eligible: sector}\n", "eligible: expected next fact sector, got recognized"),
    ("  input: {recognized: null}\n", "    not_missing: [sector]\n    missing_includes: [recognized]\n", None),
    ("  input: {recognized: null}\n", "    not_missing: [recognized]\n",
     "missing: expected not to include recognized, but it is missing"),
    ("  input: {}\n", "    benefits:\n      grant_a: {rule: grant_a.capital, basis: range}\n      grant_c: {basis: share}\n", None),
    ("  input: {}\n", "    benefits:\n      grant_b: {basis: range}\n", "grant_b: expected basis range, got up_to"),
])
def test_a_scenario_can_say_what_the_result_reports(tmp_path, given, output, problem):
    case = _scenario(tmp_path, "- name: A case\n  extends: one\n" + given + "  output:\n" + output)
    assert scenarios.run(case, _FIXTURE_KB) == ([] if problem is None else [problem])


@pytest.mark.parametrize("example", sorted(p.stem for p in (KB_DIR / "examples").iterdir()))
def test_every_overlap_the_result_reports_can_be_asserted_and_a_wrong_decision_fails(tmp_path, example):
    """For each example: the scenario stating every overlap the result reports passes, and the
    same with any decision changed fails (the knowledge base decides which overlaps there are)."""
    result = engine.evaluate(yaml.safe_load((KB_DIR / "examples" / f"{example}.yaml").read_text(encoding="utf-8"))
                             if (KB_DIR / "examples" / f"{example}.yaml").exists()
                             else json.loads((KB_DIR / "examples" / f"{example}.json").read_text(encoding="utf-8")),
                             kb=_KB)
    found = [{k: v for k, v in o.items() if v is not None} for o in scenarios.overlaps_of(result)]
    text = "- name: Every overlap\n  extends: " + example + "\n  input: {}\n  output:\n    overlaps: " + \
        json.dumps(found, ensure_ascii=False) + "\n"
    assert scenarios.run(_scenario(tmp_path, text, _KB), _KB) == []
    for n, overlap in enumerate(found):
        wrong = [dict(o, decision=next(d for d in expectations.DECISIONS if d != o["decision"])) if i == n else o
                 for i, o in enumerate(found)]
        text = text.split("    overlaps: ")[0] + "    overlaps: " + json.dumps(wrong, ensure_ascii=False) + "\n"
        assert len(scenarios.run(_scenario(tmp_path, text, _KB), _KB)) == 1


@pytest.mark.parametrize("body, line, words, hint", [
    ("  input: {}\n  outptu: {}\n", 4, "unknown scenario key 'outptu'", "output"),
    ("  input: {secter: a}\n  output: {}\n", 3, "input: unknown fact 'secter'", "sector"),
    ("  input: {capital: lots}\n  output: {}\n", 3, "input: capital: 'lots' is not an amount of money", None),
    ("  input: {}\n  output:\n    conclusion: [eligible]\n", 5, "unknown output key 'conclusion'", "conclusions"),
    ("  input: {}\n  output:\n    conclusions: [eligibel]\n", 5, "'eligibel' in conclusions is not a conclusion", "eligible"),
    ("  input: {}\n  output:\n    status: {grant_a: grnted}\n", 5, "the status of 'grant_a' is one of", "granted"),
    ("  input: {}\n  output:\n    next_fact: {grant_a: capitl}\n", 5, "next_fact of 'grant_a': 'capitl' is not a fact",
     "capital"),
    ("  input: {}\n  output:\n    benefits:\n      grant_a: {rule: grant_a.capitol}\n", 6,
     "'grant_a.capitol' is not a rule deriving 'grant_a'", "grant_a.capital"),
    ("  input: {}\n  output:\n    benefits:\n      grant_a: {basis: rnage}\n", 6, "the basis of 'grant_a' is one of",
     "range"),
    ("  input: {}\n  output:\n    benefits:\n      grant_a: grantd\n", 6, "the expected amount of 'grant_a' is one of",
     "granted"),
    ("  input: {}\n  output:\n    overlaps:\n      - {benefit: grant_a, with: grant_bb}\n", 6,
     "overlap of 'grant_a': 'grant_bb' is neither a benefit nor the policy", "grant_b"),
    ("  input: {}\n  output:\n    overlaps:\n      - {benefit: grant_a, decison: open}\n", 6,
     "unknown overlap key 'decison'", "decision"),
    ("  input: {}\n  output:\n    overlaps:\n      - {benefit: grant_a, decision: opne}\n", 6,
     "an overlap's decision is one of open, kept, superseded", "open"),
    ("  input: {}\n  output:\n    in_force: {mcdd: true}\n", 5, "'mcdd' in in_force is not a document", "mcdc"),
    ("  input: {}\n  output:\n    superseded: {grant_a: 其它政策}\n", 5,
     "superseded of 'grant_a': '其它政策' is neither a benefit nor the policy", None),
    ("  input: {}\n  output:\n    why_not:\n      grant_a: {first_change: {capitl: 1亿元}}\n", 6,
     "first_change of 'grant_a': 'capitl' is not a fact", "capital"),
    ("  input: {}\n  as_of: 2021-02-30\n  output: {}\n", 4, "is not a real date", None),
])
def test_a_misspelt_key_id_or_value_is_an_error_at_its_line_with_the_nearest_name(tmp_path, body, line, words, hint):
    path = tmp_path / "case.yaml"
    path.write_text("- name: A case\n  extends: one\n" + body, encoding="utf-8")
    with pytest.raises(engine.KnowledgeBaseError) as caught:
        scenarios.load_scenarios(_FIXTURE_KB, [path])
    error = caught.value
    assert (error.file, error.line) == (str(path), line) and words in error.message and error.suggestion == hint
    assert str(error).count("\n") == 0


def test_scenario_files_may_end_in_yml(tmp_path):
    (tmp_path / "a.yaml").write_text("- {name: A, extends: one, input: {}, output: {}}\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("- {name: B, extends: one, input: {}, output: {}}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    assert [c.name for c in scenarios.load_scenarios(_FIXTURE_KB, [tmp_path])] == ["A", "B"]


def test_the_schema_knows_every_output_key_the_runner_reads():
    schema = json.loads((REPO / "schemas" / "scenarios.schema.json").read_text(encoding="utf-8"))
    output = schema["items"]["properties"]["output"]["properties"]
    assert list(output) == list(expectations.OUTPUT_KEYS)
    assert set(output["benefits"]["additionalProperties"]["oneOf"][2]["properties"]) == set(expectations.BENEFIT_KEYS)
    assert set(output["overlaps"]["items"]["properties"]) == set(expectations.OVERLAP_KEYS)
    assert set(schema["items"]["properties"]) == set(scenarios.SCENARIO_KEYS)


def test_a_yearly_amount_and_a_cumulative_remainder_can_be_asserted_and_a_wrong_one_fails(tmp_path):
    from conftest import FIXTURES
    kb = engine.load(FIXTURES / "yearly")
    path = tmp_path / "cases.yaml"
    path.write_text("- name: Wrong year, years and remainder\n  extends: project\n  input: {}\n  output:\n"
                    "    benefits:\n      project_support: {per_year: true, years: 2, year: 3, remaining: 200万元}\n"
                    "      rent_subsidy: {per_year: false}\n", encoding="utf-8")
    (case,) = scenarios.load_scenarios(kb, [path])
    assert scenarios.run(case, kb) == ["project_support: expected years 2, got 3",
                                       "project_support: expected year 3, got 2",
                                       "project_support: expected remaining 2000000, got 1000000",
                                       "rent_subsidy: expected no yearly amount, got one"]
    path.write_text(path.read_text(encoding="utf-8").replace("year: 3", "year: three"), encoding="utf-8")
    with pytest.raises(engine.KnowledgeBaseError, match="year of .project_support. is a whole number of years"):
        scenarios.load_scenarios(kb, [path])
