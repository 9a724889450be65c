"""Money, percentages, areas and dates: parsing the ways analysts write them, and formatting.

Money is always an ``int`` number of yuan. Parsing goes through :class:`decimal.Decimal`, so
``"1.2亿元"`` is exactly 120,000,000 and no float ever touches an amount.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

#: Largest amount accepted anywhere: 10^15 yuan, far above any enterprise; larger is a typo.
MAX_YUAN = 10**15

_UNITS = {"亿": 10**8, "万": 10**4, "千": 10**3, "百": 10**2, "十": 10}
_FOREIGN = ("美元", "美金", "欧元", "港元", "港币", "日元", "英镑", "USD", "US$", "EUR", "HKD", "JPY", "GBP", "$", "€", "£")
_CN_DIGITS = set("零一二三四五六七八九两壹贰叁肆伍陆柒捌玖拾佰仟")
_SEGMENT = re.compile(r"(\d+(?:\.\d+)?)([亿万千百十]*)")


class ValueProblem(ValueError):
    """A value could not be read; the message says what would be valid."""


def parse_money(value) -> int:
    """Read an amount of money in yuan.

    Accepts an integer, an integral float, or a string such as ``"3000"``, ``"500万"``,
    ``"500万元"``, ``"1.2亿元"``, ``"1 亿"``, ``"1,000万"``, ``"￥500万"``, ``"1亿5千万"``.

    Raises
    ------
    ValueProblem
        For booleans, negative, non-integral, non-finite or absurd amounts, foreign currency,
        Chinese numerals and anything else that is not an unambiguous yuan amount.
    """
    if isinstance(value, bool):
        raise ValueProblem(f"{str(value).lower()} is not an amount of money; write e.g. 5000000 or \"500万元\"")
    if isinstance(value, int):
        return _checked(value, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem(f"{value!r} is not a finite amount of money")
        if value != int(value):
            raise ValueProblem(f"{value!r} is not a whole number of yuan")
        return _checked(int(value), value)
    if isinstance(value, Decimal):
        return _from_decimal(value, value)
    if not isinstance(value, str):
        raise ValueProblem(f"{value!r} is not an amount of money; write e.g. 5000000 or \"500万元\"")
    return _parse_money_text(value)


def _parse_money_text(original: str) -> int:
    text = original.strip().replace(" ", "").replace("\u3000", "")
    for foreign in _FOREIGN:
        if foreign in text:
            raise ValueProblem(f"'{original}' is not in yuan (CNY); convert it to 人民币 first")
    for prefix in ("人民币", "￥", "¥", "RMB", "CNY"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("元人民币", "人民币", "元", "RMB", "CNY"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    if any(ch in _CN_DIGITS for ch in text):
        raise ValueProblem(f"'{original}' uses Chinese numerals; write the digits, e.g. \"500万元\"")
    text = re.sub(r"(?<=\d),(?=\d{3}(\D|$))", "", text)
    if re.fullmatch(r"\d+(\.\d+)?[eE][+-]?\d+", text):  # 5e7, as a spreadsheet may write it
        return _from_decimal(Decimal(text), original)
    if not text:
        raise ValueProblem(f"'{original}' is not an amount of money")
    total = Decimal(0)
    position = 0
    last_scale = None
    for match in _SEGMENT.finditer(text):
        if match.start() != position:
            break
        number, units = match.groups()
        scale = 1
        for unit in units:
            scale *= _UNITS[unit]
        if last_scale is not None and scale == 1:
            raise ValueProblem(f"'{original}' is ambiguous (is '{number}' yuan or a fraction of the unit "
                               "before it?); write e.g. \"1.5万元\" or \"15000\"")
        if last_scale is not None and scale >= last_scale:
            raise ValueProblem(f"'{original}' is ambiguous: its units do not decrease "
                               "(write e.g. \"1.5亿元\")")
        if last_scale is not None and ("." in number or "." in text[:position]):
            raise ValueProblem(f"'{original}' is ambiguous; write e.g. \"1.5亿元\"")
        total += Decimal(number) * scale
        last_scale = scale
        position = match.end()
    if position != len(text) or last_scale is None:
        raise ValueProblem(f"'{original}' is not an amount of money; write e.g. 5000000, "
                           "\"500万元\" or \"1.2亿元\"")
    return _from_decimal(total, original)


def _from_decimal(amount: Decimal, original) -> int:
    try:
        if not amount.is_finite():
            raise ValueProblem(f"'{original}' is not a finite amount of money")
        if amount != amount.to_integral_value():
            raise ValueProblem(f"'{original}' is not a whole number of yuan")
    except InvalidOperation:
        raise ValueProblem(f"'{original}' is not an amount of money") from None
    return _checked(int(amount), original)


def _checked(yuan: int, original) -> int:
    if yuan < 0:
        raise ValueProblem(f"'{original}' is negative; an amount of money is 0 or more")
    if yuan > MAX_YUAN:
        raise ValueProblem(f"'{original}' is more than 10^15 yuan, which no enterprise has")
    return yuan


#: Quantities (areas) are at most this large and have at most this many decimal places, so
#: that they reach the inference engine as exact integers (see engine.conditions.engine_value).
MAX_NUMBER = 10**9
NUMBER_DECIMALS = 6


def parse_number(value) -> Fraction:
    """Read a non-negative quantity such as an area, exactly (as a Fraction).

    Raises
    ------
    ValueProblem
        For negative or absurd quantities and more than six decimal places.
    """
    if isinstance(value, Fraction):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueProblem(f"{value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueProblem(f"{value!r} is not a finite number")
    try:
        number = Fraction(str(value).strip().replace(",", ""))
    except (ValueError, ZeroDivisionError):
        raise ValueProblem(f"'{value}' is not a number") from None
    if number < 0:
        raise ValueProblem(f"'{value}' is negative")
    if number > MAX_NUMBER:
        raise ValueProblem(f"'{value}' is more than 10^9, which no building has")
    if (number * 10**NUMBER_DECIMALS).denominator != 1:
        raise ValueProblem(f"'{value}' has more than {NUMBER_DECIMALS} decimal places")
    return number


def parse_percent(value) -> Fraction:
    """Read ``"10%"`` as Fraction(1, 10)."""
    text = str(value).strip()
    if not text.endswith("%"):
        raise ValueProblem(f"'{value}' is not a percentage; write e.g. \"10%\"")
    try:
        share = Fraction(text[:-1]) / 100
    except (ValueError, ZeroDivisionError):
        raise ValueProblem(f"'{value}' is not a percentage; write e.g. \"10%\"") from None
    if not 0 < share <= 1:
        raise ValueProblem(f"'{value}' is not a percentage between 0% and 100%")
    return share


_CN_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(value) -> _dt.date:
    """Read a date: a YAML date, ``"2021-03-01"`` or ``"2021年3月1日"``.

    Raises
    ------
    ValueProblem
        For impossible dates (``2021-02-30``) and anything that is not a date.
    """
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        match = _ISO_DATE.match(value) or _CN_DATE.match(value)
        if match:
            year, month, day = map(int, match.groups())
            try:
                return _dt.date(year, month, day)
            except ValueError as exc:
                raise ValueProblem(f"'{value}' is not a real date ({exc})") from None
    raise ValueProblem(f"{value!r} is not a date; write 2021-03-01 or 2021年3月1日")


def format_money(yuan: int | None, lang: str = "zh") -> str:
    """Write an amount as analysts do: ``2亿元``, ``500万元`` / ``CNY 200 million``."""
    if yuan is None:
        return "不定" if lang == "zh" else "not fixed"
    if lang == "en":
        if yuan >= 10**6 and yuan % 10**4 == 0:
            return f"CNY {_trim(Fraction(yuan, 10**6))} million"
        return f"CNY {yuan:,}"
    if yuan >= 10**8 and yuan % 10**6 == 0:
        return f"{_trim(Fraction(yuan, 10**8))}亿元"
    if yuan >= 10**4 and yuan % 10**2 == 0:
        return f"{_trim(Fraction(yuan, 10**4))}万元"
    return f"{yuan:,}元"


def _trim(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{int(value):,}"
    whole, rest = divmod(value.numerator, value.denominator)
    digits = ""
    for _ in range(4):
        rest *= 10
        digit, rest = divmod(rest, value.denominator)
        digits += str(digit)
        if not rest:
            break
    return f"{whole:,}.{digits.rstrip('0')}"


def format_date(day: _dt.date | None, lang: str = "zh") -> str:
    if day is None:
        return "未知" if lang == "zh" else "unknown"
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def format_percent(share: Fraction) -> str:
    return f"{_trim(share * 100)}%"
