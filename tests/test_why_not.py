"""Why not, and the smallest changes that would grant (engine/why_not.py)."""

import pytest

import engine
from engine.why_not import expand, render_text, why_not


def _apply(profile, alternative):
    changed = dict(profile)
    changed.update({c["fact"]: c["to"] for c in alternative["changes"]})
    return changed


def test_a_threshold_is_met_exactly_at_its_boundary(base_profile):
    base_profile["paid_in_capital"] = "8000万"
    node = why_not(base_profile, "settlement_subsidy")
    assert node["status"] == "denied" and not node["holds"]
    first = node["alternatives"][0]["changes"]
    assert first == [{"fact": "paid_in_capital", "label": "实收资本", "from": 80_000_000, "to": 100_000_000,
                      "from_display": "8,000万元", "to_display": "1亿元", "by_enterprise": True}]


def test_every_alternative_grants_when_applied(base_profile):
    base_profile.update(industry="finance", paid_in_capital="5000万")
    node = why_not(base_profile, "settlement_subsidy")
    assert node["alternatives"]
    for alternative in node["alternatives"]:
        changed = _apply(base_profile, alternative)
        assert engine.evaluate(changed)["status"]["settlement_subsidy"] == "granted"


def test_alternatives_are_fewest_changes_first_and_minimal(base_profile):
    base_profile.update(industry="finance", paid_in_capital="5000万")
    sizes = [len(a["changes"]) for a in why_not(base_profile, "settlement_subsidy")["alternatives"]]
    assert sizes == sorted(sizes)
    sets = [frozenset(c["fact"] for c in a["changes"]) for a in why_not(base_profile, "settlement_subsidy")["alternatives"]]
    for i, small in enumerate(sets):
        for large in sets[i + 1:]:
            assert not small < large


def test_an_unknown_fact_gets_the_value_that_grants_and_is_asked_next(base_profile):
    del base_profile["key_enterprise_recognized"]
    node = why_not(base_profile, "rent_subsidy")
    assert node["status"] == "undetermined" and node["next_fact"] == "key_enterprise_recognized"
    change = node["alternatives"][0]["changes"][0]
    assert change["fact"] == "key_enterprise_recognized" and change["from"] is None and change["to"] is True


def test_recognitions_and_dates_are_marked_not_the_enterprises_to_change(base_profile):
    base_profile["key_enterprise_recognized"] = False
    change = why_not(base_profile, "settlement_subsidy")["alternatives"][0]["changes"][0]
    assert change["fact"] == "key_enterprise_recognized" and change["by_enterprise"] is False
    assert "administrative" in why_not(base_profile, "settlement_subsidy", lang="en")["alternatives"][0]["changes"][0]["note"]
    base_profile["key_enterprise_recognized"] = True
    late = why_not(base_profile, "settlement_subsidy", as_of="2024-03-01")
    date_change = late["alternatives"][0]["changes"][0]
    assert date_change["fact"] == "application_date" and date_change["to"] == "2024-02-29"
    assert date_change["by_enterprise"] is False


def test_the_reasons_go_down_the_chain_with_actual_values_and_thresholds(base_profile):
    base_profile["industry"] = "other"
    node = why_not(base_profile, "settlement_subsidy")
    conditions = node["rules"][0]["conditions"]["all"]
    chain = next(c for c in conditions if c.get("conclusion") == "new_or_relocated_key_enterprise")
    assert chain["status"] == "not met" and chain["because"]
    text = render_text(node, "zh")
    assert "✗ 行业 为 信息传输、软件和信息技术服务业 (ict)   (实际: 其他 (other))" in text
    assert "[第二条] support_target.ict" in text


def test_a_granted_id_points_to_why(base_profile):
    node = why_not(base_profile, "settlement_subsidy")
    assert node["holds"] and node["status"] == "granted" and "why" in node["see"]


def test_a_superseded_benefit_names_the_higher_offer(base_profile):
    base_profile["other_district_support"] = [{"benefit": "settlement_subsidy", "policy": "甲", "amount": "3000万"}]
    node = why_not(base_profile, "settlement_subsidy")
    assert node["status"] == "denied" and node["superseded_by"] == {"policy": "甲", "amount": 30_000_000}
    assert node["precedence"]["article"] == 14


def test_rules_expand_through_conclusions_to_fact_tests_only(kb):
    ways = expand(kb, "settlement_subsidy")
    assert {rule for rule, _ in ways} == {"settlement_subsidy.capital_threshold"}
    assert len(ways) == 2  # support target via ICT, or via a leading role
    for _, tests in ways:
        assert all(hasattr(t, "fact") for t in tests)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_why_not_text_exists_in_both_languages(base_profile, lang):
    base_profile["paid_in_capital"] = 1
    text = render_text(why_not(base_profile, "settlement_subsidy", lang=lang), lang)
    assert ("可以这样获得" if lang == "zh" else "It would be granted with") in text


def test_a_higher_offer_elsewhere_raises_the_proposed_base_until_this_policy_matches_it(kb):
    profile = {"application_date": "2022-01-01", "registered_in_xicheng": True, "cultivated_new_key_enterprise": True,
               "cultivation_investment": 0, "other_district_support": [
                   {"benefit": "cultivation_subsidy", "policy": "甲", "amount": "800万"}]}
    change = why_not(profile, "cultivation_subsidy")["alternatives"][0]["changes"][0]
    assert change["to"] == 80_000_000   # 10% × 8,000万 = 800万, equal to the offer: kept here


def test_nothing_is_proposed_when_the_offer_beats_this_policys_maximum_and_the_answer_says_so(base_profile):
    base_profile.update(paid_in_capital="5000万", other_district_support=[
        {"benefit": "settlement_subsidy", "policy": "乙", "amount": "3000万"}])
    node = why_not(base_profile, "settlement_subsidy")
    assert node["alternatives"] == [] and node["blocked_by"]["policy"] == "乙"
    assert "按就高且不重复原则仍由该政策支持" in render_text(node, "zh")


def test_a_superseded_share_benefit_is_told_the_base_that_would_match_the_offer(kb):
    profile = {"application_date": "2022-01-01", "registered_in_xicheng": True, "cultivated_new_key_enterprise": True,
               "cultivation_investment": "5000万", "other_district_support": [
                   {"benefit": "cultivation_subsidy", "policy": "甲", "amount": "800万"}]}
    node = why_not(profile, "cultivation_subsidy")
    assert node["status"] == "denied" and node["superseded_by"]["amount"] == 8_000_000
    assert node["alternatives"][0]["changes"][0]["to"] == 80_000_000
    assert "本措施支持可达到该金额" in render_text(node, "zh")
