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

from . import amounts
from .errors import EvaluationError, ProfileError
from .inference import Inference, Reasoner
from .kb import KnowledgeBase, load
from .profile import parse_profile
from .values import ValueProblem, parse_date


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
    """A loaded knowledge base: ``kb`` itself, the folder it names, or the bundled one (cached)."""
    if isinstance(kb, KnowledgeBase):
        return kb
    if kb is None:
        if "bundled" not in _bundled:
            _bundled["bundled"] = load()
        return _bundled["bundled"]
    # A folder is loaded once per content: the rule engine a load registers is never freed,
    # so loading again on every call would grow memory without end.
    root = Path(kb).resolve()
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


def evaluate(profile: dict, as_of=None, kb: KnowledgeBase | str | Path | None = None) -> dict:
    """Evaluate one enterprise profile.

    Parameters
    ----------
    profile : mapping
        Fact names to values, as in a profile file.
    as_of : date or str, optional
        The date to judge the case at; overrides the profile's ``application_date``.
    kb : KnowledgeBase, path or None
        A loaded knowledge base (see :func:`engine.load`), a folder, or None for the bundled one.

    Raises
    ------
    ProfileError
        When the profile or ``as_of`` is malformed.
    EvaluationError
        When the inference engine fails (an internal error).
    """
    return assess(profile, as_of=as_of, kb=kb).result


def assess(profile: dict, as_of=None, kb=None, source: str | None = None) -> Assessment:
    """Like :func:`evaluate`, keeping the inference record for explanations."""
    kb = knowledge_base(kb)
    facts = parse_profile(profile, kb, source=source)
    if as_of is not None:
        try:
            facts["application_date"] = parse_date(as_of)
        except ValueProblem as exc:
            raise ProfileError(f"--as-of: {exc}") from None
    try:
        inference = reasoner(kb).derive(facts)
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


def _result(kb: KnowledgeBase, facts, inference: Inference, granted: dict) -> dict:
    as_of: _dt.date | None = facts.get("application_date")
    offers = _offers(kb, facts)
    benefits, superseded = [], []
    for benefit_id, amount in granted.items():
        derivation = inference.derivations[benefit_id][0]
        rule = kb.rules[derivation.rule_id]
        entry = {"id": benefit_id, "clause": kb.conclusions[benefit_id].article,
                 "rule": rule.id, "amount": amount.as_json(), "basis": amount.basis}
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
            if amount.max is None:
                entry["overlap"] = offer
            elif offer["amount"] > amount.max:
                superseded.append({"id": benefit_id, "clause": entry["clause"],
                                   "amount": entry["amount"], "by": offer})
                continue
            else:
                entry["not_stacked_with"] = offer
        benefits.append(entry)
    status = _status(kb, inference, {s["id"] for s in superseded})
    return {
        "kb_version": kb.version,
        "as_of": as_of.isoformat() if as_of else None,
        "enterprise": facts.get("name"),
        "conclusions": [c for c in inference.derived
                        if kb.conclusions[c].kind == "conclusion" and not kb.conclusions[c].internal],
        "benefits": benefits,
        "superseded": superseded,
        "status": status,
        "missing": inference.missing,
        "next_fact": {b: inference.next_fact(kb, b) for b in kb.benefits if status[b] == "undetermined"},
    }


STATUS_WORDS = {True: "granted", False: "denied", None: "undetermined"}


def _status(kb: KnowledgeBase, inference: Inference, superseded: set[str]) -> dict[str, str]:
    """Every conclusion and benefit: granted, denied or undetermined (a fact it needs is unknown).

    A benefit Article 14 hands to a higher offer elsewhere is not granted under this policy:
    it is ``denied`` here, and listed in ``superseded`` with the offer that wins.
    """
    return {cid: "denied" if cid in superseded else STATUS_WORDS[inference.status[cid]]
            for cid in kb.conclusions}


def _offers(kb: KnowledgeBase, facts) -> dict[str, dict]:
    """For each benefit, the highest offer of another district-level policy (Article 14)."""
    best: dict[str, dict] = {}
    for rule in kb.precedence:
        for record in facts.get(rule.input, ()):
            current = best.get(record["benefit"])
            if current is None or record["amount"] > current["amount"]:
                best[record["benefit"]] = {"policy": record["policy"], "amount": record["amount"]}
    return best
