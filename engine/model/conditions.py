"""The condition language of rules: what a condition is, what it means, and its normal form.

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
``all``/``any`` follow Kleene's three-valued logic (:func:`evaluate`, the reference meaning that
explanations walk). :func:`to_dnf` gives the disjunctive normal form the compiler turns into
inference-engine rules; :mod:`engine.compiling.checks` turns conditions into fast functions.
The loader (:mod:`engine.loading.rules`) reads conditions from YAML into these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.model.periods import last_day
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
    "not_after_case_date": ("date",),
}

#: The operators that compare a date fact with the case's date (``application_date``, or
#: ``--as-of``) rather than with a value the rule writes.
CASE_DATE_OPS = ("within_years", "not_after_case_date")

#: The fact that dates a case (``--as-of`` overrides it); ``within_years`` measures from it.
AS_OF_FACT = "application_date"

#: How each operator reads in explanations.
OPERATOR_TEXT = {
    "is": ("为", "is"), "in": ("属于", "is one of"), "not_in": ("不属于", "is none of"),
    "at_least": ("不低于", "is at least"), "more_than": ("高于", "is more than"),
    "at_most": ("不高于", "is at most"), "less_than": ("低于", "is less than"),
    "between": ("介于", "is between"), "includes": ("包含", "includes"),
    "includes_any": ("包含其一", "includes one of"),
    "within_years": ("至申请日期在（年）之内", "is within this many years before the application date:"),
    "not_after_case_date": ("不晚于申请日期", "is on or before the application date"),
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
    # actual is (the date tested, the case's date): on or after it, and on or before the last day
    # of the period as the Civil Code counts it (第二百零一条、第二百零二条): the corresponding day
    # ``expected`` years later, a 29 February start ending with 28 February (engine.model.periods).
    "within_years": lambda actual, expected: actual[0] <= actual[1] <= last_day(actual[0], expected),
    # The date has come by the case's date (a listing after the application cannot be claimed yet).
    "not_after_case_date": lambda actual, expected: (actual[0] <= actual[1]) is expected,
}


def compared_value(fact: str, op: str, facts: dict):
    """The value a test compares, or None when a fact it needs is unknown."""
    value = facts.get(fact)
    if op not in CASE_DATE_OPS or value is None:
        return value
    as_of = facts.get(AS_OF_FACT)
    return None if as_of is None else (value, as_of)


def awaited_fact(fact: str, op: str, facts: dict) -> str:
    """Which fact an undecided test is waiting for."""
    return AS_OF_FACT if op in CASE_DATE_OPS and fact in facts else fact


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
        actual = compared_value(self.fact, self.op, facts)
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
            if node.op in CASE_DATE_OPS:
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
