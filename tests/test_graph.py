"""The dependency graph and impact analysis (engine/rendering/graph.py)."""

import networkx as nx

import engine
import pytest

from engine.errors import ProfileError
from engine.rendering.graph import build, impact


@pytest.fixture(scope="module")
def graph(kb):
    return build(kb)


def _kind(graph, kind):
    return [n for n, d in graph.nodes(data=True) if d["kind"] == kind]


def test_every_part_of_the_knowledge_base_is_a_node(kb, graph):
    home = [d for n, d in graph.nodes(data=True) if d["kind"] == "article" and d["document"] == kb.home]
    assert sorted(d["article"] for d in home) == list(range(1, 15))
    assert sorted(d["ref"] for n, d in graph.nodes(data=True) if d["kind"] == "article") == sorted(kb.articles)
    assert sorted(d["clause"] for n, d in graph.nodes(data=True) if d["kind"] == "clause") == sorted(kb.clauses)
    assert [c for c in kb.clauses if ":" not in c] == ["13(1)", "13(2)", "13(3)", "13(4)", "13(5)"]
    assert len(_kind(graph, "subpolicy")) == len([s for s in kb.subpolicies.values() if not s.encoded_as])
    assert len(_kind(graph, "fact")) == len(kb.facts)
    assert len(_kind(graph, "benefit")) == len(kb.benefits)
    assert len(_kind(graph, "rule")) == len(kb.rules) + len(kb.precedence)
    for node, data in graph.nodes(data=True):
        assert data["label"] and data["label_en"], node


def test_node_keys_are_unique_across_documents(kb, graph):
    # Article 2 of each of the three documents is its own node, keyed by its canonical citation.
    assert graph.nodes["article:2"]["document"] == "digital_economy_measures"
    assert graph.nodes["article:implementation_rules_2021:2"]["document"] == "implementation_rules_2021"
    assert graph.nodes["article:industry_development_measures_2022:2"]["label"] == \
        "《产业高质量发展若干措施》第二条 加强增量培育（节选）"
    assert graph.nodes["clause:industry_development_measures_2022:2(1)"]["article"] == 2
    assert len(_kind(graph, "article")) == len(kb.articles) and len(_kind(graph, "clause")) == len(kb.clauses)


def test_each_document_is_a_node_containing_its_articles_and_clauses(kb, graph):
    assert _kind(graph, "document") == [f"document:{d}" for d in kb.documents]
    for ref, article in kb.articles.items():
        assert graph.edges[f"document:{article.document}", f"article:{ref}"]["relation"] == "contains"
    for ref, clause in kb.clauses.items():
        parent = next(a for a, _, d in graph.in_edges(f"clause:{ref}", data=True) if d["relation"] == "contains")
        assert graph.nodes[parent]["document"] == clause.document and graph.nodes[parent]["article"] == clause.article
    rules = graph.nodes["document:implementation_rules_2021"]
    assert rules["label"].split("\n")[:3] == ["《实施细则》", kb.documents["implementation_rules_2021"].title,
                                              "2021-12-01 – 2024-02-29"]
    assert "现有文本：通知" in rules["label"] and rules["partial"] is True
    assert "2022-06-29 起（终止日期未知）" in graph.nodes["document:industry_development_measures_2022"]["label"]
    assert "whole text" in graph.nodes["document:digital_economy_measures"]["label_en"]


def test_every_sub_policy_is_connected_to_the_clause_that_defers_to_it(kb, graph):
    for sub in kb.subpolicies.values():
        node = f"document:{sub.encoded_as}" if sub.encoded_as else f"subpolicy:{sub.id}"
        deferring = {a for a, _, d in graph.in_edges(node, data=True) if d["relation"] == "defers_to"}
        expected = {f"clause:{r}" if "(" in r else f"article:{r}" for r in sub.deferred_by}
        assert expected <= deferring, sub.id


def test_an_encoded_sub_policy_is_its_document_not_a_leaf(graph):
    assert "subpolicy:implementation_rules" not in graph
    assert graph.edges["article:14", "document:implementation_rules_2021"]["relation"] == "defers_to"


def test_relations_between_documents(graph):
    implements = graph.edges["document:implementation_rules_2021", "document:digital_economy_measures"]
    assert implements["relation"] == "implements"
    supersedes = graph.edges["document:industry_development_measures_2022", "document:digital_economy_measures"]
    assert supersedes["relation"] == "supersedes"
    assert supersedes["label_en"] == "where they conflict, from 2022-06-29 (Art. 14)"
    overlaps = [(a, b, d) for a, b, d in graph.edges(data=True) if d["relation"] == "overlaps"]
    # Each overlap of knowledge_base.yaml is an edge between its two benefits, in its order.
    assert [(a, b) for a, b, _ in overlaps][:2] == [
        ("benefit:settlement_subsidy", "benefit:startup_cost_subsidy"),
        ("benefit:office_purchase_subsidy", "benefit:office_purchase_rent_subsidy")]
    assert [d["overlap"] for _, _, d in overlaps] == [o.id for o in engine.load().overlaps]
    assert overlaps[0][2]["label"] == "不重复享受（第十四条、《实施细则》第三条）"
    assert overlaps[0][2]["overlap"] == "one_off_support_for_arriving_enterprises"


def test_a_presumed_reference_is_a_distinct_dependency(graph):
    presumed = graph.edges["rule:support_target.ict", "conclusion:meets_recognition_conditions"]
    assert presumed["relation"] == "uses" and presumed["presumed"] is True
    assert graph.edges["rule:support_target.ict", "conclusion:digital_economy_entity"]["presumed"] is True
    assert graph.edges["rule:key_digital_economy_enterprise.recognized", "conclusion:support_target"]["presumed"] is False


def test_a_benefit_is_granted_by_its_clause_and_governed_by_its_documents_validity(graph):
    assert graph.edges["clause:industry_development_measures_2022:2(1)", "benefit:startup_cost_subsidy"]["relation"] \
        == "grants"
    # The 2022 measures are dated by their notice (no article on validity is available).
    assert graph.edges["document:industry_development_measures_2022", "benefit:startup_cost_subsidy"]["relation"] \
        == "governs"
    assert not graph.has_edge("article:14", "benefit:startup_cost_subsidy")
    assert graph.nodes["rule:industry_measures_2022_in_force.from_issue"]["part"] == \
        "industry_development_measures_2022:notice"
    assert graph.edges["rule:industry_measures_2022_in_force.from_issue",
                       "document:industry_development_measures_2022"]["relation"] == "cites"


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
    # The 2022 start-up subsidy needs a recognized key enterprise too.
    assert set(found["benefits"]) == {"settlement_subsidy", "office_purchase_subsidy", "rent_subsidy",
                                      "startup_cost_subsidy"}


def test_impact_of_the_listing_rules_touches_only_the_listing_grant(kb):
    found = impact(kb, "listing_measures")
    assert found["benefits"] == ["listing_grant"] and found["rules"] == ["listing_grant.first_listing"]


def test_impact_of_a_clause_and_an_article(kb):
    assert set(impact(kb, "13(4)")["benefits"]) == {"building_renovation_support", "building_operator_reward",
                                                  "industrial_base_support"}
    home = {b for b, c in kb.benefits.items() if c.document == kb.home}
    assert set(impact(kb, "14")["benefits"]) == home
    assert impact(kb, "第十四条")["id"] == "article:14"


def test_impact_of_a_document_reaches_downstream_into_other_documents(kb):
    found = impact(kb, "implementation_rules_2021")
    assert found["id"] == "document:implementation_rules_2021" and found["kind"] == "document"
    assert found["rules"][:5] == ["recognition_registered_entity.xicheng_entity",
                                  "recognition_statistical_category.classified",
                                  "recognition_capability.business_and_capacity", "recognition_clean_record.three_years",
                                  "meets_recognition_conditions.all_four"]
    # Through the measures' presumed reference to the four recognition conditions (on the
    # support target), everything that needs the support target.
    assert {"support_target", "key_digital_economy_enterprise", "new_or_relocated_key_enterprise"} <= set(found["conclusions"])
    assert set(found["benefits"]) == {"settlement_subsidy", "office_purchase_subsidy", "rent_subsidy",
                                      "key_enterprise_reward", "listing_grant", "innovation_support", "project_support"}
    # The sub-policy the measures defer to is that document.
    assert impact(kb, "implementation_rules") == found and impact(kb, "实施细则") == found
    assert impact(kb, "industry_development_measures_2022")["benefits"] == ["startup_cost_subsidy",
                                                                            "office_purchase_rent_subsidy"]


def test_impact_of_an_article_or_clause_of_another_document(kb):
    article = impact(kb, "implementation_rules_2021:2")
    assert article["id"] == "article:implementation_rules_2021:2" and "meets_recognition_conditions" in article["conclusions"]
    assert impact(kb, "《实施细则》第二条")["id"] == "article:implementation_rules_2021:2"
    clause = impact(kb, "industry_development_measures_2022:2(1)")
    assert clause["id"] == "clause:industry_development_measures_2022:2(1)"
    assert clause["rules"] == ["startup_cost_subsidy.newly_introduced_key_enterprise"]
    assert clause["benefits"] == ["startup_cost_subsidy"]
    # The home document may be named too; its citations stay unprefixed.
    assert impact(kb, "digital_economy_measures:13(4)")["id"] == "clause:13(4)"


def test_an_unknown_article_of_a_document_gets_a_suggestion(kb):
    with pytest.raises(ProfileError) as err:
        impact(kb, "implementation_rules_2021:9")
    assert err.value.suggestion.startswith("implementation_rules_2021:")
    with pytest.raises(ProfileError) as err:
        impact(kb, "implementaton_rules_2021")
    assert err.value.suggestion == "implementation_rules_2021"


def test_an_unknown_id_gets_a_suggestion(kb):
    with pytest.raises(ProfileError) as err:
        impact(kb, "paid_in_captal")
    assert err.value.suggestion == "paid_in_capital"


def test_impact_text_shows_labels_with_ids(capsys):
    from engine.cli import main
    from conftest import KB_DIR
    assert main(["impact", "implementation_rules_2021", "--kb", str(KB_DIR)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("《实施细则》 落实《北京市西城区加快推进数字经济发展若干措施》的实施细则（试行） "
                          "(implementation_rules_2021) (document)")
    assert "    meets_recognition_conditions.all_four [《实施细则》第二条]" in out
    assert "    入驻补助 (settlement_subsidy)" in out
    assert main(["impact", "industry_development_measures_2022:2(1)", "--kb", str(KB_DIR), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2022 Industry Measures, Art. 2(1) Start-up cost subsidy "
                          "(industry_development_measures_2022:2(1)) (clause)")
    assert main(["impact", "paid_in_capital", "--kb", str(KB_DIR)]) == 0
    assert capsys.readouterr().out.startswith("实收资本 (paid_in_capital) (fact)")


def test_a_knowledge_base_cut_to_some_documents_has_no_bare_node(kb):
    # The measures' key-enterprise rule still cites 实施细则 第二条 when that document is left out.
    from engine.model import subset
    part = build(subset(kb, ["digital_economy_measures"]))
    assert all("kind" in data for _, data in part.nodes(data=True))
    assert "article:implementation_rules_2021:2" not in part and "subpolicy:implementation_rules" in part


def test_the_web_graph_page_draws_what_flows_in_this_graph(kb):
    from engine.rendering.graph import build, flow
    from engine.web.graph_view import graph_view
    flowing = flow(build(kb))
    drawn = graph_view(kb, "en")
    assert {n["key"] for n in drawn["nodes"]} == set(flowing.nodes)
    assert {(e["a"], e["b"]) for e in drawn["edges"]} == set(flowing.edges)
    article_14 = next(n for n in drawn["nodes"] if n["key"] == f"rule:{kb.precedence[0].id}")
    assert article_14["quote"] and article_14["cites"]


def test_impact_knows_every_overlap_a_benefit_is_in(kb):
    assert kb.overlaps, "the property below needs an overlap"
    for overlap in kb.overlaps:
        for benefit in overlap.benefits:
            found = impact(kb, benefit)
            assert overlap.id in [r["id"] for r in found["relations"] if r["kind"] == "overlap"]
            (other,) = [b for b in overlap.benefits if b != benefit]
            assert other in found["benefits"] or other in found["also_affected"]
        for ref in overlap.cites:
            assert overlap.id in [r["id"] for r in impact(kb, ref)["relations"]]


def test_impact_knows_newer_prevails_relations_of_a_document_and_its_citation(kb):
    assert kb.newer_prevails, "the property below needs a newer-prevails relation"
    for relation in kb.newer_prevails:
        for document in (relation.newer, relation.older):
            assert relation.id in [r["id"] for r in impact(kb, document)["relations"]]
        assert relation.id in [r["id"] for r in impact(kb, relation.cites)["relations"]]


def test_a_fact_no_overlapping_benefit_depends_on_touches_no_relation(kb):
    from engine.rendering.graph import build
    graph = build(kb)
    overlapping = {b for o in kb.overlaps for b in o.benefits}
    for fact in kb.facts:
        found = impact(kb, fact, graph)
        if not overlapping & set(found["benefits"]) and not any(r["kind"] == "newer_prevails" for r in found["relations"]):
            assert found["relations"] == [] and found["also_affected"] == []


def test_impact_prints_the_relations_in_the_readers_language(kb, capsys):
    from engine.cli import main
    overlap = kb.overlaps[0]
    assert main(["impact", overlap.benefits[0], "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "文件之间（第十四条）" in out and overlap.id in out and "不重复享受" in out
    assert main(["impact", overlap.benefits[0], "--lang", "en", "--format", "json"]) == 0
    import json
    data = json.loads(capsys.readouterr().out)
    assert overlap.id in [r["id"] for r in data["relations"]]
