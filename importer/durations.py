"""Durations: read them from timesheets, write them for Tracker, read Tracker's answers.

Tracker counts *business* time: one day is 8 hours and one week is 5 days (40 hours), and it
answers with normalised values (``PT8H`` comes back as ``P1D``). So we always send hours and
minutes (``PT7H30M``) and read every ISO 8601 duration with 8 h days and 40 h weeks.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Literal

from isodate.isoduration import ISO8601_PERIOD_REGEX

BUSINESS_DAY = dt.timedelta(hours=8)
BUSINESS_WEEK = 5 * BUSINESS_DAY

DurationUnit = Literal["hours", "minutes", "days"]
_UNIT_SECONDS = {"hours": 3600, "minutes": 60, "days": 86400}

_CLOCK = re.compile(r"^(?P<h>\d+):(?P<m>[0-5]?\d)(?::(?P<s>[0-5]?\d(?:[.,]\d+)?))?$")
_UNITS = re.compile(
    r"^(?:(?P<h>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?|ч|час(?:а|ов)?)\.?)?\s*"
    r"(?:(?P<m>\d+(?:[.,]\d+)?)\s*(?:m|min|mins|minutes?|м|мин(?:ут[аы]?)?)\.?)?$",
    re.IGNORECASE,
)


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


_MOST_SECONDS = Decimal(10**9)  # about 31 years: anything longer is not a time entry


def _seconds(amount: Decimal) -> dt.timedelta:
    if amount.copy_abs() > _MOST_SECONDS:
        raise ValueError(f"far too long to be worked time ({amount.normalize():f} seconds)")
    # Whole seconds: Tracker stores no finer, and float noise must not reach the report.
    return dt.timedelta(seconds=int(amount.quantize(Decimal(1), rounding="ROUND_HALF_UP")))


def parse_business_iso(text: str) -> dt.timedelta:
    """Read an ISO 8601 duration the way Tracker means it: 8 h days, 40 h weeks.

    isodate's own ``parse_duration`` turns ``P1D`` into a calendar day and folds ``PT25H``
    into one, so only its grammar is reused here; the arithmetic is business time.
    """
    match = ISO8601_PERIOD_REGEX.match(text.strip().upper())
    if match is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    parts = match.groupdict()
    if parts["sign"] == "-":
        raise ValueError(f"negative duration: {text!r}")
    if parts["years"] or parts["months"]:
        raise ValueError(f"years and months have no fixed length: {text!r}")
    if parts["separator"] and not (parts["hours"] or parts["minutes"] or parts["seconds"]):
        raise ValueError(f"nothing after 'T': {text!r}")
    scale = {
        "weeks": BUSINESS_WEEK.total_seconds(),
        "days": BUSINESS_DAY.total_seconds(),
        "hours": 3600,
        "minutes": 60,
        "seconds": 1,
    }
    total = Decimal(0)
    found = False
    for name, seconds in scale.items():
        if parts[name]:
            found = True
            total += _decimal(parts[name][:-1]) * Decimal(seconds)
    if not found:
        raise ValueError(f"empty ISO 8601 duration: {text!r}")
    return _seconds(total)


def parse_duration(value: object, unit: DurationUnit = "hours") -> dt.timedelta:
    """Read a timesheet's duration cell; raise ``ValueError`` saying why it cannot be read.

    Accepts numbers in ``unit`` (decimal hours by default, with ``.`` or ``,``; ``days`` reads
    Excel's day fractions, 0.0625 = 1:30), clock
    notation ``h:mm`` / ``h:mm:ss``, ``1h 30m`` / ``1ч 30м`` / ``90m``, and ISO 8601
    (``PT1H30M``; ``P1D`` is 8 hours as in Tracker).
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, dt.timedelta):
        return _seconds(Decimal(str(value.total_seconds())))
    if isinstance(value, dt.time):
        return dt.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a number: {value!r}")
        amount = Decimal(str(value))
        return _seconds(amount * _UNIT_SECONDS[unit])
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    text = value.strip().replace("\u00a0", " ")
    if not text:
        raise ValueError("empty")
    if text[0] in "pP":
        return parse_business_iso(text)
    clock = _CLOCK.match(text)
    if clock:
        seconds = _decimal(clock["s"]) if clock["s"] else Decimal(0)
        return _seconds(Decimal(int(clock["h"]) * 3600 + int(clock["m"]) * 60) + seconds)
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return parse_duration(_decimal(text), unit)
    units = _UNITS.match(text)
    if units and (units["h"] or units["m"]):
        hours = _decimal(units["h"]) if units["h"] else Decimal(0)
        minutes = _decimal(units["m"]) if units["m"] else Decimal(0)
        return _seconds(hours * 3600 + minutes * 60)
    raise ValueError(f"not a duration: {value!r}")


def format_duration(duration: dt.timedelta) -> str:
    """Write a duration for Tracker in hours and minutes (``PT7H30M``), never in days."""
    total = int(duration.total_seconds())
    if total <= 0:
        raise ValueError(f"duration must be positive: {duration}")
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if seconds:
        text += f"{seconds}S"
    return text


def format_hours(duration: dt.timedelta) -> str:
    """Hours as a short decimal for people (``7.5``)."""
    return f"{duration.total_seconds() / 3600:.4g}" if duration else "0"


def format_business_duration(duration: dt.timedelta) -> str:
    """Tracker's normalised form: ``PT8H`` → ``P1D``, ``P5D`` → ``P1W``, ``PT9H`` → ``P1DT1H``."""
    total = int(duration.total_seconds())
    weeks, rest = divmod(total, int(BUSINESS_WEEK.total_seconds()))
    days, rest = divmod(rest, int(BUSINESS_DAY.total_seconds()))
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    date_part = (f"{weeks}W" if weeks else "") + (f"{days}D" if days else "")
    time_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    time_part += f"{seconds}S" if seconds else ""
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")
