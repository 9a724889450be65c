"""The semantic linter (engine/authoring/lint.py), one broken fixture per finding (tests/fixtures/bad/),
and the checks against the text (engine/authoring/quotes.py)."""

import shutil
from fractions import Fraction

import pytest
import yaml

from engine.authoring.lint import lint
from engine.authoring.quotes import quote_numbers
from engine.loading.reader import first_difference
from engine.cli import main

from conftest import FIXTURES, KB_DIR

CASES = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


def _broken_copy(case, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "minimal", kb)
    for path in case.rglob("*"):
        if path.is_file() and path.name != "expected.yaml":
            target = kb / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return kb


def _copy(tmp_path, fixture="mcdc"):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / fixture, kb)
    return kb


def test_the_fixtures_and_the_bundled_knowledge_base_have_no_findings():
    assert lint(FIXTURES / "mcdc") == []
    assert lint(KB_DIR) == []


def test_the_minimal_fixture_quotes_every_amount_it_grants():
    """tests/fixtures/minimal caps grant B at 100元 per square metre, and its quote says so."""
    assert [f.text() for f in lint(FIXTURES / "minimal")] == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_finding_is_reported_with_its_file_line_and_message(case, tmp_path):
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    kb = _broken_copy(case, tmp_path)
    findings = [f for f in lint(kb) if f.code == expected["code"]]
    assert findings, f"no {expected['code']} finding; got {[f.text() for f in lint(kb)]}"
    finding = findings[0]
    assert finding.severity == expected["severity"]
    assert finding.file == str(kb / expected["file"])
    assert finding.line == expected["line"]
    assert expected["message"] in finding.message
    for key in ("rule_id", "suggestion"):
        if key in expected:
            assert getattr(finding, key) == expected[key]


def test_every_finding_code_has_a_fixture():
    from engine.authoring import lint as module
    codes = {yaml.safe_load((c / "expected.yaml").read_text(encoding="utf-8"))["code"] for c in CASES}
    documented = {line.split("``")[1] for line in module.__doc__.splitlines() if line.startswith("``")}
    assert documented <= codes


# --------------------------------------------------------------------------- amounts against their quote

@pytest.mark.parametrize("quote, money, percents", [
    ("给予500万到2000万元补助", {5_000_000, 20_000_000}, set()),
    ("实收资本1亿元人民币（含1亿元人民币）以上的", {100_000_000}, set()),
    ("最高按照实际投资额的30%且每平方米不超过1500元，最高600万元", {1500, 6_000_000}, {30}),
    ("按照不超过增量10％的比例", set(), {10}),
    ("给予五百万元至两千万元补助", {5_000_000, 20_000_000}, set()),
    ("按照百分之十给予补助，最高一千万元", {10_000_000}, {10}),
    ("给予一次性最高5000万元（含）的开业设立补助", {50_000_000}, set()),
    ("给予1.5亿元支持", {150_000_000}, set()),
])
def test_the_numbers_of_a_quote_are_read_with_their_units(quote, money, percents):
    found_money, found_percents = quote_numbers(quote)
    assert money <= set(found_money) and {Fraction(p) for p in percents} <= found_percents


@pytest.mark.parametrize("old, new, says, hint", [
    ("range: {min: 100万元, max: 200万元}", "range: {min: 100万元, max: 300万元}", "the range's max, 300万元", "200万元"),
    ("range: {min: 100万元, max: 200万元}", "range: {min: 10万元, max: 200万元}", "the range's min, 10万元", "100万元"),
    ("up_to: 50万元", "up_to: 500万元", "the up_to ceiling, 500万元", "50万元"),
    ("share: 10%", "share: 20%", "the share, 20%", "10%"),
    ("- max: 30万元", "- max: 3000万元", "the cap's max, 3000万元", "30万元"),
    ("{per_unit: 100元, per: area}", "{per_unit: 1000元, per: area}", "the cap's per-unit amount, 1000元", "100元"),
])
def test_an_amount_whose_number_is_not_in_its_quote_is_an_error_at_its_line(tmp_path, old, new, says, hint):
    kb = _copy(tmp_path)
    path = kb / "rules" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    (finding,) = [f for f in lint(kb) if f.code == "amount-quote"]
    line = next(n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if new in row)
    assert (finding.severity, finding.file, finding.line, finding.suggestion) == ("error", str(path), line, hint)
    assert finding.message.startswith(says + ", is not a number of the rule's quote (")
    assert f"did you mean '{hint}'?" in finding.text()


# --------------------------------------------------------------------------- unused conclusions

def test_a_chain_of_internal_conclusions_nothing_uses_is_unused_from_end_to_end(tmp_path):
    """step_one is used by the rule of step_two, which nothing uses: both are dead. Before, only
    the last step of the chain was reported."""
    kb = _copy(tmp_path)
    rules = kb / "rules" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("\nprecedence:", """
  - id: step_one.recognized
    cites: 2(1)
    quote: 对经认定的甲类、乙类企业
    when: {fact: recognized, is: true}
    then: step_one
    explain: {zh: 一。, en: One.}

  - id: step_two.after_one
    cites: 2(1)
    quote: 对经认定的甲类、乙类企业
    when: {conclusion: step_one}
    then: step_two
    explain: {zh: 二。, en: Two.}

precedence:"""), encoding="utf-8")
    conclusions = kb / "conclusions.yaml"
    conclusions.write_text(conclusions.read_text(encoding="utf-8").replace("benefits:", (
        "  - {id: step_one, article: 2(1), zh: 一, en: Step one, internal: true}\n"
        "  - {id: step_two, article: 2(1), zh: 二, en: Step two, internal: true}\nbenefits:")), encoding="utf-8")
    found = {f.message for f in lint(kb, scenarios=False) if f.code == "unused-conclusion"}
    assert found == {"internal conclusion 'step_two' is used by no rule and not reported: nothing depends on it",
                     "internal conclusion 'step_one' is used only by rules deriving step_two, which nothing uses "
                     "either, and is not reported: nothing depends on it"}
    # A reported conclusion (internal: false) counts as used, and so do the steps it stands on.
    conclusions.write_text(conclusions.read_text(encoding="utf-8").replace(
        "en: Step two, internal: true}", "en: Step two}"), encoding="utf-8")
    assert [f for f in lint(kb, scenarios=False) if f.code == "unused-conclusion"] == []


# --------------------------------------------------------------------------- scenarios that do not load

@pytest.mark.parametrize("name, text, line, words, hint", [
    ("broken.yaml", "- name: x\n  input: {a: [\n", 3, "malformed YAML", None),
    ("unknown.yaml", "- name: x\n  extends: one\n  input: {capitl: 5}\n  output: {}\n", 3, "unknown fact 'capitl'",
     "capital"),
    ("value.yaml", "- name: x\n  extends: one\n  input:\n    sector: z\n  output: {}\n", 4, "'z' is not one of",
     None),
    ("status.yaml", "- name: x\n  extends: one\n  input: {}\n  output:\n    status: {grant_a: grantd}\n", 5,
     "the status of 'grant_a' is one of granted, denied, undetermined", "granted"),
    ("key.yaml", "- name: x\n  extends: one\n  input: {}\n  output:\n    overlap: []\n", 5,
     "unknown output key 'overlap'", "overlaps"),
    ("other.yml", "- name: x\n  extends: one\n  input: {}\n  output:\n    not_benefits: [grnt_a]\n", 5,
     "'grnt_a' in not_benefits is not a benefit", "grant_a"),
])
def test_a_scenario_file_that_does_not_load_is_an_error_in_check(tmp_path, capsys, name, text, line, words, hint):
    kb = _copy(tmp_path)
    (kb / "scenarios" / name).write_text(text, encoding="utf-8")
    (finding,) = [f for f in lint(kb) if f.code == "bad-scenario"]
    assert (finding.severity, finding.file, finding.line) == ("error", str(kb / "scenarios" / name), line)
    assert words in finding.message and finding.suggestion == hint
    assert main(["check", "--kb", str(kb), "--strict"]) == 2
    assert "error[bad-scenario]" in capsys.readouterr().out


# --------------------------------------------------------------------------- quotes and texts

def test_a_quote_not_in_its_clause_shows_both_texts_from_the_first_character_that_differs(tmp_path):
    kb = _copy(tmp_path)
    path = kb / "rules" / "rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("给予100万到200万元补助", "给予100万到300万元补助"),
                    encoding="utf-8")
    (finding,) = lint(kb)
    assert finding.code == "quote" and finding.line == 21
    assert finding.message == ("the quote is not in the text of 2(1): they agree up to '…元以上的，给予100万到' "
                               "(character 19 of the quote is the first that differs), then the quote has "
                               "'300万元补助…' where the text of 2(1) has '200万元补助。…'")


def test_first_difference_shows_both_sides():
    assert first_difference("甲乙丙丁", "甲乙戊己庚", ("a", "b")) == (
        "they agree up to '…甲乙' (character 3 of a is the first that differs), then a has '丙丁…' where b has '戊己庚…'")
    assert first_difference("子丑", "甲乙", ("a", "b")).startswith("not even its first character is in b")
