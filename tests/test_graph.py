"""The dependency graph and impact analysis (engine/graph.py)."""

import networkx as nx
import pytest

from engine.errors import ProfileError
from engine.graph import build, impact


@pytest.fixture(scope="module")
def graph(kb):
    return build(kb)


def _kind(graph, kind):
    return [n for n, d in graph.nodes(data=True) if d["kind"] == kind]


def test_every_part_of_the_knowledge_base_is_a_node(kb, graph):
    assert sorted(d["article"] for n, d in graph.nodes(data=True) if d["kind"] == "article") == list(range(1, 15))
    assert sorted(d["clause"] for n, d in graph.nodes(data=True) if d["kind"] == "clause") == \
        ["13(1)", "13(2)", "13(3)", "13(4)", "13(5)"]
    assert len(_kind(graph, "subpolicy")) == len(kb.subpolicies)
    assert len(_kind(graph, "fact")) == len(kb.facts)
    assert len(_kind(graph, "benefit")) == 12
    assert len(_kind(graph, "rule")) == len(kb.rules) + len(kb.precedence)
    for node, data in graph.nodes(data=True):
        assert data["label"] and data["label_en"], node


def test_every_sub_policy_is_connected_to_the_clause_that_defers_to_it(kb, graph):
    for sub in kb.subpolicies.values():
        deferring = {a for a, _, d in graph.in_edges(f"subpolicy:{sub.id}", data=True) if d["relation"] == "defers_to"}
        expected = {f"clause:{r}" if "(" in r else f"article:{r}" for r in sub.deferred_by}
        assert expected <= deferring, sub.id


def test_rules_cite_use_and_derive(graph):
    edges = {(b, d["relation"]) for _, b, d in graph.out_edges("rule:settlement_subsidy.capital_threshold", data=True)}
    assert ("clause:13(1)", "cites") in edges and ("fact:paid_in_capital", "uses") in edges
    assert ("benefit:settlement_subsidy", "derives") in edges and ("conclusion:policy_in_force", "uses") in edges
    assert graph.edges["article:14", "benefit:listing_grant"]["relation"] == "governs"


def test_the_rule_flow_has_no_cycle(graph):
    flow = graph.edge_subgraph([(a, b) for a, b, d in graph.edges(data=True) if d["relation"] in ("uses", "derives")])
    assert nx.is_directed_acyclic_graph(flow)


def test_impact_of_a_fact_follows_the_chain(kb):
    found = impact(kb, "key_enterprise_recognized")
    assert found["rules"][0] == "key_digital_economy_enterprise.recognized"
    assert {"key_digital_economy_enterprise", "new_or_relocated_key_enterprise"} <= set(found["conclusions"])
    assert set(found["benefits"]) == {"settlement_subsidy", "office_purchase_subsidy", "rent_subsidy"}


def test_impact_of_the_listing_rules_touches_only_the_listing_grant(kb):
    found = impact(kb, "listing_measures")
    assert found["benefits"] == ["listing_grant"] and found["rules"] == ["listing_grant.first_listing"]


def test_impact_of_a_clause_and_an_article(kb):
    assert set(impact(kb, "13(4)")["benefits"]) == {"building_renovation_support", "building_operator_reward",
                                                  "industrial_base_support"}
    assert set(impact(kb, "14")["benefits"]) == set(kb.benefits)
    assert impact(kb, "第十四条")["id"] == "article:14"


def test_an_unknown_id_gets_a_suggestion(kb):
    with pytest.raises(ProfileError) as err:
        impact(kb, "paid_in_captal")
    assert err.value.suggestion == "paid_in_capital"
