"""Amounts of benefits, in integer yuan, exactly as the text fixes them.

- ``range``: the floor and ceiling the text gives (500万到2000万元).
- ``up_to``: only a ceiling (一次性最高5000万元（含）): min is null.
- ``share``: a percentage of a money fact, with caps applied by minimum: a fixed cap
  (最高600万元) or a cap per unit of a quantity (每平方米不超过1500元). A share the text fixes
  (按照…的10%) gives min = max; a share it bounds (不超过 / 最高按照) gives only a max.
  Fractions of a yuan are dropped: a ceiling never rounds up.
- ``not_fixed``: the text fixes no amount; the benefit defers to a sub-policy.
- ``services``: in-kind services, no money.

Arithmetic is on :class:`fractions.Fraction` and ``int``; no float touches an amount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from engine.model import Rule


@dataclass
class AmountResult:
    basis: str
    min: int | None
    max: int | None
    steps: list[dict] = field(default_factory=list)  # the arithmetic, for explanations

    def as_json(self) -> dict | None:
        if self.min is None and self.max is None:
            return None
        return {"min": self.min, "max": self.max, "currency": "CNY"}


def compute(rule: Rule, facts: dict[str, Any]) -> AmountResult:
    """The amount a granted rule gives, from the profile's facts."""
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
