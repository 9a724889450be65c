"""Forward chaining with a derivation record (engine/inferring/inference.py)."""

import pytest

import engine
from engine.inferring.evaluation import reasoner
from engine.loading.profile import parse_profile


def _derive(kb, profile):
    return reasoner(kb).derive(parse_profile(profile, kb))


def test_each_conclusion_records_the_rule_its_facts_and_the_conclusions_it_built_on(kb, base_profile):
    inference = _derive(kb, base_profile)
    record = inference.derivations["settlement_subsidy"][0]
    assert record.rule_id == "settlement_subsidy.capital_threshold" and record.cites == "13(1)"
    assert record.facts == {"registered_in_xicheng": True, "paid_in_capital": 100_000_000}
    assert record.conclusions == ["policy_in_force", "new_or_relocated_key_enterprise"]
    support = inference.derivations["support_target"][0]
    # The Article 1 entity is presumed from the recognition: a presumption, not a conclusion built on.
    assert support.facts["industry"] == "ict" and support.conclusions == []
    assert any(getattr(lit, "presumed", False) and lit.conclusion == "digital_economy_entity" for lit in support.literals)


def test_derived_conclusions_come_in_dependency_order(kb, base_profile):
    derived = _derive(kb, base_profile).derived
    assert derived.index("digital_economy_entity") < derived.index("support_target") < \
        derived.index("key_digital_economy_enterprise") < derived.index("settlement_subsidy")


def test_unknown_blocks_and_is_reported_missing_false_does_not(kb, base_profile):
    unknown = dict(base_profile)
    del unknown["key_enterprise_recognized"]
    inference = _derive(kb, unknown)
    assert inference.status["settlement_subsidy"] is None
    assert "key_enterprise_recognized" in inference.missing
    denied = dict(base_profile, key_enterprise_recognized=False)
    inference = _derive(kb, denied)
    assert inference.status["settlement_subsidy"] is False
    assert "key_enterprise_recognized" not in inference.missing


def test_a_fact_is_missing_only_when_it_keeps_something_undecided(kb, base_profile):
    out_of_window = dict(base_profile, application_date="2025-01-01")
    inference = _derive(kb, out_of_window)
    # Every benefit of the measures is denied by the window; the listing facts no longer matter.
    assert "listing" not in inference.missing
    assert all(inference.status[b] is False for b, c in kb.benefits.items() if c.document == kb.home)


def test_every_ground_that_holds_is_recorded(kb, base_profile):
    profile = dict(base_profile, rnd_institution_level="national", foreign_joint_lab=True, innovation_support_recognized=True,
                   key_lab_level="none", standards_led=[])
    inference = _derive(kb, profile)
    grounds = [g for d in inference.derivations["innovation_support"] for g in d.grounds]
    assert grounds == ["rnd_institution", "foreign_joint_lab"]


def test_the_compiled_rules_give_the_rule_engines_result_for_every_scenario_and_example(kb):
    from engine.errors import PolicyKBError
    from engine.inferring.evaluation import assess
    from engine.authoring.scenarios import load_scenarios
    cases = [(c.profile, c.as_of, c.documents) for c in load_scenarios(kb)]
    assert len(cases) > 250
    for profile, as_of, documents in cases:
        try:
            durable = assess(profile, as_of=as_of, kb=kb, documents=documents)
        except PolicyKBError:
            continue
        compiled = assess(profile, as_of=as_of, kb=kb, documents=documents, engine="compiled")
        assert compiled.result == durable.result
        assert {c: [(d.rule_id, d.branch, d.facts, d.grounds) for d in ds] for c, ds in compiled.inference.derivations.items()} == \
               {c: [(d.rule_id, d.branch, d.facts, d.grounds) for d in ds] for c, ds in durable.inference.derivations.items()}


def test_an_unknown_engine_is_refused(kb, base_profile):
    with pytest.raises(ValueError, match="'durable' or 'compiled'"):
        engine.evaluate(base_profile, kb=kb, engine="clips")


def test_the_rule_set_as_one_function_gives_every_rules_three_valued_status(kb):
    from engine.authoring.scenarios import load_scenarios
    from engine.errors import PolicyKBError
    from engine.inferring.evaluation import dated, under_documents
    compared = 0
    for case in load_scenarios(kb):
        chosen = under_documents(kb, case.documents) if case.documents else kb
        try:
            facts = dated(parse_profile(case.profile, chosen), case.as_of)
        except PolicyKBError:
            continue
        one_function = reasoner(chosen)._three_valued(facts)
        assert one_function == reasoner(chosen)._checked_one_by_one(facts), case.name
        assert list(one_function) == list(chosen.order)
        compared += 1
    assert compared > 250


def test_the_generated_function_reads_as_the_rules_do(kb):
    source = reasoner(kb)._three_valued.source
    # Each fact is read once, and a rule is a min (all) or max (any) of its tests' values.
    assert source.count("get('paid_in_capital')") == 1
    assert "min(" in source and "max(" in source
    assert source.splitlines()[-1].startswith("    return {'digital_economy_entity': ")


def test_the_first_rule_is_the_one_the_derivation_record_names(kb, base_profile):
    facts = parse_profile(base_profile, kb)
    inference = reasoner(kb).derive(facts, "compiled")
    for conclusion in inference.derived:
        assert reasoner(kb).first_rule(conclusion, facts, inference.status) == \
            inference.derivations[conclusion][0].rule_id
