"""Amounts of benefits, in integer yuan, exactly as the text fixes them.

- ``range``: the floor and ceiling the text gives (500万到2000万元).
- ``up_to``: only a ceiling (一次性最高5000万元（含）): min is null.
- ``share``: a percentage of a money fact, with caps applied by minimum: a fixed cap
  (最高600万元) or a cap per unit of a quantity (每平方米不超过1500元). A share the text fixes
  (按照…的10%) gives min = max; a share it bounds (不超过 / 最高按照) gives only a max.
  Fractions of a yuan are dropped: a ceiling never rounds up.
- ``not_fixed``: the text fixes no amount; the benefit defers to a sub-policy.
- ``services``: in-kind services, no money.

Beside its basis an amount may be **per year** (每年…, for at most N years: the amount is what
one year gets; counted from a date fact, the case's year of support is worked out as the Civil
Code counts periods, :mod:`engine.model.periods`) and under a **cumulative cap** (同一主体累计
支持不超过…): what is left of the cap after what the enterprise already received, never more.

Arithmetic is on :class:`fractions.Fraction` and ``int``; no float touches an amount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from engine.model import Rule
from engine.model.conditions import AS_OF_FACT
from engine.model.periods import year_of_period


@dataclass
class AmountResult:
    basis: str
    min: int | None
    max: int | None
    steps: list[dict] = field(default_factory=list)  # the arithmetic, for explanations
    period: dict | None = None       # per year: {"per": "year", "years", "year"} (year: the case's)
    cumulative: dict | None = None   # {"max", "received", "remaining"}

    def as_json(self) -> dict | None:
        if self.min is None and self.max is None:
            return None
        return {"min": self.min, "max": self.max, "currency": "CNY"}


def compute(rule: Rule, facts: dict[str, Any]) -> AmountResult:
    """The amount a granted rule gives, from the profile's facts."""
    result = _basis(rule, facts)
    spec = rule.amount
    if spec.per_year is not None:
        result.period = _period(spec.per_year, facts)
        result.steps.append({"step": "per_year", **result.period})
    if spec.cumulative is not None:
        _cap_cumulative(result, spec.cumulative, facts)
    return result


def _period(per_year: dict, facts: dict) -> dict:
    """Per year, for how many years, and which year of support the case is in where the start is known."""
    period = {"per": "year", "years": per_year["years"]}
    start, as_of = facts.get(per_year["from"]) if per_year["from"] else None, facts.get(AS_OF_FACT)
    if start is not None and as_of is not None:
        period["year"] = year_of_period(start, as_of)
    return period


def _cap_cumulative(result: AmountResult, cumulative: dict, facts: dict) -> None:
    """The grant is at most what is left of the cumulative cap: its min and max are clamped to it."""
    received = facts[cumulative["received"]]
    remaining = max(cumulative["max"] - received, 0)
    result.cumulative = {"max": cumulative["max"], "received": received, "remaining": remaining}
    if result.basis == "not_fixed":
        result.max = remaining           # the text fixes no amount, but never more than what is left
    else:
        result.max = remaining if result.max is None else min(result.max, remaining)
        result.min = None if result.min is None else min(result.min, remaining)
    result.steps.append({"step": "cumulative", "max": cumulative["max"], "received": received,
                         "remaining": remaining, "value": result.max})


def _basis(rule: Rule, facts: dict[str, Any]) -> AmountResult:
    spec = rule.amount
    if spec.basis == "range":
        return AmountResult("range", spec.min, spec.max,
                            [{"step": "range", "min": spec.min, "max": spec.max}])
    if spec.basis == "up_to":
        return AmountResult("up_to", None, spec.max, [{"step": "up_to", "max": spec.max}])
    if spec.basis != "share":
        return AmountResult(spec.basis, None, None)
    base = facts[spec.of]
    share_value = math.floor(base * spec.share)
    steps = [{"step": "share", "share": spec.share, "of": spec.of, "base": base, "value": share_value}]
    value, binding = share_value, "share"
    for cap in spec.caps:
        if "max" in cap:
            limit = cap["max"]
            steps.append({"step": "cap", "max": limit})
        else:
            quantity = facts[cap["per"]]
            limit = math.floor(cap["per_unit"] * quantity)
            steps.append({"step": "cap_per_unit", "per_unit": cap["per_unit"], "per": cap["per"],
                          "quantity": quantity, "max": limit})
        if limit < value:
            value, binding = limit, len(steps) - 1
    steps.append({"step": "result", "value": value, "binding": binding, "share_is": spec.share_is})
    return AmountResult("share", value if spec.share_is == "fixed" else None, value, steps)
