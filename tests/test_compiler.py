"""Compiling rules to durable_rules' dict form (engine/compiling/compiler.py)."""

import json

import shutil

import pytest

import engine
from engine.compiling.compiler import GROUP_CAPACITY, MAX_NAMED_FACTS, compile_kb
from engine.errors import KnowledgeBaseError

from conftest import KB_DIR


def test_each_branch_of_each_rule_becomes_one_engine_rule(kb):
    compiled = compile_kb(kb)
    names = [r.name for r in compiled.rules]
    assert len(names) == len(set(names))
    innovation = [r for r in compiled.rules if r.rule_id == "innovation_support.recognized_grounds"]
    assert len(innovation) == 6
    assert sorted(g for r in innovation for g in r.grounds) == sorted(
        ["rnd_institution", "standards", "key_lab", "foreign_joint_lab",
         "international_cooperation_project", "matching_funds"])
    # Every rule but those whose deciding text is missing: they never grant.
    assert {r.rule_id for r in compiled.rules} == {rid for rid, rule in kb.rules.items() if not rule.text_missing}
    assert any(rule.text_missing for rule in kb.rules.values())


def test_no_negation_reaches_the_engine(kb):
    # $not does not cancel a pending match in durable_rules 2.0.28: the compiled rules must
    # never use it, so results cannot depend on the order facts arrive in.
    text = json.dumps(compile_kb(kb).definition())
    assert "$not" not in text and "$nex" not in text


def _walk(pattern):
    yield pattern
    for value in (pattern.values() if isinstance(pattern, dict) else pattern if isinstance(pattern, list) else ()):
        yield from _walk(value)


def test_an_item_test_inside_iany_is_always_one_plain_comparison(kb):
    # durable_rules checks an $iany's inner node for its type; for an $or (or $and) it never
    # initialised that field, and refused the ruleset (error 102) or not depending on what the
    # memory held. includes_any is compiled as an $or of one $iany per value instead.
    definition = compile_kb(kb).definition()
    inner = [node["$iany"] for node in _walk(definition) if isinstance(node, dict) and "$iany" in node]
    assert len(inner) > 5
    for item_test in inner:
        (field, test), = item_test.items()
        assert list(test) == ["$i"] and not isinstance(test["$i"], (dict, list)), item_test


def test_a_not_in_test_requires_the_fact_to_exist(kb):
    from engine.compiling.compiler import _pattern
    from engine.model.conditions import FactTest
    pattern = _pattern(FactTest("industry", "not_in", ("other",)))
    assert {"$ex": {"industry": 1}} in pattern["$and"]


def test_dates_are_compiled_as_ordered_integers(kb):
    definition = compile_kb(kb).definition()
    (pattern,) = definition["policy_in_force.validity_window#0"]["all"][0].values()
    window = pattern["$and"][1]["$and"]
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


def _count_tests(compiled, group):
    return sum(len(pattern["$and"]) - 1 for rule in compiled.rules
               for name, pattern in rule.patterns if name == group)


def test_no_group_fact_can_match_more_conditions_than_its_capacity(kb):
    # durable_rules fails with error 303 when one fact matches more than 64 conditions.
    compiled = compile_kb(kb)
    for n in range(len(compiled.groups)):
        assert _count_tests(compiled, f"g{n}") <= GROUP_CAPACITY
    assert sorted(compiled.engine_facts) == sorted(set(compiled.engine_facts))


def _with_threshold_rules(tmp_path, facts, per_fact):
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    conclusions, rules = [], []
    for fact in facts:
        for k in range(per_fact):
            cid = f"many_{fact}_{k}"
            conclusions.append(f"  - {{id: {cid}, article: 13(1), zh: 测试{k}, en: Test {k}}}\n")
            rules.append(f"""  - id: {cid}.threshold
    cites: 13(1)
    quote: 支持入驻和发展
    when: {{fact: {fact}, at_least: {k + 1}元}}
    then: {cid}
    explain: {{zh: 测试, en: test}}
""")
    text = (copy / "documents" / "digital_economy_measures" / "conclusions.yaml").read_text(encoding="utf-8")
    (copy / "documents" / "digital_economy_measures" / "conclusions.yaml").write_text(text.replace("\nbenefits:\n", "\n" + "".join(conclusions) + "\nbenefits:\n"),
                                           encoding="utf-8")
    (copy / "documents" / "digital_economy_measures" / "rules" / "zz_many.yaml").write_text("rules:\n" + "".join(rules), encoding="utf-8")
    return copy


def test_a_knowledge_base_past_64_conditions_still_evaluates(tmp_path):
    facts = ["paid_in_capital", "cultivation_investment", "renovation_investment", "introduced_contribution_increment"]
    kb = engine.load(_with_threshold_rules(tmp_path, facts, 30))
    compiled = compile_kb(kb)
    assert len(compiled.groups) >= 3
    result = engine.evaluate({fact: "1亿元" for fact in facts}, kb=kb)
    assert sum(c.startswith("many_") for c in result["conclusions"]) == 120


def test_one_fact_tested_past_the_capacity_is_refused(tmp_path):
    kb = engine.load(_with_threshold_rules(tmp_path, ["paid_in_capital"], GROUP_CAPACITY + 1))
    with pytest.raises(KnowledgeBaseError, match="error 303"):
        compile_kb(kb)


def test_a_branch_with_two_presumptions_tests_both_on_one_gate_pattern(kb):
    """durable_rules matches one fact once per rule: two patterns on the gate fact never both match,
    so every presumption of a branch is a field of its one gate pattern."""
    from engine.compiling.compiler import compile_kb, presumed_field
    compiled = compile_kb(kb)
    two = [r for r in compiled.rules if sum(1 for lit in r.literals if getattr(lit, "presumed", False)) >= 2]
    assert two, "the bundled knowledge base has a branch with two presumptions (support_target.ict)"
    for rule in two:
        gates = [p for name, p in rule.patterns if name.startswith("p")]
        assert len(gates) == 1
        fields = {next(iter(t)) for t in gates[0]["$and"][1:]}
        assert fields == {presumed_field(lit.conclusion) for lit in rule.literals if getattr(lit, "presumed", False)}
