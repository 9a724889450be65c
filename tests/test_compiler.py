"""Compiling rules to durable_rules' dict form (engine/compiler.py)."""

import json

from engine.compiler import MAX_NAMED_FACTS, compile_kb


def test_each_branch_of_each_rule_becomes_one_engine_rule(kb):
    compiled = compile_kb(kb)
    names = [r.name for r in compiled.rules]
    assert len(names) == len(set(names))
    innovation = [r for r in compiled.rules if r.rule_id == "innovation_support.recognized_grounds"]
    assert len(innovation) == 6
    assert sorted(g for r in innovation for g in r.grounds) == sorted(
        ["rnd_institution", "standards", "key_lab", "foreign_joint_lab",
         "international_cooperation_project", "matching_funds"])
    assert {r.rule_id for r in compiled.rules} == set(kb.rules)


def test_no_negation_reaches_the_engine(kb):
    # $not does not cancel a pending match in durable_rules 2.0.28: the compiled rules must
    # never use it, so results cannot depend on the order facts arrive in.
    text = json.dumps(compile_kb(kb).definition())
    assert "$not" not in text and "$nex" not in text


def test_a_not_in_test_requires_the_fact_to_exist(kb):
    from engine.compiler import _pattern
    from engine.conditions import FactTest
    pattern = _pattern(FactTest("industry", "not_in", ("other",)))
    assert {"$ex": {"industry": 1}} in pattern["$and"]


def test_dates_are_compiled_as_ordered_integers(kb):
    definition = compile_kb(kb).definition()
    window = definition["policy_in_force.validity_window#0"]["all"][0]["p"]["$and"][1]["$and"]
    assert window == [{"$gte": {"application_date": 20210301}}, {"$lte": {"application_date": 20240229}}]


def test_money_thresholds_are_integers(kb):
    definition = compile_kb(kb).definition()
    settlement = json.dumps(definition["settlement_subsidy.capital_threshold#0"])
    assert '{"$gte": {"paid_in_capital": 100000000}}' in settlement


def test_conclusions_are_asserted_only_when_another_rule_needs_them(kb):
    compiled = compile_kb(kb)
    asserting = {r.conclusion for r in compiled.rules if r.asserts}
    assert "support_target" in asserting and "policy_in_force" in asserting
    assert not asserting & set(kb.benefits)


def test_every_engine_rule_stays_within_durable_rules_limits(kb):
    for rule in compile_kb(kb).rules:
        assert len(rule.patterns) <= MAX_NAMED_FACTS
