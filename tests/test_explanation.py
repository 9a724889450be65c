"""Derivation trees and their text (engine/explaining/explanation.py)."""

import pytest

import engine
from engine.errors import ProfileError
from engine.explaining.explanation import render_text


def _walk(node):
    yield node
    for child in node.get("children", []):
        yield from _walk(child)


def test_the_tree_goes_from_the_benefit_down_to_the_input_facts(base_profile):
    node = engine.explain(base_profile, "settlement_subsidy")
    assert node["holds"] and node["rule"] == "settlement_subsidy.capital_threshold"
    assert node["article"] == 13 and node["clause"] == "13(1)" and "1亿元人民币" in node["quote"]
    ids = [n["id"] for n in _walk(node)]
    assert ids[:1] == ["settlement_subsidy"]
    assert {"policy_in_force", "new_or_relocated_key_enterprise", "key_digital_economy_enterprise",
            "support_target", "digital_economy_entity"} <= set(ids)
    leaf = next(n for n in _walk(node) if n["id"] == "digital_economy_entity")
    assert leaf["children"] == [] and leaf["facts"][0]["name"] == "digital_economy_business"
    assert leaf["facts"][0]["value"] is True


def test_fact_values_and_thresholds_are_shown(base_profile):
    node = engine.explain(base_profile, "settlement_subsidy")
    capital = next(f for f in node["facts"] if f["name"] == "paid_in_capital")
    assert capital["value"] == 100_000_000 and capital["display"] == "1亿元"
    assert capital["condition"] == "实收资本 不低于 1亿元"


def test_the_arithmetic_of_an_amount_is_shown(base_profile):
    base_profile.update(cultivated_new_key_enterprise=True, cultivation_investment="5000万",
                        registered_in_xicheng=True)
    zh = engine.explain(base_profile, "cultivation_subsidy")["amount"]["arithmetic"]
    assert zh == ["10% × 5,000万元 = 500万元", "上限 1,000万元", "给予 500万元"]
    en = engine.explain(base_profile, "cultivation_subsidy", lang="en")["amount"]["arithmetic"]
    assert en == ["10% × CNY 50 million = CNY 5 million", "cap CNY 10 million", "granted CNY 5 million"]


def test_article_14_shows_both_sides_and_the_clause_that_chooses(base_profile):
    base_profile["other_district_support"] = [{"benefit": "settlement_subsidy", "policy": "甲政策", "amount": "3000万"}]
    node = engine.explain(base_profile, "settlement_subsidy")
    assert node["status"] == "superseded" and not node["holds"]
    assert node["precedence"]["decision"] == "superseded"
    assert node["precedence"]["this_policy_max"] == 20_000_000
    assert node["precedence"]["other"] == {"policy": "甲政策", "amount": 30_000_000}
    assert node["precedence"]["article"] == 14 and "就高且不重复" in node["precedence"]["quote"]


def test_a_conclusion_that_does_not_hold_shows_each_condition_and_what_is_missing(base_profile):
    del base_profile["key_enterprise_recognized"]
    node = engine.explain(base_profile, "settlement_subsidy")
    assert node["holds"] is False and node["status"] == "undetermined"
    assert "key_enterprise_recognized" in node["missing"]
    denied = engine.explain(dict(base_profile, paid_in_capital=99_999_999, key_enterprise_recognized=True),
                            "settlement_subsidy")
    assert denied["status"] == "denied"
    conditions = denied["rules"][0]["conditions"]["all"]
    capital = next(c for c in conditions if c.get("fact") == "paid_in_capital")
    assert capital["status"] == "not met" and capital["value"] == 99_999_999


def test_an_unknown_id_suggests_the_nearest(base_profile):
    with pytest.raises(ProfileError) as err:
        engine.explain(base_profile, "settlement_subsidies")
    assert err.value.suggestion == "settlement_subsidy"


def test_the_text_is_an_indented_tree_with_clauses_and_quotes(base_profile):
    text = render_text(engine.explain(base_profile, "settlement_subsidy"), "zh")
    lines = text.splitlines()
    assert lines[0].startswith("入驻补助 (settlement_subsidy) — 给予")   # the label, then the id
    assert "[第十三条第（一）项] settlement_subsidy.capital_threshold" in text
    assert "· 实收资本 = 1亿元    (实收资本 不低于 1亿元)" in text
    assert any(line.startswith("        支持对象 (support_target)") or line.startswith("            支持对象 (support_target)")
               for line in lines)
    english = render_text(engine.explain(base_profile, "settlement_subsidy", lang="en"), "en")
    assert "[Art. 13(1)]" in english and "CNY 5 million – CNY 20 million" in english


def _offer(profile, benefit, amount, policy="甲政策"):
    return dict(profile, other_district_support=[{"benefit": benefit, "policy": policy, "amount": amount}])


@pytest.mark.parametrize("benefit, amount, decision", [
    ("settlement_subsidy", "1500万", "within_range"),   # inside 500万–2000万: open
    ("settlement_subsidy", "500万", "kept"),            # at the floor: this policy gives at least as much
    ("rent_subsidy", "300万", "not_fixed"),              # this policy fixes no amount: open
])
def test_article_14_against_a_range_is_left_open_where_the_amount_is_not_fixed(base_profile, benefit, amount, decision):
    node = engine.explain(_offer(base_profile, benefit, amount), benefit)
    precedence = node["precedence"]
    assert node["status"] == "granted" and precedence["decision"] == decision
    assert precedence["open"] is (decision != "kept")
    text = render_text(node, "zh")
    if decision == "within_range":
        assert ("⚠ 《甲政策》给予 1,500万元，介于本措施 500万元–2,000万元 之间：孰高待本措施金额确定后由分析人员判定，"
                "两者不叠加（第十四条）") in text
        assert "按本措施" not in precedence["text"]
    elif decision == "kept":
        assert "《甲政策》给予 500万元，不高于本措施最低金额 500万元：按本措施支持，两者不叠加（第十四条）" in text
    else:
        assert "本措施金额未定：孰高待本措施金额确定后由分析人员判定" in text
    english = render_text(engine.explain(_offer(base_profile, benefit, amount), benefit, lang="en"), "en")
    assert ("which is higher is for the analyst" in english) is (decision != "kept")


def test_grounds_read_as_what_they_test(base_profile):
    base_profile.update(standards_led=["industry"], key_lab_level="national", innovation_support_recognized=True)
    text = render_text(engine.explain(base_profile, "innovation_support", lang="en"), "en")
    assert ("· grounds: Standards formed (industry, national, international) (standards), "
            "Recognized key laboratory or similar platform (key_lab)") in text
