"""Amounts in integer yuan (engine/inferring/amounts.py)."""

from fractions import Fraction

import pytest

from engine.inferring.amounts import compute


def _amount(kb, rule_id, **facts):
    return compute(kb.rules[rule_id], facts)


@pytest.mark.parametrize("investment, expected", [
    (50_000_000, 5_000_000), (100_000_000, 10_000_000), (200_000_000, 10_000_000), (12_345, 1_234),
])
def test_a_fixed_share_gives_min_equal_to_max_capped(kb, investment, expected):
    result = _amount(kb, "cultivation_subsidy.resident_investor", cultivation_investment=investment)
    assert (result.min, result.max) == (expected, expected)
    assert type(result.max) is int


@pytest.mark.parametrize("investment, area, expected", [
    (10_000_000, 10_000, 3_000_000),       # 30% binds
    (10_000_000, 1_000, 1_500_000),        # 1500元/m² binds
    (100_000_000, 100_000, 6_000_000),     # 600万 binds
    (10_000_000, Fraction(2001, 2), 1_500_750),  # 1000.5 m² × 1500 = 1,500,750
    (3, 1, 0),                             # 30% of 3 yuan is 0.9: a ceiling never rounds up
])
def test_an_up_to_share_with_a_per_square_metre_cap_takes_the_least_cap(kb, investment, area, expected):
    result = _amount(kb, "building_renovation_support.renovation",
                     renovation_investment=investment, renovated_area_m2=area)
    assert result.min is None and result.max == expected and type(result.max) is int


def test_the_operator_reward_is_at_most_ten_percent_and_300_wan(kb):
    assert _amount(kb, "building_operator_reward.contribution_increment",
                   introduced_contribution_increment=18_000_000).max == 1_800_000
    assert _amount(kb, "building_operator_reward.contribution_increment",
                   introduced_contribution_increment=50_000_000).max == 3_000_000


def test_ranges_and_unfixed_amounts_are_as_the_text_says(kb):
    settlement = _amount(kb, "settlement_subsidy.capital_threshold")
    assert (settlement.min, settlement.max) == (5_000_000, 20_000_000)
    listing = _amount(kb, "listing_grant.first_listing")
    assert (listing.min, listing.max) == (1_500_000, 6_000_000)
    rent = _amount(kb, "rent_subsidy.rented_office")
    assert rent.as_json() is None and rent.basis == "not_fixed"
    assert _amount(kb, "talent_services.qualified_talent").basis == "services"


def test_the_arithmetic_is_recorded_step_by_step(kb):
    steps = _amount(kb, "cultivation_subsidy.resident_investor", cultivation_investment=50_000_000).steps
    assert [s["step"] for s in steps] == ["share", "cap", "result"]
    assert steps[0]["value"] == 5_000_000 and steps[-1]["binding"] == "share"


# --------------------------------------------------------------------------- per year, cumulative caps
# tests/fixtures/yearly: an imaginary document with a yearly project support (20% of the annual
# investment, at most 300万 a year, for three years from the project's start, 累计不超过1000万)
# and a yearly rent subsidy with no limit on the years.

import datetime as dt
import re
import shutil

import engine
from engine.errors import KnowledgeBaseError

from conftest import REPO

YEARLY = REPO / "tests" / "fixtures" / "yearly"
PROJECT = {"application_date": dt.date(2024, 6, 1), "annual_project_investment": 8_000_000,
           "project_start_date": dt.date(2023, 3, 1), "project_support_received": 0, "rents_office": True}


def _granted(result, benefit):
    return next(b for b in result["benefits"] if b["id"] == benefit)


@pytest.fixture(scope="module")
def yearly():
    return engine.load(YEARLY)


@pytest.mark.parametrize("received, expected", [
    (0, 1_600_000),              # the year's share, under the yearly cap and the cumulative cap
    (9_000_000, 1_000_000),      # only what is left of the 1000万 cap: not 160万
    (8_500_000, 1_500_000),
    (9_999_999, 1),
])
def test_a_cumulative_cap_grants_the_remainder_never_more(yearly, received, expected):
    result = engine.evaluate(dict(PROJECT, project_support_received=received), kb=yearly)
    granted = _granted(result, "project_support")
    assert granted["amount"] == {"min": expected, "max": expected, "currency": "CNY"}
    assert granted["cumulative"] == {"max": 10_000_000, "received": received, "remaining": 10_000_000 - received}


def test_an_enterprise_at_the_cumulative_cap_gets_nothing_more(yearly):
    result = engine.evaluate(dict(PROJECT, project_support_received=10_000_000), kb=yearly)
    assert result["status"]["project_support"] == "denied"


def test_the_yearly_cap_binds_before_the_cumulative_one(yearly):
    result = engine.evaluate(dict(PROJECT, annual_project_investment=50_000_000), kb=yearly)
    assert _granted(result, "project_support")["amount"]["max"] == 3_000_000


@pytest.mark.parametrize("as_of, year", [
    (dt.date(2023, 3, 1), 1), (dt.date(2024, 3, 1), 1),    # the first year ends on the anniversary
    (dt.date(2024, 3, 2), 2), (dt.date(2026, 2, 28), 3),
    (dt.date(2026, 3, 1), 3),                              # the last day of the three years (民法典 第二百零二条)
])
def test_a_yearly_amount_says_which_year_of_support_the_case_is_in(yearly, as_of, year):
    result = engine.evaluate(dict(PROJECT, application_date=as_of), kb=yearly)
    assert _granted(result, "project_support")["period"] == {"per": "year", "years": 3, "year": year}


def test_after_its_years_a_yearly_support_is_no_longer_granted(yearly):
    result = engine.evaluate(dict(PROJECT, application_date=dt.date(2026, 3, 2)), kb=yearly)
    assert result["status"]["project_support"] == "denied"


def test_a_yearly_amount_with_no_limit_says_per_year_only(yearly):
    granted = _granted(engine.evaluate(PROJECT, kb=yearly), "rent_subsidy")
    assert granted["period"] == {"per": "year", "years": None}
    assert granted["amount"] == {"min": None, "max": 1_000_000, "currency": "CNY"}


def test_the_amount_terms_read_in_every_output(yearly):
    from engine.cli import summary_text
    from engine.rendering.report import report_html
    assessment = engine.assess(dict(PROJECT, project_support_received=9_000_000), kb=yearly)
    text = summary_text(assessment, "zh")
    assert "100万元，每年（共3年，本案为第2年）；累计上限1,000万元，已获900万元，尚余100万元" in text
    assert "per year (for 3 years; this case: year 2)" in summary_text(assessment, "en")
    lines = engine.explain(assessment.facts, "project_support", kb=yearly, lang="en")["amount"]["arithmetic"]
    assert any("already received CNY 9 million = CNY 1 million left" in line for line in lines)
    assert "尚余100万元" in report_html(assessment, "zh")


def _copy_with(tmp_path, old, new):
    kb = tmp_path / "kb"
    shutil.copytree(YEARLY, kb)
    path = kb / "rules" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return kb


@pytest.mark.parametrize("old, new, message", [
    ("per_year: {years: 3, from: project_start_date}", "per_year: {from: project_start_date}", "give 'years' too"),
    ("per_year: {years: 3, from: project_start_date}", "per_year: {years: 3, from: annual_project_investment}",
     "is not a date fact"),
    ("per_year: {years: 3, from: project_start_date}", "per_year: {years: 3, form: project_start_date}", "unknown key 'form'"),
    ("per_year: {years: 3, from: project_start_date}", "per_year: {years: 4, from: project_start_date}",
     "does not test {fact: project_start_date, within_years: 4}"),
    ("cumulative: {max: 1000万元, received: project_support_received}",
     "cumulative: {max: 1000万元, received: rents_office}", "is not a money fact"),
    ("cumulative: {max: 1000万元, received: project_support_received}", "cumulative: {max: 1000万}", "has no 'received'"),
    ("        - {fact: project_support_received, less_than: 1000万元}\n", "",
     "computed from 'project_support_received', but a way the rule can fire does not test it"),
])
def test_a_yearly_or_cumulative_amount_written_wrong_is_refused_with_its_place(tmp_path, old, new, message):
    with pytest.raises(KnowledgeBaseError) as caught:
        engine.load(_copy_with(tmp_path, old, new))
    assert message in str(caught.value) and re.search(r"rules\.yaml:\d+", str(caught.value))
