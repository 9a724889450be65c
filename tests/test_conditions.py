"""The condition language: three-valued evaluation and normal form (engine/model/conditions.py), and
fact values as the engine compares them (engine/compiling/checks.py)."""

import datetime as dt

import pytest

from engine.compiling.checks import engine_value
from engine.model.conditions import All, Any_, ConclusionRef, FactTest, evaluate, to_dnf, unknown_facts

A = FactTest("a", "is", True)
B = FactTest("b", "at_least", 10)
C = ConclusionRef("c")


def test_a_test_on_an_unknown_fact_is_unknown_not_false():
    assert A.holds({}) is None
    assert A.holds({"a": False}) is False
    assert B.holds({"b": 10}) is True and B.holds({"b": 9}) is False


def test_all_and_any_follow_kleene_logic():
    both = All((A, B))
    either = Any_((A, B))
    assert evaluate(both, {"a": False}, {}).value is False      # false beats unknown
    assert evaluate(both, {"a": True}, {}).value is None         # b unknown
    assert evaluate(either, {"a": True}, {}).value is True       # true beats unknown
    assert evaluate(either, {"a": False}, {}).value is None
    assert evaluate(either, {"a": False, "b": 1}, {}).value is False


def test_only_the_facts_that_keep_a_condition_undecided_are_missing():
    outcome = evaluate(All((A, Any_((B, FactTest("d", "is", True))))), {"a": True}, {})
    assert unknown_facts(outcome) == ["b", "d"]
    decided = evaluate(All((A, B)), {"a": False}, {})
    assert unknown_facts(decided) == []


def test_a_conclusion_reference_takes_the_conclusions_status():
    assert evaluate(C, {}, {"c": True}).value is True
    assert evaluate(C, {}, {"c": None}).value is None
    assert evaluate(C, {}, {"c": False}).value is False


def test_dnf_multiplies_out_alternatives_in_order():
    d = FactTest("d", "is", True)
    branches = to_dnf(All((C, Any_((A, All((B, d)))))))
    assert branches == [(C, A), (C, B, d)]


def test_every_operator_compares_as_its_name_says():
    facts = {"n": 5, "e": "x", "l": ("p", "q"), "d": dt.date(2022, 1, 1)}
    cases = [("n", "more_than", 4, True), ("n", "more_than", 5, False), ("n", "at_most", 5, True),
             ("n", "less_than", 5, False), ("e", "in", ("x", "y"), True), ("e", "not_in", ("x",), False),
             ("l", "includes", "q", True), ("l", "includes_any", ("z", "p"), True),
             ("l", "includes_any", ("z",), False),
             ("d", "between", (dt.date(2021, 3, 1), dt.date(2024, 2, 29)), True)]
    for fact, op, value, expected in cases:
        assert FactTest(fact, op, value).holds(facts) is expected, (fact, op, value)


def test_engine_values_order_dates_as_integers():
    assert engine_value(dt.date(2024, 2, 29)) == 20240229
    assert engine_value(dt.date(2024, 2, 29)) < engine_value(dt.date(2024, 3, 1))


@pytest.mark.parametrize("start, day, holds", [
    (dt.date(2020, 1, 3), dt.date(2023, 1, 3), True),     # 民法典 第二百零二条: the corresponding day is the last
    (dt.date(2020, 1, 3), dt.date(2023, 1, 4), False),
    (dt.date(2020, 1, 3), dt.date(2020, 1, 3), True),     # the day it starts from
    (dt.date(2020, 1, 3), dt.date(2020, 1, 2), False),
    (dt.date(2024, 2, 29), dt.date(2027, 2, 28), True),   # no 29 February: the month's last day
    (dt.date(2024, 2, 29), dt.date(2027, 3, 1), False),
])
def test_within_years_counts_the_period_as_the_civil_code_does(start, day, holds):
    test = FactTest("registration_date", "within_years", 3)
    assert test.holds({"registration_date": start, "application_date": day}) is holds
