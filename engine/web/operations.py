"""What the engine process does for the server: each function takes the knowledge base and a
request's plain data and returns plain data (JSON text, dicts of strings, an HTML page).

They run only in the engine process (:mod:`engine.web.worker`), so they may use the inference
engine freely; the HTTP processes render the pages from what they return. Every function goes
through the public functions of :mod:`engine` — ``assess``, ``explanation.tree``,
``why_not.answer``, ``report.report_html`` — so the server says exactly what the command line
says.
"""

from __future__ import annotations

import json
from typing import Any

from engine.inferring.evaluation import assess
from engine.explaining.explanation import tree
from engine.model import KnowledgeBase
from engine.rendering.report import amount_text, report_html
from engine.loading.values import format_date, format_money
from engine.explaining.why_not import answer, first_failure, missing_below, missing_by_target
from engine.explaining.wording import article14_decision, article14_text, display, json_value, named, nothing_to_ask, range_text

_STATUS = ("granted", "superseded", "undetermined", "denied")


def warm(kb: KnowledgeBase) -> None:
    """Build the reasoner before the first request, so that no request pays for it."""
    assess({}, kb=kb)


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)


# --------------------------------------------------------------------------- the JSON API

def evaluate(kb: KnowledgeBase, profile: dict, as_of: str | None = None) -> str:
    """``policykb eval --format json``: the result object, as JSON text."""
    return _dumps(assess(profile, as_of=as_of, kb=kb).result)


def why(kb: KnowledgeBase, profile: dict, id: str, as_of: str | None = None, lang: str = "zh") -> str:
    """``policykb why --format json``: the derivation tree (or the why-not answer), as JSON text."""
    return _dumps(tree(assess(profile, as_of=as_of, kb=kb), id, lang))


def why_not(kb: KnowledgeBase, profile: dict, id: str, as_of: str | None = None, lang: str = "zh") -> str:
    """``policykb why-not --format json``, as JSON text."""
    return _dumps(answer(assess(profile, as_of=as_of, kb=kb), id, lang))


def kb_version(kb: KnowledgeBase) -> str:
    return kb.version


# --------------------------------------------------------------------------- pages

def case(kb: KnowledgeBase, profile: dict, lang: str = "zh", as_of: str | None = None) -> dict:
    """One case as the Evaluate page shows it: every benefit with status, amount, clause and a
    note; the conclusions; Article 14 overlaps; the missing facts grouped by what they decide."""
    assessment = assess(profile, as_of=as_of, kb=kb)
    return _case_view(assessment, lang)


def _case_view(assessment, lang: str) -> dict:
    kb, result = assessment.kb, assessment.result
    granted = {b["id"]: b for b in result["benefits"]}
    superseded = {s["id"]: s for s in result["superseded"]}
    benefits, overlaps = [], []
    for bid, benefit in kb.benefits.items():
        status = "superseded" if bid in superseded else result["status"][bid]
        entry = granted.get(bid) or superseded.get(bid) or {}
        row = {"id": bid, "label": benefit.label(lang), "citation": kb.label(benefit.article, lang),
               "document": benefit.document, "status": status, "amount": "", "note": "", "open": False,
               "max": None}
        if bid in granted:
            row["amount"] = amount_text(kb, granted[bid], lang)
            row["max"] = (granted[bid]["amount"] or {}).get("max")
        elif bid in superseded:
            row["amount"] = range_text(superseded[bid]["amount"], lang)
        decided = article14_decision(entry)
        if decided:
            offer, decision = decided
            row["note"] = article14_text(kb, offer, entry.get("amount"), decision, lang)
            row["open"] = "overlap" in entry or bool(offer.get("open"))
            overlaps.append({"id": bid, "label": row["label"], "text": row["note"], "open": row["open"],
                             "decision": decision})
        elif status == "undetermined":
            fact = result["next_fact"].get(bid)
            row["note"] = (("下一步应询问：" if lang == "zh" else "ask next: ") + named(kb, fact, lang)
                           if fact else nothing_to_ask(lang))
        elif status == "denied":
            row["note"] = first_failure(assessment, bid, lang) or ""
        benefits.append(row)
    benefits.sort(key=lambda r: _STATUS.index(r["status"]))
    missing = [{"id": target, "label": named(kb, target, lang) if target else ("其他" if lang == "zh" else "other"),
                "facts": [{"id": f, "label": kb.facts[f].label(lang)} for f in facts]}
               for target, facts in missing_by_target(assessment)]
    counts = {s: sum(1 for b in benefits if b["status"] == s) for s in _STATUS}
    ceiling = _ceiling(result)
    return {
        "enterprise": result["enterprise"], "kb_version": result["kb_version"],
        "as_of": format_date(assessment.facts.get("application_date"), lang) if result["as_of"] else None,
        "documents": [{"id": d["id"], "label": kb.documents[d["id"]].label(lang), "title": d["title"],
                       "in_force": d["in_force"]} for d in result["documents"]],
        "benefits": benefits, "counts": counts,
        "ceiling": format_money(ceiling, lang) if ceiling else None,
        "conclusions": [{"id": c, "label": kb.conclusions[c].label(lang),
                         "citation": kb.label(kb.conclusions[c].article, lang)} for c in result["conclusions"]],
        "overlaps": overlaps, "missing": missing,
        "facts": [{"id": name, "label": kb.facts[name].label(lang), "display": display(kb, name, value, lang)}
                  for name, value in assessment.facts.items()],
    }


def _ceiling(result: dict) -> int:
    """The most the granted benefits can add up to: two benefits that are not stacked (Article
    14 between documents) count once, at the higher of their ceilings."""
    granted = {b["id"]: (b["amount"] or {}).get("max") or 0 for b in result["benefits"]}
    total, counted = 0, set()
    for entry in result["benefits"]:
        if entry["id"] in counted:
            continue
        other = (entry.get("not_stacked_with") or {}).get("benefit")
        if other in granted and other not in counted:
            total += max(granted[entry["id"]], granted[other])
            counted |= {entry["id"], other}
        else:
            total += granted[entry["id"]]
            counted.add(entry["id"])
    return total


def explain(kb: KnowledgeBase, profile: dict, id: str, lang: str = "zh") -> dict:
    """The Why page: the tree of ``id`` (why when it holds, why-not otherwise) and the case."""
    assessment = assess(profile, kb=kb)
    node = tree(assessment, id, lang)
    if node.get("see"):  # granted but asked for why-not: show the derivation
        node = tree(assessment, id, lang)
    return {"node": node, "enterprise": assessment.result["enterprise"],
            "status": assessment.result["status"][id]}


def compare(kb: KnowledgeBase, cases: list[dict], lang: str = "zh") -> list[dict]:
    """Several cases side by side: each case's view, or its error."""
    from ..errors import PolicyKBError
    out = []
    for item in cases:
        try:
            view = _case_view(assess(item.get("profile") or {}, kb=kb), lang)
            out.append({"name": item.get("name"), "view": view, "error": None})
        except PolicyKBError as exc:
            out.append({"name": item.get("name"), "view": None, "error": str(exc)})
    return out


def report(kb: KnowledgeBase, profile: dict, lang: str = "zh") -> str:
    """``policykb report --out FILE.html``: the whole self-contained page."""
    return report_html(assess(profile, kb=kb), lang)


def marks(kb: KnowledgeBase, profile: dict, lang: str = "zh") -> dict:
    """What a case decided, for the policy text and the graph: each rule met / not met /
    unknown, each conclusion's status, each fact's value."""
    assessment = assess(profile, kb=kb)
    inference = assessment.inference
    rules = {rid: {True: "met", False: "not_met", None: "unknown"}[inference.outcomes[rid].value] for rid in kb.rules}
    fired = {d.rule_id for derivations in inference.derivations.values() for d in derivations}
    for rid in fired:
        rules[rid] = "fired"
    return {"rules": rules, "status": dict(assessment.result["status"]),
            "facts": {name: display(kb, name, value, lang) for name, value in assessment.facts.items()},
            "enterprise": assessment.result["enterprise"]}


# --------------------------------------------------------------------------- interview

def _potential(kb: KnowledgeBase, benefit: str) -> int:
    """The most money a benefit's rules can give, for ranking questions (0 where not fixed)."""
    best = 0
    for rule in kb.rules_for(benefit):
        amount = rule.amount
        if amount is None:
            continue
        caps = [c["max"] for c in amount.caps if "max" in c]
        best = max([best, amount.max or 0, *caps])
    return best


def interview(kb: KnowledgeBase, profile: dict, skipped: list[str], lang: str = "zh",
              ask: str | None = None) -> dict:
    """The next question of the interview, and why it is asked.

    The question is the unknown fact that decides the most benefits still undetermined (then the
    most money, then knowledge-base order), leaving out facts the analyst skipped. ``ask`` asks
    for one fact again (the Back button). ``done`` when no undetermined benefit waits on a fact
    that is still unanswered.
    """
    assessment = assess(profile, kb=kb)
    result = assessment.result
    undetermined = [b for b in kb.benefits if result["status"][b] == "undetermined"]
    waiting: dict[str, list[str]] = {}
    for benefit in undetermined:
        for fact in missing_below(assessment, benefit):
            if fact not in skipped and fact not in profile and not kb.facts[fact].display_only:
                waiting.setdefault(fact, []).append(benefit)
    order = list(kb.facts)
    if ask is None and waiting:
        ask = min(waiting, key=lambda f: (-len(waiting[f]), -sum(_potential(kb, b) for b in waiting[f]),
                                          order.index(f)))
    view = _case_view(assessment, lang)
    if ask is None:
        return {"done": True, "view": view, "undetermined": len(undetermined)}
    benefits = waiting.get(ask) or [b for b in undetermined if ask in missing_below(assessment, b)]
    return {"done": False, "fact": ask, "view": view, "undetermined": len(undetermined),
            "waiting": [{"id": b, "label": kb.benefits[b].label(lang),
                         "citation": kb.label(kb.benefits[b].article, lang),
                         "potential": format_money(_potential(kb, b), lang) if _potential(kb, b) else None}
                        for b in sorted(benefits, key=order_of(kb))],
            "current": json_value(assessment.facts.get(ask))}


def order_of(kb: KnowledgeBase):
    keys = list(kb.conclusions)
    return keys.index


def parse_only(kb: KnowledgeBase, profile: dict) -> Any:
    """Check a profile without evaluating it (raises the profile's error)."""
    from engine.loading.profile import parse_profile
    parse_profile(profile, kb)
    return True
