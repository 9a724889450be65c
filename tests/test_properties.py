"""Properties over generated profiles (hypothesis), and differential testing against an
independent reference evaluator of the same YAML rules (tests/reference.py).

Budgets are fixed (derandomized, no example database) so CI runs the same examples every
time; on failure hypothesis prints the failing profile and how to reproduce it.
"""

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.errors import EvaluationError, PolicyKBError

from conftest import KB_DIR, screened_view
from engine.inferring.evaluation import outline, screen
from engine.loading.profile import parse_profile
from engine.loading.values import MonthDate
from reference import Reference, engine_view

KB = engine.load(KB_DIR)
REFERENCE = Reference(KB_DIR)
def budget(examples: int):
    """A fixed budget: the same examples every run, no database, reproduction printed on failure."""
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))

MONEY_POINTS = [0, 1, 9, 10, 99_999_999, 100_000_000, 100_000_001, 5_000_000, 20_000_000, 30_000_000, 50_000_000,
                66_666_666, 100_000_000_000]


def _fact_value(fact):
    kind = fact.type
    if kind == "bool":
        return st.booleans()
    if kind == "enum":
        return st.sampled_from(list(fact.values))
    if kind == "money":
        return st.one_of(st.sampled_from(MONEY_POINTS), st.integers(0, 10**9))
    if kind == "number":
        return st.one_of(st.integers(0, 20_000), st.integers(0, 20_000).map(lambda n: f"{n}.5"))
    if kind == "date":
        return st.dates(dt.date(2020, 6, 1), dt.date(2024, 12, 31)).map(dt.date.isoformat)
    if kind == "list":
        return st.lists(st.sampled_from(list(fact.values)), unique=True, max_size=4)
    if kind == "records":
        return st.lists(st.fixed_dictionaries({
            "benefit": st.sampled_from(list(KB.benefits)), "policy": st.sampled_from(["甲政策", "乙政策"]),
            "amount": st.sampled_from(MONEY_POINTS[:10])}), max_size=2)
    return st.text(max_size=8)


def _profiles():
    """Valid profiles: each fact present (with a typed value) or unknown."""
    entries = {f.id: _fact_value(f) for f in KB.facts.values()}

    @st.composite
    def build(draw):
        keep = draw(st.lists(st.sampled_from(list(entries)), unique=True, min_size=5))
        profile = {name: draw(entries[name]) for name in keep}
        # Most enterprises in the window, and mostly recognized: otherwise few rules fire.
        if draw(st.integers(0, 9)) < 8:
            profile["application_date"] = draw(st.dates(dt.date(2021, 3, 1), dt.date(2024, 2, 29))).isoformat()
        return profile
    return build()


@budget(5000)
@given(_profiles())
def test_the_engine_agrees_with_the_reference_evaluator(profile):
    durable = engine.evaluate(profile, kb=KB)
    assert engine_view(durable) == REFERENCE.evaluate(profile)
    # Screening answers from the compiled rules alone: the very same result.
    assert engine.evaluate(profile, kb=KB, engine="compiled") == durable
    # And a batch's CSV row, screened without the derivation record, holds the same values.
    assert screen(parse_profile(profile, KB), KB) == screened_view(durable)
    # A replay's first look: the same, with the missing facts.
    facts = parse_profile(profile, KB)
    if not any(isinstance(value, MonthDate) for value in facts.values()):
        assert outline(facts, KB) == dict(screened_view(durable), missing=durable["missing"])


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=12), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@budget(1500)
@given(st.dictionaries(st.one_of(st.sampled_from(list(KB.facts)), st.text(max_size=12)), JUNK, max_size=8))
def test_no_exception_escapes_but_the_documented_input_error(profile):
    try:
        result = engine.evaluate(profile, kb=KB)
    except EvaluationError:
        raise
    except PolicyKBError as exc:
        assert str(exc)
    else:
        assert set(result) >= {"conclusions", "benefits", "superseded", "missing", "status"}


@budget(300)
@given(_profiles(), _profiles())
def test_the_result_does_not_depend_on_fact_order_or_on_what_was_evaluated_before(first, second):
    alone = json.dumps(engine.evaluate(first, kb=KB), ensure_ascii=False)
    engine.evaluate(second, kb=KB)
    reordered = dict(reversed(list(first.items())))
    assert json.dumps(engine.evaluate(reordered, kb=KB), ensure_ascii=False) == alone


@budget(500)
@given(_profiles(), st.integers(1, 10**9))
def test_raising_paid_in_capital_never_removes_the_settlement_subsidy(profile, raise_by):
    profile.setdefault("paid_in_capital", 100_000_000)
    before = engine.evaluate(profile, kb=KB)["status"]["settlement_subsidy"]
    profile["paid_in_capital"] += raise_by
    after = engine.evaluate(profile, kb=KB)["status"]["settlement_subsidy"]
    assert not (before == "granted" and after != "granted")


@budget(500)
@given(_profiles(), st.data())
def test_learning_an_unknown_fact_never_makes_a_granted_benefit_undetermined(profile, data):
    unknown = [f for f in KB.facts.values() if f.id not in profile]
    if not unknown:
        return
    fact = data.draw(st.sampled_from(unknown))
    before = engine.evaluate(profile, kb=KB)["status"]
    profile[fact.id] = data.draw(_fact_value(fact))
    after = engine.evaluate(profile, kb=KB)["status"]
    for benefit in KB.benefits:
        if before[benefit] == "granted":
            assert after[benefit] != "undetermined", (benefit, fact.id)


def _ceiling(rule):
    spec = rule.amount
    if spec.basis == "range":
        return spec.max
    return min((cap["max"] for cap in spec.caps if "max" in cap), default=None)


@budget(1000)
@given(_profiles())
def test_amounts_are_integers_within_their_caps(profile):
    for benefit in engine.evaluate(profile, kb=KB)["benefits"]:
        amount = benefit["amount"]
        if amount is None:
            continue
        for key in ("min", "max"):
            assert amount[key] is None or (type(amount[key]) is int and amount[key] >= 0)
        ceiling = _ceiling(KB.rules[benefit["rule"]])
        if ceiling is not None:
            assert amount["max"] <= ceiling
        if amount["min"] is not None:
            assert amount["min"] <= amount["max"]


@budget(150)
@given(st.dictionaries(st.sampled_from(list(KB.facts)), JUNK, max_size=6))
def test_the_command_exits_0_or_2_and_never_shows_a_traceback(tmp_path_factory, profile):
    from engine.cli import main
    path = tmp_path_factory.mktemp("p") / "p.json"
    path.write_text(json.dumps(profile, ensure_ascii=False, default=str), encoding="utf-8")
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["eval", str(path), "--kb", str(KB_DIR)])
    assert code in (0, 2) and "Traceback" not in err.getvalue()
