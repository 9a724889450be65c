"""Views of the dependency graph and the formats they are written in.

Views (:func:`view`):

- ``overview`` — each document, its articles and clauses, and the sub-policies they defer to;
- ``documents`` — the documents, their articles and clauses, what holds between documents
  (implements, defers to, supersedes) and the benefits of different documents that overlap;
- ``rules`` — facts → rules → conclusions → benefits, clustered by the article each cites;
- ``full`` — all of it, with the edges between them.

Formats: ``dot``, ``mermaid``, ``graphml`` and ``json`` (node-link) are written by Python alone;
``svg`` and ``png`` are laid out by Graphviz's ``dot`` program; ``html`` is a self-contained
page (its SVG drawn here from a layered layout, with pan, zoom and a click showing a node's
text and neighbours) that opens with no network. Every writer is deterministic: the same
knowledge base gives the same bytes.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx

from engine.errors import PolicyKBError

VIEWS = ("overview", "documents", "rules", "full")
FORMATS = ("dot", "mermaid", "graphml", "json", "svg", "png", "html")
FONT = "Noto Sans CJK SC"
_OVERVIEW_KINDS = ("document", "article", "clause", "subpolicy")
_RULE_KINDS = ("fact", "rule", "conclusion", "benefit")
_DOCUMENT_KINDS = ("document", "article", "clause")
#: Article 14 governs every benefit of the measures: in the documents view that is a fan of
#: edges to the two benefits shown that says nothing about other documents.
_NOT_IN_DOCUMENTS = ("governs",)
#: How each relation is drawn in DOT, and its Mermaid arrow.
_DOT_EDGE = {"uses": "", "derives": ", penwidth=1.5", "cites": ', style=dotted, color="#777777"',
             "contains": ', arrowhead=none, color="#5b7fa6"', "defers_to": ', style=dashed, color="#b8860b"',
             "governs": ', style=dotted, color="#aa3333"', "grants": ', color="#555555"',
             "implements": ', penwidth=2, color="#1f5fa8", fontcolor="#1f5fa8"',
             "overlaps": ', dir=both, penwidth=2, style=dashed, color="#c0392b", fontcolor="#c0392b"',
             "supersedes": ', penwidth=2, color="#6a1b9a", fontcolor="#6a1b9a"'}
_MERMAID_EDGE = {"uses": "-->", "derives": "==>", "cites": "-.->", "contains": "---", "defers_to": "-.->",
                 "governs": "-.->", "grants": "-->", "implements": "==>", "overlaps": "<-.->", "supersedes": "==>"}
_STYLE = {  # kind: (shape, fill colour)
    "document": ("note", "#f2f2f2"), "article": ("box", "#dbe9f6"), "clause": ("box", "#eef5fb"),
    "subpolicy": ("folder", "#fdf1d6"), "fact": ("ellipse", "#ffffff"), "rule": ("box", "#eeeeee"),
    "conclusion": ("box", "#dcdcdc"), "benefit": ("doubleoctagon", "#c4c4c4"),
}


class GraphvizMissing(PolicyKBError):
    """Graphviz's ``dot`` program is needed and not installed."""


def view(graph: nx.DiGraph, name: str) -> nx.DiGraph:
    """The sub-graph a view shows (a copy; the full graph is left alone). Its ``view`` graph
    attribute names the view (the writers cluster by document in ``overview`` and ``documents``)."""
    if name not in VIEWS:
        raise PolicyKBError(f"unknown view '{name}'", allowed=VIEWS)
    kinds = {"full": _OVERVIEW_KINDS + _RULE_KINDS, "overview": _OVERVIEW_KINDS, "rules": _RULE_KINDS,
             "documents": _DOCUMENT_KINDS}[name]
    keep = None
    if name == "documents":
        # Of the benefits, only those that overlap another document's: the view is about what
        # holds between documents, and the rest belong to one document alone.
        keep = {n for a, b, d in graph.edges(data=True) if d["relation"] == "overlaps" for n in (a, b)}
    # Built node by node in the full graph's order: a networkx subgraph view iterates in set
    # order, which changes with Python's string hashing, and every output must be byte-stable.
    shown = nx.DiGraph(**graph.graph)
    shown.graph["view"] = name
    for node, data in graph.nodes(data=True):
        if data["kind"] in kinds or (keep is not None and node in keep):
            shown.add_node(node, **data)
    for a, b, data in graph.edges(data=True):
        if a in shown and b in shown and not (name == "documents" and data["relation"] in _NOT_IN_DOCUMENTS):
            shown.add_edge(a, b, **data)
    return shown


def _display(node: str, data: dict, lang: str = "zh", within: str = "") -> str:
    label = data["label"] if lang == "zh" else data["label_en"]
    if within and data["kind"] in ("article", "clause") and label.startswith(within):
        # Drawn inside its document's box: 《实施细则》 before every article would only repeat it.
        label = label[len(within):]
    if data["kind"] in ("fact", "conclusion", "benefit"):
        return f"{label}\n{node.split(':', 1)[1]}"
    if data["kind"] == "rule":   # the citation as people write it: 《实施细则》第二条, not its key
        cited = data.get("cites_label" if lang == "zh" else "cites_label_en") or data["cites"]
        return f"{node.split(':', 1)[1]}\n[{cited}]"
    return label


# --------------------------------------------------------------------------- dot

def to_dot(g: nx.DiGraph, title: str, highlight: dict | None = None) -> str:
    """Graphviz DOT; rule-view nodes are clustered by the article they cite, and in the
    ``overview`` and ``documents`` views each document's parts are boxed together.
    ``highlight`` (per-case drawings) maps nodes to ``(hit, note)``: hits — facts used, rules
    fired, conclusions derived — are bold, the rest grey; a note (a fact's value) is written
    under the label."""
    lines = [f'digraph "{_q(title)}" {{', "  rankdir=LR;", f'  graph [fontname="{FONT}", label="{_q(title)}", '
             'labelloc=t, fontsize=16, nodesep=0.15, ranksep=0.6];',
             f'  node [fontname="{FONT}", fontsize=10, style="filled"];', f'  edge [fontname="{FONT}", fontsize=8];']
    rule_clusters, document_clusters, loose = _clusters(g)
    for node in loose:
        lines.append("  " + _dot_node(g, node, highlight))
    for n, (document, nodes) in enumerate(document_clusters.items()):
        label = g.nodes[f"document:{document}"]["label"].split("\n")[0] if f"document:{document}" in g else document
        lines.append(f'  subgraph "cluster_document_{n}" {{')
        lines.append(f'    label="{_q(label)}"; style="rounded"; color="#5b7fa6"; fontsize=12;')
        lines += ["    " + _dot_node(g, node, highlight, label) for node in nodes]
        lines.append("  }")
    for n, (part, nodes) in enumerate(rule_clusters.items()):
        lines.append(f'  subgraph "cluster_article_{_ident(part)}" {{')
        lines.append(f'    label="{_q(g.nodes[nodes[0]]["part_label"])}"; style="rounded,dashed"; color="#888888";')
        lines += ["    " + _dot_node(g, node, highlight) for node in nodes]
        lines.append("  }")
    for a, b, data in g.edges(data=True):
        relation = data["relation"]
        if relation == "uses":
            a, b = b, a  # drawn as the flow: the fact or conclusion goes into the rule that uses it
        style = _DOT_EDGE[relation]
        if relation == "uses" and data.get("presumed"):
            style = ', style=dashed, color="#6d6d6d"'
        faded = highlight is not None and not (_hit(highlight, a) and _hit(highlight, b))
        # A document's tree of articles and clauses reads as such: "contains" on every branch
        # only hides the labels that say something.
        label = "" if relation == "contains" else f'label="{_q(_edge_label(data))}"'
        lines.append(f'  "{_q(a)}" -> "{_q(b)}" [{label}{style if label else style.lstrip(", ")}'
                     + (', color="#cccccc", fontcolor="#cccccc"' if faded else "") + "];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge_label(data: dict, lang: str | None = None) -> str:
    """What an edge says: its relation, and for a relation between documents or benefits the
    reason in Chinese and English (or only ``lang``)."""
    relation = data["relation"]
    name = ("presumed by" if data.get("presumed") else "used by") if relation == "uses" else relation
    if "label" not in data:
        return name
    if lang is not None:
        return f"{name}: {data['label' if lang == 'zh' else 'label_en']}"
    return f"{name}\n{data['label']}\n{data['label_en']}"


def _clusters(g: nx.DiGraph, cluster_rules: bool | None = None) -> tuple[dict, dict, list[str]]:
    """Rules by the part (article, notice) they cite, in document and article order; the parts
    of each document (overview and documents views); and the nodes in no cluster."""
    cluster_rules = g.graph.get("cluster", True) if cluster_rules is None else cluster_rules
    rank = _document_rank(g)
    by_document = g.graph.get("view") in ("overview", "documents")
    rules: dict[str, list[str]] = {}
    documents: dict[str, list[str]] = {}
    loose: list[str] = []
    for node, data in g.nodes(data=True):
        if data["kind"] == "rule" and "part" in data and cluster_rules:
            rules.setdefault(data["part"], []).append(node)
        elif by_document and data.get("document") and data["kind"] in ("document", "article", "clause", "benefit"):
            documents.setdefault(data["document"], []).append(node)
        else:
            loose.append(node)
    first = {part: g.nodes[nodes[0]] for part, nodes in rules.items()}
    ordered = sorted(rules, key=lambda p: (rank.get(first[p].get("document"), 0), first[p]["article"], p))
    return {p: rules[p] for p in ordered}, dict(sorted(documents.items(), key=lambda i: rank.get(i[0], 0))), loose


def _document_rank(g: nx.DiGraph) -> dict[str, int]:
    """Documents in the order the graph first meets them (the knowledge base's order: the
    builder adds every node in it)."""
    rank: dict[str, int] = {}
    for _, data in g.nodes(data=True):
        if data.get("document") and data["document"] not in rank:
            rank[data["document"]] = len(rank)
    return rank


def _ident(text: str) -> str:
    """A name usable as a DOT cluster or Mermaid subgraph id: ``13``, ``implementation_rules_2021_2``."""
    return re.sub(r"\W", "_", text)


def _dot_node(g, node, highlight, within: str = "") -> str:
    """A node statement; ``within`` is the name of the document box it is drawn in."""
    data = g.nodes[node]
    shape, fill = _STYLE[data["kind"]]
    label = _display(node, data, within=within)
    extra = ""
    if highlight is not None:
        hit, note = highlight.get(node, (False, None))
        if note:
            label += f"\n= {note}"
        if hit:
            extra = ', penwidth=2.5, color="#1a7f37"'
        else:
            fill, extra = "#f7f7f7", ', color="#bbbbbb", fontcolor="#999999"'
    if data.get("partial"):   # the available text stops inside it: drawn with a dashed outline
        extra += ', style="filled,dashed"'
    return f'"{_q(node)}" [label="{_q(label)}", shape={shape}, fillcolor="{fill}"{extra}];'


def _hit(highlight: dict, node: str) -> bool:
    return highlight.get(node, (False, None))[0]


def _q(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --------------------------------------------------------------------------- mermaid

def to_mermaid(g: nx.DiGraph, highlight: dict | None = None) -> str:
    """A Mermaid flowchart (renders on code hosts); rules clustered by article, and each
    document's parts boxed together in the overview and documents views."""
    ids = {node: f"n{i}" for i, node in enumerate(g.nodes)}
    lines = ["flowchart LR"]
    # Rules stay clustered here even in a case drawing (DOT lays those out better unclustered).
    rule_clusters, document_clusters, loose = _clusters(g, cluster_rules=True)
    for node in loose:
        lines.append("  " + _mermaid_node(ids[node], node, g.nodes[node], highlight))
    for n, (document, nodes) in enumerate(document_clusters.items()):
        key = f"document:{document}"
        label = g.nodes[key]["label"].split("\n")[0] if key in g else document
        lines.append(f'  subgraph D{n}["{_mermaid_text(label)}"]')
        lines += ["    " + _mermaid_node(ids[node], node, g.nodes[node], highlight, label) for node in nodes]
        lines.append("  end")
    for part, nodes in rule_clusters.items():
        lines.append(f'  subgraph A{_ident(part)}["{_mermaid_text(g.nodes[nodes[0]]["part_label"])}"]')
        lines += ["    " + _mermaid_node(ids[node], node, g.nodes[node], highlight) for node in nodes]
        lines.append("  end")
    for a, b, data in g.edges(data=True):
        relation = data["relation"]
        # Edge text in Chinese only: the English reasons hold ";", which ends a Mermaid statement.
        text = _mermaid_text(_edge_label(data, "zh"))
        if relation == "uses":   # drawn as the flow, like DOT; a presumed reference dotted
            arrow, text = ("-.->", "presumed by") if data.get("presumed") else ("-->", "used by")
            lines.append(f"  {ids[b]} {arrow}|{text}| {ids[a]}")
        elif "label" in data:
            lines.append(f'  {ids[a]} {_MERMAID_EDGE[relation]}|"{text}"| {ids[b]}')
        else:
            lines.append(f"  {ids[a]} {_MERMAID_EDGE[relation]}|{relation}| {ids[b]}")
    for kind, (_, fill) in _STYLE.items():
        lines.append(f"  classDef {kind} fill:{fill},stroke:#555")
    for node, data in g.nodes(data=True):
        lines.append(f"  class {ids[node]} {data['kind']}")
    if highlight is not None:
        lines.append("  classDef hit stroke:#1a7f37,stroke-width:3px")
        lines.append("  classDef miss fill:#f7f7f7,stroke:#cccccc,color:#aaaaaa")
        for node in g.nodes:
            lines.append(f"  class {ids[node]} {'hit' if _hit(highlight, node) else 'miss'}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return str(text).replace("\n", "<br/>").replace('"', "#quot;")


def _mermaid_node(ident, node, data, highlight, within: str = "") -> str:
    label = _display(node, data, within=within).replace("\n", "<br/>")
    note = highlight.get(node, (False, None))[1] if highlight else None
    if note:
        label += f"<br/>= {note}"
    label = label.replace('"', "#quot;")
    shape = {"benefit": ('{{"', '"}}'), "fact": ('(["', '"])'), "subpolicy": ('[/"', '"/]')}.get(data["kind"], ('["', '"]'))
    return f"{ident}{shape[0]}{label}{shape[1]}"


# --------------------------------------------------------------------------- graphml, json

def _plain(g: nx.DiGraph) -> nx.DiGraph:
    """A copy whose attributes GraphML can hold (str, int, bool)."""
    plain = nx.DiGraph()
    plain.graph.update({k: str(v) for k, v in g.graph.items()})
    for node, data in g.nodes(data=True):
        plain.add_node(node, **{k: v if isinstance(v, (str, int, bool)) else str(v) for k, v in data.items()})
    for a, b, data in g.edges(data=True):
        plain.add_edge(a, b, **data)
    return plain


def to_graphml(g: nx.DiGraph) -> str:
    return "\n".join(nx.generate_graphml(_plain(g), encoding="utf-8", prettyprint=True)) + "\n"


def to_json(g: nx.DiGraph) -> str:
    data = nx.node_link_data(_plain(g), edges="links")
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- svg, png

def dot_program() -> str:
    found = shutil.which("dot")
    if not found:
        raise GraphvizMissing(
            "svg and png need Graphviz's `dot` program, which is not installed; install it with "
            "`apt-get install graphviz fonts-noto-cjk` (Debian/Ubuntu), `dnf install graphviz "
            "google-noto-sans-cjk-fonts` (Fedora) or `brew install graphviz` (macOS) — the Noto "
            "CJK fonts draw the Chinese labels — or choose --format dot, mermaid, graphml, json or html")
    return found


def run_dot(source: str, fmt: str) -> bytes:
    done = subprocess.run([dot_program(), f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        raise PolicyKBError(f"Graphviz failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    if fmt == "svg":
        return _without_generator(done.stdout.decode("utf-8")).encode("utf-8")
    return done.stdout


#: Graphviz's generator comment, which names its version and may span lines (2.43 writes its
#: closing ``-->`` on a line of its own): matched as a whole comment, never line by line.
_GENERATOR = re.compile(r"<!--\s*Generated by graphviz.*?-->[ \t]*\n?", re.DOTALL)


def _without_generator(svg: str) -> str:
    """The SVG without the generator comment, so files compare across Graphviz builds.

    Raises
    ------
    PolicyKBError
        When what is left is not well-formed XML (browsers would refuse to show it).
    """
    text = _GENERATOR.sub("", svg, count=1)
    try:
        ElementTree.fromstring(text.encode("utf-8"))
    except ElementTree.ParseError as exc:
        raise PolicyKBError(f"Graphviz wrote an SVG that is not well-formed XML ({exc})") from None
    return text if text.endswith("\n") else text + "\n"


# --------------------------------------------------------------------------- html

def layout(g: nx.DiGraph) -> dict[str, tuple[int, int]]:
    """Deterministic layered positions: the rule flow left to right by depth, the documents'
    structure in columns after it (with no rules, as in the documents view, the benefits
    shown come after the clauses that grant them); each column in document and article order."""
    from engine.rendering.graph import flow
    has_rules = any(d["kind"] == "rule" for _, d in g.nodes(data=True))
    structure = {"document": 1, "article": 2, "clause": 3, "subpolicy": 4}
    if not has_rules:
        structure.update({kind: 4 for kind in _RULE_KINDS})
    flowing = nx.DiGraph()
    if has_rules:
        flowing = flow(g)
        flowing.add_nodes_from(n for n, d in g.nodes(data=True) if d["kind"] in _RULE_KINDS)
    layer: dict[str, int] = {}
    for node in nx.lexicographical_topological_sort(flowing):
        preds = [layer[p] for p in flowing.predecessors(node)]
        layer[node] = (max(preds) + 1) if preds else 0
    last = max(layer.values(), default=-1)
    for node, data in g.nodes(data=True):
        if node not in layer:
            layer[node] = last + structure.get(data["kind"], 4)
    columns: dict[int, list[str]] = {}
    order = {n: i for i, n in enumerate(g.nodes)}
    rank = _document_rank(g)

    def place(n):
        data = g.nodes[n]
        return (rank.get(data.get("document"), 0), data.get("article", 0), order[n])

    for node in sorted(g.nodes, key=place):
        columns.setdefault(layer[node], []).append(node)
    positions = {}
    for x, column in enumerate(sorted(columns)):
        for y, node in enumerate(columns[column]):
            positions[node] = (40 + x * 260, 40 + y * 46)
    return positions


def to_html(g: nx.DiGraph, title: str) -> str:
    positions = layout(g)
    width = max(x for x, _ in positions.values()) + 260
    height = max(y for _, y in positions.values()) + 80
    parts = []
    for a, b, data in g.edges(data=True):
        (x1, y1), (x2, y2) = positions[a], positions[b]
        x1, x2 = x1 + 110, x2 + 110
        bend = max(40, abs(x2 - x1) / 2)
        kind = data["relation"] + (" presumed" if data.get("presumed") else "")
        note = f"<title>{html.escape(_edge_label(data).replace(chr(10), ' — '))}</title>" if "label" in data else ""
        path = (f'<path class="edge {kind}" data-a="{html.escape(a)}" data-b="{html.escape(b)}" '
                f'd="M{x1},{y1 + 16} C{x1 + bend},{y1 + 16} {x2 - bend},{y2 + 16} {x2},{y2 + 16}"')
        parts.append(f"{path}>{note}</path>" if note else f"{path}/>")
    for node, data in g.nodes(data=True):
        x, y = positions[node]
        label = data["label"].split("\n")[0]
        short = label if len(label) <= 16 else label[:15] + "…"
        parts.append(f'<g class="node {data["kind"]}" data-id="{html.escape(node)}" transform="translate({x},{y})">'
                     f'<rect width="220" height="32" rx="6" fill="{_STYLE[data["kind"]][1]}"/>'
                     f'<text x="8" y="20">{html.escape(short)}</text><title>{html.escape(node)}</title></g>')
    nodes = {n: {k: v for k, v in d.items() if isinstance(v, (str, int, bool))} for n, d in g.nodes(data=True)}
    # The side panel names each neighbour's relation, with the reason for one between documents.
    edges = [[a, b, _edge_label(d, "zh") if "label" in d or d.get("presumed") else d["relation"]]
             for a, b, d in g.edges(data=True)]
    payload = json.dumps({"nodes": nodes, "edges": edges}, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return _HTML.format(title=html.escape(title), width=width, height=height, svg="\n".join(parts), data=payload)


_HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ margin: 0; font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; display: flex; height: 100vh; }}
#canvas {{ flex: 1; overflow: hidden; background: #fbfbfb; cursor: grab; }}
#panel {{ width: 24rem; padding: 1rem; border-left: 1px solid #ccc; overflow: auto; font-size: .9rem; }}
svg {{ width: 100%; height: 100%; user-select: none; }}
.edge {{ fill: none; stroke: #999; stroke-width: 1; }}
.edge.derives {{ stroke: #555; }} .edge.cites, .edge.governs {{ stroke-dasharray: 2 3; }}
.edge.defers_to {{ stroke: #b8860b; stroke-dasharray: 6 3; }} .edge.presumed {{ stroke-dasharray: 5 3; }}
.edge.grants {{ stroke: #555; }} .edge.implements {{ stroke: #1f5fa8; stroke-width: 2; }}
.edge.overlaps {{ stroke: #c0392b; stroke-width: 2; stroke-dasharray: 6 3; }} .edge.supersedes {{ stroke: #6a1b9a; stroke-width: 2; }}
.node rect {{ stroke: #666; }} .node text {{ font-size: 12px; }} .node {{ cursor: pointer; }}
.dim {{ opacity: .15; }} .picked rect {{ stroke: #d32f2f; stroke-width: 3; }}
h1 {{ font-size: 1.1rem; }} code {{ font-size: .8rem; }}
</style>
</head>
<body data-ready="false">
<div id="canvas"><svg id="graph" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">
<g id="edges-and-nodes">
{svg}
</g></svg></div>
<div id="panel"><h1>{title}</h1><p>拖动平移，滚轮缩放，点击节点查看条文与相邻节点。<br>Drag to pan, scroll to zoom, click a node for its text and neighbours.</p><div id="info"></div></div>
<script id="graph-data" type="application/json">{data}</script>
<script>
(function () {{
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var svg = document.getElementById("graph");
  var box = svg.viewBox.baseVal;
  var dragging = null;
  svg.addEventListener("mousedown", function (e) {{ dragging = [e.clientX, e.clientY]; }});
  window.addEventListener("mouseup", function () {{ dragging = null; }});
  window.addEventListener("mousemove", function (e) {{
    if (!dragging) return;
    var scale = box.width / svg.clientWidth;
    box.x -= (e.clientX - dragging[0]) * scale; box.y -= (e.clientY - dragging[1]) * scale;
    dragging = [e.clientX, e.clientY];
  }});
  svg.addEventListener("wheel", function (e) {{
    e.preventDefault();
    var f = e.deltaY > 0 ? 1.15 : 1 / 1.15;
    var r = svg.getBoundingClientRect();
    var px = box.x + (e.clientX - r.left) / r.width * box.width, py = box.y + (e.clientY - r.top) / r.height * box.height;
    box.x = px - (px - box.x) * f; box.y = py - (py - box.y) * f; box.width *= f; box.height *= f;
  }}, {{ passive: false }});
  function esc(s) {{ return String(s).replace(/[&<>"]/g, function (c) {{ return {{"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}}[c]; }}); }}
  function pick(id) {{
    var near = {{}}; near[id] = true;
    var rows = data.edges.filter(function (e) {{ return e[0] === id || e[1] === id; }});
    rows.forEach(function (e) {{ near[e[0]] = true; near[e[1]] = true; }});
    document.querySelectorAll(".node").forEach(function (n) {{
      n.classList.toggle("dim", !near[n.dataset.id]); n.classList.toggle("picked", n.dataset.id === id);
    }});
    document.querySelectorAll(".edge").forEach(function (p) {{
      p.classList.toggle("dim", !(p.dataset.a === id || p.dataset.b === id));
    }});
    var d = data.nodes[id], html = "<h2>" + esc(d.label) + "</h2><p>" + esc(d.label_en) + "</p><p><code>" + esc(id) + "</code> (" + esc(d.kind) + ")</p>";
    ["text", "quote", "explain", "explain_en", "title"].forEach(function (k) {{ if (d[k]) html += "<p>" + esc(d[k]) + "</p>"; }});
    html += "<h3>相邻 / neighbours</h3><ul>" + rows.map(function (e) {{
      var other = e[0] === id ? e[1] : e[0], dir = e[0] === id ? "→" : "←";
      return "<li>" + dir + " " + esc(e[2]) + " <a href='#' data-go='" + esc(other) + "'>" + esc(data.nodes[other].label) + "</a></li>";
    }}).join("") + "</ul>";
    var info = document.getElementById("info"); info.innerHTML = html;
    info.querySelectorAll("a[data-go]").forEach(function (a) {{ a.addEventListener("click", function (e) {{ e.preventDefault(); pick(a.dataset.go); }}); }});
  }}
  document.querySelectorAll(".node").forEach(function (n) {{
    n.addEventListener("click", function (e) {{ e.stopPropagation(); pick(n.dataset.id); }});
  }});
  document.body.dataset.nodes = document.querySelectorAll(".node").length;
  document.body.dataset.ready = "true";
}})();
</script>
</body>
</html>
"""


# --------------------------------------------------------------------------- one case

def case_graph(graph: nx.DiGraph, assessment, target: str, lang: str = "zh") -> tuple[nx.DiGraph, dict]:
    """What ``target`` rests on, for one enterprise: the rules that could derive it, down to
    the facts, with the facts' values; what fired and holds is marked as a hit."""
    from engine.explaining.wording import display
    kb, inference = assessment.kb, assessment.inference
    from engine.rendering.graph import flow
    start = f"{kb.conclusions[target].kind}:{target}"
    keep = nx.ancestors(flow(graph), start) | {start}
    shown = view(graph, "rules")
    shown.remove_nodes_from([n for n in list(shown) if n not in keep])
    fired = {d.rule_id for derivations in inference.derivations.values() for d in derivations}
    used = {f for derivations in inference.derivations.values() for d in derivations for f in d.facts}
    marks: dict[str, tuple[bool, str | None]] = {}
    for node, data in shown.nodes(data=True):
        ident = node.split(":", 1)[1]
        if data["kind"] == "fact":
            value = assessment.facts.get(ident)
            marks[node] = (ident in used, display(kb, ident, value, lang))
        elif data["kind"] == "rule":
            marks[node] = (ident in fired, None)
        else:
            marks[node] = (inference.holds(ident), assessment.result["status"][ident])
    shown.graph["cluster"] = False
    return shown, marks


# --------------------------------------------------------------------------- writing

def write(g: nx.DiGraph, fmt: str, title: str, out: Path | None = None) -> bytes:
    """The graph in ``fmt`` as bytes (and written to ``out`` when given)."""
    if fmt == "dot":
        data = to_dot(g, title).encode("utf-8")
    elif fmt == "mermaid":
        data = to_mermaid(g).encode("utf-8")
    elif fmt == "graphml":
        data = to_graphml(g).encode("utf-8")
    elif fmt == "json":
        data = to_json(g).encode("utf-8")
    elif fmt in ("svg", "png"):
        data = run_dot(to_dot(g, title), fmt)
    elif fmt == "html":
        data = to_html(g, title).encode("utf-8")
    else:
        raise PolicyKBError(f"unknown format '{fmt}'", allowed=FORMATS)
    if out is not None:
        out.write_bytes(data)
    return data


DIAGRAMS = [  # (file, view, format)
    ("overview.svg", "overview", "svg"), ("overview.mmd", "overview", "mermaid"), ("overview.dot", "overview", "dot"),
    ("documents.svg", "documents", "svg"), ("documents.mmd", "documents", "mermaid"),
    ("documents.dot", "documents", "dot"), ("documents.html", "documents", "html"),
    ("rules.svg", "rules", "svg"), ("rules.mmd", "rules", "mermaid"), ("rules.dot", "rules", "dot"),
    ("policy.html", "full", "html"), ("full.graphml", "full", "graphml"), ("full.json", "full", "json"),
]


def write_all(graph: nx.DiGraph, title: str, out: Path) -> list[Path]:
    """Every diagram of ``diagrams/`` and its README (Mermaid embedded)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, view_name, fmt in DIAGRAMS:
        write(view(graph, view_name), fmt, f"{title} — {view_name}", out / name)
        written.append(out / name)
    readme = io.StringIO()
    readme.write("# Diagrams of the knowledge base\n\nGenerated from `kb/` by `policykb regenerate --kb kb` (the diagrams alone: `policykb graph --all --out diagrams/ --kb kb`); "
                 "a test fails when these files differ from what the current `kb/` gives. Do not edit by hand.\n\n"
                 "- `overview.*` — each document with its articles and clauses, and the sub-policies they defer to "
                 "(a sub-policy encoded as a document is that document).\n"
                 "- `documents.*` — the documents and their parts, what holds between them (implements, defers to, "
                 "supersedes where they conflict) and the benefits of different documents that overlap (not stacked); "
                 "a dashed outline marks a document, article or clause whose available text is partial.\n"
                 "- `rules.*` — facts → rules → conclusions → benefits, rules clustered by the article they cite.\n"
                 "- `policy.html` — the whole graph, interactive (pan, zoom, click a node for its text and neighbours), "
                 "no network needed.\n- `full.graphml`, `full.json` — the whole graph for other tools (networkx node-link JSON).\n\n")
    for name, view_name in (("documents", "documents"), ("overview", "overview"), ("rules", "rules")):
        readme.write(f"## {view_name}\n\n![{view_name}]({name}.svg)\n\n```mermaid\n")
        readme.write((out / f"{name}.mmd").read_text(encoding="utf-8"))
        readme.write("```\n\n")
    (out / "README.md").write_text(readme.getvalue(), encoding="utf-8")
    written.append(out / "README.md")
    return written
