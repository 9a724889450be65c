"""Conditions as fast three-valued Python functions, and fact values as the engine compares them.

:func:`compile_check` and :func:`compile_unknowns` turn one condition
(:mod:`engine.model.conditions`) into a function of the facts and the conclusions' statuses;
:func:`compile_statuses` turns the whole rule set into one generated function computing every
conclusion's status at once (what batch screening runs); :func:`engine_value` and
:func:`engine_field` say how a fact value and a test's field reach durable_rules
(:mod:`engine.compiling.compiler`).
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

from engine.model.conditions import (AS_OF_FACT, CASE_DATE_OPS, COMPARE, All, Condition, ConclusionRef, FactTest,
                                     compared_value, awaited_fact)


#: Exact quantities go to the engine in millionths, as integers: a float could round or
#: underflow (1e-400 > 0 but 0.0 is not) and make the engine disagree with Python.
NUMBER_SCALE = 10**6


def engine_value(value: Any) -> Any:
    """A fact value as the inference engine compares it.

    Dates become ``YYYYMMDD`` integers (ordered like dates); exact quantities become integers
    in millionths (quantities have at most six decimal places and are at most 10^9, so the
    integer is exact in the engine's doubles); no float ever reaches the engine.
    """
    if isinstance(value, _dt.date):
        return value.year * 10000 + value.month * 100 + value.day
    if isinstance(value, Fraction):
        scaled = value * NUMBER_SCALE
        if scaled.denominator != 1:
            raise ValueError(f"{value} has more than six decimal places")
        return int(scaled)
    if isinstance(value, (list, tuple)):
        return [engine_value(v) for v in value]
    return value


def engine_field(test: FactTest) -> str:
    """The field of the engine's profile fact a test compares. A ``within_years`` test compares
    a field the reasoner adds: the case date minus the tested date, both as ``YYYYMMDD``
    integers, so that ``0 <= field <= years * 10000`` is exactly :data:`COMPARE`'s meaning (the last
    day of the period, its corresponding day, included)."""
    return f"{test.fact}__to_as_of" if test.op in CASE_DATE_OPS else test.fact


def to_as_of(value: _dt.date, as_of: _dt.date) -> int:
    """The ``__to_as_of`` engine field (see :func:`engine_field`)."""
    return engine_value(as_of) - engine_value(value)


def compile_check(condition: Condition):
    """The condition as a fast function ``(facts, status) -> True | False | None``.

    The same Kleene logic as :func:`engine.model.conditions.evaluate`, without building an :class:`~engine.model.conditions.Outcome` tree: this
    is what runs for every profile; the trees are built only when an explanation asks.
    """
    if isinstance(condition, FactTest):
        return _compile_test(condition)
    if isinstance(condition, ConclusionRef):
        name = condition.conclusion
        if condition.presumed:
            return lambda facts, status: status.get(name) is not False
        return lambda facts, status: status.get(name)
    parts = tuple(compile_check(item) for item in condition.items)
    decisive = False if isinstance(condition, All) else True   # what settles all / any at once

    def combine(facts, status):
        unknown = False
        for part in parts:
            value = part(facts, status)
            if value is decisive:
                return decisive
            if value is None:
                unknown = True
        return None if unknown else not decisive
    return combine


def _compile_test(test: FactTest):
    name, op, compare, expected = test.fact, test.op, COMPARE[test.op], test.value
    if op in CASE_DATE_OPS:
        def check_period(facts, status):
            actual = compared_value(name, op, facts)
            return None if actual is None else compare(actual, expected)
        return check_period

    def check(facts, status):
        actual = facts.get(name)
        return None if actual is None else compare(actual, expected)
    return check


def compile_unknowns(condition: Condition):
    """The condition as ``(facts, status, found) -> value``, adding to ``found``, in the order
    the condition states them, the unknown facts that keep an undecided value undecided (what
    :func:`unknown_facts` gives, fast) and, as ``"@id"``, the undecided conclusions."""
    if isinstance(condition, FactTest):
        check, name = _compile_test(condition), condition.fact

        def test(facts, status, found):
            value = check(facts, status)
            if value is None:
                found.append(awaited_fact(name, condition.op, facts))
            return value
        return test
    if isinstance(condition, ConclusionRef):
        cid, marker = condition.conclusion, "@" + condition.conclusion
        if condition.presumed:
            return lambda facts, status, found: status.get(cid) is not False

        def ref(facts, status, found):
            value = status.get(cid)
            if value is None:
                found.append(marker)  # an undecided conclusion, where it stands in the order
            return value
        return ref
    parts = tuple(compile_unknowns(item) for item in condition.items)
    decisive = False if isinstance(condition, All) else True

    def combine(facts, status, found):
        mark = len(found)
        unknown = False
        for part in parts:
            value = part(facts, status, found)
            if value is decisive:
                del found[mark:]  # decided: nothing here is missing
                return decisive
            if value is None:
                unknown = True
        if not unknown:
            del found[mark:]
            return not decisive
        return None
    return combine


# --------------------------------------------------------------------------- one function for a rule set

#: Three-valued values as the generated function computes them: Kleene's "and" is then the
#: smallest of its operands and "or" the largest (False < unknown < True).
_FALSE, _UNKNOWN, _TRUE = 0, 1, 2
_AS_BOOL = (False, None, True)

#: Fact tests written inline (``a`` is the fact's value, ``k`` the test's value).
_INLINE = {"is": "{a} == {k}", "in": "{a} in {k}", "not_in": "{a} not in {k}", "at_least": "{a} >= {k}",
           "more_than": "{a} > {k}", "at_most": "{a} <= {k}", "less_than": "{a} < {k}",
           "between": "{k}[0] <= {a} <= {k}[1]", "includes": "{k} in {a}", "includes_any": "not {k}.isdisjoint({a})"}


def compile_statuses(conclusions: list[tuple[str, list[tuple[Condition, bool]]]]):
    """A whole rule set as one generated Python function ``facts -> {conclusion: status}``.

    ``conclusions`` are in dependency order, each with its rules' conditions and whether the
    rule is ``text_missing`` (it can leave its conclusion undetermined, never make it hold). The
    function gives each conclusion True (some rule holds), False (every rule fails) or None, the
    same Kleene logic as :func:`engine.model.conditions.evaluate` and :func:`compile_check` — a test compares them —
    but as straight-line code: every distinct fact test is worked out once, each rule is a
    nested ``min``/``max`` over those values, with no Python call per condition. It is the
    inner loop of screening many profiles.
    """
    constants: dict[str, Any] = {"AS_BOOL": _AS_BOOL, "COMPARE": COMPARE, "AS_OF": AS_OF_FACT}
    lines = ["def statuses(facts):", "    get = facts.get"]
    facts: dict[str, str] = {}
    tests: dict[tuple, str] = {}

    def fact(name: str) -> str:
        if name not in facts:
            facts[name] = f"f{len(facts)}"
            lines.append(f"    {facts[name]} = get({name!r})")
        return facts[name]

    def test(lit: FactTest) -> str:
        key = (lit.fact, lit.op, _hashable(lit.value))
        if key not in tests:
            name, k = f"t{len(tests)}", f"k{len(tests)}"
            a = fact(lit.fact)
            if lit.op in CASE_DATE_OPS:
                constants[k] = lit.value
                when = f"COMPARE[{lit.op!r}](({a}, f_as_of), {k})"
                lines.append(f"    {name} = {_UNKNOWN} if {a} is None or f_as_of is None else "
                             f"({_TRUE} if {when} else {_FALSE})")
            else:
                constants[k] = frozenset(lit.value) if lit.op == "includes_any" else lit.value
                when = _INLINE[lit.op].format(a=a, k=k)
                lines.append(f"    {name} = {_UNKNOWN} if {a} is None else ({_TRUE} if {when} else {_FALSE})")
            tests[key] = name
        return tests[key]

    done: dict[str, str] = {}

    def expression(condition: Condition) -> str:
        if isinstance(condition, FactTest):
            return test(condition)
        if isinstance(condition, ConclusionRef):
            value = done.get(condition.conclusion, str(_UNKNOWN))  # not settled yet: unknown
            return f"({_FALSE} if {value} == {_FALSE} else {_TRUE})" if condition.presumed else value
        parts = [expression(item) for item in condition.items]
        if not parts:
            return str(_TRUE if isinstance(condition, All) else _FALSE)
        return parts[0] if len(parts) == 1 else f"{'min' if isinstance(condition, All) else 'max'}({', '.join(parts)})"

    lines.append("    f_as_of = get(AS_OF)")
    for conclusion, rules in conclusions:
        # A rule whose deciding text is missing can leave its conclusion undetermined at most.
        values = [f"min({expression(when)}, {_UNKNOWN})" if undecided else expression(when) for when, undecided in rules]
        name = f"c{len(done)}"
        either = values[0] if len(values) == 1 else f"max({', '.join(values)})" if values else str(_FALSE)
        lines.append(f"    {name} = {either}")
        done[conclusion] = name
    lines.append("    return {" + ", ".join(f"{c!r}: AS_BOOL[{v}]" for c, v in done.items()) + "}")
    source = "\n".join(lines)
    namespace = dict(constants)
    exec(compile(source, "<policykb: the rule set as one function>", "exec"), namespace)
    statuses = namespace["statuses"]
    statuses.source = source
    return statuses


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
