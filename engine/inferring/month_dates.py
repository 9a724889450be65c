"""Dates known only to their month: a case is decided where every day of the month agrees.

A prose description often gives a month alone (设立于2015年6月). Such a date
(:class:`engine.loading.values.MonthDate`) is read as *some day of that month*: the profile is
evaluated on every day of it (on every pair of days, for two such dates), and a conclusion or
benefit keeps its status and amount when every day gives the same one; where the days differ it
is undetermined, and the date is the question to ask — its day.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from engine.errors import ProfileError
from engine.loading.values import MonthDate

#: At most this many dates of a profile may be known to their month only: two give at most
#: 31 × 31 evaluations, three would give 29,791.
MAX_MONTH_DATES = 2


def month_facts(facts: dict[str, Any]) -> list[str]:
    """The facts whose value is a month alone, in the profile's order."""
    return [name for name, value in facts.items() if isinstance(value, MonthDate)]


def every_day(facts: dict[str, Any], names: list[str], kb) -> list[dict[str, Any]]:
    """The profile on each day (each combination of days) its month-only dates may be.

    Raises
    ------
    ProfileError
        When more than :data:`MAX_MONTH_DATES` dates are known to their month only.
    """
    if len(names) > MAX_MONTH_DATES:
        labels = "、".join(kb.facts[n].zh for n in names)
        raise ProfileError(f"{len(names)} dates are given by their month only ({', '.join(names)}); give the day of "
                           f"all but {MAX_MONTH_DATES}", zh=f"{len(names)} 个日期只写到月份（{labels}）；"
                           f"请至少给出其中 {len(names) - MAX_MONTH_DATES} 个的具体日", fact=names[0])
    days = [facts[name].days() for name in names]
    return [{**facts, **dict(zip(names, combination))} for combination in itertools.product(*days)]


def settle(result: dict, screened: list[dict], names: list[str], facts: dict[str, Any], benefits) -> dict:
    """``result`` (the full evaluation on the month's first day) with every conclusion and benefit
    on which the days disagree (``screened``: each day's statuses and amounts) made undetermined,
    the first month-only date the question to ask for such a benefit, and ``month_only`` saying
    which dates were read as a month."""
    disagree = {ident for ident in result["status"] if len({s["status"][ident] for s in screened}) > 1}
    amounts: dict[str, set] = {}
    for s in screened:
        for benefit in s["benefits"]:
            amounts.setdefault(benefit["id"], set()).add(repr(benefit["amount"]))
    disagree |= {b for b, seen in amounts.items() if len(seen) > 1}
    result = dict(result, month_only={name: facts[name].isoformat() for name in names})
    if not disagree:
        return result
    result["status"] = {k: ("undetermined" if k in disagree else v) for k, v in result["status"].items()}
    result["conclusions"] = [c for c in result["conclusions"] if c not in disagree]
    result["benefits"] = [b for b in result["benefits"] if b["id"] not in disagree]
    result["superseded"] = [s for s in result["superseded"] if s["id"] not in disagree]
    result["next_fact"] = {**result.get("next_fact", {}), **{b: names[0] for b in benefits if b in disagree}}
    result["missing"] = list(dict.fromkeys(list(result.get("missing", [])) + names))
    result["undetermined_by_month"] = sorted(disagree)
    return result


def assess_by_day(facts: dict[str, Any], kb, full: Callable, screen: Callable):
    """The assessment of a profile with month-only dates: ``full`` (the evaluation) on the first
    days, its result settled against ``screen`` on every day."""
    names = month_facts(facts)
    days = every_day(facts, names, kb)
    assessment = full(days[0])
    assessment.result = settle(assessment.result, [screen(day) for day in days], names, facts, kb.benefits)
    return assessment
