"""What a scenario may expect, checked when its file is read: every key, id and value of its
``output`` (the forms are listed in :mod:`engine.authoring.scenarios`), each error located at
the line of the key it is about, with what would be valid and the nearest known name."""

from __future__ import annotations

from engine.errors import KnowledgeBaseError, nearest
from engine.loading.profile import fact_id
from engine.loading.values import ValueProblem, parse_money
from engine.model import KnowledgeBase
from engine.model import conditions as cond

OUTPUT_KEYS = ("conclusions", "not_conclusions", "benefits", "not_benefits", "superseded", "overlaps",
               "no_overlaps", "grounds", "missing", "missing_includes", "not_missing", "status", "next_fact",
               "in_force", "why_not")
WHY_NOT_KEYS = ("status", "next_fact", "first_change", "alternatives")
BENEFIT_KEYS = ("min", "max", "basis", "rule", "defers_to", "terms", "services", "per_year", "years", "year",
                "remaining")
OVERLAP_KEYS = ("benefit", "with", "decision", "reason")
DECISIONS = ("open", "kept", "superseded")
REASONS = ("within_range", "not_fixed", "newer_prevails")
STATUSES = ("granted", "denied", "undetermined")
AMOUNT_WORDS = ("granted", "not_fixed", "services")
BASES = ("range", "up_to", "share", "not_fixed", "services")


class Where:
    """Raises located errors for one scenario: at the line of a key of a mapping, an item of a
    list, or the scenario."""

    def __init__(self, file: str, line: int | None):
        self.file, self.line = file, line

    def error(self, message, within=None, key=None, **extra) -> KnowledgeBaseError:
        line = None
        if within is not None and key is not None:
            if hasattr(within, "line_of"):
                line = within.line_of(key)
        if line is None:
            line = getattr(within, "line", None) or self.line
        return KnowledgeBaseError(message, file=self.file, line=line, **extra)


def check_output(kb: KnowledgeBase, output: dict, profile: dict, where: Where) -> None:
    """Every key, id and value of ``output``; raises at the first that is not known."""
    for key in output:
        if key not in OUTPUT_KEYS:
            raise where.error(f"unknown output key '{key}'", output, key, suggestion=nearest(key, OUTPUT_KEYS),
                              allowed=OUTPUT_KEYS)
    benefits = list(kb.benefits)
    offers = _offer_policies(kb, profile)
    offered = "/".join(dict.fromkeys(p.input for p in kb.precedence)) or "other_district_support"

    def ids(key, known, what):
        value = output.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict if key in _MAPPINGS else list):
            raise where.error(f"'{key}' is a {'mapping of ids' if key in _MAPPINGS else 'list of ids'}", output, key)
        for n, name in enumerate(value):
            if name not in known:
                raise where.error(f"'{name}' in {key} is not {what}", value, n if isinstance(value, list) else name,
                                  suggestion=nearest(str(name), known))
        return value

    ids("conclusions", kb.conclusions, "a conclusion or benefit")
    ids("not_conclusions", kb.conclusions, "a conclusion or benefit")
    for key in ("not_benefits", "no_overlaps"):
        ids(key, benefits, "a benefit")
    for key in ("missing", "missing_includes", "not_missing"):
        ids(key, kb.facts, "a fact")
    for cid, word in ids("status", kb.conclusions, "a conclusion or benefit").items():
        _one_of(where, output["status"], cid, word, STATUSES, f"the status of '{cid}'")
    for cid, fact in ids("next_fact", kb.conclusions, "a conclusion or benefit").items():
        if fact is not None and fact not in kb.facts:
            raise where.error(f"next_fact of '{cid}': '{fact}' is not a fact", output["next_fact"], cid,
                              suggestion=nearest(str(fact), kb.facts))
    for document, value in ids("in_force", kb.documents, "a document of the knowledge base").items():
        if value not in (True, False, None):
            raise where.error(f"in_force of '{document}' is true, false or null (the text does not say)",
                              output["in_force"], document)
    for bid, by in ids("superseded", benefits, "a benefit").items():
        if by is not None and by not in benefits and by not in offers:
            raise where.error(f"superseded of '{bid}': '{by}' is neither a benefit nor the policy of an "
                              f"{offered} offer in the input", output["superseded"], bid,
                              suggestion=nearest(str(by), [*benefits, *offers]))
    for bid, grounds in ids("grounds", benefits, "a benefit").items():
        known = _grounds_of(kb, bid)
        for n, ground in enumerate(grounds or []):
            if ground not in known:
                raise where.error(f"'{ground}' is not a ground of '{bid}'", output["grounds"], bid,
                                  suggestion=nearest(str(ground), known), allowed=known)
    for bid, want in ids("benefits", benefits, "a benefit").items():
        _check_benefit(kb, where, output["benefits"], bid, want)
    overlaps = output.get("overlaps")
    if overlaps is not None:
        if not isinstance(overlaps, list):
            raise where.error("'overlaps' is a list of {benefit, with, decision, reason}", output, "overlaps")
        for n, entry in enumerate(overlaps):
            _check_overlap(where, overlaps, n, entry, benefits, offers, offered)
    for cid, want in ids("why_not", kb.conclusions, "a conclusion or benefit").items():
        _check_why_not(kb, where, output["why_not"], cid, want)


#: Output keys that are mappings keyed by id (the others that take ids are lists).
_MAPPINGS = ("benefits", "superseded", "grounds", "status", "next_fact", "in_force", "why_not")


def _one_of(where: Where, within, key, value, allowed, what: str) -> None:
    if value not in allowed:
        raise where.error(f"{what} is one of {', '.join(allowed)}, not '{value}'", within, key,
                          suggestion=nearest(str(value), allowed), allowed=allowed)


def _offer_policies(kb: KnowledgeBase, profile: dict) -> list[str]:
    """The policies the profile's offers of other policies (``other_district_support``: the facts
    Article 14's precedence rules read) come from."""
    found = []
    for name in dict.fromkeys(p.input for p in kb.precedence):
        records = profile.get(name) or []
        if isinstance(records, list):
            found += [str(r["policy"]) for r in records if isinstance(r, dict) and r.get("policy") is not None]
    return found


def _grounds_of(kb: KnowledgeBase, benefit: str) -> list[str]:
    return list(dict.fromkeys(node.ground for rule in kb.rules_for(benefit) for node in cond.walk(rule.when)
                              if getattr(node, "ground", None)))


def _check_benefit(kb: KnowledgeBase, where: Where, within, bid: str, want) -> None:
    if want is None or isinstance(want, str):
        if want is not None:
            _one_of(where, within, bid, want, AMOUNT_WORDS, f"the expected amount of '{bid}'")
        return
    if not isinstance(want, dict):
        raise where.error(f"the expected amount of '{bid}' is granted, not_fixed, services or a mapping of "
                          f"{', '.join(BENEFIT_KEYS)}", within, bid)
    for key, value in want.items():
        if key not in BENEFIT_KEYS:
            raise where.error(f"unknown key '{key}' in the expected amount of '{bid}'", want, key,
                              suggestion=nearest(str(key), BENEFIT_KEYS), allowed=BENEFIT_KEYS)
        if key in ("min", "max") and value is not None:
            try:
                parse_money(value)
            except ValueProblem as exc:
                raise where.error(f"{key} of '{bid}': {exc}", want, key) from None
        elif key == "basis":
            _one_of(where, want, key, value, BASES, f"the basis of '{bid}'")
        elif key == "rule":
            rules = [r.id for r in kb.rules_for(bid)]
            if value not in rules:
                raise where.error(f"'{value}' is not a rule deriving '{bid}'", want, key,
                                  suggestion=nearest(str(value), rules), allowed=rules)
        elif key == "defers_to":
            for sid in value if isinstance(value, list) else [value]:
                if sid not in kb.subpolicies:
                    raise where.error(f"defers_to of '{bid}': '{sid}' is not a sub-policy", want, key,
                                      suggestion=nearest(str(sid), kb.subpolicies))
        elif key == "services" and not isinstance(value, list):
            raise where.error(f"services of '{bid}' is a list of the services' Chinese names", want, key)
        elif key == "per_year" and not isinstance(value, bool):
            raise where.error(f"per_year of '{bid}' is true (a yearly amount) or false", want, key)
        elif key in ("years", "year") and value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                                                 or value < 1):
            raise where.error(f"{key} of '{bid}' is a whole number of years, or null", want, key)
        elif key == "remaining":
            try:
                parse_money(value)
            except ValueProblem as exc:
                raise where.error(f"remaining of '{bid}': {exc}", want, key) from None


def _check_overlap(where: Where, within, n: int, entry, benefits, offers, offered: str) -> None:
    if not isinstance(entry, dict) or "benefit" not in entry:
        raise where.error("an overlap is a mapping {benefit, with, decision, reason} naming at least its benefit",
                          within, n)
    for key, value in entry.items():
        if key not in OVERLAP_KEYS:
            raise where.error(f"unknown overlap key '{key}'", entry, key, suggestion=nearest(str(key), OVERLAP_KEYS),
                              allowed=OVERLAP_KEYS)
    if entry["benefit"] not in benefits:
        raise where.error(f"'{entry['benefit']}' in overlaps is not a benefit", entry, "benefit",
                          suggestion=nearest(str(entry["benefit"]), benefits))
    other = entry.get("with")
    if other is not None and other not in benefits and other not in offers:
        raise where.error(f"overlap of '{entry['benefit']}': '{other}' is neither a benefit nor the policy of an "
                          f"{offered} offer in the input", entry, "with",
                          suggestion=nearest(str(other), [*benefits, *offers]))
    if "decision" in entry:
        _one_of(where, entry, "decision", entry["decision"], DECISIONS, "an overlap's decision")
    if "reason" in entry:
        _one_of(where, entry, "reason", entry["reason"], REASONS, "an overlap's reason")


def _check_why_not(kb: KnowledgeBase, where: Where, within, cid: str, want) -> None:
    if not isinstance(want, dict):
        raise where.error(f"why_not of '{cid}' is a mapping of {', '.join(WHY_NOT_KEYS)}", within, cid)
    for key, value in want.items():
        if key not in WHY_NOT_KEYS:
            raise where.error(f"unknown why_not key '{key}'", want, key, suggestion=nearest(key, WHY_NOT_KEYS),
                              allowed=WHY_NOT_KEYS)
        if key == "status":
            _one_of(where, want, key, value, STATUSES, f"the why-not status of '{cid}'")
        elif key == "next_fact" and value is not None and value not in kb.facts:
            raise where.error(f"why_not next_fact of '{cid}': '{value}' is not a fact", want, key,
                              suggestion=nearest(str(value), kb.facts))
        elif key == "first_change":
            if not isinstance(value, dict):
                raise where.error(f"first_change of '{cid}' is a mapping of fact to new value", want, key)
            for name in value:
                if fact_id(kb, name) is None:
                    raise where.error(f"first_change of '{cid}': '{name}' is not a fact", value, name,
                                      suggestion=nearest(str(name), kb.facts))
        elif key == "alternatives" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise where.error(f"alternatives of '{cid}' is a whole number, the fewest alternatives expected",
                              want, key)
