"""policykb draft: a document drafted from its published text (engine/authoring/drafting.py,
draft_text.py, draft_rules.py).

The drafts are checked as data (yaml.safe_load): the loader does not yet know ``draft: true``,
so a knowledge base holding draft rules does not load. The recall test measures the draft of
the shipped texts against the hand-written knowledge base, whatever it holds when it runs.
"""

from __future__ import annotations

import argparse
import shutil
from fractions import Fraction

import pytest
import yaml

from conftest import FIXTURES, KB_DIR
from engine.authoring import draft_text
from engine.authoring.draft_rules import read_vocabulary
from engine.authoring.drafting import command, draft, files, read_source, recall
from engine.cli import main
from engine.errors import ProfileError
from engine.loading.documents import Citations, read_document
from engine.loading.reader import normalize
from engine.loading.values import parse_money, parse_percent

CULTURE = FIXTURES / "draft" / "culture_measures.txt"
SHIPPED = sorted(KB_DIR.glob("documents/*/source.txt"))


@pytest.fixture(scope="module")
def vocabulary():
    return read_vocabulary(KB_DIR)


@pytest.fixture(scope="module")
def culture(vocabulary):
    """The fixture text drafted: every rule by the clause it cites."""
    result = draft(read_source(CULTURE), "culture_measures_2023", vocabulary)
    return {rule["cites"]: rule for rule in result.rules}, result


def _args(source, document_id="culture_measures_2023", **options):
    values = {"source": str(source), "id": document_id, "out": None, "force": False, "lang": "zh", "kb": None}
    values.update(options)
    return argparse.Namespace(**values)


def _tests(rule) -> dict:
    """A rule's fact tests by fact: {fact: (operator, value)}."""
    return {c["fact"]: next((k, v) for k, v in c.items() if k != "fact") for c in rule["when"]["all"] if "fact" in c}


# ---------------------------------------------------------------- measured recall

def test_the_draft_finds_every_article_and_clause_and_the_amounts_of_the_shipped_texts(kb):
    measured = recall(kb)
    parts, amounts = measured["parts"], measured["amounts"]
    assert parts["total"] and amounts["total"], "the knowledge base encodes parts and amounts to measure against"
    assert parts["found"] == parts["total"], f"articles and clauses not found: {parts['missed']}"
    assert amounts["found"] / amounts["total"] >= 0.95, f"amounts not found: {amounts['missed']}"
    assert set(measured["documents"]) == set(kb.documents)


# ---------------------------------------------------------------- what a sentence states

@pytest.mark.parametrize("sentence, op", [
    ("对实收资本1亿元以上的企业，给予奖励", "at_least"),
    ("对实收资本1亿元（含）以上的企业，给予奖励", "at_least"),
    ("对营业收入不低于1亿元的企业，给予奖励", "at_least"),
    ("对营业收入超过1亿元的企业，给予奖励", "more_than"),
    ("对营业收入高于1亿元的企业，给予奖励", "more_than"),
    ("对实收资本1亿元（不含）以上的企业，给予奖励", "more_than"),
    ("对营业收入1亿元以下的企业，给予奖励", "at_most"),
    ("对营业收入不高于1亿元的企业，给予奖励", "at_most"),
    ("对营业收入不超过1亿元的企业给予奖励", "at_most"),
    ("对营业收入低于1亿元的企业，给予奖励", "less_than"),
    ("对营业收入不满1亿元的企业，给予奖励", "less_than"),
    ("对营业收入不足1亿元的企业，给予奖励", "less_than"),
])
def test_a_threshold_includes_or_excludes_its_number_as_the_text_says(sentence, op):
    [threshold] = [f for f in draft_text.analyse(sentence) if f.kind == "threshold"]
    assert (threshold.op, threshold.value, threshold.quantity) == (op, 100_000_000, "money")


def test_a_count_threshold_and_its_subject():
    [threshold] = [f for f in draft_text.analyse("对年营业收入2000万元以下且员工人数不满50人的企业，给予补助")
                   if f.quantity == "count"]
    assert (threshold.op, threshold.value, threshold.subject) == ("less_than", 50, "员工人数")


def test_not_exceeding_in_the_grant_is_a_cap_not_a_threshold():
    findings = draft_text.analyse("对符合条件的企业，给予不超过100万元的补助")
    assert [(f.kind, f.value) for f in findings] == [("cap", 1_000_000)]


@pytest.mark.parametrize("written, yuan", [
    ("一千万元", 10_000_000), ("一亿五千万元", 150_000_000), ("壹亿伍仟万元", 150_000_000),
    ("两千万元", 20_000_000), ("一点五亿元", 150_000_000), ("1.5亿元", 150_000_000), ("500万元", 5_000_000),
])
def test_amounts_in_chinese_numerals_and_digits_are_integer_yuan(written, yuan):
    [amount] = draft_text.analyse(f"给予企业一次性{written}奖励")
    assert amount.kind == "amount" and amount.value == yuan and type(amount.value) is int


def test_a_share_in_chinese_numerals_is_an_exact_fraction():
    [share] = draft_text.analyse("按照投资额的百分之十二点五给予补助")
    assert (share.kind, share.value, share.bound) == ("share", Fraction(1, 8), "fixed")


def test_periods_are_read_with_their_years():
    findings = draft_text.analyse("自企业设立登记之日起三年内，每年给予补贴，连续五年")
    periods = {f.bound: f for f in findings if f.kind == "period"}
    assert periods["since"].value == 3 and periods["since"].subject == "企业设立登记"
    assert periods["consecutive"].value == 5 and "per_year" in periods


def test_the_text_of_a_document_s_title_is_neither_a_grant_nor_an_amount():
    unit = draft_text.Unit("1", 1, "第一条 依据《西城区支持企业1000万元以上项目的办法》执行。", start=4)
    assert draft_text.sentences(unit) == []


# ---------------------------------------------------------------- the draft rules

def test_a_threshold_proposes_a_test_on_the_known_fact_its_words_name(culture):
    rules, _ = culture
    assert _tests(rules["2(1)"])["paid_in_capital"] == ("at_least", "5000万元")
    assert _tests(rules["2(1)"])["establishment"] == ("is", "new")


def test_thresholds_on_unknown_facts_propose_new_facts_named_once_per_label(culture):
    rules, result = culture
    grown, small = _tests(rules["2(2)"]), _tests(rules["2(3)"])
    [revenue] = [f["id"] for f in result.new_facts if f["zh"] == "年营业收入"]
    assert grown[revenue] == ("more_than", "1亿元") and small[revenue] == ("at_most", "2000万元")
    [staff] = [f["id"] for f in result.new_facts if f["zh"] == "员工人数"]
    assert small[staff] == ("less_than", 50)
    assert any(revenue in note and "年营业收入" in note for note in rules["2(2)"]["review"])


def test_chinese_numeral_amounts_become_the_amount(culture):
    rules, _ = culture
    assert rules["2(1)"]["amount"] == {"range": {"min": "1000万元", "max": "1000万元"}}   # 一千万元, across a page break
    assert rules["2(2)"]["amount"]["share"] == "20%"                                    # 百分之二十
    assert rules["2(5)"]["amount"]["up_to"] == "100万元"                                 # 壹佰万元


def test_a_per_year_amount_and_a_cumulative_cap(culture):
    rules, result = culture
    rule = rules["2(5)"]                  # 每年给予最高壹佰万元奖励，连续三年，累计不超过300万元
    [received] = [f["id"] for f in result.new_facts if f["zh"] == "已获领军人才奖励累计金额"]
    assert rule["amount"] == {"up_to": "100万元", "per_year": {"years": 3},
                              "cumulative": {"max": "300万元", "received": received}}
    assert _tests(rule)[received] == ("less_than", "300万元")     # the loader needs the fact tested
    assert any(note.startswith("per_year: 每年, 连续三年") for note in rule["review"])
    assert any(note.startswith("cumulative cap: 累计不超过300万元") for note in rule["review"])


def test_a_per_year_amount_counted_from_a_date_names_the_date_fact(vocabulary):
    sentence = "（一）对新设立的企业，自企业设立登记之日起三年内，每年给予最高100万元补贴。"
    result = draft(f"第一条 支持措施：\n{sentence}\n", "yearly", vocabulary)
    [rule] = result.rules
    assert rule["amount"]["per_year"] == {} and _tests(rule)["registration_date"] == ("within_years", 3)
    sentence = "（一）对新设立的企业，自企业设立登记之日起三年内，连续三年每年给予最高100万元补贴。"
    [rule] = draft(f"第一条 支持措施：\n{sentence}\n", "yearly", vocabulary).rules
    assert rule["amount"]["per_year"] == {"years": 3, "from": "registration_date"}


def test_a_per_unit_cap_sits_under_the_share_with_the_quantity_it_multiplies(culture):
    rules, _ = culture
    amount = rules["2(4)"]["amount"]
    assert amount["share_is"] == "fixed"
    assert amount["caps"] == [{"per_unit": "800元", "per": "renovated_area_m2"}, {"max": "200万元"}]
    tested = _tests(rules["2(4)"])
    assert tested[amount["of"]] == ("more_than", "0元") and tested["renovated_area_m2"] == ("more_than", 0)


def test_a_named_document_is_deferred_to_and_a_new_one_proposed(culture):
    rules, result = culture
    assert result.new_subpolicies == {"北京市西城区文化产业专项资金管理办法": "new_subpolicy_1"}
    assert rules["2(4)"]["defers_to"] == ["new_subpolicy_1"]
    assert "# Sub-policies these drafts propose" in files(result)["rules/draft.yaml"]


def test_a_recognition_is_a_condition_on_an_administrative_fact(culture):
    rules, result = culture
    [recognized] = [f for f in result.new_facts if f["zh"] == "经认定（成长奖励）"]
    assert recognized["administrative"] and recognized["type"] == "bool"
    assert _tests(rules["2(2)"])[recognized["id"]] == ("is", True)


def test_known_facts_values_and_subpolicies_are_used_for_the_shipped_text(vocabulary):
    path = KB_DIR / "documents" / "industry_development_measures_2022" / "source.txt"
    result = draft(read_source(path), "industry_development_measures_2022", vocabulary)
    [rule] = [r for r in result.rules if r["cites"] == "2(1)"]
    tests = _tests(rule)
    assert tests["registration_date"] == ("within_years", 3)      # 自企业设立登记之日起三年内
    assert tests["startup_subsidy_recognized"] == ("is", True)    # 经认定, the recognition fact of the clause
    assert rule["amount"] == {"up_to": "5000万元"}


def test_every_draft_rule_is_marked_quotes_its_article_and_has_a_loadable_amount(vocabulary):
    for source in SHIPPED + [CULTURE]:
        result = draft(read_source(source), "a_document", vocabulary)
        texts = {str(a["article"]): a["text"] for a in result.document["articles"]}
        texts.update({c["clause"]: c["text"] for a in result.document["articles"] for c in a.get("clauses", [])})
        rules = yaml.safe_load(files(result)["rules/draft.yaml"])["rules"]
        assert rules
        for rule in rules:
            assert rule["draft"] is True and rule["review"]
            assert normalize(rule["quote"]) in normalize(texts[rule["cites"]])
            assert set(rule) - {"draft", "review"} <= {"id", "cites", "quote", "when", "then", "amount",
                                                       "defers_to", "explain"}
            amount = rule["amount"]
            for money in [*(amount.get("range") or {}).values(), amount.get("up_to")]:
                assert money is None or parse_money(money) > 0
            assert "share" not in amount or parse_percent(amount["share"])


# ---------------------------------------------------------------- the document

def test_document_yaml_loads_and_its_texts_are_in_source_txt(tmp_path):
    assert command(_args(CULTURE, out=str(tmp_path / "culture"))) == 0
    document = read_document(tmp_path / "culture", Citations(), home=True)
    assert (document.id, document.data["doc_number"]) == ("culture_measures_2023", "西城政办发〔2023〕5号")
    assert str(document.data["issue_date"]) == "2023-03-15" and str(document.data["effective_date"]) == "2023-04-01"
    assert str(document.data["expiry_date"]) == "2026-03-31"                     # 有效期三年
    assert document.title == "北京市西城区促进文化产业发展若干措施"
    data = yaml.safe_load((tmp_path / "culture" / "document.yaml").read_text(encoding="utf-8"))
    source = normalize((tmp_path / "culture" / "source.txt").read_text(encoding="utf-8"))
    articles = data["articles"]
    assert [a["article"] for a in articles] == [1, 2, 3]
    assert [c["clause"] for c in articles[1]["clauses"]] == ["2(1)", "2(2)", "2(3)", "2(4)", "2(5)"]
    assert articles[0]["title"] == "适用范围" and articles[1]["title_en"].startswith("TODO")
    for part in articles + articles[1]["clauses"]:
        assert normalize(part["text"]) in source


def test_source_txt_has_one_article_or_clause_a_line_in_full_width_punctuation(tmp_path):
    command(_args(CULTURE, out=str(tmp_path / "c")))
    lines = (tmp_path / "c" / "source.txt").read_text(encoding="utf-8").splitlines()
    assert "（一）落户奖励。对新设立的文化企业，实收资本5000万元（含）以上的，给予一次性一千万元奖励。" in lines
    assert "西城政办发〔2023〕5号" in lines and "2023年3月15日" in lines
    assert not any(mark in line for line in lines for mark in ",;:()")


def test_a_date_or_issuer_the_text_does_not_give_is_null(tmp_path):
    source = tmp_path / "some.txt"
    source.write_text("某某措施\n第一条 对企业给予奖励。\n", encoding="utf-8")
    command(_args(source, "some_measures", out=str(tmp_path / "some")))
    document = read_document(tmp_path / "some", Citations(), home=True)
    meta = document.data
    assert (meta["issue_date"], meta["effective_date"], meta["expiry_date"], meta["doc_number"]) == (None,) * 4
    assert meta["issuer"] is None and document.title == "某某措施"


def test_the_same_text_gives_the_same_bytes(tmp_path):
    for name in ("one", "two"):
        command(_args(CULTURE, out=str(tmp_path / name)))
    for name in ("source.txt", "document.yaml", "rules/draft.yaml"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


# ---------------------------------------------------------------- the command

def test_draft_writes_into_the_knowledge_base_given_and_reports(tmp_path, capsys):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "minimal", kb)
    assert main(["draft", str(CULTURE), "--id", "culture_measures_2023", "--kb", str(kb), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (kb / "documents" / "culture_measures_2023" / "rules" / "draft.yaml").is_file()
    assert "3 articles, 5 clauses; 5 draft rules" in out and "docs/authoring.md" in out


def test_draft_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "culture"
    assert main(["draft", str(CULTURE), "--id", "culture", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["draft", str(CULTURE), "--id", "culture", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["draft", str(CULTURE), "--id", "culture", "--out", str(out), "--force"]) == 0


@pytest.mark.parametrize("bad", ["Culture", "culture-measures", "2023_culture", ""])
def test_a_bad_id_is_refused(bad, capsys):
    with pytest.raises(ProfileError, match="lower_snake_case"):
        command(_args(CULTURE, document_id=bad))
    assert main(["draft", str(CULTURE), "--id", bad]) == 2
    assert "lower_snake_case" in capsys.readouterr().err


def test_unreadable_texts_are_one_line_errors(tmp_path, capsys):
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x89PNG\0\0")
    empty = tmp_path / "empty.txt"
    empty.write_text("没有条文的一段话。\n", encoding="utf-8")
    for path, message in ((tmp_path / "missing.txt", "no such file"), (binary, "not a text file"),
                          (empty, "no article found"), (tmp_path, "is a folder")):
        assert main(["draft", str(path), "--id", "x", "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_a_gb18030_text_is_read(tmp_path, vocabulary):
    path = tmp_path / "gbk.txt"
    path.write_bytes(read_source(CULTURE).encode("gb18030"))
    assert draft(read_source(path), "culture", vocabulary).counts["rules"] == 5


@pytest.mark.parametrize("hostile", ["给予" + "1" * 5000 + "元", "给予" + "一" * 5000 + "元", "按照百分之百百给予",
                                     "对员工百百人以上的给予补助", "自登记之日起百百年内给予", "第百条 给予补助。"])
def test_a_hostile_sentence_is_read_quickly_and_never_raises(hostile, vocabulary):
    import time
    start = time.perf_counter()
    draft_text.analyse(hostile)
    draft(hostile + "\n", "hostile", vocabulary) if hostile.startswith("第") else None
    assert time.perf_counter() - start < 2


def test_a_text_too_large_is_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (4 * 2**20 + 1))
    with pytest.raises(ProfileError, match="larger than"):
        read_source(big)
