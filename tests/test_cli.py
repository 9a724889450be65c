"""The policykb command line (engine/cli.py), run as a user runs it."""

import json
import os
import subprocess
import sys

import pytest

from engine.cli import main

from conftest import KB_DIR, REPO, edited_kb

EXAMPLE = str(KB_DIR / "examples" / "new_ict_key_enterprise.yaml")


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_prints_a_readable_summary(capsys):
    code, out, err = _run(capsys, "eval", EXAMPLE)
    assert code == 0 and err == ""
    assert "北京数智云图科技有限公司" in out and "入驻补助 (settlement_subsidy)" in out
    assert "500万元 – 2,000万元" in out


def test_eval_json_is_the_evaluate_result(capsys):
    code, out, _ = _run(capsys, "eval", EXAMPLE, "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["as_of"] == "2021-09-15"
    assert [b["id"] for b in result["benefits"]][:2] == ["settlement_subsidy", "rent_subsidy"]


def test_eval_as_of_and_english(capsys):
    code, out, _ = _run(capsys, "eval", EXAMPLE, "--as-of", "2024-03-01", "--lang", "en")
    assert code == 0 and "Benefits:\n  (none)" in out


def test_why_prints_the_tree_and_json(capsys):
    code, out, _ = _run(capsys, "why", EXAMPLE, "settlement_subsidy")
    assert code == 0 and "“对新设立或者新迁入的重点数字经济企业" in out
    code, out, _ = _run(capsys, "why", EXAMPLE, "settlement_subsidy", "--format", "json")
    tree = json.loads(out)
    assert tree["rule"] == "settlement_subsidy.capital_threshold" and tree["children"]


def test_check_validates_the_bundled_knowledge_base_strictly(capsys):
    code, out, _ = _run(capsys, "check", "--kb", str(KB_DIR), "--strict")
    assert code == 0 and out.startswith("ok:") and "0 errors, 0 warnings" in out
    assert "digital_economy_measures: 19 of 19 available articles and clauses encoded" in out
    assert "implementation_rules_2021:" in out and "text partial" in out


def test_check_reports_a_broken_knowledge_base_with_file_and_line(capsys, tmp_path):
    copy = edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_2_5.yaml", "fact: qualified_talent", "fact: qualified_talnet")
    rules = copy / "documents" / "digital_economy_measures" / "rules" / "article_13_2_5.yaml"
    code, out, err = _run(capsys, "check", "--kb", str(copy))
    assert code == 2 and "Traceback" not in out + err
    assert f"{rules}:" in out and "error[unknown-reference]" in out and "did you mean 'qualified_talent'" in out
    code, out, _ = _run(capsys, "check", "--kb", str(copy), "--format", "json")
    findings = json.loads(out)
    assert code == 2 and isinstance(findings, list) and findings[0]["file"] == str(rules)
    assert findings[0]["code"] == "unknown-reference" and findings[0]["suggestion"] == "qualified_talent"


def test_check_strict_fails_on_warnings(capsys, tmp_path):
    import shutil
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    facts = copy / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "\n  - id: staff_count\n    type: number\n    unit: persons\n"
                     "    zh: 员工人数\n    en: Staff\n    source: \"2\"\n", encoding="utf-8")
    code, out, _ = _run(capsys, "check", "--kb", str(copy), "--no-scenarios")
    assert code == 0 and "warning[unused-fact]" in out
    code, _, _ = _run(capsys, "check", "--kb", str(copy), "--no-scenarios", "--strict")
    assert code == 2


@pytest.mark.parametrize("content, words", [
    ("industri: ict\n", "did you mean 'industry'"),
    ("industry: fintech\n", "allowed: ict, finance"),
    ("paid_in_capital: 一点五亿\n", "Chinese numerals"),
    ("a: [1,\n", "p.yaml:2"),
    ("- industry: ict\n", "mapping of fact names"),
    ("", "empty"),
])
def test_a_bad_profile_is_one_line_on_stderr_and_exit_2(capsys, tmp_path, content, words):
    path = tmp_path / "p.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = _run(capsys, "eval", str(path), "--lang", "en")
    assert code == 2 and out == "" and words in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("policykb: error:")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_mistake_of_a_profile_is_told_at_once_in_the_readers_language(capsys, tmp_path, lang):
    from engine.loading.kb import load
    kb = load(KB_DIR)
    path = tmp_path / "p.yaml"
    # 2021-02-30 is a date to YAML itself: it is told like any other date that is no date.
    path.write_text("name: 甲\nindustry: fintec\npaid_in_capital: 五百万美元\napplication_date: 2021-02-30\n",
                    encoding="utf-8")
    code, out, err = _run(capsys, "eval", str(path), "--lang", lang)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 3 and all(line.startswith("policykb: error: ") for line in lines)
    for line, number, fact in zip(lines, (2, 3, 4), ("industry", "paid_in_capital", "application_date")):
        label = kb.facts[fact].zh if lang == "zh" else fact
        assert f"p.yaml:{number}: {label}" in line
    assert ("不是真实存在的日期" if lang == "zh" else "is not a real date") in lines[2]


@pytest.mark.parametrize("content, words", [
    ("paid_in_capital: -5000万\n", "实收资本（paid_in_capital）：“-5000万”是负数"),
    ("industri: ict\n", "未知的事实“industri”（是否想写 'industry'？）"),
    ("application_date: 2023/13/45\n", "申请日期（application_date）：“2023/13/45”不是真实存在的日期"),
    ("registered_in_xicheng: maybe\n", "驻区企业（registered_in_xicheng）"),
])
def test_a_bad_profile_is_told_in_chinese_by_default_and_names_the_fact_by_its_label(capsys, tmp_path, content, words):
    path = tmp_path / "p.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = _run(capsys, "eval", str(path))
    assert code == 2 and out == "" and words in err and err.startswith("policykb: error: ")


def test_a_bad_id_for_why_exits_2_with_a_suggestion(capsys):
    code, _, err = _run(capsys, "why", EXAMPLE, "rent_subsidies")
    assert code == 2 and "did you mean 'rent_subsidy'" in err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["eval", EXAMPLE, "--format", "xml"])
    assert exit_.value.code == 2


def test_the_command_runs_from_another_folder(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "engine.cli", "eval", EXAMPLE, "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["benefits"]


def test_why_not_proposes_changes_and_json_carries_them(capsys, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(open(EXAMPLE, encoding="utf-8").read().replace("paid_in_capital: 1.2亿元", "paid_in_capital: 8000万"),
                    encoding="utf-8")
    code, out, _ = _run(capsys, "why-not", str(path), "settlement_subsidy")
    assert code == 0 and "实收资本: 8,000万元 → 1亿元" in out
    code, out, _ = _run(capsys, "why-not", str(path), "settlement_subsidy", "--format", "json", "--lang", "en")
    node = json.loads(out)
    assert node["status"] == "denied" and node["alternatives"][0]["changes"][0]["to"] == 100_000_000


def test_eval_json_has_status_for_every_id_and_next_facts(capsys):
    code, out, _ = _run(capsys, "eval", str(KB_DIR / "examples" / "smart_health_startup.yaml"), "--format", "json")
    result = json.loads(out)
    import engine
    assert set(result["status"]) == set(engine.load(KB_DIR).conclusions)
    assert set(result["status"].values()) == {"granted", "denied", "undetermined"}
    assert result["next_fact"]["rent_subsidy"] == "key_enterprise_recognized"


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_report_writes_a_file(capsys, tmp_path, suffix):
    out = tmp_path / f"report{suffix}"
    code, _, err = _run(capsys, "report", EXAMPLE, "--out", str(out), "--lang", "en")
    assert code == 0 and out.is_file() and "wrote" in err
    assert "Settlement subsidy" in out.read_text(encoding="utf-8")


def test_report_refuses_an_unknown_format(capsys, tmp_path):
    code, _, err = _run(capsys, "report", EXAMPLE, "--out", str(tmp_path / "r.pdf"))
    assert code == 2 and ".html or .md" in err


def test_test_runs_the_scenarios_and_reports_failures_side_by_side(capsys, tmp_path):
    code, out, _ = _run(capsys, "test", "--kb", str(KB_DIR))
    assert code == 0 and out.strip().endswith("0 failed")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: A deliberately wrong expectation\n  extends: new_ict_key_enterprise\n  input: {}\n"
                   "  output:\n    benefits:\n      settlement_subsidy: {min: 600万元}\n", encoding="utf-8")
    code, out, _ = _run(capsys, "test", "--kb", str(KB_DIR), str(bad))
    assert code == 1
    assert f"FAIL {bad}:1 A deliberately wrong expectation: settlement_subsidy: expected min 6000000, got 5000000" in out
    assert out.strip().endswith("0 passed, 1 failed")


def test_diff_and_impact_from_the_command_line(capsys):
    code, out, _ = _run(capsys, "diff", "--old", str(KB_DIR), "--new", str(KB_DIR), str(KB_DIR / "examples"))
    from engine.authoring.diff import profile_files
    assert code == 0 and f"0 of {len(profile_files([KB_DIR / 'examples']))} profiles differ" in out
    code, out, _ = _run(capsys, "impact", "paid_in_capital", "--kb", str(KB_DIR), "--format", "json")
    assert "settlement_subsidy" in json.loads(out)["benefits"]


def test_schema_prints_the_profile_schema(capsys):
    code, out, _ = _run(capsys, "schema", "--kb", str(KB_DIR))
    schema = json.loads(out)
    assert code == 0 and schema["properties"]["industry"]["anyOf"][0]["enum"][0] == "ict"


STARTUP = str(KB_DIR / "examples" / "smart_health_startup.yaml")


def test_eval_text_names_facts_by_label_and_groups_missing_facts_by_benefit(capsys):
    code, out, _ = _run(capsys, "eval", STARTUP)
    assert code == 0
    assert "? 涵养补助 (cultivation_subsidy): 下一步应询问 新涵养重点数字经济企业 (cultivated_new_key_enterprise)" in out
    assert ("  涵养补助 (cultivation_subsidy): 新涵养重点数字经济企业 (cultivated_new_key_enterprise)、"
            "对新涵养企业实收资本投资或出资金额 (cultivation_investment)\n") in out
    assert "下一步应询问 cultivated_new_key_enterprise" not in out
    code, out, _ = _run(capsys, "eval", STARTUP, "--lang", "en")
    assert ("  Cultivation subsidy (cultivation_subsidy): Newly cultivated a key digital-economy enterprise "
            "(cultivated_new_key_enterprise), Investment in the newly cultivated enterprise's paid-in capital "
            "(cultivation_investment)\n") in out
    assert "、" not in out.split("Missing facts")[1]


def test_eval_text_lists_every_benefit_and_why_a_denied_one_is_denied(capsys, kb):
    code, out, _ = _run(capsys, "eval", STARTUP)
    assert code == 0 and "✗ 入驻补助 (settlement_subsidy) [第十三条第（一）项]: 实收资本 不低于 1亿元（实际: 3,000万元）" in out
    for benefit in kb.benefits:
        assert f"({benefit})" in out
    code, out, _ = _run(capsys, "eval", str(KB_DIR / "examples" / "relocated_fintech_listed.yaml"), "--lang", "en")
    assert "Denied (the first condition not met):" in out
    assert "✗ Cultivation subsidy (cultivation_subsidy) [Art. 13(1)]: Newly cultivated a key digital-economy enterprise (actual: no)" in out


def _with_offers(tmp_path, *offers):
    import yaml
    profile = yaml.safe_load(open(EXAMPLE, encoding="utf-8"))
    profile["other_district_support"] = [{"benefit": b, "policy": p, "amount": a} for b, p, a in offers]
    path = tmp_path / "offers.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_eval_text_reports_an_offer_inside_this_policys_range_as_an_open_overlap(capsys, tmp_path):
    path = _with_offers(tmp_path, ("settlement_subsidy", "甲政策", "1500万元"), ("rent_subsidy", "乙政策", "300万元"))
    code, out, _ = _run(capsys, "eval", path)
    assert code == 0
    assert ("      ⚠ 《甲政策》给予 1,500万元，介于本措施 500万元–2,000万元 之间：孰高待本措施金额确定后由分析人员判定，"
            "两者不叠加（第十四条）") in out
    assert "      ⚠ 《乙政策》给予 300万元，本措施金额未定：孰高待本措施金额确定后由分析人员判定，两者不叠加（第十四条）" in out
    assert "按本措施支持" not in out
    code, out, _ = _run(capsys, "eval", path, "--lang", "en")
    assert ("⚠ 甲政策 offers CNY 15 million, between this policy's CNY 5 million and CNY 20 million: which is higher "
            "is for the analyst to settle once this policy's amount is fixed; not stacked (Art. 14)") in out


def test_eval_text_keeps_an_offer_at_the_floor_and_supersedes_one_above_the_ceiling(capsys, tmp_path):
    code, out, _ = _run(capsys, "eval", _with_offers(tmp_path, ("settlement_subsidy", "甲政策", "500万元")))
    assert "      《甲政策》给予 500万元，不高于本措施最低金额 500万元：按本措施支持，两者不叠加（第十四条）" in out
    code, out, _ = _run(capsys, "eval", _with_offers(tmp_path, ("settlement_subsidy", "甲政策", "3000万元")))
    assert ("  → 入驻补助 (settlement_subsidy): 《甲政策》给予 3,000万元，高于本措施上限 2,000万元：按就高原则由该政策支持，"
            "本措施不再给予（第十四条）") in out


def test_impact_names_what_it_lists(capsys):
    code, out, _ = _run(capsys, "impact", "paid_in_capital", "--kb", str(KB_DIR))
    assert code == 0 and out.startswith("实收资本 (paid_in_capital) (fact)") and "    入驻补助 (settlement_subsidy)" in out
    code, out, _ = _run(capsys, "impact", "paid_in_capital", "--kb", str(KB_DIR), "--format", "json")
    assert json.loads(out)["labels"] == {"paid_in_capital": "实收资本", "settlement_subsidy": "入驻补助"}


def _broken_quote_kb(tmp_path):
    return edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml", "quote: 租用办公用房的，给予连续三年租金补贴",
                     "quote: 租用办公用房的，给予连续五年租金补贴")


def _failing_scenario(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- name: 一个故意写错的期望\n  extends: new_ict_key_enterprise\n  input: {}\n"
                    "  output:\n    benefits:\n      settlement_subsidy: {min: 600万元}\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("argv, chinese", [
    (["eval", EXAMPLE, "--format", "json"], "北京数智云图科技有限公司"),
    (["why", EXAMPLE, "settlement_subsidy", "--format", "json"], "入驻补助"),
    (["why-not", EXAMPLE, "listing_grant", "--format", "json"], "上市挂牌资助"),
    (["check", "--kb", "{broken}", "--format", "json", "--no-scenarios"], "五年租金补贴"),
    (["test", "--kb", str(KB_DIR), "{scenario}", "--format", "json"], "一个故意写错的期望"),
    (["impact", "paid_in_capital", "--kb", str(KB_DIR), "--format", "json"], "实收资本"),
    (["graph", "--kb", str(KB_DIR), "--format", "json"], "支持对象"),
])
def test_json_output_is_utf8_with_the_chinese_characters_themselves(tmp_path, argv, chinese):
    # A terminal or pipe whose locale is not UTF-8 (here ASCII) still gets UTF-8, never \uXXXX
    # and never a traceback.
    argv = [a.format(broken=_broken_quote_kb(tmp_path) if a == "{broken}" else "",
                     scenario=_failing_scenario(tmp_path) if a == "{scenario}" else "") if "{" in a else a
            for a in argv]
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, "-m", "engine.cli", *argv], cwd=tmp_path, env=env, capture_output=True)
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    text = done.stdout.decode("utf-8")
    assert chinese in text and "\\u" not in text
    json.loads(text)


def test_after_the_measures_expire_eval_says_only_their_benefits_are_not_granted(capsys, tmp_path):
    # The 2022 measures still apply in 2025: a line saying "no support at all" would contradict them.
    path = tmp_path / "late.yaml"
    path.write_text("application_date: 2025-06-01\nregistered_in_xicheng: true\n", encoding="utf-8")
    code, out, _ = _run(capsys, "eval", str(path), "--kb", str(KB_DIR))
    assert code == 0 and "不给予该措施的任何支持" in out and "《若干措施》在2025年6月1日不在有效期内" in out
    assert "2022年产业措施适用" in out
