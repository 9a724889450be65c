"""Money, percentages, areas and dates: parsing the ways analysts write them, and formatting.

Money is always an ``int`` number of yuan. Parsing goes through :class:`decimal.Decimal`, so
``"1.2亿元"`` is exactly 120,000,000 and no float ever touches an amount.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

#: Largest amount accepted anywhere: 10^15 yuan, far above any enterprise; larger is a typo.
MAX_YUAN = 10**15

_UNITS = {"亿": 10**8, "万": 10**4, "千": 10**3, "百": 10**2, "十": 10}
_FOREIGN = ("美元", "美金", "欧元", "港元", "港币", "日元", "英镑", "USD", "US$", "EUR", "HKD", "JPY", "GBP", "$", "€", "£")
_CN_DIGITS = set("零一二三四五六七八九两壹贰叁肆伍陆柒捌玖拾佰仟")
_SEGMENT = re.compile(r"(\d+(?:\.\d+)?)([亿万千百十]*)")


class ValueProblem(ValueError):
    """A value could not be read; the message says what would be valid, in English and (``zh``)
    in Chinese."""

    def __init__(self, message: str, zh: str | None = None):
        super().__init__(message)
        self.zh = zh


def parse_money(value, signed: bool = False) -> int:
    """Read an amount of money in yuan.

    Accepts an integer, an integral float, or a string such as ``"3000"``, ``"500万"``,
    ``"500万元"``, ``"1.2亿元"``, ``"1 亿"``, ``"1,000万"``, ``"￥500万"``, ``"1亿5千万"``,
    ``"1亿元人民币"``, ``"7亿8332万6434元"``.

    A string is groups of digits, each with its units (亿, 万, 千, 百, 十), read from the
    largest unit down. After the first group:

    - a group with units is always exact: ``1亿2000万``, ``3亿0500万``, ``1亿500万`` (500万);
      it must be smaller than one of the unit before it (``1亿12345万`` is refused);
    - a group without units is yuan only when it fills the whole place below the unit before
      it: four digits after 万 (``1万0005`` = 10,005; ``7亿8332万6434`` = 783,326,434), eight
      digits after 亿 (``1亿00000005``). A shorter group is ambiguous and refused, since
      ``1万5`` is said for 15,000 and ``1亿5`` for 150,000,000;
    - no group after the first may have a decimal point, nor follow one (``1.5万5千``).

    Commas between thousands and a leading ``￥``/``¥`` or ``人民币`` are read, as the README's
    "Profiles" documents; a Latin currency code (``RMB 100,000,000``) is not one of its forms
    and is refused, saying what to write.

    A leading minus sign (``-9990``, ``"-1.5万"``, ``"-9990元"``) is read only when ``signed``
    is true: for a fact that can fall below zero, such as an increment.

    Raises
    ------
    ValueProblem
        For booleans, negative amounts (unless ``signed``), non-integral, non-finite or absurd
        amounts, foreign currency, currency codes (``RMB``, ``CNY``), Chinese numerals and
        anything else that is not an unambiguous yuan amount.
    """
    if isinstance(value, bool):
        raise ValueProblem(f"{str(value).lower()} is not an amount of money; write e.g. 5000000 or \"500万元\"",
                           zh=f"{str(value).lower()} 不是金额；请写如 5000000 或“500万元”")
    if isinstance(value, int):
        return _checked(value, value, signed)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem(f"{written(value)} is not a finite amount of money", zh=f"{written(value)} 不是有限的金额")
        if value != int(value):
            raise ValueProblem(f"{written(value)} is not a whole number of yuan", zh=f"{written(value)} 不是整数元")
        return _checked(int(value), value, signed)
    if isinstance(value, Decimal):
        return _from_decimal(value, value, signed)
    if not isinstance(value, str):
        raise ValueProblem(f"{shown(repr(value))} is not an amount of money; write e.g. 5000000 or \"500万元\"",
                           zh=f"{shown(repr(value))} 不是金额；请写如 5000000 或“500万元”")
    if value.isascii() and value.isdigit():   # plain digits, as programs write amounts: read at once
        if len(value.lstrip("0")) > len(str(MAX_YUAN)):
            raise ValueProblem(f"'{shown(value)}' is more than 10^15 yuan, which no enterprise has",
                               zh=f"“{shown(value)}”超过 10^15 元，不可能是企业的金额")
        return _checked(int(value), value, signed)
    return _money_text(value, signed)


# Screening reads the same few amounts over and over (a column of "1亿元"): a parsed text is
# remembered. Only successes are kept, so a bad amount is refused with its message every time.
_money_text = functools.lru_cache(maxsize=4096)(lambda text, signed: _parse_money_text(text, signed))


#: Latin currency codes: a profile writes yuan as a number or a Chinese amount (README,
#: "Profiles"), so ``RMB 100,000,000`` is refused rather than guessed at.
_CODES = ("RMB", "CNY")
_MINUS = ("-", "－", "−")


def _parse_money_text(original: str, signed: bool = False) -> int:
    text = original.strip().replace(" ", "").replace("\u3000", "")
    for foreign in _FOREIGN:
        if foreign in text:
            raise ValueProblem(f"'{shown(original)}' is not in yuan (CNY); convert it to 人民币 first",
                               zh=f"“{shown(original)}”不是人民币金额，请先折算为人民币")
    if any(code in text.upper() for code in _CODES):
        raise ValueProblem(f"'{shown(original)}' has a currency code; write the amount in yuan without it, "
                           "e.g. 100000000, \"1亿元\" or \"￥500万\"",
                           zh=f"“{shown(original)}”带有货币代码；请直接写人民币金额，如 100000000、“1亿元”或“￥500万”")
    negative = text.startswith(_MINUS)
    if negative:
        text = text[1:]
    for prefix in ("人民币", "￥", "¥"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("元人民币", "人民币", "元"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    if any(ch in _CN_DIGITS for ch in text):
        amount = _chinese_numerals(text, original)
        return _from_decimal(amount.copy_negate() if negative else amount, original, signed)
    text = re.sub(r"(?<=\d),(?=\d{3}(\D|$))", "", text)
    if re.fullmatch(r"\d+(\.\d+)?[eE][+-]?\d+", text):  # 5e7, as a spreadsheet may write it
        amount = Decimal(text)
    else:
        amount = _groups(text, original)
    _within(amount, original, MAX_YUAN, " yuan, which no enterprise has")
    return _from_decimal(amount.copy_negate() if negative else amount, original, signed)


def _chinese_numerals(text: str, original: str) -> Decimal:
    """An amount in Chinese numerals, as finance documents write them (一亿五千万, 壹亿伍仟万,
    两千万, 1亿五千万), read by cn2an. A decimal (一点五亿) is refused: cn2an gives it as a float."""
    import cn2an   # only when an amount is written this way: it is slow to import
    if "点" in text:
        raise ValueProblem(f"'{shown(original)}' has a decimal in Chinese numerals; write it with digits, "
                           "e.g. \"1.5亿元\"", zh=f"“{shown(original)}”用中文数字写了小数；请用阿拉伯数字，如“1.5亿元”")
    try:
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        raise ValueProblem(f"'{shown(original)}' is not an amount in Chinese numerals that can be read; "
                           "write e.g. \"一亿五千万元\" or \"1.5亿元\"",
                           zh=f"“{shown(original)}”无法读作中文数字金额；请写如“一亿五千万元”或“1.5亿元”") from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueProblem(f"'{shown(original)}' is not a whole number of yuan; write it with digits",
                           zh=f"“{shown(original)}”不是整数元；请用阿拉伯数字填写")
    return Decimal(value)


def _within(amount: Decimal, original, limit: int, what: str) -> None:
    """Refuse an amount above ``limit`` before any arithmetic on it: ``1e1000000`` written in a
    cell would otherwise take minutes to turn into an integer, or overflow the decimal context."""
    if amount.is_finite() and amount != 0 and amount.adjusted() >= len(str(limit)):
        raise ValueProblem(f"'{shown(original)}' is more than 10^{len(str(limit)) - 1}{what}",
                           zh=f"“{shown(original)}”超过 10^{len(str(limit)) - 1}，不是合理的数值")


def _groups(text: str, original: str) -> Decimal:
    """The amount of ``text`` written as groups with units (the rules of :func:`parse_money`)."""
    total, position, last_scale = Decimal(0), 0, None
    for match in _SEGMENT.finditer(text):
        if match.start() != position:
            break
        number, units = match.groups()
        scale = math.prod(_UNITS[unit] for unit in units)
        if last_scale is not None:
            _check_later_group(original, number, scale, last_scale, "." in text[:position])
        total += Decimal(number) * scale
        last_scale, position = scale, match.end()
    if position != len(text) or last_scale is None:
        raise ValueProblem(f"'{shown(original)}' is not an amount of money; write e.g. 5000000, "
                           "\"500万元\" or \"1.2亿元\"", zh=f"“{shown(original)}”不是金额；请写如 5000000、“500万元”或“1.2亿元”")
    return total


def _check_later_group(original: str, number: str, scale: int, last_scale: int, after_decimal: bool) -> None:
    """Refuse a group after the first that could be read two ways (see :func:`parse_money`)."""
    full_place = {10**4: 4, 10**8: 8}.get(last_scale)
    if scale == 1 and not (number.isdigit() and len(number) == full_place):
        raise ValueProblem(f"'{shown(original)}' is ambiguous (is '{number}' yuan or a fraction of the unit "
                           "before it?); write e.g. \"1.5万元\" or \"15000\"",
                           zh=f"“{shown(original)}”有歧义（“{number}”是元，还是前一单位的零头？）；请写如“1.5万元”或“15000”")
    if scale >= last_scale:
        raise ValueProblem(f"'{shown(original)}' is ambiguous: its units do not decrease "
                           "(write e.g. \"1.5亿元\")", zh=f"“{shown(original)}”有歧义：单位没有依次变小（请写如“1.5亿元”）")
    if "." in number or after_decimal:
        raise ValueProblem(f"'{shown(original)}' is ambiguous; write e.g. \"1.5亿元\"", zh=f"“{shown(original)}”有歧义；请写如“1.5亿元”")
    if Decimal(number) * scale >= last_scale:
        raise ValueProblem(f"'{shown(original)}' is ambiguous: '{number}' does not fit under the unit before it "
                           "(a 万 group under 亿 has at most 4 digits); write e.g. \"1.2亿元\"",
                           zh=f"“{shown(original)}”有歧义：“{number}”超出前一单位（亿后面的万最多4位）；请写如“1.2亿元”")


def _from_decimal(amount: Decimal, original, signed: bool = False) -> int:
    try:
        if not amount.is_finite():
            raise ValueProblem(f"'{shown(original)}' is not a finite amount of money", zh=f"“{shown(original)}”不是有限的金额")
        if amount != amount.to_integral_value():
            raise ValueProblem(f"'{shown(original)}' is not a whole number of yuan", zh=f"“{shown(original)}”不是整数元")
    except InvalidOperation:
        raise ValueProblem(f"'{shown(original)}' is not an amount of money", zh=f"“{shown(original)}”不是金额") from None
    return _checked(int(amount), original, signed)


def _checked(yuan: int, original, signed: bool = False) -> int:
    if yuan < 0 and not signed:
        raise ValueProblem(f"'{shown(original)}' is negative; an amount of money is 0 or more",
                           zh=f"“{shown(original)}”是负数；金额应为0或以上")
    if abs(yuan) > MAX_YUAN:
        raise ValueProblem(f"'{shown(original)}' is more than 10^15 yuan, which no enterprise has",
                           zh=f"“{shown(original)}”超过 10^15 元，不可能是企业的金额")
    return yuan


#: Quantities (areas) are at most this large and have at most this many decimal places, so
#: that they reach the inference engine as exact integers (see engine.compiling.checks.engine_value).
MAX_NUMBER = 10**9
NUMBER_DECIMALS = 6


def parse_number(value) -> Fraction:
    """Read a non-negative quantity such as an area, exactly (as a Fraction).

    Raises
    ------
    ValueProblem
        For negative or absurd quantities and more than six decimal places.
    """
    if type(value) is int and 0 <= value <= MAX_NUMBER:   # a whole number, as programs write it: read at once
        return Fraction(value)
    if isinstance(value, Fraction):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueProblem(f"{written(value)} is not a number", zh=f"{written(value)} 不是数值")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueProblem(f"{written(value)} is not a finite number", zh=f"{written(value)} 不是有限的数值")
    text = str(value).strip().replace(",", "")
    try:
        exact = Decimal(text)
    except InvalidOperation:
        exact = None   # a fraction such as 3/2, which Fraction reads
    if exact is not None:
        _within(exact, value, MAX_NUMBER, ", which no building has")
        if exact.is_finite() and exact != 0 and exact.adjusted() < -NUMBER_DECIMALS - 1:
            raise ValueProblem(f"'{shown(value)}' has more than {NUMBER_DECIMALS} decimal places", zh=f"“{shown(value)}”的小数超过{NUMBER_DECIMALS}位")
    try:
        number = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueProblem(f"'{shown(value)}' is not a number", zh=f"“{shown(value)}”不是数值") from None
    if number < 0:
        raise ValueProblem(f"'{shown(value)}' is negative", zh=f"“{shown(value)}”是负数")
    if number > MAX_NUMBER:
        raise ValueProblem(f"'{shown(value)}' is more than 10^9, which no building has",
                           zh=f"“{shown(value)}”超过 10^9，不是合理的面积")
    if (number * 10**NUMBER_DECIMALS).denominator != 1:
        raise ValueProblem(f"'{shown(value)}' has more than {NUMBER_DECIMALS} decimal places", zh=f"“{shown(value)}”的小数超过{NUMBER_DECIMALS}位")
    return number


def parse_percent(value) -> Fraction:
    """Read ``"10%"`` as Fraction(1, 10)."""
    text = str(value).strip()
    if not text.endswith("%"):
        raise ValueProblem(f"'{shown(value)}' is not a percentage; write e.g. \"10%\"", zh=f"“{shown(value)}”不是百分比；请写如“10%”")
    try:
        share = Fraction(text[:-1]) / 100
    except (ValueError, ZeroDivisionError):
        raise ValueProblem(f"'{shown(value)}' is not a percentage; write e.g. \"10%\"", zh=f"“{shown(value)}”不是百分比；请写如“10%”") from None
    if not 0 < share <= 1:
        raise ValueProblem(f"'{shown(value)}' is not a percentage between 0% and 100%", zh=f"“{shown(value)}”不是0%到100%之间的百分比")
    return share


_CN_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
#: Year first, four digits, then month and day, separated by -, / or . (2022-11-1, 2022/11/1 as
#: Excel writes dates on a Chinese-locale machine, 2022.11.1).
_NUMERIC_DATE = re.compile(r"^\s*(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\s*$")
_DATE_AND_TIME = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[T\s]+\d{1,2}:\d{2}")
_DATE_FORMS = "write the date alone: 2021-03-01, 2021/3/1 or 2021年3月1日"
_DATE_FORMS_ZH = "请只写日期：2021-03-01、2021/3/1 或 2021年3月1日"
#: The years a case's dates can plausibly fall in: from the People's Republic's founding to the
#: end of the century. A date outside is a typo (year 358 from 2023/5/8 read the wrong way).
PLAUSIBLE_YEARS = (1949, 2099)


def parse_date(value) -> _dt.date:
    """Read a date: a YAML date, ``"2021-03-01"`` (also ``"2021-3-1"``, ``"2021/3/1"``,
    ``"2021.3.1"``: year first, four digits) or ``"2021年3月1日"``, between 1949 and 2099.

    A date with a time of day (``2021-03-01T10:00:00``, which YAML reads as a timestamp) is
    refused: a case is judged on a day, and dropping the time silently would hide a mistake.
    Spreadsheet cells, which hold dates as midnight timestamps, are turned into dates by
    :mod:`engine.screening.parsing` before they get here.

    Raises
    ------
    ValueProblem
        For impossible dates (``2021-02-30``), implausible years (before 1949 or after 2099),
        dates with a time, and anything that is not a date.
    """
    if isinstance(value, _dt.datetime):
        raise ValueProblem(f"'{shown(value.isoformat())}' has a time of day; {_DATE_FORMS}",
                           zh=f"“{shown(value.isoformat())}”带有时刻；{_DATE_FORMS_ZH}")
    if isinstance(value, _dt.date):
        return _plausible(value, value.isoformat())
    if isinstance(value, str):
        return _date_text(value)
    raise ValueProblem(f"{shown(repr(value))} is not a date; {_DATE_FORMS}", zh=f"{shown(repr(value))} 不是日期；{_DATE_FORMS_ZH}")


def _plausible(day: _dt.date, written: str) -> _dt.date:
    low, high = PLAUSIBLE_YEARS
    if not low <= day.year <= high:
        raise ValueProblem(f"'{shown(written)}' is not a plausible date: the year {day.year} is outside {low}–{high}",
                           zh=f"“{shown(written)}”不是合理的日期：{day.year}年不在{low}–{high}年之间")
    return day


@functools.lru_cache(maxsize=4096)
def _date_text(value: str) -> _dt.date:
    """A date written as text (remembered, like amounts: a column repeats its dates)."""
    match = _CN_DATE.match(value)
    parts = match.groups() if match else None
    if parts is None:
        numeric = _NUMERIC_DATE.match(value)
        parts = (numeric.group(1), numeric.group(3), numeric.group(4)) if numeric else None
    if parts:
        year, month, day = map(int, parts)
        try:
            found = _dt.date(year, month, day)
        except ValueError as exc:
            why = "月份应为1–12" if not 1 <= month <= 12 else "这个月没有这一天"
            raise ValueProblem(f"'{shown(value)}' is not a real date ({exc})",
                               zh=f"“{shown(value)}”不是真实存在的日期（{why}）") from None
        return _plausible(found, value.strip())
    if _DATE_AND_TIME.match(value):
        raise ValueProblem(f"'{shown(value)}' has a time of day; {_DATE_FORMS}", zh=f"“{shown(value)}”带有时刻；{_DATE_FORMS_ZH}")
    raise ValueProblem(f"'{shown(value)}' is not a date; {_DATE_FORMS}", zh=f"“{shown(value)}”不是日期；{_DATE_FORMS_ZH}")


@dataclass(frozen=True)
class MonthDate:
    """A date known only to its month (2015年6月, as a prose description often gives it): some day
    of that month. Evaluation reads every day of it (:mod:`engine.inferring.month_dates`)."""

    year: int
    month: int

    @property
    def first(self) -> _dt.date:
        return _dt.date(self.year, self.month, 1)

    @property
    def last(self) -> _dt.date:
        return _dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self) -> list[_dt.date]:
        return [self.first + _dt.timedelta(days=n) for n in range(self.last.day)]

    def isoformat(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.isoformat()


_MONTH_ONLY = re.compile(r"^\s*(\d{4})\s*(?:年\s*(\d{1,2})\s*月|[-/.](\d{1,2}))\s*$")


def parse_date_or_month(value) -> _dt.date | MonthDate:
    """A date as :func:`parse_date` reads it, or a month alone — ``2015年6月``, ``2015-06``,
    ``2015/6``, ``2015.6`` — as a :class:`MonthDate` (a profile's date facts; a knowledge base
    always gives the day).

    Raises
    ------
    ValueProblem
        As :func:`parse_date`, and for a month that is not 1–12 or outside 1949–2099.
    """
    if isinstance(value, MonthDate):
        return value
    match = _MONTH_ONLY.match(value) if isinstance(value, str) else None
    if match is None:
        return parse_date(value)
    year, month = int(match.group(1)), int(match.group(2) or match.group(3))
    if not 1 <= month <= 12:
        raise ValueProblem(f"'{shown(value)}' is not a real month", zh=f"“{shown(value)}”不是真实的月份")
    _plausible(_dt.date(year, month, 1), value.strip())
    return MonthDate(year, month)


#: How much of a value a message shows: enough to recognise it, never a 5,000-digit echo.
SHOWN = 40


def written(value) -> str:
    """A value as a message quotes it, as it would be written in a profile (``"text"``, ``1.5``,
    ``2021-01-01``, ``Infinity``), never as Python spells it; at most :data:`SHOWN` characters."""
    import json
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(value)
    return shown(text)


def shown(value) -> str:
    """A value as a message quotes it: at most :data:`SHOWN` characters, the rest elided."""
    text = str(value)
    return text if len(text) <= SHOWN else f"{text[:SHOWN - 10]}…{text[-6:]} ({len(text):,} characters)"


def format_money(yuan: int | None, lang: str = "zh") -> str:
    """Write an amount as analysts do: ``2亿元``, ``500万元`` / ``CNY 200 million``."""
    if yuan is None:
        return "不定" if lang == "zh" else "not fixed"
    if yuan < 0:  # a signed fact, such as a contribution increment that fell
        shown = format_money(-yuan, lang)
        return shown.replace("CNY ", "CNY -") if lang == "en" else f"-{shown}"
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
