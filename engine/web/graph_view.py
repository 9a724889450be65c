"""The graph page's drawing: the dependency graph of the rules (facts → rules → conclusions →
benefits), in layers, as data for an SVG template.

The structure is the knowledge base's one graph (:func:`engine.rendering.graph.build`), as it
flows at evaluation (:func:`engine.rendering.graph.flow`); this module only places it. Node
boxes are wide enough for their labels at the default zoom; the full label, the id and the quote
are in the side panel when a node is clicked. Built once per knowledge base and language.
"""

from __future__ import annotations

import re

import networkx as nx

from engine.model import KnowledgeBase
from engine.rendering.graph import build, flow

WIDTH, HEIGHT = 230, 32
#: The kinds of node the page draws: what flows at evaluation.
DRAWN = ("fact", "rule", "conclusion", "benefit")


def graph_view(kb: KnowledgeBase, lang: str) -> dict:
    """The drawing, built once per knowledge base and language (kept with the knowledge base)."""
    cache = kb.__dict__.setdefault("_web_graph_views", {})
    if lang not in cache:
        cache[lang] = _build(kb, lang)
    return cache[lang]


def _build(kb: KnowledgeBase, lang: str) -> dict:
    """Facts → rules → conclusions → benefits, in layers by how far each is from the facts."""
    whole = build(kb)
    flowing = flow(whole)
    g = nx.DiGraph()
    for key in flowing.nodes:
        data = whole.nodes[key]
        if data["kind"] in DRAWN:
            g.add_node(key, **_drawn(kb, key, data, lang))
    for a, b in flowing.edges:
        if a in g and b in g:
            g.add_edge(a, b, relation="derives" if g.nodes[a]["kind"] == "rule" else "uses")
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


def _drawn(kb: KnowledgeBase, key: str, data: dict, lang: str) -> dict:
    """What the page shows of a node of the knowledge base's graph, in ``lang``."""
    kind, ident = key.split(":", 1)
    if kind == "fact":
        ref = kb.facts[ident].source
    elif kind == "rule":
        ref = data["cites"]
    else:
        ref = kb.conclusions[ident].article
    english = lang == "en" and kind != "rule"
    return {"kind": kind, "id": ident, "label": data["label_en"] if english else data["label"],
            "cites": kb.label(ref, lang), "order": _order(kb, ref), "quote": data.get("quote", ""),
            "detail": data.get("explain_en" if lang == "en" else "explain", "")}


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
