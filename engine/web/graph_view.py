"""The graph page's drawing: the dependency graph of the rules (facts → rules → conclusions →
benefits), in bands, as data for an SVG template.

The structure is the knowledge base's one graph (:func:`engine.rendering.graph.build`), as it
flows at evaluation (:func:`engine.rendering.graph.flow`); this module only places it and words
it in the page's language:

- a **band** per step of derivation: each conclusion or benefit one band right of everything its
  rules use; a rule stands in the band of what it derives, just left of it; a fact stands just
  left of the first band whose rules use it, so that the facts spread over the bands instead of
  making one column as tall as the page;
- within a column, nodes in the order that keeps edges short (barycentres, swept both ways),
  then moved towards their neighbours as far as the column allows;
- every label whole, wrapped on as many lines as it needs in a box sized for it; a rule shows
  the clause it encodes (its label, in the panel and for search, adds what it derives), never
  its id, which comes after the label in the panel;
- the drawing is compact enough to be shown whole when the page opens (``static/graph.js``
  fits it to the window); zoom shows the detail.

Built once per knowledge base and language. Deterministic: the same knowledge base gives the
same drawing.
"""

from __future__ import annotations

import re
import unicodedata

import networkx as nx

from engine.model import KnowledgeBase
from engine.rendering.graph import build, flow

#: The kinds of node the page draws: what flows at evaluation.
DRAWN = ("fact", "rule", "conclusion", "benefit")
#: Text size and box metrics, in SVG units (pixels at zoom 1).
FONT, LINE, PAD_X, PAD_Y = 13, 17, 6, 3
#: The widest line of text in a box, by kind and language (a label wraps beyond it).
TEXT_WIDTH = {"zh": {"fact": 132, "rule": 118, "conclusion": 132, "benefit": 132},
              "en": {"fact": 220, "rule": 118, "conclusion": 170, "benefit": 160}}
GAP_Y, GAP_RULE, GAP_BAND, MARGIN = 5, 20, 32, 12

#: The words of the graph page, by language (the legend, the zoom buttons, the panel).
WORDS = {
    "zh": {"fact": "事实", "rule": "规则（所依条款）", "conclusion": "结论", "benefit": "支持事项",
           "with_case": "有案例时：", "hit": "成立 / 已适用", "open": "待定（缺少事实）", "miss": "不成立 / 不适用",
           "zoom_in": "放大", "zoom_out": "缩小", "fit": "显示全图", "close": "关闭",
           "derives": "推出", "uses": "所用", "used_by": "用于", "rule_of": "规则", "this_case": "本案例：",
           "hint": "点击节点查看所依条款、原文和相连节点。"},
    "en": {"fact": "fact", "rule": "rule (its clause)", "conclusion": "conclusion", "benefit": "benefit",
           "with_case": "With a case:", "hit": "holds / applied", "open": "undetermined (facts missing)",
           "miss": "does not hold / not applied", "zoom_in": "Zoom in", "zoom_out": "Zoom out", "fit": "Whole graph",
           "close": "Close", "derives": "derives", "uses": "uses", "used_by": "used by", "rule_of": "rule",
           "this_case": "this case: ", "hint": "Click a node for its clause, the text it quotes and its neighbours."},
}


def graph_view(kb: KnowledgeBase, lang: str) -> dict:
    """The drawing, built once per knowledge base and language (kept with the knowledge base)."""
    cache = kb.__dict__.setdefault("_web_graph_views", {})
    if lang not in cache:
        cache[lang] = _build(kb, lang)
    return cache[lang]


def _build(kb: KnowledgeBase, lang: str) -> dict:
    whole = build(kb)
    flowing = flow(whole)
    g = nx.DiGraph()
    for key in sorted(flowing.nodes):
        data = whole.nodes[key]
        if data["kind"] in DRAWN:
            g.add_node(key, **_drawn(kb, key, data, lang))
    for a, b in sorted(flowing.edges):
        if a in g and b in g:
            g.add_edge(a, b, relation="derives" if g.nodes[a]["kind"] == "rule" else "uses")
    _name_rules(g, lang)
    columns = _columns(g)
    _order(g, columns)
    sizes = {key: _box(g.nodes[key], lang) for key in g}
    xs, width = _xs(g, columns, sizes)
    ys, height = _ys(g, columns, sizes)
    nodes = []
    for key in g:
        data = g.nodes[key]
        w, h, lines = sizes[key]
        nodes.append({"key": key, "id": data["id"], "kind": data["kind"], "label": data["label"], "lines": lines,
                      "x": xs[key], "y": ys[key], "w": w, "h": h, "detail": data.get("detail", ""),
                      "quote": data.get("quote", ""), "cites": data["cites"]})
    nodes.sort(key=lambda n: (n["x"], n["y"]))
    edges = []
    for a, b, data in sorted(g.edges(data=True)):
        x1, y1 = xs[a] + sizes[a][0], ys[a] + sizes[a][1] / 2
        x2, y2 = xs[b], ys[b] + sizes[b][1] / 2
        bend = max(24, (x2 - x1) / 2)
        edges.append({"a": a, "b": b, "relation": data["relation"],
                      "d": f"M{x1:g},{y1:g} C{x1 + bend:g},{y1:g} {x2 - bend:g},{y2:g} {x2:g},{y2:g}"})
    return {"nodes": nodes, "edges": edges, "width": width, "height": height, "line": LINE, "pad_x": PAD_X,
            "pad_y": PAD_Y, "font": FONT, "words": WORDS[lang]}


def _drawn(kb: KnowledgeBase, key: str, data: dict, lang: str) -> dict:
    """What the page shows of a node of the knowledge base's graph, in ``lang``."""
    kind, ident = key.split(":", 1)
    if kind == "fact":
        ref = kb.facts[ident].source
    elif kind == "rule":
        ref = data["cites"]
    else:
        ref = kb.conclusions[ident].article
    english = lang == "en"
    label = (data["label_en"] if english else data["label"]) if kind != "rule" else kb.label(ref, lang)
    return {"kind": kind, "id": ident, "label": label, "clause": kb.label(ref, lang),
            "cites": kb.label(ref, lang), "rank": _rank(kb, ref), "quote": data.get("quote", ""),
            "detail": data.get("explain_en" if english else "explain", "")}


def _name_rules(g: nx.DiGraph, lang: str) -> None:
    """A rule is shown by its clause; its label (the panel's heading, what search finds) adds
    what it derives: ``第十三条第（一）项 → 入驻补助``."""
    for key in g:
        data = g.nodes[key]
        if data["kind"] != "rule":
            continue
        data["shown"] = data["clause"]
        derived = [g.nodes[b]["label"] for b in g.successors(key)]
        if derived:
            data["label"] = f"{data['clause']} → {'、'.join(derived) if lang == 'zh' else ', '.join(derived)}"


def _columns(g: nx.DiGraph) -> list[list[str]]:
    """The columns left to right: band 0 holds facts; band k ≥ 1 a column of the rules deriving
    band k's conclusions, then a column of those conclusions and the facts first used in band k + 1."""
    band: dict[str, int] = {}
    for key in nx.lexicographical_topological_sort(g):
        kind = g.nodes[key]["kind"]
        inputs = [band[p] for p in g.predecessors(key)]
        if kind == "rule":
            band[key] = max([b for p, b in zip(g.predecessors(key), inputs) if g.nodes[p]["kind"] != "fact"] + [0]) + 1
        elif kind != "fact":
            band[key] = max(inputs + [1])
        else:
            band[key] = 0
    # A rule stands in the band of what it derives (another rule of it may need a later band).
    for key in g:
        if g.nodes[key]["kind"] == "rule":
            after = [band[s] for s in g.successors(key)]
            if after:
                band[key] = max(after)
    for key in g:
        if g.nodes[key]["kind"] == "fact":
            users = [band[s] for s in g.successors(key)]
            band[key] = max(min(users) - 1, 0) if users else 0
    last = max(band.values())
    columns: list[list[str]] = [[] for _ in range(2 * last + 1)]
    for key in sorted(g, key=lambda k: (g.nodes[k]["rank"], k)):
        kind, at = g.nodes[key]["kind"], band[key]
        columns[2 * at - 1 if kind == "rule" else 2 * at].append(key)
    return [c for c in columns if c]


def _order(g: nx.DiGraph, columns: list[list[str]], sweeps: int = 6) -> None:
    """Order each column so that edges between neighbouring columns cross little: each node at
    the mean position of its neighbours in the column before (then after), ties kept as they are."""
    index = {key: (c, i) for c, column in enumerate(columns) for i, key in enumerate(column)}
    undirected = g.to_undirected(as_view=True)

    def place(c: int, side: int) -> None:
        column = columns[c]
        def centre(key: str) -> float:
            near = [index[n][1] for n in undirected.neighbors(key) if index[n][0] == c + side]
            if not near:
                near = [index[n][1] for n in undirected.neighbors(key) if (index[n][0] - c) * side > 0]
            return sum(near) / len(near) if near else index[key][1]
        column.sort(key=lambda k: (centre(k), index[k][1]))
        for i, key in enumerate(column):
            index[key] = (c, i)

    for _ in range(sweeps):
        for c in range(1, len(columns)):
            place(c, -1)
        for c in range(len(columns) - 2, -1, -1):
            place(c, +1)


def _box(data: dict, lang: str) -> tuple[int, int, list[str]]:
    """A node's box width and height and its text lines: the whole label, wrapped."""
    kind = data["kind"]
    text = data.get("shown", data["label"])
    lines = wrap(text, TEXT_WIDTH[lang][kind])
    width = max(text_width(line) for line in lines)
    return (int(width) + 2 * PAD_X + 2, len(lines) * LINE + 2 * PAD_Y, lines)


def _xs(g: nx.DiGraph, columns: list[list[str]], sizes: dict) -> tuple[dict, int]:
    xs, x = {}, MARGIN
    for c, column in enumerate(columns):
        width = max(sizes[k][0] for k in column)
        for key in column:
            # Rules are aligned right, next to what they derive; the others left.
            xs[key] = x + (width - sizes[key][0] if g.nodes[key]["kind"] == "rule" else 0)
        nxt = columns[c + 1] if c + 1 < len(columns) else None
        x += width + (GAP_RULE if nxt and g.nodes[nxt[0]]["kind"] != "rule" else GAP_BAND)
    return xs, int(x - GAP_BAND + MARGIN)


def _ys(g: nx.DiGraph, columns: list[list[str]], sizes: dict, rounds: int = 4) -> tuple[dict, int]:
    """Each column stacked, then each node moved towards the middle of its neighbours as far as
    its column lets it, within the height of the tallest column."""
    stacked = {c: sum(sizes[k][1] for k in column) + GAP_Y * (len(column) - 1) for c, column in enumerate(columns)}
    height = max(stacked.values())
    ys = {}
    for c, column in enumerate(columns):
        y = (height - stacked[c]) / 2
        for key in column:
            ys[key] = y
            y += sizes[key][1] + GAP_Y
    undirected = g.to_undirected(as_view=True)
    for _ in range(rounds):
        for order in (range(len(columns)), range(len(columns) - 1, -1, -1)):
            for c in order:
                column = columns[c]
                wanted = []
                for key in column:
                    near = [ys[n] + sizes[n][1] / 2 for n in undirected.neighbors(key)]
                    wanted.append(sum(near) / len(near) - sizes[key][1] / 2 if near else ys[key])
                _settle(column, wanted, sizes, height, ys)
    top = MARGIN
    return {k: round(v + top) for k, v in ys.items()}, int(height + 2 * MARGIN)


def _settle(column: list[str], wanted: list[float], sizes: dict, height: float, ys: dict) -> None:
    """Place a column's nodes as near their wanted positions as their order, the gaps and the
    height allow."""
    placed, floor = [], 0.0
    for key, want in zip(column, wanted):
        y = max(want, floor)
        placed.append(y)
        floor = y + sizes[key][1] + GAP_Y
    ceiling = height
    for i in range(len(column) - 1, -1, -1):
        key = column[i]
        placed[i] = min(placed[i], ceiling - sizes[key][1])
        ceiling = placed[i] - GAP_Y
    for key, y in zip(column, placed):
        ys[key] = max(y, 0.0)


def _rank(kb: KnowledgeBase, ref: str) -> tuple:
    documents = list(kb.documents)
    document = kb.document_of(ref)
    numbers = tuple(int(n) for n in re.findall(r"\d+", kb.local(ref))) or (0,)
    return (documents.index(document) if document in documents else 99, numbers)


# --------------------------------------------------------------------------- text

#: Latin widths in em of Noto Sans CJK SC, the font the drawing asks for (views.css), measured in
#: Chromium and rounded up; a character not listed is taken as 0.62 em (0.72 em for a capital).
_LATIN = {}
for _chars, _em in (("ijl|'.,:;", 0.29), (" ", 0.24), ("f!I", 0.33), ("()[]{}-t", 0.36), ("r/\\", 0.41),
                    ("s?\"z*", 0.49), ("cxJvy", 0.53), ("0123456789#$+<=>^~aegkY_FLZ", 0.59), ("SXTAVEC", 0.62),
                    ("bdhnopquR`P", 0.64), ("BKGDO&QHNU", 0.77), ("wMWm", 0.97), ("%@", 0.98)):
    _LATIN.update(dict.fromkeys(_chars, _em))
#: Closing marks that do not begin a line, opening ones that do not end it.
_CLOSING, _OPENING = set("，。、；：？！）》」』”’,.;:?!)"), set("（《「『“‘(")


def char_width(ch: str) -> float:
    """A character's width at :data:`FONT`, a little generous: the browser test checks that
    every label fits its box (``static/graph.js`` narrows a line that would not, in a font
    wider than the one measured)."""
    if unicodedata.east_asian_width(ch) in "WFA":   # ambiguous (“ ” · …) is wide in a CJK font
        return FONT
    return FONT * _LATIN.get(ch, 0.72 if ch.isupper() else 0.62)


def text_width(text: str) -> float:
    return sum(char_width(ch) for ch in text)


def _tokens(text: str) -> list[str]:
    """Pieces a line may break between: a Latin word with the space after it, a CJK character,
    punctuation kept with the character it belongs to."""
    pieces = re.findall(r"[A-Za-z0-9'’&.\-]+[ ,;:)]*\s*|\S\s*|\s+", text)
    out: list[str] = []
    for piece in pieces:
        if out and (piece[0] in _CLOSING or out[-1][-1] in _OPENING):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def wrap(text: str, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` (a piece wider than a line is cut between
    characters); nothing left out."""
    lines, line = [], ""
    for piece in _tokens(text):
        if line and text_width((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        while text_width(piece.rstrip()) > width:
            cut = 1
            while text_width(piece[: cut + 1]) <= width:
                cut += 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        line += piece
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
