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
import re
from pathlib import Path
from typing import Any

from engine.errors import EvaluationError, PolicyKBError
from engine.inferring.evaluation import assess
from engine.explaining.explanation import tree
from engine.model import KnowledgeBase
from engine.rendering.report import amount_text, report_html
from engine.loading.values import format_date, format_money
from engine.explaining.why_not import answer, first_failure, missing_below, missing_by_target
from engine.explaining.wording import article14_decision, article14_text, display, json_value, named, nothing_to_ask, range_text
from engine.loading.profile import fact_id, parse_profile
from engine.loading.values import MonthDate, parse_date_or_month, parse_money, parse_number
from engine.model import conditions as cond
from . import forms

_STATUS = ("granted", "superseded", "undetermined", "denied")


def warm(kb: KnowledgeBase) -> None:
    """Build the reasoner before the first request, so that no request pays for it."""
    assess({}, kb=kb)


def read_upload(kb: KnowledgeBase, text: str | None, filename: str | None, data: bytes | None,
                lang: str = "zh") -> dict:
    """A pasted or uploaded profile read for the Evaluate form (:func:`forms.read_upload`):
    ``{"profile": …, "error": None}`` or ``{"profile": {}, "error": <the problem in lang>}``.
    Run in the upload process, whose memory is capped, never in an HTTP worker."""
    try:
        return {"profile": forms.read_upload(kb, text, filename, data), "error": None}
    except PolicyKBError as exc:
        return {"profile": {}, "error": exc.text(lang)}


def check_batch_workbook(kb: KnowledgeBase, path: str, name: str, lang: str = "zh") -> str | None:
    """Why an uploaded batch workbook is too big to read (in ``lang``), or None when it may be
    screened; checked in the upload process before a job is started for it."""
    from engine.loading.workbooks import BATCH_LIMITS, check_workbook
    try:
        check_workbook(Path(path), BATCH_LIMITS, name)
    except PolicyKBError as exc:
        return exc.text(lang)
    return None


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


# --------------------------------------------------------------------------- pages: what cannot be read

def readable(kb: KnowledgeBase, profile: dict, lang: str) -> tuple[dict, list[dict]]:
    """The part of a profile the engine reads, and a problem for each fact it cannot read.

    A page evaluates the rest of the case and shows each problem at its field, in the page's
    language (:meth:`PolicyKBError.text`), rather than no result at all. Each problem is
    ``{"fact", "label", "text", "detail"}``: ``text`` the whole message, ``detail``
    the message without the fact's name in front (for the field, which shows the name), ``fact``
    None for a name that is no fact.
    """
    try:
        parse_profile(profile, kb)
        return profile, []
    except PolicyKBError:
        pass
    good, problems = {}, []
    for key, value in profile.items():
        try:
            parse_profile({key: value}, kb)
        except PolicyKBError as exc:
            problems.append(_problem(kb, key, exc, lang))
            continue
        good[key] = value
    try:
        parse_profile(good, kb)      # what no single fact shows: one fact named twice (by id and label)
    except PolicyKBError as exc:
        problems.append(_problem(kb, "", exc, lang))
        good = {k: v for k, v in good.items() if fact_id(kb, k) != exc.fact} if exc.fact else {}
    return good, problems


def _problem(kb: KnowledgeBase, key: str, exc: PolicyKBError, lang: str) -> dict:
    fact = exc.fact or fact_id(kb, key)
    text = exc.text(lang)
    known = fact in kb.facts
    return {"fact": fact if known else None, "label": forms.label(kb, fact, lang) if known else None,
            "text": text, "detail": _without_fact(kb, fact, text) if known else text}


def _without_fact(kb: KnowledgeBase, fact: str, text: str) -> str:
    """A message without the fact's name (id, label or both) in front of it."""
    entry = kb.facts[fact]
    ident, names = re.escape(fact), "|".join(re.escape(n) for n in (entry.zh, entry.en) if n)
    head = (rf"^\s*(?:(?:{names})\s*[（(]\s*{ident}\s*[)）]|{ident}\s*[（(]\s*(?:{names})\s*[)）]|{ident}|{names})"
            rf"\s*[:：]\s*")
    return re.sub(head, "", text, count=1) or text


def read_as(kb: KnowledgeBase, profile: dict, lang: str) -> dict[str, str]:
    """How the engine read a date or an amount written in another form than it writes it
    (``2023/5/8`` → 2023年5月8日, ``一亿五千万元`` → 1.5亿元): fact → the value as it reads."""
    out = {}
    for name, value in profile.items():
        fact = kb.facts.get(name)
        if fact is None or not isinstance(value, str) or fact.type not in ("date", "money", "number"):
            continue
        written = value.strip()
        try:
            if fact.type == "date":
                day = parse_date_or_month(written)
                if isinstance(day, MonthDate):   # some day of that month: every day is evaluated
                    out[name] = (f"{day.year}年{day.month}月的某一天（逐日评估）" if lang == "zh"
                                 else f"some day of {day.isoformat()} (every day evaluated)")
                elif written != day.isoformat():
                    out[name] = format_date(day, lang) + ("" if lang == "en" else f"（{day.isoformat()}）")
            elif fact.type == "money":
                yuan = parse_money(written, signed=fact.signed)
                shown = format_money(yuan, lang)
                if written not in (shown, format_money(yuan, "zh"), str(yuan)):
                    exact = f"{yuan:,}元" if lang == "zh" else f"CNY {yuan:,}"
                    out[name] = shown if shown == exact else f"{shown}（{exact}）" if lang == "zh" else f"{shown} ({exact})"
            else:
                number = parse_number(written)
                if written != str(number):
                    out[name] = display(kb, name, number, lang)
        except (ValueError, TypeError, PolicyKBError):
            continue
    return out


# --------------------------------------------------------------------------- pages

def case(kb: KnowledgeBase, profile: dict, lang: str = "zh", as_of: str | None = None) -> dict:
    """One case as the Evaluate page shows it: every benefit with status, amount, clause and a
    note; the conclusions; Article 14 overlaps; the missing facts grouped by what they decide.

    A fact the engine cannot read is left out (evaluated as unknown) and named in ``left_out``
    with its message; ``read_as`` says how a date or amount written another way was read."""
    good, problems = readable(kb, profile, lang)
    try:
        assessment = assess(good, as_of=as_of, kb=kb)
    except EvaluationError:
        raise
    except PolicyKBError as exc:
        return {"error": exc.text(lang), "left_out": problems, "read_as": {}}
    view = _case_view(assessment, lang)
    view["left_out"] = problems
    view["read_as"] = read_as(kb, good, lang)
    return view


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
            row["note"] = (("下一步应询问：" if lang == "zh" else "ask next: ") + f"{forms.label(kb, fact, lang)} ({fact})"
                           if fact else nothing_to_ask(lang))
        elif status == "denied":
            row["note"] = first_failure(assessment, bid, lang) or ""
        benefits.append(row)
    benefits.sort(key=lambda r: _STATUS.index(r["status"]))
    missing = [{"id": target, "label": named(kb, target, lang) if target else ("其他" if lang == "zh" else "other"),
                "facts": [{"id": f, "label": forms.label(kb, f, lang)} for f in facts]}
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
    """The Why page: the tree of ``id`` (why when it holds, why-not otherwise) and the case,
    evaluated without the facts that cannot be read (``left_out``)."""
    good, problems = readable(kb, profile, lang)
    assessment = assess(good, kb=kb)
    node = tree(assessment, id, lang)
    if node.get("see"):  # granted but asked for why-not: show the derivation
        node = tree(assessment, id, lang)
    return {"node": node, "enterprise": assessment.result["enterprise"],
            "status": assessment.result["status"][id], "left_out": problems}


def compare(kb: KnowledgeBase, cases: list[dict], lang: str = "zh") -> list[dict]:
    """Several cases side by side: each case's view (without the facts it cannot read, named
    in ``left_out``), or its error."""
    out = []
    for item in cases:
        try:
            good, problems = readable(kb, item.get("profile") or {}, lang)
            view = _case_view(assess(good, kb=kb), lang)
            out.append({"name": item.get("name"), "view": view, "error": None, "left_out": problems})
        except EvaluationError:
            raise
        except PolicyKBError as exc:
            out.append({"name": item.get("name"), "view": None, "error": exc.text(lang), "left_out": []})
    return out


def report(kb: KnowledgeBase, profile: dict, lang: str = "zh") -> dict:
    """``policykb report --out FILE.html``: the whole self-contained page (``page``), or, when
    a fact cannot be read, the problems (``left_out``): a report to hand on never leaves out a
    fact silently."""
    _, problems = readable(kb, profile, lang)
    if problems:
        return {"page": None, "left_out": problems}
    return {"page": report_html(assess(profile, kb=kb), lang), "left_out": []}


def marks(kb: KnowledgeBase, profile: dict, lang: str = "zh") -> dict:
    """What a case decided, for the policy text and the graph: each rule met / not met /
    unknown, each conclusion's status, each fact's value (the facts that can be read)."""
    good, problems = readable(kb, profile, lang)
    assessment = assess(good, kb=kb)
    inference = assessment.inference
    rules = {rid: {True: "met", False: "not_met", None: "unknown"}[inference.outcomes[rid].value] for rid in kb.rules}
    fired = {d.rule_id for derivations in inference.derivations.values() for d in derivations}
    for rid in fired:
        rules[rid] = "fired"
    return {"rules": rules, "status": dict(assessment.result["status"]),
            "facts": {name: display(kb, name, value, lang) for name, value in assessment.facts.items()},
            "enterprise": assessment.result["enterprise"], "left_out": problems}


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

    First the enterprise's name (optional: no rule uses it), unless given or skipped; then the
    unknown fact that decides the most benefits still undetermined (then the most money, then
    knowledge-base order), leaving out the facts the analyst skipped and the questions that
    could only matter if a skipped fact were known (:func:`worth_asking`). A fact the engine
    cannot read is asked again first, with its message (``problems``). ``ask`` asks for one fact
    again (the Back button). ``done`` when no undetermined benefit waits on a question worth
    asking.
    """
    good, problems = readable(kb, profile, lang)
    assessment = assess(good, kb=kb)
    result = assessment.result
    undetermined = [b for b in kb.benefits if result["status"][b] == "undetermined"]
    waiting: dict[str, list[str]] = {}
    skipped_set = set(skipped)
    memo: dict[str, bool] = {}
    for benefit in undetermined:
        for fact in worth_asking(assessment, benefit, skipped_set, memo):
            if fact not in good and not kb.facts[fact].display_only:
                waiting.setdefault(fact, []).append(benefit)
    order = list(kb.facts)
    bad = [p["fact"] for p in problems if p["fact"]]
    if ask is None and bad:
        ask = bad[0]
    if ask is None and NAME in kb.facts and NAME not in profile and NAME not in skipped_set:
        ask = NAME
    if ask is None and waiting:
        ask = min(waiting, key=lambda f: (-len(waiting[f]), -sum(_potential(kb, b) for b in waiting[f]),
                                          order.index(f)))
    view = _case_view(assessment, lang)
    step = {"view": view, "undetermined": len(undetermined), "problems": problems,
            "blocked": _blocked(kb, undetermined, waiting, lang)}
    if ask is None:
        return {"done": True, **step}
    benefits = waiting.get(ask) or [b for b in undetermined if ask in missing_below(assessment, b)]
    fact = kb.facts[ask]
    return {"done": False, "fact": ask, **step,
            "waiting": [{"id": b, "label": kb.benefits[b].label(lang),
                         "citation": kb.label(kb.benefits[b].article, lang),
                         "potential": format_money(_potential(kb, b), lang) if _potential(kb, b) else None}
                        for b in sorted(benefits, key=order_of(kb))],
            "meaning": forms.description(kb, ask, lang),
            "clause": None if fact.display_only else {"ref": fact.source, "label": kb.label(fact.source, lang),
                                                      "text": kb.text_of(fact.source)},
            "current": json_value(assessment.facts.get(ask))}


NAME = "name"


def _blocked(kb: KnowledgeBase, undetermined: list[str], waiting: dict[str, list[str]], lang: str) -> list[dict]:
    """The undetermined benefits no question worth asking can decide (they wait on a skipped fact)."""
    asked = {b for benefits in waiting.values() for b in benefits}
    return [{"id": b, "label": kb.benefits[b].label(lang)} for b in undetermined if b not in asked]


def worth_asking(assessment, target: str, skipped: set[str], memo: dict[str, bool] | None = None) -> set[str]:
    """The unknown facts worth asking to decide ``target``, when the ``skipped`` facts stay unknown.

    Of the facts :func:`~engine.explaining.why_not.missing_below` names, only those in a part of
    a rule that can still hold: a part that needs a skipped fact to hold can never hold while it
    is unknown, so the facts that matter only beside it (the renovation's investment and area,
    once 楼宇运营主体 is skipped) decide nothing worth asking. An ``any`` keeps its alternatives
    that can hold; a conclusion is followed down the rules that can derive it.
    """
    kb, inference = assessment.kb, assessment.inference
    memo = {} if memo is None else memo

    def can_hold_conclusion(cid: str) -> bool:
        status = inference.status.get(cid)
        if status is not None:
            return bool(status)
        if cid not in memo:
            memo[cid] = False            # a cycle cannot make a conclusion hold
            memo[cid] = any(can_hold(inference.outcomes[r.id]) for r in kb.rules_for(cid))
        return memo[cid]

    def needs(test: cond.FactTest) -> set[str]:
        """The unknown facts an undecided test waits for (a period also the case's date)."""
        wanted = {cond.awaited_fact(test.fact, test.op, assessment.facts)}
        if test.op == "within_years" and assessment.facts.get(cond.AS_OF_FACT) is None:
            wanted.add(cond.AS_OF_FACT)
        return wanted

    def can_hold(outcome: cond.Outcome) -> bool:
        if outcome.value is not None:
            return bool(outcome.value)
        node = outcome.node
        if isinstance(node, cond.FactTest):
            return not needs(node) & skipped
        if isinstance(node, cond.ConclusionRef):
            return can_hold_conclusion(node.conclusion)
        held = [can_hold(child) for child in outcome.children]
        return all(held) if isinstance(node, cond.All) else any(held)

    found: set[str] = set()
    todo, seen = [target], set()

    def collect(outcome: cond.Outcome) -> None:
        if outcome.value is not None or not can_hold(outcome):
            return
        node = outcome.node
        if isinstance(node, cond.FactTest):
            found.update(needs(node))
        elif isinstance(node, cond.ConclusionRef):
            todo.append(node.conclusion)
        else:
            for child in outcome.children:
                collect(child)

    while todo:
        current = todo.pop()
        if current in seen or inference.status.get(current) is not None:
            continue
        seen.add(current)
        for rule in kb.rules_for(current):
            collect(inference.outcomes[rule.id])
    return found - skipped


def order_of(kb: KnowledgeBase):
    keys = list(kb.conclusions)
    return keys.index


def parse_only(kb: KnowledgeBase, profile: dict) -> Any:
    """Check a profile without evaluating it (raises the profile's error)."""
    from engine.loading.profile import parse_profile
    parse_profile(profile, kb)
    return True
