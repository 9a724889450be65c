"""The condition language of rules: parsing, three-valued evaluation and normal form.

A condition is one of

- a fact test: ``{fact: NAME, <op>: VALUE}`` with ``<op>`` one of :data:`OPERATORS`;
- a conclusion reference: ``{conclusion: ID}`` (holds when the conclusion is derived), or
  ``{conclusion: ID, presumed: true}`` — *presumed* to hold unless it is known to fail: true when
  the conclusion holds or is undecided, false only when it is denied. It is how a recognition
  by an authority stands on conditions nobody has told us fail (implementation rules 第二条);
- ``{all: [...]}`` / ``{any: [...]}``.

Any fact test or reference may carry ``ground: LABEL``, a name reported with the benefit when
that alternative holds (13(2) reports which grounds were met).

Unknown is not false: a test on a fact the profile leaves out is *unknown* (``None``), and
``all``/``any`` follow Kleene's three-valued logic. :func:`to_dnf` gives the disjunctive normal
form the compiler turns into inference-engine rules.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterator, Union

#: Fact-test operators, with the fact types each applies to.
OPERATORS = {
    "is": ("bool", "enum", "string"),
    "in": ("enum",),
    "not_in": ("enum",),
    "at_least": ("money", "number", "date"),
    "more_than": ("money", "number", "date"),
    "at_most": ("money", "number", "date"),
    "less_than": ("money", "number", "date"),
    "between": ("money", "number", "date"),
    "includes": ("list",),
    "includes_any": ("list",),
    "within_years": ("date",),
}

#: The fact that dates a case (``--as-of`` overrides it); ``within_years`` measures from it.
AS_OF_FACT = "application_date"

#: How each operator reads in explanations.
OPERATOR_TEXT = {
    "is": ("为", "is"), "in": ("属于", "is one of"), "not_in": ("不属于", "is none of"),
    "at_least": ("不低于", "is at least"), "more_than": ("高于", "is more than"),
    "at_most": ("不高于", "is at most"), "less_than": ("低于", "is less than"),
    "between": ("介于", "is between"), "includes": ("包含", "includes"),
    "includes_any": ("包含其一", "includes one of"),
    "within_years": ("距申请日期不足（年）", "is less than this many years before the application date:"),
}


#: What each operator means, as ``(actual, expected) -> bool``: the one definition both the
#: tree evaluator and the compiled checks use (the engine's patterns are in compiler.py).
COMPARE = {
    "is": lambda actual, expected: actual == expected,
    "in": lambda actual, expected: actual in expected,
    "not_in": lambda actual, expected: actual not in expected,
    "at_least": lambda actual, expected: actual >= expected,
    "more_than": lambda actual, expected: actual > expected,
    "at_most": lambda actual, expected: actual <= expected,
    "less_than": lambda actual, expected: actual < expected,
    "between": lambda actual, expected: expected[0] <= actual <= expected[1],
    "includes": lambda actual, expected: expected in actual,
    "includes_any": lambda actual, expected: any(item in actual for item in expected),
    # actual is (the date tested, the case's date): on or after it, before the same calendar day
    # ``expected`` years later (a 29 February start ends with 28 February).
    "within_years": lambda actual, expected: actual[0] <= actual[1] and (
        (actual[1].year, actual[1].month, actual[1].day) < (actual[0].year + expected, actual[0].month, actual[0].day)),
}


def _actual(fact: str, op: str, facts: dict):
    """The value a test compares, or None when a fact it needs is unknown."""
    value = facts.get(fact)
    if op != "within_years" or value is None:
        return value
    as_of = facts.get(AS_OF_FACT)
    return None if as_of is None else (value, as_of)


def _unknown_of(fact: str, op: str, facts: dict) -> str:
    """Which fact an undecided test is waiting for."""
    return AS_OF_FACT if op == "within_years" and fact in facts else fact


@dataclass(frozen=True)
class FactTest:
    fact: str
    op: str
    value: Any
    ground: str | None = None
    file: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    def holds(self, facts: dict) -> bool | None:
        """True, False, or None when the fact is unknown."""
        actual = _actual(self.fact, self.op, facts)
        return None if actual is None else COMPARE[self.op](actual, self.value)


@dataclass(frozen=True)
class ConclusionRef:
    conclusion: str
    ground: str | None = None
    file: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)
    presumed: bool = False       # holds unless the conclusion is denied (see the module docstring)

    def value(self, status: dict) -> bool | None:
        found = status.get(self.conclusion)
        return found is not False if self.presumed else found


@dataclass(frozen=True)
class All:
    items: tuple
    file: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Any_:
    items: tuple
    file: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)


Condition = Union[FactTest, ConclusionRef, All, Any_]
Literal = Union[FactTest, ConclusionRef]


def walk(condition: Condition) -> Iterator[Condition]:
    """Every node of a condition, depth first."""
    yield condition
    if isinstance(condition, (All, Any_)):
        for item in condition.items:
            yield from walk(item)


def facts_used(condition: Condition) -> list[str]:
    seen: dict[str, None] = {}
    for node in walk(condition):
        if isinstance(node, FactTest):
            seen.setdefault(node.fact)
            if node.op == "within_years":
                seen.setdefault(AS_OF_FACT)
    return list(seen)


def conclusions_used(condition: Condition) -> list[str]:
    seen: dict[str, None] = {}
    for node in walk(condition):
        if isinstance(node, ConclusionRef):
            seen.setdefault(node.conclusion)
    return list(seen)


def to_dnf(condition: Condition) -> list[tuple[Literal, ...]]:
    """The condition as a disjunction of conjunctions of literals, in order; no branch repeats
    a literal, and identical branches are merged (branches with the same literals in another
    order may both appear; each is still a correct way for the condition to hold)."""
    if isinstance(condition, (FactTest, ConclusionRef)):
        return [(condition,)]
    if isinstance(condition, Any_):
        branches: list[tuple] = []
        for item in condition.items:
            for branch in to_dnf(item):
                if branch not in branches:
                    branches.append(branch)
        return branches
    product: list[tuple] = [()]
    for item in condition.items:
        product = [left + tuple(lit for lit in right if lit not in left)
                   for left in product for right in to_dnf(item)]
    return product


@dataclass
class Outcome:
    """The three-valued value of a condition node and of its parts, for explanations."""

    node: Condition
    value: bool | None
    children: list["Outcome"] = field(default_factory=list)
    actual: Any = None  # a fact test's actual value (None when unknown)


def evaluate(condition: Condition, facts: dict, status: dict[str, bool | None]) -> Outcome:
    """Evaluate in Kleene's three-valued logic.

    ``status`` maps conclusion ids to True (derived), False (cannot hold) or None (undecided).
    """
    if isinstance(condition, FactTest):
        return Outcome(condition, condition.holds(facts), actual=facts.get(condition.fact))
    if isinstance(condition, ConclusionRef):
        return Outcome(condition, condition.value(status))
    children = [evaluate(item, facts, status) for item in condition.items]
    values = [child.value for child in children]
    if isinstance(condition, All):
        value = False if False in values else (None if None in values else True)
    else:
        value = True if True in values else (None if None in values else False)
    return Outcome(condition, value, children)


def unknown_facts(outcome: Outcome) -> list[str]:
    """Facts left unknown in the parts of an undecided condition that kept it undecided."""
    if outcome.value is not None:
        return []
    if isinstance(outcome.node, FactTest):
        return [outcome.node.fact if outcome.actual is None else AS_OF_FACT]
    found: list[str] = []
    for child in outcome.children:
        for name in unknown_facts(child):
            if name not in found:
                found.append(name)
    return found


def undecided_conclusions(outcome: Outcome) -> list[str]:
    """Conclusions left undecided in the parts that kept ``outcome`` undecided."""
    if outcome.value is not None:
        return []
    if isinstance(outcome.node, ConclusionRef):
        return [outcome.node.conclusion]
    found: list[str] = []
    for child in outcome.children:
        for name in undecided_conclusions(child):
            if name not in found:
                found.append(name)
    return found


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
    integers, so that ``0 <= field < years * 10000`` is exactly :data:`COMPARE`'s meaning."""
    return f"{test.fact}__to_as_of" if test.op == "within_years" else test.fact


def to_as_of(value: _dt.date, as_of: _dt.date) -> int:
    """The ``__to_as_of`` engine field (see :func:`engine_field`)."""
    return engine_value(as_of) - engine_value(value)


def compile_check(condition: Condition):
    """The condition as a fast function ``(facts, status) -> True | False | None``.

    The same Kleene logic as :func:`evaluate`, without building an :class:`Outcome` tree: this
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
    if op == "within_years":
        def check_period(facts, status):
            actual = _actual(name, op, facts)
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
                found.append(_unknown_of(name, condition.op, facts))
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
    same Kleene logic as :func:`evaluate` and :func:`compile_check` — a test compares them —
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
            if lit.op == "within_years":
                constants[k] = lit.value
                when = f"COMPARE['within_years'](({a}, f_as_of), {k})"
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
