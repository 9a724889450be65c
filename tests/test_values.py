"""Money, dates and formatting (engine/loading/values.py)."""

import datetime as dt
from fractions import Fraction

import pytest

from engine.loading.values import (ValueProblem, format_date, format_money, parse_date, parse_money,
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
    ("500万美元", "not in yuan"), ("USD 5", "not in yuan"), ("一点五亿", "decimal in Chinese numerals"), ("一亿亿亿", "Chinese numerals that can be read"),
    ("9" * 5000, "more than 10\\^15"),
    (-1, "negative"), (1e30, "more than 10"), (float("nan"), "finite"), (float("inf"), "finite"),
    (True, "not an amount"), ("0.5", "whole number"), ("abc", "not an amount"),
    ("1.5万5千", "ambiguous"), ("5千1万", "ambiguous"), ("", "not an amount"), ([1], "not an amount"),
    ("-1e1000000", "more than 10\\^15"), ("1e1000000", "more than 10\\^15"), ("1e16", "more than 10\\^15"),
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


# Issue 10, item 5: amounts written the Chinese way, group by group. The rule (parse_money's
# docstring): after the first group, a group with units is exact; a group without units is
# yuan only when it fills the whole place below the unit before it (4 digits after 万, 8 after
# 亿); anything shorter is ambiguous.
@pytest.mark.parametrize("text, yuan", [
    ("7亿8332万6434元", 783_326_434), ("3亿7825万4746元", 378_254_746),
    ("1亿2000万", 120_000_000), ("3亿0500万", 305_000_000), ("1亿500万", 105_000_000),
    ("1万0005", 10_005), ("1万0000元", 10_000), ("12万3456元", 123_456),
    ("1亿0000万0005", 100_000_005), ("1亿00000005", 100_000_005), ("1亿2000万0500元", 120_000_500),
    ("7亿8,332万6,434元", 783_326_434), ("1亿5千万", 150_000_000), ("1万5千", 15_000),
])
def test_exact_amounts_written_group_by_group_are_read(text, yuan):
    value = parse_money(text)
    assert value == yuan and type(value) is int


@pytest.mark.parametrize("text, words", [
    ("1万5", "is ambiguous \\(is '5' yuan or a fraction of the unit before it\\?\\)"),
    ("1亿5", "is ambiguous \\(is '5' yuan"), ("1万500", "is ambiguous \\(is '500' yuan"),
    ("1亿5000", "is ambiguous \\(is '5000' yuan"), ("1万12345", "is ambiguous \\(is '12345' yuan"),
    ("1亿0005", "is ambiguous \\(is '0005' yuan"), ("1亿5千万3", "is ambiguous \\(is '3' yuan"),
    ("1万0005.5", "is ambiguous"), ("1.5万0005", "is ambiguous"),
    ("1亿12345万", "does not fit under the unit before it"), ("1万15千", "does not fit under"),
])
def test_a_short_or_overfull_later_group_stays_ambiguous(text, words):
    with pytest.raises(ValueProblem, match=words):
        parse_money(text)


@pytest.mark.parametrize("text, yuan", [
    (-9990, -9990), ("-9990", -9990), ("-1.5万", -15_000), ("-9990元", -9990), ("−5万元", -50_000),
    (-2.0, -2), ("-0", 0), (7, 7),
])
def test_a_signed_fact_reads_negative_yuan(text, yuan):
    value = parse_money(text, signed=True)
    assert value == yuan and type(value) is int


@pytest.mark.parametrize("text", [-9990, "-9990", "-1.5万", "-9990元", -2.0])
def test_money_that_cannot_be_negative_refuses_a_minus_sign(text):
    with pytest.raises(ValueProblem, match="is negative; an amount of money is 0 or more"):
        parse_money(text)


def test_a_signed_amount_is_still_bounded():
    with pytest.raises(ValueProblem, match="more than 10\\^15"):
        parse_money("-2e15", signed=True)


@pytest.mark.parametrize("yuan, zh, en", [
    (-9990, "-9,990元", "CNY -9,990"), (-15_000, "-1.5万元", "CNY -15,000"),
    (-99_900_000, "-9,990万元", "CNY -99.9 million"),
])
def test_a_negative_amount_is_written_with_its_sign_first(yuan, zh, en):
    assert (format_money(yuan), format_money(yuan, "en")) == (zh, en)


# Issue 10, item 8: README "Profiles": money is a plain number or a Chinese amount ("1,000万",
# "￥500万" included); a Latin currency code is not one of the forms, so it is refused.
@pytest.mark.parametrize("text", ["RMB 100,000,000", "CNY 5000000", "100元RMB", "5000000 CNY", "rmb500万"])
def test_a_currency_code_is_refused_saying_what_to_write(text):
    with pytest.raises(ValueProblem, match="has a currency code; write the amount in yuan without it, "
                                           "e.g. 100000000, \"1亿元\" or \"￥500万\""):
        parse_money(text)


@pytest.mark.parametrize("text, yuan", [("100,000,000", 100_000_000), ("¥500万", 5_000_000),
                                        ("人民币500万元", 5_000_000)])
def test_documented_separators_and_yuan_signs_are_still_read(text, yuan):
    assert parse_money(text) == yuan


@pytest.mark.parametrize("value", [
    "2021-03-01T10:00:00", "2021-03-01 10:00", "2021-03-01T00:00:00",
    dt.datetime(2021, 3, 1, 10, 0), dt.datetime(2021, 3, 1),
])
def test_a_date_with_a_time_of_day_is_refused_saying_what_to_write(value):
    with pytest.raises(ValueProblem, match="has a time of day; write the date alone: 2021-03-01, 2021/3/1 or 2021年3月1日"):
        parse_date(value)


@pytest.mark.parametrize("text, words", [("1e1000000", "more than 10\\^9"), ("1e-1000000", "decimal places"),
                                         ("1000000001", "more than 10\\^9"), ("nan", "not a number")])
def test_absurd_quantities_are_refused_before_any_arithmetic(text, words):
    with pytest.raises(ValueProblem, match=words):
        parse_number(text)


@pytest.mark.parametrize("text, yuan", [
    ("一亿五千万元", 150_000_000), ("壹亿伍仟万元", 150_000_000), ("两千万", 20_000_000), ("五百万元人民币", 5_000_000),
    ("一亿零五百万", 105_000_000), ("1亿五千万", 150_000_000), ("贰拾万元", 200_000),
])
def test_amounts_in_chinese_numerals_are_read_as_finance_documents_write_them(text, yuan):
    assert parse_money(text) == yuan and type(parse_money(text)) is int


@pytest.mark.parametrize("text, day", [
    ("2022/11/1", dt.date(2022, 11, 1)), ("2022-11-1", dt.date(2022, 11, 1)), ("2022.11.1", dt.date(2022, 11, 1)),
    ("2022/11/01", dt.date(2022, 11, 1)), (" 2023/5/8 ", dt.date(2023, 5, 8)), ("1949-01-01", dt.date(1949, 1, 1)),
    ("2099年12月31日", dt.date(2099, 12, 31)),
])
def test_dates_are_read_year_first_with_dashes_slashes_or_dots(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("value, words", [
    ("0358-02-02", "year 358 is outside 1949–2099"), ("2100-01-01", "outside 1949–2099"),
    ("1948/12/31", "outside 1949–2099"), (dt.date(31345, 1, 1) if False else dt.date(9999, 1, 1), "outside 1949–2099"),
    ("2023/13/45", "not a real date"), ("2022/11-1", "not a date"), ("22/11/1", "not a date"),
    ("2021/03/01 10:00", "time of day"),
])
def test_an_implausible_or_mixed_date_is_refused_with_a_reason(value, words):
    with pytest.raises(ValueProblem, match=words):
        parse_date(value)


def test_no_message_echoes_more_than_an_excerpt_of_a_value():
    for reader, value in ((parse_money, "9" * 5000), (parse_money, "x" * 5000), (parse_date, "2" * 5000),
                          (parse_number, "9" * 5000)):
        with pytest.raises(ValueProblem) as caught:
            reader(value)
        assert len(str(caught.value)) < 200 and "5,000 characters" in str(caught.value)
