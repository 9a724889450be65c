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
