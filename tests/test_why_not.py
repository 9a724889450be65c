"""Why not, and the smallest changes that would grant (engine/explaining/why_not.py)."""

import pytest

import engine
from engine.explaining.why_not import answer, expand, render_text, why_not


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
                      "from_display": "8,000万元", "to_display": "1亿元", "by_enterprise": True,
                      "condition": "实收资本 不低于 1亿元"}]


def test_every_alternative_grants_when_applied(base_profile):
    base_profile.update(industry="finance", paid_in_capital="5000万")
    node = why_not(base_profile, "settlement_subsidy")
    assert node["alternatives"]
    for alternative in node["alternatives"]:
        changed = _apply(base_profile, alternative)
        assert engine.evaluate(changed)["status"]["settlement_subsidy"] == "granted"


def test_alternatives_are_fewest_changes_first_and_minimal(base_profile):
    base_profile.update(industry="finance", paid_in_capital="5000万")
    alternatives = why_not(base_profile, "settlement_subsidy")["alternatives"]
    # Ranked by how many changes the enterprise cannot make itself, then by how many changes.
    ranks = [(sum(not c["by_enterprise"] for c in a["changes"]), len(a["changes"])) for a in alternatives]
    assert ranks == sorted(ranks)
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
    # The date a case is judged at is never a change to propose (no backdating).
    late = why_not(base_profile, "settlement_subsidy", as_of="2024-03-01")
    assert late["status"] == "denied" and late.get("alternatives", []) == []


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
    # Support target via ICT or via a leading role; times the Article 1 entity presumed from the
    # recognition (no change) or stated; times the recognition standing on its presumed
    # conditions (no change), on all four conditions met, or on a case before 2021-12-01.
    assert len(ways) == 12
    assert sum(not any(t.fact in ("no_accidents_3y", "application_date") and t.op != "between" for t in tests)
               for _, tests in ways) == 4
    assert sum(not any(t.fact == "digital_economy_business" for t in tests) for _, tests in ways) == 6
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


def test_changes_to_the_enterprises_past_or_identity_are_marked_with_why(base_profile):
    base_profile["establishment"] = "existing"
    change = why_not(base_profile, "settlement_subsidy")["alternatives"][0]["changes"][0]
    assert change["fact"] == "establishment" and change["by_enterprise"] is False and change["why"] == "past"
    base_profile.update(establishment="new", industry="other")
    changes = [c for a in why_not(base_profile, "settlement_subsidy")["alternatives"] for c in a["changes"]]
    industry = next(c for c in changes if c["fact"] == "industry")
    assert industry["by_enterprise"] is False and industry["why"] == "identity"


def test_an_overseas_listing_cannot_become_a_first_domestic_listing_but_an_unlisted_one_can_list(base_profile):
    base_profile.update(listing="overseas", overseas_market_recognized=False, listing_date="2022-01-01")
    changes = [c for a in why_not(base_profile, "listing_grant")["alternatives"] for c in a["changes"]]
    domestic = next(c for c in changes if c["fact"] == "listing")
    assert domestic["from"] == "overseas" and domestic["by_enterprise"] is False and domestic["why"] == "past"
    assert "企业的既往事实" in domestic["note"]
    base_profile.update(listing="none")
    first = why_not(base_profile, "listing_grant")["alternatives"][0]["changes"]
    listing = next(c for c in first if c["fact"] == "listing")
    assert listing["from"] == "none" and listing["by_enterprise"] is True and "why" not in listing


def test_what_the_enterprise_can_do_comes_before_what_it_cannot(base_profile):
    # A finance enterprise without a leading role: switching to ICT (its identity) or taking
    # a leading role (something it can do) would each make it a support target.
    base_profile.update(industry="finance", leading_demonstration_role=False)
    alternatives = why_not(base_profile, "settlement_subsidy")["alternatives"]
    assert [c["fact"] for c in alternatives[0]["changes"]] == ["leading_demonstration_role"]
    assert any(c["fact"] == "industry" and c["why"] == "identity" for a in alternatives[1:] for c in a["changes"])
    text = render_text(why_not(base_profile, "settlement_subsidy", lang="en"), "en")
    assert ("Industry: Finance (finance) → Information transmission, software and IT services (ict) (so that: Industry "
            "is Information transmission, software and IT services (ict)) ⚠ the enterprise's identity") in text
    assert text.index("Plays a leading, demonstrating role") < text.index("Industry: Finance (finance) →")


def test_why_not_text_names_facts_by_label_with_the_id_after(base_profile):
    del base_profile["key_enterprise_recognized"]
    del base_profile["office_tenure"]
    text = render_text(why_not(base_profile, "rent_subsidy", lang="en"), "en")
    assert text.startswith("Rent subsidy (rent_subsidy) — undetermined")
    assert ("missing facts: Recognized as a key enterprise per its industry category (key_enterprise_recognized), "
            "Office in Xicheng bought or rented (office_tenure)") in text
    assert "ask next: Recognized as a key enterprise per its industry category (key_enterprise_recognized)" in text


def test_first_failure_is_one_line_down_to_the_fact(kb, base_profile):
    from engine.explaining.why_not import first_failure
    base_profile["paid_in_capital"] = "8000万"
    assert first_failure(engine.assess(base_profile, kb=kb), "settlement_subsidy", "zh") == \
        "实收资本 不低于 1亿元（实际: 8,000万元）"
    late = engine.assess(base_profile, as_of="2024-03-01", kb=kb)
    assert first_failure(late, "rent_subsidy", "en") == ("The measures are in force (policy_in_force) does not hold: "
                                                         "Application date is between 2021-03-01 and 2024-02-29 "
                                                         "(actual: 2024-03-01)")


def test_a_fact_nature_the_loader_does_not_know_is_an_error_with_the_nearest(tmp_path):
    from conftest import edited_kb
    from engine.errors import KnowledgeBaseError
    copy = edited_kb(tmp_path, "facts.yaml", "nature: identity", "nature: identiy")
    with pytest.raises(KnowledgeBaseError) as err:
        engine.load(copy)
    assert err.value.suggestion == "identity" and err.value.file.endswith("facts.yaml") and err.value.line


def test_the_facts_schema_allows_exactly_the_natures_the_loader_knows():
    import json
    from engine.model import FACT_NATURES
    from conftest import REPO
    schema = json.loads((REPO / "schemas" / "facts.schema.json").read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["facts"]["items"]["properties"]["nature"]["enum"]) == FACT_NATURES


def test_no_alternative_ever_moves_the_date_a_case_is_judged_at(kb):
    """Backdating an application is not a way to qualify: over every scenario's profile and every
    benefit it does not grant, no proposed change is to the application date."""
    from engine.authoring.scenarios import load_scenarios
    from engine.inferring.evaluation import assess
    seen = 0
    for case in load_scenarios(kb):
        if case.as_of or case.documents:
            continue
        assessment = assess(case.profile, kb=kb)
        for benefit in kb.benefits:
            if assessment.result["status"][benefit] == "denied":
                for alternative in answer(assessment, benefit).get("alternatives", []):
                    seen += 1
                    assert all(c["fact"] != "application_date" for c in alternative["changes"]), (case.name, benefit)
    assert seen > 0


def test_each_proposed_change_says_the_condition_it_satisfies_in_words(kb):
    from engine.inferring.evaluation import assess
    profile = {"application_date": "2023-05-08", "registered_in_xicheng": True, "fits_core_area_function": True,
               "lawful_operation": True, "digital_economy_recognized": True, "industry": "ict",
               "key_enterprise_recognized": True, "establishment": "new", "registration_date": "2015-06-01",
               "major_industry_influence": True, "startup_subsidy_recognized": True}
    for lang, words in (("zh", "申请日期在企业设立登记日期起3年内"), ("en", "within 3 years from")):
        node = answer(assess(profile, kb=kb), "startup_cost_subsidy", lang=lang)
        (change,) = node["alternatives"][0]["changes"]
        assert change["fact"] == "registration_date" and words in change["condition"]
        assert "有效期" not in change.get("note", "") and "validity window" not in change.get("note", "")
        assert words in render_text(node, lang)
