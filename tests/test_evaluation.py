"""The JSON result of an evaluation and Article 14 (engine/inferring/evaluation.py)."""

import json

import pytest

import engine
from engine.errors import ProfileError

from conftest import KB_DIR


def test_the_result_has_the_vocabulary_shape(base_profile):
    result = engine.evaluate(base_profile)
    assert {"kb_version", "as_of", "conclusions", "benefits", "superseded", "missing"} <= set(result)
    assert result["as_of"] == "2022-01-01"
    settlement = next(b for b in result["benefits"] if b["id"] == "settlement_subsidy")
    assert settlement["clause"] == "13(1)"
    assert settlement["amount"] == {"min": 5_000_000, "max": 20_000_000, "currency": "CNY"}
    rent = next(b for b in result["benefits"] if b["id"] == "rent_subsidy")
    assert rent["amount"] is None and "fintech_demo_zone_measures" in rent["defers_to"]
    assert "settlement_subsidy" not in result["conclusions"]


def test_as_of_overrides_the_application_date(base_profile):
    assert "policy_in_force" not in engine.evaluate(base_profile, as_of="2024-03-01")["conclusions"]
    assert "policy_in_force" in engine.evaluate(base_profile, as_of="2024年2月29日")["conclusions"]
    with pytest.raises(ProfileError, match="as-of"):
        engine.evaluate(base_profile, as_of="2024-02-30")


def test_outside_the_window_nothing_is_granted(base_profile):
    result = engine.evaluate(base_profile, as_of="2021-02-28")
    assert result["benefits"] == [] and "policy_in_force" not in result["conclusions"]
    assert "support_target" in result["conclusions"]


def test_without_a_date_the_window_is_undetermined(base_profile):
    del base_profile["application_date"]
    result = engine.evaluate(base_profile)
    assert result["as_of"] is None and result["benefits"] == []
    assert "application_date" in result["missing"]


@pytest.mark.parametrize("offer, outcome", [
    (20_000_001, "superseded"),     # above the 2000万 ceiling: the other policy is higher
    (20_000_000, "within_range"),   # equal to the ceiling: this policy may still give less
    (15_000_000, "within_range"),   # 1500万 against 500万–2000万: not decided until fixed
    (5_000_001, "within_range"),
    (5_000_000, "kept"),            # at the 500万 floor: this policy gives at least as much
    (1, "kept")])
def test_article_14_compares_an_offer_with_the_floor_and_the_ceiling(kb, base_profile, offer, outcome):
    base_profile["other_district_support"] = [
        {"benefit": "settlement_subsidy", "policy": "甲政策", "amount": offer},
        {"benefit": "settlement_subsidy", "policy": "乙政策", "amount": 1}]
    result = engine.evaluate(base_profile)
    entry = next((b for b in result["benefits"] if b["id"] == "settlement_subsidy"), None)
    if outcome == "superseded":
        assert entry is None
        assert result["superseded"] == [{"id": "settlement_subsidy", "document": kb.home, "clause": "13(1)",
                                         "amount": {"min": 5_000_000, "max": 20_000_000, "currency": "CNY"},
                                         "by": {"policy": "甲政策", "amount": offer}}]
        return
    assert result["superseded"] == [] and result["status"]["settlement_subsidy"] == "granted"
    if outcome == "kept":
        assert entry["not_stacked_with"] == {"policy": "甲政策", "amount": offer} and "overlap" not in entry
    else:
        assert entry["overlap"] == {"policy": "甲政策", "amount": offer, "reason": "within_range"}
        assert "not_stacked_with" not in entry


def test_an_offer_under_an_up_to_ceiling_is_an_open_overlap(kb):
    import yaml
    data = yaml.safe_load((KB_DIR / "examples" / "building_operator.yaml").read_text(encoding="utf-8"))
    data["other_district_support"] = [{"benefit": "building_renovation_support", "policy": "楼宇政策", "amount": 1}]
    entry = next(b for b in engine.evaluate(data, kb=kb)["benefits"] if b["id"] == "building_renovation_support")
    assert entry["amount"]["min"] is None
    assert entry["overlap"] == {"policy": "楼宇政策", "amount": 1, "reason": "within_range"}


def test_an_offer_for_a_benefit_without_a_fixed_amount_is_reported_beside_it(base_profile):
    base_profile["other_district_support"] = [{"benefit": "rent_subsidy", "policy": "丙政策", "amount": "900万"}]
    result = engine.evaluate(base_profile)
    rent = next(b for b in result["benefits"] if b["id"] == "rent_subsidy")
    assert rent["overlap"] == {"policy": "丙政策", "amount": 9_000_000, "reason": "not_fixed"}
    assert result["superseded"] == []


def test_the_same_profile_gives_the_same_bytes(base_profile):
    first = json.dumps(engine.evaluate(base_profile), ensure_ascii=False)
    engine.evaluate(dict(base_profile, industry="finance"))
    shuffled = dict(reversed(list(base_profile.items())))
    assert json.dumps(engine.evaluate(shuffled), ensure_ascii=False) == first


def test_a_knowledge_base_is_loaded_once_for_many_evaluations(base_profile):
    kb = engine.load(KB_DIR)
    results = [engine.evaluate(base_profile, kb=kb) for _ in range(3)]
    assert results[0] == results[2] and results[0]["kb_version"] == kb.version
    assert engine.evaluate(base_profile, kb=str(KB_DIR))["kb_version"] == kb.version


def test_no_float_appears_in_any_amount(base_profile):
    base_profile.update(building_operator=True, renovation_for_digital_economy=True,
                        renovation_investment="1234.5万元", renovated_area_m2="777.7",
                        registered_in_xicheng=True, cultivated_new_key_enterprise=True,
                        cultivation_investment=33_333_333)
    result = engine.evaluate(base_profile)
    for benefit in result["benefits"]:
        for value in (benefit["amount"] or {}).values():
            assert not isinstance(value, float)
    renovation = next(b for b in result["benefits"] if b["id"] == "building_renovation_support")
    assert renovation["amount"]["max"] == 1_166_550  # 1500 × 777.7 m²
    cultivation = next(b for b in result["benefits"] if b["id"] == "cultivation_subsidy")
    assert cultivation["amount"]["max"] == 3_333_333


def test_screening_gives_the_statuses_amounts_and_article_14_of_the_full_evaluation(kb):
    from conftest import screened_view
    from engine.errors import PolicyKBError
    from engine.inferring.evaluation import assess, dated, outline, screen, under_documents
    from engine.loading.profile import parse_profile
    from engine.loading.values import MonthDate
    from engine.authoring.scenarios import load_scenarios
    compared = superseded = 0
    for case in load_scenarios(kb):
        chosen = under_documents(kb, case.documents) if case.documents else kb
        try:
            full = assess(case.profile, as_of=case.as_of, kb=chosen).result
        except PolicyKBError:
            continue
        facts = dated(parse_profile(case.profile, chosen), case.as_of)
        assert screen(facts, chosen) == screened_view(full), case.name
        if not any(isinstance(value, MonthDate) for value in facts.values()):   # a replay's first look
            assert outline(facts, chosen) == dict(screened_view(full), missing=full["missing"]), case.name
        compared += 1
        superseded += bool(full["superseded"])
    assert compared > 250 and superseded > 0   # Article 14 handed some benefit elsewhere
