"""Hostile and careless input: each case one clear line on stderr, exit 2, no traceback.

Every profile below goes through the command line as an analyst's file would; the message
each must produce is asserted. The limits (file size, nesting, alias expansion) are in the
README ("Input limits").
"""

import time

import pytest

from engine.cli import main
from engine.errors import EvaluationError

from conftest import KB_DIR, edited_kb

CATALOGUE = [
    # (what, file content (str or bytes), words the message must contain)
    ("malformed YAML", "industry: [ict\nname: x\n", "malformed YAML"),
    ("malformed JSON", '{"industry": "ict",\n "name": }', "Expecting value"),
    ("not UTF-8", "name: 企业\n".encode("gbk"), "not UTF-8 text"),
    ("an empty file", "", "the profile is empty"),
    ("a list where a mapping belongs", "- industry: ict\n",
     "a profile is a mapping of fact names to values (e.g. `paid_in_capital: 1亿元`), not a list"),
    ("a bare string", "北京某科技有限公司\n", "a mapping of fact names to values (e.g. `paid_in_capital: 1亿元`), not text"),
    ("a bare number", "42\n", "a mapping of fact names to values (e.g. `paid_in_capital: 1亿元`), not a number"),
    ("a PNG renamed .yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
     "not a text file (it looks like a PNG image)"),
    ("a date with a time", "application_date: 2021-03-01T10:00:00\n",
     "'2021-03-01T10:00:00' has a time of day; write the date alone: 2021-03-01, 2021/3/1 or 2021年3月1日"),
    ("money with a currency code", "paid_in_capital: RMB 100,000,000\n",
     "'RMB 100,000,000' has a currency code; write the amount in yuan without it"),
    ("negative money where none can be", "paid_in_capital: -1.5万\n", "'-1.5万' is negative"),
    ("a short group after 亿", "paid_in_capital: 1亿5\n", "'1亿5' is ambiguous"),
    ("a boolean as money", "paid_in_capital: true\n", "true is not an amount of money"),
    ("a number as an enum", "industry: 3\n", "3 is not one of its values"),
    ("negative money", "paid_in_capital: -1\n", "is negative"),
    ("absurd money", "paid_in_capital: 1e30\n", "more than 10^15 yuan"),
    ("NaN money", "paid_in_capital: .nan\n", "not a finite amount"),
    ("infinite money", "paid_in_capital: .inf\n", "not a finite amount"),
    ("Chinese numerals with a decimal", "paid_in_capital: 一点五亿\n", "has a decimal in Chinese numerals"),
    ("a 5,000-digit amount", "paid_in_capital: " + "9" * 5000 + "\n", "(5,000 characters)' is more than 10^15 yuan"),
    ("foreign currency", "paid_in_capital: 500万美元\n", "is not in yuan (CNY)"),
    ("an ambiguous amount", "paid_in_capital: 1万5\n", "is ambiguous"),
    ("an impossible ISO date", "application_date: 2021-02-30\n", "'2021-02-30' is not a real date"),
    ("an impossible Chinese date", "application_date: 2021年13月1日\n", "is not a real date (month must be in 1..12)"),
    ("an unknown fact", "paid_in_captial: 1亿\n", "did you mean 'paid_in_capital'"),
    ("a duplicate key", "industry: ict\nindustry: finance\n", "duplicate key 'industry' (first at line 1)"),
    ("a YAML tag building a Python object", "name: !!python/object/apply:os.system [echo hi]\n",
     "the tag !!python/object/apply:os.system is not allowed"),
    ("a bad !!int", "paid_in_capital: !!int abc\n", "'abc' is not a whole number"),
    ("deep nesting", "name: " + "[" * 100 + "]" * 100 + "\n", "nesting deeper than 64 levels"),
]

ACCEPTED = [
    ("1 亿", 100_000_000), ("1亿5千万", 150_000_000), ("1,000万", 10_000_000), ("￥500万", 5_000_000),
    ("1.2亿元", 120_000_000), ("500万元", 5_000_000),
    # Issue 10, item 5: exact amounts written group by group.
    ("7亿8332万6434元", 783_326_434), ("3亿7825万4746元", 378_254_746), ("1亿2000万", 120_000_000),
    ("3亿0500万", 305_000_000), ("1万0005", 10_005), ("1亿500万", 105_000_000),
]


def _run(capsys, tmp_path, content, suffix=".yaml"):
    path = tmp_path / f"profile{suffix}"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code = main(["eval", str(path), "--kb", str(KB_DIR), "--format", "json", "--lang", "en"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("what, content, words", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_a_bad_profile_gets_one_clear_line_and_exit_2(capsys, tmp_path, what, content, words):
    suffix = ".json" if what == "malformed JSON" else ".yaml"
    code, out, err = _run(capsys, tmp_path, content, suffix)
    assert code == 2 and out == ""
    assert err.startswith("policykb: error: ") and words in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("written, yuan", ACCEPTED)
def test_unambiguous_money_strings_are_accepted(capsys, tmp_path, written, yuan):
    code, out, _ = _run(capsys, tmp_path, f"cultivation_investment: {written}\nregistered_in_xicheng: true\n"
                                          "cultivated_new_key_enterprise: true\napplication_date: 2022-01-01\n")
    assert code == 0
    expected = min(yuan // 10, 10_000_000)
    assert f'"min": {expected},' in out


def test_an_alias_bomb_is_refused_fast(capsys, tmp_path):
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 10):
        levels.append(f"{chr(97 + n)}: &{chr(97 + n)} [" + ", ".join([f"*{chr(96 + n)}"] * 9) + "]")
    started = time.process_time()
    code, _, err = _run(capsys, tmp_path, "\n".join(levels) + "\n")
    used = time.process_time() - started
    assert code == 2 and "alias bomb" in err
    assert used < 5   # refused before expansion (9^10 values would take far longer and all memory)


def test_an_oversized_file_is_refused(capsys, tmp_path):
    code, _, err = _run(capsys, tmp_path, "name: " + "x" * (6 * 1024 * 1024) + "\n")
    assert code == 2 and "larger than 5 MiB" in err


@pytest.mark.parametrize("file, old, new, words", [
    ("documents/digital_economy_measures/rules/article_13_2_5.yaml", "  - id: talent_services.qualified_talent\n",
     "  - id: !!python/object/apply:os.system talent_services.qualified_talent\n", "is not allowed"),
    ("documents/digital_economy_measures/rules/article_13_2_5.yaml", "    cites: 13(5)\n", "", "has no 'cites'"),
    ("documents/digital_economy_measures/rules/articles_01_02_definitions.yaml", "      fact: digital_economy_business\n      is: true",
     "      conclusion: support_target", "cycle"),
    ("facts.yaml", "facts:\n", "bomb: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"b{n}: &{chr(98 + n)} [" + ", ".join([f"*{chr(97 + n)}"] * 9) + "]\n" for n in range(8)) + "facts:\n",
     "alias bomb"),
])
def test_a_broken_knowledge_base_is_reported_with_file_and_line(capsys, tmp_path, file, old, new, words):
    copy = edited_kb(tmp_path, file, old, new)
    path = copy / file
    code = main(["check", "--kb", str(copy), "--no-scenarios"])
    out, err = capsys.readouterr()
    assert code == 2 and words in out and f"{path}:" in out and "Traceback" not in out + err


def test_an_internal_error_names_the_rule_and_the_profile_and_the_next_evaluation_is_right(kb, monkeypatch, base_profile):
    import engine
    from engine.inferring.evaluation import reasoner
    runtime = reasoner(kb).engine
    good = engine.evaluate(base_profile, kb=kb)

    def broken(fact):
        raise RuntimeError("injected")

    monkeypatch.setattr(runtime, "_assert", broken)
    with pytest.raises(EvaluationError) as err:
        engine.evaluate(base_profile, kb=kb)
    assert err.value.rule_id and "测试企业" in err.value.message and "injected" in err.value.message
    monkeypatch.undo()
    assert engine.evaluate(base_profile, kb=kb) == good


def test_a_long_plain_list_is_not_called_an_alias_bomb(capsys, tmp_path, monkeypatch):
    # Issue 10, item 8; the limit is lowered so that the list is quick to compose.
    from engine.loading import yamlio
    monkeypatch.setattr(yamlio, "MAX_EXPANDED_NODES", 1_000)
    code, out, err = _run(capsys, tmp_path, "name: 企业\nstandards_led:\n" + "- industry\n" * 3_000)
    assert code == 0 and "alias bomb" not in err
    assert '"enterprise": "企业"' in out


@pytest.mark.parametrize("written", ["-9990", "-1.5万", '"-9990元"'])
def test_a_negative_contribution_increment_is_read_and_earns_nothing(capsys, tmp_path, written):
    # Issue 10, item 6: "an increment of zero or less earns nothing" (13(4)), denied, not an error.
    profile = (KB_DIR / "examples" / "building_operator.yaml").read_text(encoding="utf-8")
    profile = profile.replace("introduced_contribution_increment: 1800万元",
                              f"introduced_contribution_increment: {written}")
    code, out, err = _run(capsys, tmp_path, profile)
    assert code == 0 and err == "", err
    assert '"building_operator_reward": "denied"' in out
    assert '"building_renovation_support": "granted"' in out
