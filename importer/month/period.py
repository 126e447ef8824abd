"""The month a batch names, and its working days."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable

from importer.config import MonthSection

# 2026-10, 2026_10, 10.2026, 10-2026: a year and a month, not part of a longer number.
_YEAR_MONTH = re.compile(r"(?<!\d)(20\d\d)[-_.](0[1-9]|1[0-2])(?!\d)")
_MONTH_YEAR = re.compile(r"(?<!\d)(0[1-9]|1[0-2])[-_.](20\d\d)(?!\d)")


def named_month(batch: str) -> tuple[int, int] | None:
    """The (year, month) a batch's name names (``2026-10``, ``timesheet-10.2026``), if one."""
    found = _YEAR_MONTH.search(batch)
    if found:
        return int(found[1]), int(found[2])
    found = _MONTH_YEAR.search(batch)
    if found:
        return int(found[2]), int(found[1])
    return None


def month_days(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def working_days(period: Iterable[dt.date], rules: MonthSection) -> list[dt.date]:
    """The days of ``period`` people are expected to work: not a weekend day unless listed in
    ``month.workdays``, never one of ``month.holidays``."""
    holidays = {dt.date.fromisoformat(d) for d in rules.holidays}
    workdays = {dt.date.fromisoformat(d) for d in rules.workdays}
    return [
        day
        for day in period
        if day not in holidays and (day.isoweekday() not in rules.weekend or day in workdays)
    ]
