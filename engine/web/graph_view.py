"""The graph page's drawing: the dependency graph of the rules (facts → rules → conclusions →
benefits), in layers, as data for an SVG template.

Node boxes are wide enough for their labels at the default zoom; the full label, the id and
the quote are in the side panel when a node is clicked. Built once per knowledge base and
language.
"""

from __future__ import annotations

import re

import networkx as nx

from engine.compiling import conditions as cond
from engine.loading.kb import KnowledgeBase

WIDTH, HEIGHT = 230, 32


def graph_view(kb: KnowledgeBase, lang: str) -> dict:
    """The drawing, built once per knowledge base and language (kept with the knowledge base)."""
    cache = kb.__dict__.setdefault("_web_graph_views", {})
    if lang not in cache:
        cache[lang] = _build(kb, lang)
    return cache[lang]


def _build(kb: KnowledgeBase, lang: str) -> dict:
    """Facts → rules → conclusions → benefits, in layers by how far each is from the facts.

    Built from the knowledge base itself (facts, rules and the conditions they test), so that
    it covers every document of the knowledge base."""
    g = nx.DiGraph()
    for fact in kb.facts.values():
        if not fact.display_only:
            g.add_node(f"fact:{fact.id}", kind="fact", id=fact.id, label=fact.label(lang),
                       cites=kb.label(fact.source, lang), order=_order(kb, fact.source))
    for conclusion in kb.conclusions.values():
        g.add_node(f"{conclusion.kind}:{conclusion.id}", kind=conclusion.kind, id=conclusion.id,
                   label=conclusion.label(lang), cites=kb.label(conclusion.article, lang),
                   order=_order(kb, conclusion.article))
    for rule in kb.rules.values():
        key = f"rule:{rule.id}"
        g.add_node(key, kind="rule", id=rule.id, label=rule.id, cites=kb.label(rule.cites, lang),
                   quote=rule.quote, detail=rule.explain[lang], order=_order(kb, rule.cites))
        for name in cond.facts_used(rule.when):
            g.add_edge(f"fact:{name}", key, relation="uses")
        for name in cond.conclusions_used(rule.when):
            g.add_edge(f"{kb.conclusions[name].kind}:{name}", key, relation="uses")
        g.add_edge(key, f"{kb.conclusions[rule.then].kind}:{rule.then}", relation="derives")
    g.remove_nodes_from([n for n, d in list(g.nodes(data=True)) if d["kind"] == "fact" and g.degree(n) == 0])
    layer: dict[str, int] = {}
    for node in nx.lexicographical_topological_sort(g):
        preds = [layer[p] for p in g.predecessors(node)]
        layer[node] = max(preds) + 1 if preds else 0
    columns: dict[int, list[str]] = {}
    for node in sorted(g.nodes, key=lambda n: (g.nodes[n]["order"], n)):
        columns.setdefault(layer[node], []).append(node)
    positions = {}
    for x, column in enumerate(sorted(columns)):
        for y, node in enumerate(columns[column]):
            positions[node] = (40 + x * (WIDTH + 70), 40 + y * (HEIGHT + 14))
    nodes = []
    for key, data in g.nodes(data=True):
        x, y = positions[key]
        label = data["label"]
        short = label if _width(label) <= 26 else _cut(label, 25) + "…"
        nodes.append({"key": key, "id": data["id"], "kind": data["kind"], "label": label, "short": short,
                      "x": x, "y": y, "detail": data.get("detail", ""), "quote": data.get("quote", ""),
                      "cites": data["cites"]})
    edges = []
    for a, b, data in g.edges(data=True):
        (x1, y1), (x2, y2) = positions[a], positions[b]
        x1 += WIDTH
        bend = max(40, abs(x2 - x1) / 2)
        mid1, mid2 = y1 + HEIGHT // 2, y2 + HEIGHT // 2
        edges.append({"a": a, "b": b, "relation": data["relation"],
                      "d": f"M{x1},{mid1} C{x1 + bend},{mid1} {x2 - bend},{mid2} {x2},{mid2}"})
    width = max(n["x"] for n in nodes) + WIDTH + 40
    height = max(n["y"] for n in nodes) + HEIGHT + 40
    return {"nodes": nodes, "edges": edges, "width": width, "height": height, "box_w": WIDTH, "box_h": HEIGHT}


def _order(kb: KnowledgeBase, ref: str) -> tuple:
    documents = list(kb.documents)
    document = kb.document_of(ref)
    numbers = tuple(int(n) for n in re.findall(r"\d+", kb.local(ref))) or (0,)
    return (documents.index(document) if document in documents else 99, numbers)


def _width(text: str) -> int:
    """Display width: a CJK character is as wide as two Latin ones."""
    return sum(2 if ord(ch) > 0x2e80 else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    out, used = "", 0
    for ch in text:
        used += 2 if ord(ch) > 0x2e80 else 1
        if used > width:
            break
        out += ch
    return out
