"""Periods counted as the Civil Code counts them.

民法典 第二百零一条: 按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算. 第二百零二条:
按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日.

So a period of N years from 2020-01-03 ends on 2023-01-03 (that day included), and one from
2020-02-29 ends on 2023-02-28. Used for a yearly amount's year of support (the Nth year of a
project) and for periods counted from an event.
"""

from __future__ import annotations

import calendar
import datetime as _dt


def years_later(start: _dt.date, years: int) -> _dt.date:
    """The corresponding day ``years`` after ``start`` — the month's last day where that month
    has no such day (29 February) — which is the last day of a period of ``years`` years."""
    year = start.year + years
    return start.replace(year=year, day=min(start.day, calendar.monthrange(year, start.month)[1]))


def last_day(start: _dt.date, years: int) -> _dt.date:
    """The last day of a period of ``years`` years counted from ``start`` (Articles 201–202)."""
    return years_later(start, years)


def year_of_period(start: _dt.date, day: _dt.date) -> int | None:
    """Which year of a period counted from ``start`` ``day`` falls in: 1 from the start through
    its first anniversary, 2 through the second, and so on; None before ``start``."""
    if day < start:
        return None
    n = max(day.year - start.year, 1)
    while n > 1 and day <= years_later(start, n - 1):
        n -= 1
    while day > years_later(start, n):
        n += 1
    return n
