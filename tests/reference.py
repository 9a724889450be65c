"""A small, independent evaluator of the knowledge base's YAML rules, for differential testing.

It shares no code with ``engine``: it reads the YAML with PyYAML, evaluates conditions in
Kleene's three-valued logic by iterating to a fixpoint (no dependency order, no rule engine),
and computes amounts with fractions. Profiles must be canonical (money as int yuan, dates as
ISO strings, numbers as int or decimal strings). Any disagreement with ``engine.evaluate`` is
a bug in one of the two.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from pathlib import Path

import yaml

_UNITS = {"亿": 10**8, "万": 10**4}


def _money(text) -> int:
    """The knowledge base's money ("500万元", "1.2亿元", "1500元") — a deliberately small reader."""
    text = str(text).strip().removesuffix("元")
    scale = 1
    if text and text[-1] in _UNITS:
        scale, text = _UNITS[text[-1]], text[:-1]
    value = Fraction(text) * scale
    assert value.denominator == 1
    return int(value)


class Reference:
    def __init__(self, kb_dir: Path):
        kb_dir = Path(kb_dir)
        load = lambda name: yaml.safe_load((kb_dir / name).read_text(encoding="utf-8"))  # noqa: E731
        self.facts = {f["id"]: f for f in load("facts.yaml")["facts"]}
        index = load("knowledge_base.yaml") if (kb_dir / "knowledge_base.yaml").is_file() else {}
        folders = [kb_dir / "documents" / name for name in index.get("documents", [])] or [kb_dir]
        self.overlaps = [tuple(o["benefits"]) for o in index.get("overlaps", [])]
        self.kinds, self.rules, self.precedence = {}, [], []
        for folder in folders:
            raw = yaml.safe_load((folder / "conclusions.yaml").read_text(encoding="utf-8"))
            self.kinds.update({c["id"]: "conclusion" for c in raw["conclusions"]})
            self.kinds.update({b["id"]: "benefit" for b in raw["benefits"]})
            for path in sorted((folder / "rules").glob("*.yaml")):
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                self.rules += data.get("rules", [])
                self.precedence += data.get("precedence", [])
        self.presumed_only = self._presumed_only()

    def _presumed_only(self):
        """Conclusions used only through presumed references (or by such conclusions)."""
        uses = {}

        def walk(node, then):
            if "all" in node or "any" in node:
                for child in node.get("all", node.get("any", [])):
                    walk(child, then)
            elif "conclusion" in node:
                uses.setdefault(node["conclusion"], []).append((then, bool(node.get("presumed"))))
        for rule in self.rules:
            walk(rule["when"], rule["then"])
        found = set()
        while True:
            more = {c for c, u in uses.items() if c not in found and all(p or t in found for t, p in u)}
            if not more:
                return found
            found |= more

    # -- values
    def _value(self, name, raw):
        kind = self.facts[name]["type"]
        if kind == "date":
            return dt.date.fromisoformat(str(raw))
        if kind == "number":
            return Fraction(str(raw))
        if kind == "list":
            return set(raw)
        return raw

    def _threshold(self, name, raw):
        kind = self.facts[name]["type"]
        if kind == "money":
            return _money(raw)
        if kind == "date":
            return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        if kind == "number":
            return Fraction(str(raw))
        return raw

    def _decides(self, rule, facts, status):
        """A rule's value; one whose deciding text is missing never holds, only undecides."""
        value = self._cond(rule["when"], facts, status)[0]
        return None if rule.get("text_missing") and value is True else value

    # -- conditions: returns (value, unknown facts that keep it undecided)
    def _cond(self, node, facts, status):
        if "all" in node or "any" in node:
            is_all = "all" in node
            results = [self._cond(child, facts, status) for child in node["all" if is_all else "any"]]
            values = [v for v, _ in results]
            decisive = False if is_all else True
            if decisive in values:
                return decisive, []
            if None in values:
                return None, [f for v, unknown in results if v is None for f in unknown]
            return (not decisive), []
        if "conclusion" in node:
            if node.get("presumed"):
                return status.get(node["conclusion"]) is not False, []
            return status.get(node["conclusion"]), []
        name = node["fact"]
        op = next(k for k in node if k not in ("fact", "ground"))
        if name not in facts:
            return None, [name]
        if op in ("within_years", "not_after_case_date"):
            if "application_date" not in facts:
                return None, ["application_date"]
            start, day = facts[name], facts["application_date"]
            if op == "not_after_case_date":
                return (start <= day) is node[op], []
            # 民法典 第二百零二条: the period's last day is the corresponding day, or the month's last.
            try:
                last = start.replace(year=start.year + node[op])
            except ValueError:  # 29 February: the period ends with 28 February
                last = start.replace(year=start.year + node[op], day=28)
            return start <= day <= last, []
        actual, want = facts[name], node[op]
        t = lambda v: self._threshold(name, v)  # noqa: E731
        if op == "is":
            result = actual == want
        elif op == "in":
            result = actual in want
        elif op == "not_in":
            result = actual not in want
        elif op == "at_least":
            result = actual >= t(want)
        elif op == "more_than":
            result = actual > t(want)
        elif op == "at_most":
            result = actual <= t(want)
        elif op == "less_than":
            result = actual < t(want)
        elif op == "between":
            result = t(want[0]) <= actual <= t(want[1])
        elif op == "includes":
            result = want in actual
        elif op == "includes_any":
            result = bool(actual & set(want))
        else:
            raise AssertionError(op)
        return result, []

    def _amount(self, rule, facts):
        spec = rule["amount"]
        if "range" in spec:
            return _money(spec["range"]["min"]), _money(spec["range"]["max"])
        if "up_to" in spec:
            return None, _money(spec["up_to"])
        if "share" not in spec:
            return None, None
        share = Fraction(spec["share"].rstrip("%")) / 100
        value = math.floor(facts[spec["of"]] * share)
        for cap in spec.get("caps", []):
            limit = _money(cap["max"]) if "max" in cap else math.floor(_money(cap["per_unit"]) * facts[cap["per"]])
            value = min(value, limit)
        return (value if spec["share_is"] == "fixed" else None), value

    def evaluate(self, profile: dict, as_of: str | None = None) -> dict:
        facts = {k: self._value(k, v) for k, v in profile.items() if v is not None}
        if as_of:
            facts["application_date"] = dt.date.fromisoformat(as_of)
        status = {c: None for c in self.kinds}
        for _ in range(len(self.kinds) + 1):  # a fixpoint: no dependency order is assumed
            new = {}
            for cid in self.kinds:
                values = [self._decides(r, facts, status) for r in self.rules if r["then"] == cid]
                new[cid] = True if True in values else (None if None in values else False)
            if new == status:
                break
            status = new
        missing = set()
        for cid, value in status.items():
            if value is None and cid not in self.presumed_only:
                for rule in (r for r in self.rules if r["then"] == cid):
                    v, unknown = self._cond(rule["when"], facts, status)
                    if v is None and not (rule.get("text_missing") and not unknown):
                        missing |= set(unknown)
        offers = {}
        for record in facts.get("other_district_support", []):
            current = offers.get(record["benefit"])
            if current is None or record["amount"] > current[1]:
                offers[record["benefit"]] = (record["policy"], record["amount"])
        benefits, superseded, amounts = {}, {}, {}
        for cid, value in status.items():
            if self.kinds[cid] == "benefit" and value is True:
                rule = next(r for r in self.rules if r["then"] == cid and self._cond(r["when"], facts, status)[0] is True)
                amounts[cid] = self._amount(rule, facts)
        for first, second in self.overlaps:  # Article 14 between documents: the higher, not stacked
            if first in amounts and second in amounts:
                (a_low, a_high), (b_low, b_high) = amounts[first], amounts[second]
                if a_high is not None and b_low is not None and b_low > a_high:
                    superseded[first] = (second, (b_low, b_high))
                elif b_high is not None and a_low is not None and a_low > b_high:
                    superseded[second] = (first, (a_low, a_high))
        for cid in superseded:
            amounts.pop(cid, None)
        for cid, (low, high) in amounts.items():
            offer = offers.get(cid)
            if offer is not None and high is not None and offer[1] > high:
                superseded[cid] = offer
            else:
                benefits[cid] = (low, high)
        words = {True: "granted", False: "denied", None: "undetermined"}
        return {
            "conclusions": {c for c, v in status.items() if v is True and self.kinds[c] == "conclusion"},
            "benefits": benefits, "superseded": superseded, "missing": missing,
            "status": {c: "denied" if c in superseded else words[v] for c, v in status.items()},
        }


def engine_view(result: dict) -> dict:
    """``engine.evaluate``'s result in the reference's shape."""
    return {
        "conclusions": set(result["conclusions"]),
        "benefits": {b["id"]: ((b["amount"] or {}).get("min"), (b["amount"] or {}).get("max")) for b in result["benefits"]},
        "superseded": {s["id"]: _by(s["by"]) for s in result["superseded"]},
        "missing": set(result["missing"]), "status": result["status"],
    }


def _by(by: dict) -> tuple:
    """What superseded a benefit: (policy, amount) or (another document's benefit, (min, max))."""
    if "policy" in by:
        return by["policy"], by["amount"]
    amount = by["amount"] or {}
    return by["benefit"], (amount.get("min"), amount.get("max"))
