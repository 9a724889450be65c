"""The dependency graph of a knowledge base, built with networkx from ``kb/``.

A knowledge base holds several documents (``kb/knowledge_base.yaml``); the graph has them all.

Nodes carry ``kind`` — ``document``, ``article``, ``clause``, ``subpolicy``, ``rule``, ``fact``,
``conclusion`` or ``benefit`` — and ``label`` (Chinese) and ``label_en``. Node keys are
``<kind>:<id>``, unique across documents: ``document:implementation_rules_2021``,
``article:13`` and ``clause:13(1)`` in the home document, ``article:implementation_rules_2021:2``
and ``clause:industry_development_measures_2022:2(1)`` in the others (the canonical citation
after the kind), ``rule:settlement_subsidy.capital_threshold``, ``fact:paid_in_capital``.

Every node that belongs to a document carries ``document`` (its id); article and clause nodes
``ref`` (the canonical citation), ``article`` (its number) and ``partial`` (the available text
stops inside it); clause nodes ``clause`` (the canonical citation); rule and conclusion nodes
``article`` (the number of the article they cite, 0 for a notice or preamble), ``part``
(the canonical citation of that article, or of the notice), with ``part_label`` for drawing,
and ``cites_label``/``cites_label_en`` (the citation as people write it);
sub-policy nodes ``title``. A sub-policy that is itself an encoded document
(``encoded_as``) is not a node of its own: it is that document's node.

Edges carry ``relation``:

- ``contains``: document → article, article → clause;
- ``defers_to``: article or clause → sub-policy (or the document it is encoded as), and
  rule → sub-policy it sets amounts by;
- ``cites``: rule → article or clause (→ the document for its notice or preamble);
- ``uses``: rule → fact or conclusion; ``presumed: true`` when the conclusion is referenced as
  presumed (it holds unless known to fail), drawn as a dashed dependency;
- ``derives``: rule → conclusion or benefit;
- ``grants``: the article or clause a benefit is granted by → the benefit;
- ``governs``: the part whose rules decide whether a document is in force and which offer wins
  (Article 14 for the measures) → every benefit of that document;
- ``implements``: document → the document it implements (the 实施细则 → the measures);
- ``overlaps``: benefit → benefit of another document paying for the same thing (not stacked;
  ``label`` names where that comes from), one edge per pair, read both ways;
- ``supersedes``: newer document → older one, where they conflict and from the newer's date.

Nothing is typed by hand: the graph is derived from the YAML, so an edit shows up at once.
"""

from __future__ import annotations

import re

import networkx as nx

from engine.model import conditions as cond
from engine.errors import ProfileError, nearest
from engine.explaining.wording import document_dates
from engine.model import Document, KnowledgeBase

KINDS = ("document", "article", "clause", "subpolicy", "rule", "fact", "conclusion", "benefit")


def node_key(kind: str, ident) -> str:
    return f"{kind}:{ident}"


def title(kb: KnowledgeBase) -> str:
    """The title of the knowledge base's drawings: the home document, then the others by
    their short names (《实施细则》…)."""
    doc = kb.document
    head = " ".join(str(p) for p in (doc.get("doc_number"), doc["title"]) if p)
    others = "".join(f"《{d.label('zh')}》" for d in kb.documents.values() if d.id != kb.home)
    return f"{head} 及{others}" if others else head


def build(kb: KnowledgeBase) -> nx.DiGraph:
    """The whole knowledge base as a DiGraph (see the module docstring)."""
    g = nx.DiGraph(name=kb.document.get("doc_number") or kb.document["title"], kb_version=kb.version)
    for doc in kb.documents.values():
        dkey = node_key("document", doc.id)
        label, label_en = _document_labels(doc)
        g.add_node(dkey, kind="document", document=doc.id, label=label, label_en=label_en, title=doc.title,
                   partial=bool(doc.data.get("missing")))
        for article in kb.articles.values():
            if article.document != doc.id:
                continue
            key = node_key("article", article.id)
            g.add_node(key, kind="article", document=doc.id, ref=article.id, article=article.number,
                       partial=article.partial, text=article.text,
                       label=_part_label(kb, article.id, article.title, article.partial, "zh"),
                       label_en=_part_label(kb, article.id, article.title_en, article.partial, "en"))
            _edge(g, dkey, key, relation="contains")
            for clause in article.clauses:
                ckey = node_key("clause", clause.id)
                g.add_node(ckey, kind="clause", document=doc.id, ref=clause.id, clause=clause.id,
                           article=article.number, partial=clause.partial, text=clause.text,
                           label=_part_label(kb, clause.id, clause.title, clause.partial, "zh"),
                           label_en=_part_label(kb, clause.id, clause.title_en, clause.partial, "en"))
                _edge(g, key, ckey, relation="contains")
    # A sub-policy that the knowledge base encodes as a document of its own is that document.
    target = {sub.id: node_key("document", sub.encoded_as) if sub.encoded_as in kb.documents
              else node_key("subpolicy", sub.id) for sub in kb.subpolicies.values()}
    for sub in kb.subpolicies.values():
        skey = target[sub.id]
        if skey.startswith("subpolicy:"):
            g.add_node(skey, kind="subpolicy", title=sub.title, label=f"《{sub.title}》" if sub.named else sub.title,
                       label_en=sub.title_en, named=sub.named)
        for ref in sub.deferred_by:
            _edge(g, _ref_key(kb, ref), skey, relation="defers_to")
    for fact in kb.facts.values():
        g.add_node(node_key("fact", fact.id), kind="fact", label=fact.zh, label_en=fact.en, type=fact.type)
    for conclusion in kb.conclusions.values():
        g.add_node(node_key(conclusion.kind, conclusion.id), kind=conclusion.kind, label=conclusion.zh,
                   label_en=conclusion.en, **_placed(kb, conclusion.article, conclusion.document))
    for rule in kb.rules.values():
        rkey = node_key("rule", rule.id)
        g.add_node(rkey, kind="rule", label=rule.id, label_en=rule.id, cites=rule.cites, quote=rule.quote,
                   explain=rule.explain["zh"], explain_en=rule.explain["en"], **_placed(kb, rule.cites, rule.document))
        for ref in [rule.cites, *rule.also_cites]:
            _edge(g, rkey, _ref_key(kb, ref), relation="cites")
        for name in cond.facts_used(rule.when):
            _edge(g, rkey, node_key("fact", name), relation="uses")
        for name, presumed in _conclusion_refs(rule.when).items():
            _edge(g, rkey, node_key(kb.conclusions[name].kind, name), relation="uses", presumed=presumed)
        _edge(g, rkey, node_key(kb.conclusions[rule.then].kind, rule.then), relation="derives")
        for sub in rule.defers_to:
            _edge(g, rkey, target.get(sub, node_key("subpolicy", sub)), relation="defers_to")
    for precedence in kb.precedence:
        pkey = node_key("rule", precedence.id)
        g.add_node(pkey, kind="rule", label=precedence.id, label_en=precedence.id, cites=precedence.cites,
                   quote=precedence.quote, explain=precedence.explain["zh"], explain_en=precedence.explain["en"],
                   **_placed(kb, precedence.cites, kb.document_of(precedence.cites)))
        _edge(g, pkey, _ref_key(kb, precedence.cites), relation="cites")
        _edge(g, pkey, node_key("fact", precedence.input), relation="uses")
    for benefit in kb.benefits.values():
        _edge(g, _ref_key(kb, benefit.article), node_key("benefit", benefit.id), relation="grants")
    _governs(kb, g)
    _between_documents(kb, g)
    return g


def _edge(g: nx.DiGraph, a: str, b: str, **data) -> None:
    """An edge between two nodes already in the graph. A knowledge base cut down to some of its
    documents (``--documents``) still cites the others' articles (the measures' key-enterprise
    rule cites 实施细则 第二条): such a reference has no node, and a bare one would have no kind."""
    if a in g and b in g:
        g.add_edge(a, b, **data)


def _document_labels(doc: Document) -> tuple[str, str]:
    """A document as its node shows it: short name and title, dates, and how much of its text
    the knowledge base has."""
    dates_zh, dates_en = document_dates(doc, "zh"), document_dates(doc, "en")
    number = f"{doc.data['doc_number']} · " if doc.data.get("doc_number") else ""
    missing = doc.data.get("missing") or []
    available = doc.data.get("available") or ("全文" if not missing else "部分")
    text_en = f"partial text ({len(missing)} parts missing)" if missing else "whole text"
    zh = "\n".join([f"《{doc.label('zh')}》", doc.title, number + dates_zh, *_wrap(f"现有文本：{available}")])
    en = "\n".join([doc.label("en"), doc.title_en, number + dates_en, text_en])
    return zh, en


def _wrap(text: str, width: int = 30) -> list[str]:
    """Chinese text in lines of about ``width`` characters, broken after punctuation where it
    can be (Graphviz does not wrap labels)."""
    lines, line = [], ""
    for piece in re.findall(r"[^；，、。]*[；，、。]?", text):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
        while len(line) > width:
            lines.append(line[:width])
            line = line[width:]
    return lines + ([line] if line else [])


def _part_label(kb: KnowledgeBase, ref: str, title_text: str, partial: bool, lang: str) -> str:
    mark = ("（节选）" if lang == "zh" else " (partial)") if partial else ""
    return f"{kb.label(ref, lang)} {title_text}{mark}"


def _placed(kb: KnowledgeBase, ref: str, document: str) -> dict:
    """Where a rule or conclusion sits: its document, the article (or notice, preamble) it
    cites, and that part's name for drawing rules clustered by it."""
    part = _part(kb, ref)
    head = kb.local(part)
    return {"document": document or kb.document_of(ref), "article": int(head) if head.isdigit() else 0,
            "part": part, "part_label": f"{kb.label(part, 'zh')} / {kb.label(part, 'en')}",
            "cites_label": kb.label(ref, "zh"), "cites_label_en": kb.label(ref, "en")}


def _part(kb: KnowledgeBase, ref: str) -> str:
    """The article a citation is in (``implementation_rules_2021:2`` for ``…:2(1)``); a notice
    or preamble is its own part."""
    if ref in kb.clauses:
        clause = kb.clauses[ref]
        return kb.documents[clause.document].parts.get(str(clause.article), str(clause.article)) \
            if clause.document in kb.documents else str(clause.article)
    return ref


def _ref_key(kb: KnowledgeBase, ref: str) -> str:
    """The node of a canonical citation: a clause, an article, or — for a document's notice or
    preamble, which are not articles — the document."""
    if ref in kb.clauses:
        return node_key("clause", ref)
    if ref in kb.articles:
        return node_key("article", ref)
    return node_key("document", kb.document_of(ref))


def _conclusion_refs(condition) -> dict[str, bool]:
    """The conclusions a condition references, each with whether every reference to it is
    presumed (a presumed reference holds unless the conclusion is known to fail)."""
    refs: dict[str, bool] = {}
    for node in cond.walk(condition):
        if isinstance(node, cond.ConclusionRef):
            refs[node.conclusion] = refs.get(node.conclusion, True) and node.presumed
    return refs


def _governs(kb: KnowledgeBase, g: nx.DiGraph) -> None:
    """The part of each document whose rules decide whether it is in force and which offer
    wins (Article 14 for the measures; the 2022 measures' notice, which dates them) governs
    every benefit of that document."""
    for doc in kb.documents:
        benefits = [b for b in kb.benefits.values() if (b.document or kb.document_of(b.article)) == doc]
        if not benefits:
            continue
        needed = _conclusions_every_benefit_needs(kb, [b.id for b in benefits])
        refs = [p.cites for p in kb.precedence if kb.document_of(p.cites) == doc]
        refs += [r.cites for r in kb.rules.values() if r.then in needed]
        parts = {_part_key(kb, ref): _placed(kb, ref, doc)["article"] for ref in refs}
        for key in sorted(parts, key=lambda k: (parts[k], k)):
            for benefit in benefits:
                _edge(g, key, node_key("benefit", benefit.id), relation="governs")


def _part_key(kb: KnowledgeBase, ref: str) -> str:
    return _ref_key(kb, _part(kb, ref))


def _conclusions_every_benefit_needs(kb: KnowledgeBase, benefits: list[str]) -> set[str]:
    """Conclusions that every rule of every one of ``benefits`` requires (such as policy_in_force)."""
    common: set[str] | None = None
    for benefit in benefits:
        for rule in kb.rules_for(benefit):
            for branch in cond.to_dnf(rule.when):
                refs = {lit.conclusion for lit in branch if isinstance(lit, cond.ConclusionRef)}
                common = refs if common is None else common & refs
    return common or set()


def _between_documents(kb: KnowledgeBase, g: nx.DiGraph) -> None:
    """What holds between documents: one implements another, benefits of two documents
    overlap, a newer one supersedes an older one where they conflict."""
    for doc in kb.documents.values():
        if doc.implements in kb.documents:
            implemented = kb.documents[doc.implements]
            _edge(g, node_key("document", doc.id), node_key("document", doc.implements), relation="implements",
                       label=f"细化落实《{implemented.label('zh')}》", label_en=f"details the {implemented.label('en')}")
    for overlap in kb.overlaps:
        cites_zh = "、".join(kb.label(ref, "zh") for ref in overlap.cites)
        cites_en = "; ".join(kb.label(ref, "en") for ref in overlap.cites)
        for n, first in enumerate(overlap.benefits):
            for second in overlap.benefits[n + 1:]:
                _edge(g, node_key("benefit", first), node_key("benefit", second), relation="overlaps",
                           overlap=overlap.id, cites=", ".join(overlap.cites), why=overlap.why.get("zh", ""),
                           why_en=overlap.why.get("en", ""), label=f"不重复享受（{cites_zh}）",
                           label_en=f"not stacked ({cites_en})")
    for relation in kb.newer_prevails:
        since = kb.documents[relation.newer].effective_date if relation.newer in kb.documents else None
        _edge(g, node_key("document", relation.newer), node_key("document", relation.older), relation="supersedes",
                   cites=relation.cites, label=f"冲突时以新政策为准，自{since}起（{kb.label(relation.cites, 'zh')}）",
                   label_en=f"where they conflict, from {since} ({kb.label(relation.cites, 'en')})")


# --------------------------------------------------------------------------- impact

def resolve(kb: KnowledgeBase, graph: nx.DiGraph, ident: str) -> str:
    """The node an id names: a document, article, clause, fact, rule, conclusion, benefit or
    sub-policy.

    Documents are named by their id (``implementation_rules_2021``) or short name (实施细则);
    articles and clauses by their citation — ``13``, ``13(1)`` in the home document,
    ``implementation_rules_2021:2``, ``industry_development_measures_2022:2(1)`` in the others —
    by their node key (``article:13``) or as people write them (``第十四条``,
    ``《实施细则》第二条``, ``Art. 14``). A sub-policy encoded as a document names that document.

    Raises
    ------
    ProfileError
        When nothing has that id (with the nearest one).
    """
    ident = str(ident).strip()
    if ident in graph:
        return ident
    if ident in kb.documents:
        return node_key("document", ident)
    ref = _canonical(kb, ident)
    if ref is not None and _ref_key(kb, ref) in graph:   # not when its document is left out (--documents)
        return _ref_key(kb, ref)
    for kind in ("fact", "rule", "conclusion", "benefit", "subpolicy"):
        if node_key(kind, ident) in graph:
            return node_key(kind, ident)
    sub = kb.subpolicies.get(ident)
    if sub is not None and sub.encoded_as in kb.documents:
        return node_key("document", sub.encoded_as)
    for ref in [*kb.articles, *kb.clauses]:
        if ident in (kb.label(ref, "zh"), kb.label(ref, "en")) and _ref_key(kb, ref) in graph:
            return _ref_key(kb, ref)
    for doc in kb.documents.values():
        if ident in (doc.label("zh"), f"《{doc.label('zh')}》", doc.label("en"), doc.title, doc.title_en):
            return node_key("document", doc.id)
    names = [*kb.documents, *(r for r in [*kb.articles, *kb.clauses] if _ref_key(kb, r) in graph),
             *(key.split(":", 1)[1] for key, d in graph.nodes(data=True) if d["kind"] not in ("article", "clause"))]
    raise ProfileError(f"'{ident}' is not a document, article, clause, fact, rule, conclusion, benefit or sub-policy",
                       suggestion=nearest(ident, names))


def _canonical(kb: KnowledgeBase, ident: str) -> str | None:
    """The canonical citation ``ident`` names, if it names an article, a clause, or a
    document's notice or preamble (``digital_economy_measures:13`` is ``13``)."""
    if ident in kb.articles or ident in kb.clauses:
        return ident
    if ":" in ident:
        owner, local = ident.split(":", 1)
        doc = kb.documents.get(owner)
        if doc is not None and local in doc.parts:
            return doc.parts[local]
    return None


def impact(kb: KnowledgeBase, ident: str, graph: nx.DiGraph | None = None) -> dict:
    """Every rule, conclusion and benefit that depends on ``ident``, directly or down the
    chain — for a document, everything its rules derive and everything downstream of that in
    other documents — and what holds between documents that it reaches: ``relations`` (the
    overlaps and newer-prevails relations touched) and ``also_affected`` (benefits whose outcome
    can change only through them: the other side of an overlap, not stacked with a changed one)."""
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
            return (position[rule.then], rule_index[ident]) if rule else (len(position), 0, ident)
        return (position.get(ident, len(position)), 0, ident)

    by_kind = {kind: [k.split(":", 1)[1] for k in sorted(reached, key=rank)
                      if graph.nodes[k]["kind"] == kind and k != start]
               for kind in ("rule", "conclusion", "benefit")}
    changed = set(by_kind["benefit"]) | ({start.split(":", 1)[1]} if graph.nodes[start]["kind"] == "benefit" else set())
    relations, also = _relations_touched(kb, graph, start, changed)
    return {"id": start, "kind": graph.nodes[start]["kind"], "rules": by_kind["rule"],
            "conclusions": by_kind["conclusion"], "benefits": by_kind["benefit"],
            "relations": relations, "also_affected": [b for b in kb.benefits if b in also]}


def _relations_touched(kb: KnowledgeBase, graph: nx.DiGraph, start: str, changed: set[str]) -> tuple[list[dict], set]:
    """What holds between documents that a change at ``start`` reaches: an overlap (Article 14,
    不重复) one of whose benefits changes, or whose citation is changed; a newer-prevails relation
    whose document, citation or conflicting benefits are changed. With them, the benefits whose
    outcome can change only through such a relation (the other side of an overlap)."""
    kind = graph.nodes[start]["kind"]
    refs: set[str] = set()
    if kind in ("article", "clause"):
        ref = start.split(":", 1)[1]
        refs = {ref} | {c.id for c in kb.articles[ref].clauses} if ref in kb.articles else {ref}
    document = graph.nodes[start].get("document") if kind == "document" else None
    if document is not None:
        refs = set(kb.documents[document].parts.values())
    relations, also = [], set()
    for overlap in kb.overlaps:
        if changed & set(overlap.benefits) or refs & set(overlap.cites):
            relations.append({"kind": "overlap", "id": overlap.id, "benefits": list(overlap.benefits),
                              "cites": list(overlap.cites)})
            also |= set(overlap.benefits) - changed
    for relation in kb.newer_prevails:
        benefits = {b for pair in relation.conflicts for b in pair}
        if document in (relation.newer, relation.older) or relation.cites in refs or changed & benefits:
            relations.append({"kind": "newer_prevails", "id": relation.id, "newer": relation.newer,
                              "older": relation.older, "cites": [relation.cites], "benefits": sorted(benefits)})
            also |= benefits - changed
    return relations, also


def flow(graph: nx.DiGraph) -> nx.DiGraph:
    """What flows at evaluation: facts and conclusions into the rules that use them (presumed
    references too), rules into what they derive."""
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

    def contained(node: str) -> set[str]:
        return {b for _, b, d in graph.out_edges(node, data=True) if d["relation"] == "contains"}

    if kind in ("fact", "conclusion", "benefit"):
        return {a for a, _, d in graph.in_edges(start, data=True) if d["relation"] == "uses"}
    if kind == "rule":
        return {start}
    if kind == "article":
        return citing({start} | contained(start))
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
            refs |= contained(ref)
        return citing(refs)
    if kind == "document":
        # Its own rules, and any rule of another document citing its text (the measures'
        # key-enterprise rule cites 实施细则 第二条). Not the text that defers to it: an
        # encoded document's effect is what its rules derive, not everything under Article 14.
        document = graph.nodes[start]["document"]
        parts = {start}
        for article in contained(start):
            parts |= {article} | contained(article)
        own = {k for k, d in graph.nodes(data=True) if d["kind"] == "rule" and d.get("document") == document}
        return own | citing(parts)
    return set()
