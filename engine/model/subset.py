"""A knowledge base restricted to some of its documents (``--documents``)."""

from __future__ import annotations

from engine.errors import KnowledgeBaseError, nearest
from engine.model import conditions as cond
from engine.model.dependencies import settle
from engine.model.knowledge_base import KnowledgeBase, Rule


def subset(kb: KnowledgeBase, documents: list[str]) -> KnowledgeBase:
    """``kb`` with only the rules, conclusions and relations of some of its documents
    (``--documents``). A presumed reference to a conclusion of a document left out is dropped:
    nothing is known to fail there, so the presumption stands.

    Raises
    ------
    KnowledgeBaseError
        For an unknown document id, or when a chosen document's rule needs a conclusion of a
        document left out.
    """
    for name in documents:
        if name not in kb.documents:
            raise KnowledgeBaseError(f"--documents: '{name}' is not a document of the knowledge base",
                                     suggestion=nearest(name, kb.documents), allowed=list(kb.documents))
    chosen = {name for name in kb.documents if name in documents}
    conclusions = {cid: c for cid, c in kb.conclusions.items() if c.document in chosen}
    rules = {}
    for rid, rule in kb.rules.items():
        if rule.document not in chosen:
            continue
        when = _without_absent(rule.when, conclusions)
        for name in cond.conclusions_used(when):
            if name not in conclusions:
                raise KnowledgeBaseError(
                    f"--documents: rule {rid} of {rule.document} needs '{name}' of "
                    f"{kb.conclusions[name].document}; choose that document too")
        rules[rid] = Rule(**{**rule.__dict__, "when": when})
    part = KnowledgeBase(
        root=kb.root, document=kb.document, articles=kb.articles, clauses=kb.clauses,
        subpolicies=kb.subpolicies, facts=kb.facts, conclusions=conclusions, rules=rules,
        drafts=[d for d in kb.drafts if d.document in chosen],
        precedence=[p for p in kb.precedence if kb.document_of(p.cites) in chosen],
        version=kb.version, documents={k: v for k, v in kb.documents.items() if k in chosen},
        overlaps=[o for o in kb.overlaps if all(kb.conclusions[b].document in chosen for b in o.benefits)],
        newer_prevails=[n for n in kb.newer_prevails if n.newer in chosen and n.older in chosen],
        special_parts=kb.special_parts, citations=kb.citations, home_document=kb.home)
    settle(part)
    return part


_TRUE = cond.All(())


def _without_absent(condition, conclusions):
    """The condition with presumed references to absent conclusions taken as holding."""
    if isinstance(condition, cond.ConclusionRef):
        return _TRUE if condition.presumed and condition.conclusion not in conclusions else condition
    if isinstance(condition, cond.FactTest):
        return condition
    items = tuple(_without_absent(item, conclusions) for item in condition.items)
    if isinstance(condition, cond.Any_) and _TRUE in items:
        return _TRUE
    items = tuple(item for item in items if item != _TRUE)
    if not items:
        return _TRUE
    return type(condition)(items, file=condition.file, line=condition.line)
