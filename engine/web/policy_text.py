"""The policy text page: every document's articles and clauses as published, cut into
sentences, each sentence with the rules whose quotes come from it; for a case, each rule marked
by what it decided (applied, not met, facts missing), and the sub-policies named."""

from __future__ import annotations

import re

from engine.model import KnowledgeBase
from engine.explaining.wording import document_dates

_SENTENCE = re.compile(r"[^。；\n]*(?:[。；]|\n|$)")
_MARK_ORDER = ("fired", "unknown", "not_met", "met")


def _sentences(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _SENTENCE.finditer(text):
        piece = match.group(0)
        if piece.strip():
            out.append((match.start(), match.end(), piece.strip()))
    return out


def _part(kb: KnowledgeBase, ref: str, text: str, rules_by_ref: dict, marks: dict | None, lang: str) -> list[dict]:
    """A text's sentences, each with the rules quoting it."""
    sentences = [{"text": s, "start": a, "end": b, "rules": []} for a, b, s in _sentences(text)]
    unplaced = []
    for rule in rules_by_ref.get(ref, []):
        at = text.find(rule.quote) if rule.quote else -1
        hit = False
        if at >= 0:
            end = at + len(rule.quote)
            for sentence in sentences:
                if sentence["start"] < end and at < sentence["end"]:
                    sentence["rules"].append(_rule(kb, rule, marks, lang))
                    hit = True
        if not hit:
            unplaced.append(_rule(kb, rule, marks, lang))
    if unplaced and sentences:
        sentences[-1]["rules"].extend(unplaced)
    for sentence in sentences:
        found = [r["mark"] for r in sentence["rules"] if r["mark"]]
        sentence["mark"] = min(found, key=_MARK_ORDER.index) if found else None
    return sentences


def _rule(kb: KnowledgeBase, rule, marks: dict | None, lang: str) -> dict:
    then = kb.conclusions.get(rule.then)
    return {"id": rule.id, "then": rule.then, "then_label": then.label(lang) if then else rule.then,
            "mark": (marks or {}).get("rules", {}).get(rule.id)}


def policy_view(kb: KnowledgeBase, lang: str, marks: dict | None) -> list[dict]:
    """The documents, their parts and sentences, for the template."""
    rules_by_ref: dict[str, list] = {}
    for rule in kb.rules.values():
        for ref in [rule.cites, *rule.also_cites]:
            rules_by_ref.setdefault(ref, []).append(rule)
    documents = []
    for doc_id, document in kb.documents.items():
        parts = []
        for special in ("notice", "preamble"):
            ref = special if doc_id == kb.home else f"{doc_id}:{special}"
            if ref in kb.special_parts:
                parts.append({"ref": ref, "title": kb.label(ref, lang), "sentences":
                              _part(kb, ref, kb.special_parts[ref], rules_by_ref, marks, lang),
                              "clauses": [], "partial": False})
        for ref, article in kb.articles.items():
            if kb.document_of(ref) != doc_id:
                continue
            text = article.text
            first = text.find(article.clauses[0].text[:20]) if article.clauses else -1
            own = text[:first] if first > 0 else (text if not article.clauses else text)
            if article.clauses and first < 0:
                own = text
            clauses = [{"ref": c.id, "title": f"{kb.label(c.id, lang)} {c.title if lang == 'zh' else c.title_en}",
                        "sentences": _part(kb, c.id, c.text, rules_by_ref, marks, lang), "partial": c.partial}
                       for c in article.clauses]
            parts.append({"ref": ref, "title": f"{kb.label(ref, lang)} {article.title if lang == 'zh' else article.title_en}",
                          "sentences": _part(kb, ref, own, rules_by_ref, marks, lang), "clauses": clauses,
                          "partial": article.partial})
        subpolicies = [{"id": s.id, "title": s.title if lang == "zh" else s.title_en, "named": s.named,
                        "deferred_by": [kb.label(r, lang) for r in s.deferred_by]}
                       for s in kb.subpolicies.values() if kb.document_of(s.deferred_by[0] if s.deferred_by else "") == doc_id]
        documents.append({"id": doc_id, "title": document.title, "title_en": document.title_en,
                          "effective": document.effective_date, "expiry": document.expiry_date,
                          "dates": document_dates(document, lang),
                          "parts": parts, "subpolicies": subpolicies})
    return documents
