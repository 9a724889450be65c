"""Evaluating a profile: conclusions, benefits with amounts, Article 14, and missing facts.

:func:`evaluate` returns the JSON result of ``policykb eval --format json`` (the shape of the
public vocabulary). :func:`assess` returns the same together with the inference record, for
explanations.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.inferring import amounts, month_dates
from engine.errors import EvaluationError, ProfileError
from engine.inferring.inference import Inference, Reasoner
from engine.model import KnowledgeBase, subset
from engine.loading.kb import kb_folder, load
from engine.loading.profile import parse_profile
from engine.loading.values import MonthDate, ValueProblem, parse_date


@dataclass
class Assessment:
    """A profile's evaluation: the result and everything needed to explain it."""

    kb: KnowledgeBase
    facts: dict[str, Any]
    inference: Inference
    amounts: dict[str, amounts.AmountResult]
    result: dict


_bundled: dict[str, KnowledgeBase] = {}


def knowledge_base(kb: KnowledgeBase | str | Path | None) -> KnowledgeBase:
    """A loaded knowledge base: ``kb`` itself, the folder it names, or the bundled one (cached).

    Raises
    ------
    KnowledgeBaseError
        For a folder that is not a valid knowledge base, or an empty name (``--kb ""``).
    """
    if isinstance(kb, KnowledgeBase):
        return kb
    if kb is None:
        if "bundled" not in _bundled:
            _bundled["bundled"] = load()
        return _bundled["bundled"]
    # A folder is loaded once per content: the rule engine a load registers is never freed,
    # so loading again on every call would grow memory without end.
    root = kb_folder(kb).resolve()
    stamp = _stamp(root)
    cached = _by_path.get(root)
    if cached is None or cached[0] != stamp:
        _by_path[root] = (stamp, load(root))
    return _by_path[root][1]


_by_path: dict = {}


def _stamp(root: Path) -> tuple:
    """What changes when a knowledge base folder's files change."""
    files = sorted(p for p in root.rglob("*.yaml") if "scenarios" not in p.parts and "examples" not in p.parts)
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def reasoner(kb: KnowledgeBase) -> Reasoner:
    """The reasoner of a knowledge base, built once and kept with it."""
    found = getattr(kb, "_reasoner", None)
    if found is None:
        found = Reasoner(kb)
        kb._reasoner = found
    return found


def evaluate(profile: dict, as_of=None, kb: KnowledgeBase | str | Path | None = None,
             documents: list[str] | None = None, engine: str = "durable") -> dict:
    """Evaluate one enterprise profile.

    Parameters
    ----------
    profile : mapping
        Fact names to values, as in a profile file.
    as_of : date or str, optional
        The date to judge the case at; overrides the profile's ``application_date``.
    kb : KnowledgeBase, path or None
        A loaded knowledge base (see :func:`engine.load`), a folder, or None for the bundled one.
    documents : list of document ids, optional
        Evaluate under these documents of the knowledge base only (default: all).
    engine : "durable" or "compiled"
        Forward-chain with durable_rules, cross-checked by the compiled three-valued rules
        (default), or with the compiled rules alone: the same result, several times faster,
        for screening many profiles.

    Raises
    ------
    ProfileError
        When the profile or ``as_of`` is malformed.
    KnowledgeBaseError
        When ``documents`` names a document the knowledge base lacks, or leaves out one that a
        chosen document's rules need.
    EvaluationError
        When the inference engine fails (an internal error).
    """
    return assess(profile, as_of=as_of, kb=kb, documents=documents, engine=engine).result


def assess(profile: dict, as_of=None, kb=None, source: str | None = None,
           documents: list[str] | None = None, engine: str = "durable") -> Assessment:
    """Like :func:`evaluate`, keeping the inference record for explanations.

    ``engine`` is ``"durable"`` (the rule engine, cross-checked) or ``"compiled"`` (the same
    rules evaluated by the compiled three-valued checker alone; see
    :meth:`engine.inferring.inference.Reasoner.derive`)."""
    kb = knowledge_base(kb)
    if documents:
        kb = under_documents(kb, documents)
    return assess_facts(parse_profile(profile, kb, source=source), kb, as_of=as_of, source=source, engine=engine)


def assess_facts(facts: dict[str, Any], kb: KnowledgeBase, as_of=None, source: str | None = None,
                 engine: str = "durable") -> Assessment:
    """:func:`assess` for a profile already checked (:func:`engine.loading.profile.parse_profile`) under
    a loaded knowledge base. A date known only to its month is read as every day of it
    (:mod:`engine.inferring.month_dates`)."""
    facts = dated(facts, as_of)
    if any(isinstance(value, MonthDate) for value in facts.values()):
        return month_dates.assess_by_day(facts, kb, lambda day: assess_facts(day, kb, source=source, engine=engine),
                                         lambda day: screen(day, kb))
    try:
        inference = reasoner(kb).derive(facts, engine)
    except EvaluationError as exc:
        # An internal error names the rule (from the engine) and the profile (from here).
        who = source or facts.get("name") or "the profile"
        raise EvaluationError(f"{exc.message} (profile: {who})", rule_id=exc.rule_id, file=source) from None
    granted_amounts = {}
    for benefit in kb.benefits:
        if inference.holds(benefit):
            rule = kb.rules[inference.derivations[benefit][0].rule_id]
            granted_amounts[benefit] = amounts.compute(rule, facts)
    result = _result(kb, facts, inference, granted_amounts)
    return Assessment(kb, facts, inference, granted_amounts, result)


def dated(facts: dict[str, Any], as_of) -> dict[str, Any]:
    """``facts`` judged at ``as_of`` (its ``application_date`` replaced), or as they are.

    Raises
    ------
    ProfileError
        When ``as_of`` is not a date.
    """
    if as_of is None:
        return facts
    try:
        return {**facts, "application_date": parse_date(as_of)}
    except ValueProblem as exc:
        raise ProfileError(f"--as-of: {exc}") from None


def screen(facts: dict[str, Any], kb: KnowledgeBase) -> dict:
    """What screening many enterprises writes of a profile's result, and no more.

    ``facts`` are a checked profile (:func:`engine.loading.profile.parse_profile`). The result has the
    keys ``as_of``, ``conclusions``, ``status``, ``benefits`` (each with ``id`` and ``amount``)
    and ``superseded`` (each with ``id``), equal to those of :func:`evaluate`'s result (a test
    compares them on every scenario and on generated profiles). It is worked out from the
    compiled three-valued rules without the derivation record, the missing facts and the next
    questions, which a row of ``policykb batch`` output does not hold.

    Raises
    ------
    EvaluationError
        When a rule's amount cannot be computed (an internal error).
    """
    return _screened(facts, kb, reasoner(kb).statuses(facts))


def outline(facts: dict[str, Any], kb: KnowledgeBase) -> dict:
    """:func:`screen`'s result and the missing facts (``missing``, equal to :func:`evaluate`'s):
    what a replay compares first, the derivations and the next questions left for the cases
    that change. ``facts`` hold no date known only to its month."""
    rules = reasoner(kb)
    status = rules.statuses(facts)
    return dict(_screened(facts, kb, status), missing=rules.missing(facts, status))


def _screened(facts: dict[str, Any], kb: KnowledgeBase, status: dict) -> dict:
    rules = reasoner(kb)
    reported, benefit_ids = _reported(kb)
    granted = {benefit: amounts.compute(kb.rules[rules.first_rule(benefit, facts, status)], facts)
               for benefit in benefit_ids if status[benefit] is True}
    between, offers = _between_documents(kb, facts, granted), _offers(kb, facts)
    benefits, superseded = [], []
    for benefit_id, amount in granted.items():
        if _winner(between, offers, benefit_id, amount) is None:
            benefits.append({"id": benefit_id, "amount": amount.as_json()})
        else:
            superseded.append({"id": benefit_id})
    as_of = facts.get("application_date")
    return {"as_of": as_of.isoformat() if as_of else None,
            "conclusions": [c for c in reported if status[c] is True],
            "benefits": benefits,
            "superseded": superseded,
            "status": _status(kb, status, {s["id"] for s in superseded})}


def _reported(kb: KnowledgeBase) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The conclusions a result lists when they hold (in dependency order, internal ones left
    out) and the benefits, worked out once per knowledge base."""
    found = kb.__dict__.get("_reported")
    if found is None:
        found = kb.__dict__["_reported"] = (
            tuple(c for c in kb.order if kb.conclusions[c].kind == "conclusion" and not kb.conclusions[c].internal),
            tuple(kb.benefits))
    return found


def _winner(between: dict, offers: dict, benefit: str, amount) -> dict | None:
    """What Article 14 hands ``benefit`` over to — another document's benefit or another
    policy's higher offer — or None when it stays granted here."""
    outcome, other = between.get(benefit, (None, None))
    if outcome == "superseded":
        return other
    offer = offers.get(benefit)
    if offer is not None and _against_offer(amount, offer["amount"]) == "superseded":
        return offer
    return None


def under_documents(kb: KnowledgeBase, documents: list[str]) -> KnowledgeBase:
    """``kb`` restricted to some of its documents, built once per choice and kept with it."""
    chosen = tuple(d for d in kb.documents if d in set(documents))
    cache = kb.__dict__.setdefault("_subsets", {})
    if chosen not in cache:
        cache[chosen] = subset(kb, list(documents))
    return cache[chosen]


def _result(kb: KnowledgeBase, facts, inference: Inference, granted: dict) -> dict:
    as_of: _dt.date | None = facts.get("application_date")
    offers = _offers(kb, facts)
    between = _between_documents(kb, facts, granted)
    benefits, superseded = [], []
    for benefit_id, amount in granted.items():
        derivation = inference.derivations[benefit_id][0]
        rule = kb.rules[derivation.rule_id]
        document = kb.conclusions[benefit_id].document
        entry = {"id": benefit_id, "document": document, "clause": kb.local(kb.conclusions[benefit_id].article),
                 "rule": rule.id, "amount": amount.as_json(), "basis": amount.basis}
        winner = _winner(between, offers, benefit_id, amount)
        if winner is not None:
            superseded.append({"id": benefit_id, "document": document, "clause": entry["clause"],
                               "amount": entry["amount"], "by": winner})
            continue
        outcome, other = between.get(benefit_id, (None, None))
        if other is not None:
            entry["not_stacked_with"] = other
        if amount.period is not None:
            entry["period"] = dict(amount.period)
        if amount.cumulative is not None:
            entry["cumulative"] = dict(amount.cumulative)
        if rule.defers_to:
            entry["defers_to"] = list(rule.defers_to)
        if rule.amount.terms:
            entry["terms"] = rule.amount.terms["zh"]
        if rule.amount.services:
            entry["services"] = [s["zh"] for s in rule.amount.services]
        grounds = [g for d in inference.derivations[benefit_id] for g in d.grounds]
        if grounds:
            entry["grounds"] = list(dict.fromkeys(grounds))
        offer = offers.get(benefit_id)
        if offer is not None:
            outcome = _against_offer(amount, offer["amount"])
            if outcome == "kept":
                # A benefit already not stacked with another document's keeps that under the
                # vocabulary's key; the offer goes beside it.
                entry["not_stacked_with_offer" if "not_stacked_with" in entry else "not_stacked_with"] = offer
            else:
                entry["overlap"] = dict(offer, reason=outcome)
        benefits.append(entry)
    status = _status(kb, inference.status, {s["id"] for s in superseded})
    return {
        "kb_version": kb.version,
        "as_of": as_of.isoformat() if as_of else None,
        "enterprise": facts.get("name"),
        "documents": [{"id": d.id, "title": d.title, "in_force": d.in_force(as_of),
                       "effective_date": d.effective_date.isoformat() if d.effective_date else None,
                       "expiry_date": d.expiry_date.isoformat() if d.expiry_date else None}
                      for d in kb.documents.values()],
        "conclusions": [c for c in _reported(kb)[0] if inference.holds(c)],
        "benefits": benefits,
        "superseded": superseded,
        "status": status,
        "missing": inference.missing,
        "missing_by_document": inference.missing_by_document,
        "next_fact": {b: inference.next_fact(kb, b) for b in kb.benefits if status[b] == "undetermined"},
    }


STATUS_WORDS = {True: "granted", False: "denied", None: "undetermined"}


def _against_offer(amount, offer: int) -> str:
    """Article 14 (就高且不重复) between this policy's amount and another policy's offer.

    Returns ``"superseded"`` when the offer exceeds the most this policy can give, ``"kept"``
    when this policy gives at least the offer whatever its final amount (the offer is at or
    below the floor), and otherwise the reason the higher one is not yet known: ``"not_fixed"``
    (the text fixes no ceiling) or ``"within_range"`` (the offer lies inside this policy's range,
    or under an "up to" ceiling with no floor). An open overlap stays granted here, not stacked,
    for the analyst to settle once this policy's amount is fixed.
    """
    if amount.max is None:
        return "not_fixed"
    if offer > amount.max:
        return "superseded"
    if amount.min is not None and offer <= amount.min:
        return "kept"
    return "within_range"


def _status(kb: KnowledgeBase, values: dict[str, bool | None], superseded: set[str]) -> dict[str, str]:
    """Every conclusion and benefit: granted, denied or undetermined (a fact it needs is unknown).

    A benefit Article 14 hands to a higher offer elsewhere is not granted under this policy:
    it is ``denied`` here, and listed in ``superseded`` with the offer that wins.
    """
    return {cid: "denied" if cid in superseded else STATUS_WORDS[values[cid]]
            for cid in kb.conclusions}


def _between_documents(kb: KnowledgeBase, facts, granted: dict) -> dict[str, tuple[str, dict]]:
    """Article 14 across the documents of the knowledge base, for benefits granted by both
    sides of a declared overlap: ``benefit -> (outcome, the other benefit)``.

    Newer-prevails first: a declared conflict, from the newer document's date, supersedes the
    older document's benefit. Otherwise 就高且不重复: where one side's floor is above the other's
    ceiling, the higher applies and the other is superseded; where they cannot be compared yet
    (ranges that overlap, an "up to" or unfixed amount), both stay, each naming the other with
    ``"open": true`` for the analyst.
    """
    found: dict[str, tuple[str, dict]] = {}
    as_of = facts.get("application_date")

    def other(benefit: str, **extra) -> dict:
        return {"document": kb.conclusions[benefit].document, "benefit": benefit,
                "amount": granted[benefit].as_json(), **extra}

    for relation in kb.newer_prevails:
        newer_date = kb.documents[relation.newer].effective_date
        for newer, older in relation.conflicts:
            if newer in granted and older in granted and as_of is not None and newer_date is not None \
                    and as_of >= newer_date:
                found[older] = ("superseded", other(newer, reason="newer_prevails"))
                found[newer] = ("kept", other(older))
    for overlap in kb.overlaps:
        first, second = overlap.benefits
        if first not in granted or second not in granted or first in found or second in found:
            continue
        a, b = granted[first], granted[second]
        if a.max is not None and b.min is not None and b.min > a.max:
            found[first], found[second] = ("superseded", other(second)), ("kept", other(first))
        elif b.max is not None and a.min is not None and a.min > b.max:
            found[second], found[first] = ("superseded", other(first)), ("kept", other(second))
        else:
            found[first], found[second] = ("open", other(second, open=True)), ("open", other(first, open=True))
    return found


def _offers(kb: KnowledgeBase, facts) -> dict[str, dict]:
    """For each benefit, the highest offer of another district-level policy (Article 14)."""
    best: dict[str, dict] = {}
    for rule in kb.precedence:
        for record in facts.get(rule.input, ()):
            current = best.get(record["benefit"])
            if current is None or record["amount"] > current["amount"]:
                best[record["benefit"]] = {"policy": record["policy"], "amount": record["amount"]}
    return best
