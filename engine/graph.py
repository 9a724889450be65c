"""The dependency graph of a knowledge base, built with networkx from ``kb/``.

Nodes carry ``kind`` — ``document``, ``article``, ``clause``, ``subpolicy``, ``rule``, ``fact``,
``conclusion`` or ``benefit`` — and ``label`` (Chinese) and ``label_en``; article nodes carry
``article`` (1–14), clause nodes ``clause`` (``13(1)``), sub-policy nodes ``title``. Node keys
are ``<kind>:<id>`` (``article:13``, ``clause:13(1)``, ``rule:settlement_subsidy.capital_threshold``).

Edges carry ``relation``:

- ``contains``: document → article, article → clause;
- ``defers_to``: article or clause → sub-policy, and rule → sub-policy it sets amounts by;
- ``cites``: rule → article or clause;
- ``uses``: rule → fact or conclusion;
- ``derives``: rule → conclusion or benefit;
- ``governs``: Article 14 → every benefit (validity, 就高且不重复).

Nothing is typed by hand: the graph is derived from the YAML, so an edit shows up at once.
"""

from __future__ import annotations

import networkx as nx

from . import conditions as cond
from .errors import ProfileError, nearest
from .kb import KnowledgeBase

KINDS = ("document", "article", "clause", "subpolicy", "rule", "fact", "conclusion", "benefit")


def node_key(kind: str, ident) -> str:
    return f"{kind}:{ident}"


def build(kb: KnowledgeBase) -> nx.DiGraph:
    """The whole knowledge base as a DiGraph (see the module docstring)."""
    g = nx.DiGraph(name=kb.document["doc_number"], kb_version=kb.version)
    doc = kb.document
    g.add_node("document", kind="document", label=f"{doc['doc_number']} {doc['title']}",
               label_en=doc["title_en"])
    for article in kb.articles.values():
        key = node_key("article", article.number)
        g.add_node(key, kind="article", article=article.number, label=f"{kb.label(article.id)} {article.title}",
                   label_en=f"Art. {article.number} {article.title_en}", text=article.text)
        g.add_edge("document", key, relation="contains")
        for clause in article.clauses:
            ckey = node_key("clause", clause.id)
            g.add_node(ckey, kind="clause", clause=clause.id, article=article.number,
                       label=f"{kb.label(clause.id)} {clause.title}", label_en=f"Art. {clause.id} {clause.title_en}",
                       text=clause.text)
            g.add_edge(key, ckey, relation="contains")
    for sub in kb.subpolicies.values():
        skey = node_key("subpolicy", sub.id)
        g.add_node(skey, kind="subpolicy", title=sub.title, label=f"《{sub.title}》" if sub.named else sub.title,
                   label_en=sub.title_en, named=sub.named)
        for ref in sub.deferred_by:
            g.add_edge(_ref_key(ref), skey, relation="defers_to")
    for fact in kb.facts.values():
        g.add_node(node_key("fact", fact.id), kind="fact", label=fact.zh, label_en=fact.en, type=fact.type)
    for conclusion in kb.conclusions.values():
        g.add_node(node_key(conclusion.kind, conclusion.id), kind=conclusion.kind, label=conclusion.zh,
                   label_en=conclusion.en, article=int(conclusion.article.split("(")[0]))
    for rule in kb.rules.values():
        rkey = node_key("rule", rule.id)
        g.add_node(rkey, kind="rule", label=rule.id, label_en=rule.id, cites=rule.cites, quote=rule.quote,
                   explain=rule.explain["zh"], explain_en=rule.explain["en"],
                   article=int(rule.cites.split("(")[0]))
        for ref in [rule.cites, *rule.also_cites]:
            g.add_edge(rkey, _ref_key(ref), relation="cites")
        for name in cond.facts_used(rule.when):
            g.add_edge(rkey, node_key("fact", name), relation="uses")
        for name in cond.conclusions_used(rule.when):
            g.add_edge(rkey, node_key(kb.conclusions[name].kind, name), relation="uses")
        g.add_edge(rkey, node_key(kb.conclusions[rule.then].kind, rule.then), relation="derives")
        for sub in rule.defers_to:
            g.add_edge(rkey, node_key("subpolicy", sub), relation="defers_to")
    for precedence in kb.precedence:
        pkey = node_key("rule", precedence.id)
        g.add_node(pkey, kind="rule", label=precedence.id, label_en=precedence.id, cites=precedence.cites,
                   quote=precedence.quote, explain=precedence.explain["zh"], explain_en=precedence.explain["en"],
                   article=int(precedence.cites.split("(")[0]))
        g.add_edge(pkey, _ref_key(precedence.cites), relation="cites")
        g.add_edge(pkey, node_key("fact", precedence.input), relation="uses")
    # The article whose rules decide whether the measures are in force and which offer wins
    # (Article 14 here) governs every benefit.
    governing = {rule.cites.split("(")[0] for rule in kb.precedence}
    governing |= {r.cites.split("(")[0] for b in kb.benefits for r in kb.rules.values()
                  if r.then in _conclusions_every_benefit_needs(kb)}
    for article in sorted(governing, key=int):
        for benefit in kb.benefits:
            g.add_edge(node_key("article", int(article)), node_key("benefit", benefit), relation="governs")
    return g


def _conclusions_every_benefit_needs(kb: KnowledgeBase) -> set[str]:
    """Conclusions that every rule of every benefit requires (such as policy_in_force)."""
    common: set[str] | None = None
    for benefit in kb.benefits:
        for rule in kb.rules_for(benefit):
            for branch in cond.to_dnf(rule.when):
                refs = {lit.conclusion for lit in branch if isinstance(lit, cond.ConclusionRef)}
                common = refs if common is None else common & refs
    return common or set()


def _ref_key(ref: str) -> str:
    return node_key("clause", ref) if "(" in ref else node_key("article", int(ref))


# --------------------------------------------------------------------------- impact

def resolve(kb: KnowledgeBase, graph: nx.DiGraph, ident: str) -> str:
    """The node an id names: a fact, rule, conclusion, benefit, sub-policy, article or clause.

    Articles may be written ``13``, ``article:13`` or ``第十三条``; clauses ``13(1)``.

    Raises
    ------
    ProfileError
        When nothing has that id (with the nearest one).
    """
    ident = str(ident).strip()
    if ident in graph:
        return ident
    if ident.isdigit() and node_key("article", int(ident)) in graph:
        return node_key("article", int(ident))
    for kind in ("clause", "fact", "rule", "conclusion", "benefit", "subpolicy"):
        if node_key(kind, ident) in graph:
            return node_key(kind, ident)
    for article in kb.articles.values():
        if ident == kb.label(article.id):
            return node_key("article", article.number)
    names = [key.split(":", 1)[1] for key in graph if ":" in key]
    raise ProfileError(f"'{ident}' is not a fact, rule, conclusion, benefit, sub-policy, article or clause",
                       suggestion=nearest(ident, names))


def impact(kb: KnowledgeBase, ident: str, graph: nx.DiGraph | None = None) -> dict:
    """Every rule, conclusion and benefit that depends on ``ident``, directly or down the chain."""
    graph = graph if graph is not None else build(kb)
    start = resolve(kb, graph, ident)
    flowing = flow(graph)
    first_rules = _first_rules(kb, graph, start)
    reached: set[str] = set(first_rules)
    for rule in first_rules:
        reached |= nx.descendants(flowing, rule)
    if graph.nodes[start]["kind"] in ("conclusion", "benefit", "rule"):
        reached |= nx.descendants(flowing, start)
    # Upstream first: conclusions in dependency order, each rule where its conclusion stands.
    position = {c: n for n, c in enumerate(kb.order)}
    rule_index = {r: n for n, r in enumerate(kb.rules)}

    def rank(key):
        kind, ident = key.split(":", 1)
        if kind == "rule":
            rule = kb.rules.get(ident)
            return (position[rule.then], rule_index[ident]) if rule else (len(position), 0)
        return (position.get(ident, len(position)), 0)

    by_kind = {kind: [k.split(":", 1)[1] for k in sorted(reached, key=rank)
                      if graph.nodes[k]["kind"] == kind and k != start]
               for kind in ("rule", "conclusion", "benefit")}
    return {"id": start, "kind": graph.nodes[start]["kind"], "rules": by_kind["rule"],
            "conclusions": by_kind["conclusion"], "benefits": by_kind["benefit"]}


def flow(graph: nx.DiGraph) -> nx.DiGraph:
    """What flows at evaluation: facts and conclusions into the rules that use them, rules into
    what they derive."""
    flowing = nx.DiGraph()
    for a, b, data in graph.edges(data=True):
        if data["relation"] == "uses":
            flowing.add_edge(b, a)
        elif data["relation"] == "derives":
            flowing.add_edge(a, b)
    return flowing


def _first_rules(kb: KnowledgeBase, graph: nx.DiGraph, start: str) -> set[str]:
    kind = graph.nodes[start]["kind"]

    def citing(refs: set[str]) -> set[str]:
        return {a for a, b, d in graph.in_edges(refs, data=True) if d["relation"] == "cites"}

    if kind in ("fact", "conclusion", "benefit"):
        return {a for a, _, d in graph.in_edges(start, data=True) if d["relation"] == "uses"}
    if kind == "rule":
        return {start}
    if kind == "article":
        return citing({start} | set(graph.successors(start)))
    if kind == "clause":
        return citing({start})
    if kind == "subpolicy":
        deferring = {a for a, _, d in graph.in_edges(start, data=True) if d["relation"] == "defers_to"}
        rules = {k for k in deferring if graph.nodes[k]["kind"] == "rule"}
        if rules:
            return rules
        # No rule sets its amounts by it: every rule under the text that defers to it is touched.
        refs = set(deferring)
        for ref in deferring:
            refs |= {b for _, b, d in graph.out_edges(ref, data=True) if d["relation"] == "contains"}
        return citing(refs)
    if kind == "document":
        return {k for k, d in graph.nodes(data=True) if d["kind"] == "rule"}
    return set()
