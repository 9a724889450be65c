"""Money, dates and formatting (engine/values.py)."""

import datetime as dt
from fractions import Fraction

import pytest

from engine.values import (ValueProblem, format_date, format_money, parse_date, parse_money,
                           parse_number, parse_percent)


@pytest.mark.parametrize("text, yuan", [
    (100000000, 100_000_000), ("1亿", 100_000_000), ("1亿元", 100_000_000), ("500万", 5_000_000),
    ("500万元", 5_000_000), ("1.2亿元", 120_000_000), ("3000", 3000), ("1 亿", 100_000_000),
    ("1,000万", 10_000_000), ("￥500万", 5_000_000), ("1亿5千万", 150_000_000),
    ("1亿元人民币", 100_000_000), (5e7, 50_000_000), ("0元", 0), ("2000万元", 20_000_000),
])
def test_money_written_as_analysts_write_it_is_exact_integer_yuan(text, yuan):
    value = parse_money(text)
    assert value == yuan and type(value) is int


@pytest.mark.parametrize("text, words", [
    ("500万美元", "not in yuan"), ("USD 5", "not in yuan"), ("五百万", "Chinese numerals"),
    (-1, "negative"), (1e30, "more than 10"), (float("nan"), "finite"), (float("inf"), "finite"),
    (True, "not an amount"), ("0.5", "whole number"), ("abc", "not an amount"),
    ("1.5万5千", "ambiguous"), ("5千1万", "ambiguous"), ("", "not an amount"), ([1], "not an amount"),
])
def test_money_that_is_not_unambiguous_yuan_is_refused_with_a_reason(text, words):
    with pytest.raises(ValueProblem, match=words):
        parse_money(text)


def test_decimal_amounts_never_go_through_floats():
    # 1.1亿 as a float would be 110000000.00000001; as a decimal it is exact.
    assert parse_money("1.1亿元") == 110_000_000
    assert parse_money("0.07亿") == 7_000_000


@pytest.mark.parametrize("text, day", [
    ("2021-03-01", dt.date(2021, 3, 1)), ("2021年3月1日", dt.date(2021, 3, 1)),
    (dt.date(2024, 2, 29), dt.date(2024, 2, 29)), ("2024年2月29日", dt.date(2024, 2, 29)),
])
def test_dates_are_read_in_iso_and_chinese_forms(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["2021-02-30", "2021年13月1日", "2023-02-29", "March 1", 20210301])
def test_impossible_or_foreign_dates_are_refused(text):
    with pytest.raises(ValueProblem):
        parse_date(text)


def test_numbers_and_percentages_are_exact_fractions():
    assert parse_number("1234.5") == Fraction(2469, 2)
    assert parse_number(4000) == 4000
    assert parse_percent("10%") == Fraction(1, 10)
    assert parse_percent("30%") == Fraction(3, 10)
    with pytest.raises(ValueProblem):
        parse_percent("0.1")
    with pytest.raises(ValueProblem):
        parse_number(-3)


@pytest.mark.parametrize("yuan, zh, en", [
    (200_000_000, "2亿元", "CNY 200 million"), (5_000_000, "500万元", "CNY 5 million"),
    (1_500_000, "150万元", "CNY 1.5 million"), (20_000_000, "2,000万元", "CNY 20 million"),
    (1500, "1,500元", "CNY 1,500"), (123_456_789, "123,456,789元", "CNY 123,456,789"),
    (120_000_000, "1.2亿元", "CNY 120 million"),
])
def test_money_is_written_as_analysts_write_it(yuan, zh, en):
    assert format_money(yuan, "zh") == zh
    assert format_money(yuan, "en") == en


def test_dates_are_written_in_chinese_and_iso():
    assert format_date(dt.date(2021, 3, 1), "zh") == "2021年3月1日"
    assert format_date(dt.date(2021, 3, 1), "en") == "2021-03-01"
