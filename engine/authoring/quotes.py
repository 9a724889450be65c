"""The rules against the words they rest on: amounts against the numbers of their quote, and
where a quote or an article's text stops matching the text it should be in.

A rule quotes the sentence it encodes, and its amount's numbers come from that sentence: a
range's min and max, an ``up_to`` ceiling, a share's percentage and its caps' max and per-unit
amounts. :func:`amounts_not_quoted` lists each number that is not among those the quote
writes (:func:`quote_numbers`: digits with 万/亿 units, percentages, Chinese numerals read by
cn2an) — 3000万元 where the quote says 300万元. Where a quote or an article's text stops
matching is shown by :func:`engine.loading.reader.first_difference` (the loader's "the quote is
not in the text" error and the ``source-text`` check). The linter (:mod:`engine.authoring.lint`)
turns what these return into findings.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import cn2an

from engine.errors import KnowledgeBaseError, PolicyKBError, nearest
from engine.loading.values import ValueProblem, format_money as _format_money, format_percent, parse_money

_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
#: A number as a quote writes it: digits with their units (500万, 1.2亿, 1,000万, 5千万) and a
#: percent sign, 百分之 and a numeral, or a Chinese numeral (三百万, 两千万元).
_QUOTE_NUMBER = re.compile(rf"(?P<digits>\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?P<unit>[十百千]?[万亿]?)(?P<pct>[%％])?"
                           rf"|百分之(?P<cnpct>[{_CN_NUMERAL}]+)|(?P<cn>[{_CN_NUMERAL}]+)")
#: Between the two ends of a range whose first end leaves its unit to the second (500到2000万元).
_RANGE_JOIN = re.compile(r"\s*(?:到|至|-|－|—|~|～)\s*")


def format_money(yuan: int) -> str:
    """Money as a rule writes it: 2000万元, 1亿元, 1500元 (no thousands separator)."""
    return _format_money(yuan).replace(",", "")


def quote_numbers(quote: str) -> tuple[dict[int, str], set[Fraction]]:
    """The amounts of money a quote writes (yuan -> as written) and its percentages (exact
    fractions, 10 for 10%). A number without a unit before a range's second end takes that
    end's unit too (500到2000万元 is 500万 to 2000万)."""
    money: dict[int, str] = {}
    percents: set[Fraction] = set()
    found = list(_QUOTE_NUMBER.finditer(quote))
    for n, match in enumerate(found):
        if match["digits"]:
            digits = match["digits"].replace(",", "")
            if match["pct"]:
                percents.add(Fraction(digits))
                continue
            units = [match["unit"]]
            following = found[n + 1] if n + 1 < len(found) else None
            if not match["unit"] and following is not None and following["unit"] \
                    and _RANGE_JOIN.fullmatch(quote[match.end():following.start()]):
                units.append(following["unit"])
            for unit in units:
                try:
                    money.setdefault(parse_money(digits + unit), match["digits"] + unit)
                except ValueProblem:
                    continue
            continue
        numeral = match["cnpct"] or match["cn"]
        try:
            value = cn2an.cn2an(numeral, "normal")
        except (ValueError, KeyError, TypeError, IndexError):
            continue           # a numeral inside a word (一次性), not a number
        if match["cnpct"]:
            percents.add(Fraction(value))
        elif int(value) == value:
            money.setdefault(int(value), numeral)
    return money, percents


def amounts_not_quoted(kb) -> list[tuple[str, str | None, int | None, str, str | None]]:
    """Each number of a rule's amount its quote does not write, as ``(rule id, file, line,
    message, the quote's nearest number)``."""
    found = []
    lines = _AmountLines()
    for rule in kb.rules.values():
        spec = rule.amount
        if spec is None or spec.basis not in ("range", "up_to", "share"):
            continue
        money, percents = quote_numbers(rule.quote)
        for what, path, yuan, percent in _numbers_of(spec):
            if (percent in percents) if percent is not None else (yuan in money):
                continue
            if percent is not None:
                shown, known = format_percent(percent / 100), [format_percent(p / 100) for p in sorted(percents)]
                near = _nearest_number(percent, sorted(percents))
                hint = None if near is None else format_percent(near / 100)
            else:
                shown, known = format_money(yuan), [format_money(v) for v in sorted(money)]
                near = _nearest_number(yuan, sorted(money))
                hint = None if near is None else format_money(near)
            quoted = rule.quote if len(rule.quote) <= 40 else rule.quote[:40] + "…"
            message = (f"{what}, {shown}, is not a number of the rule's quote ('{quoted}'), which has "
                       + (", ".join(known) if known else f"no {'percentage' if percent is not None else 'amount'}"))
            found.append((rule.id, rule.where.file, lines.line(rule, path) or rule.where.line, message, hint))
    return found


def _numbers_of(spec) -> list[tuple[str, tuple, int | None, Fraction | None]]:
    """An amount's numbers: what each is, where it is in the YAML, and its yuan or percentage."""
    if spec.basis == "range":
        return [("the range's min", ("range", "min"), spec.min, None),
                ("the range's max", ("range", "max"), spec.max, None)]
    if spec.basis == "up_to":
        return [("the up_to ceiling", ("up_to",), spec.max, None)]
    numbers = [("the share", ("share",), None, spec.share * 100)]
    for n, cap in enumerate(spec.caps):
        key = "max" if "max" in cap else "per_unit"
        numbers.append((f"the cap's {'max' if key == 'max' else 'per-unit amount'}", ("caps", n, key), cap[key], None))
    return numbers


def _nearest_number(value, known: list):
    """The known number written most like ``value`` (a slipped, lost or doubled digit), if any."""
    by_digits = {_digits(v): v for v in known}
    found = nearest(_digits(value), by_digits)
    if found is not None:
        return by_digits[found]
    # Else the one nearest in size (a factor of ten slipped, or one percentage for another).
    return min((v for v in known if v > 0), key=lambda v: max(v / value, value / v) if value else v, default=None)


def _digits(value) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else str(float(value))


class _AmountLines:
    """The line of each part of a rule's amount, read again from its YAML file (the model keeps
    only the rule's line)."""

    def __init__(self):
        self._files: dict[str, object] = {}

    def line(self, rule, path: tuple) -> int | None:
        from engine.loading.yamlio import load_file
        file = rule.where.file
        if file not in self._files:
            try:
                self._files[file] = load_file(Path(file), KnowledgeBaseError)
            except (PolicyKBError, OSError, TypeError):
                self._files[file] = None
        data = self._files[file]
        rules = data.get("rules") if isinstance(data, dict) else None
        item = next((r for r in rules or [] if isinstance(r, dict) and r.get("id") == rule.id), None)
        if item is None:
            return None
        node, line = item.get("amount"), item.line_of("amount")
        for key in path:
            if not hasattr(node, "line_of"):
                break
            try:
                line = node.line_of(key) or line
                node = node[key]
            except (KeyError, IndexError, TypeError):
                break
        return line


# --------------------------------------------------------------------------- where two texts part
