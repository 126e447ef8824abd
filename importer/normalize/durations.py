"""Durations as timesheets write them: decimal hours (``1,5``), ``h:mm``, ``1ч 30м``, ISO.

An ISO 8601 cell is read the way Tracker means it (8 h days, 40 h weeks; see
:mod:`importer.formats`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Literal

from importer.formats import decimal_number, parse_business_iso, whole_seconds
from importer.normalize.cells import refuse_foreign_digits

DurationUnit = Literal["hours", "minutes", "days"]
_UNIT_SECONDS = {"hours": 3600, "minutes": 60, "days": 86400}

_CLOCK = re.compile(r"^(?P<h>\d+):(?P<m>[0-5]?\d)(?::(?P<s>[0-5]?\d(?:[.,]\d+)?))?$", re.ASCII)
_UNITS = re.compile(
    r"^(?:(?P<h>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?|ч|час(?:а|ов)?)\.?)?\s*"
    r"(?:(?P<m>\d+(?:[.,]\d+)?)\s*(?:m|min|mins|minutes?|м|мин(?:ут[аы]?)?)\.?)?$",
    re.IGNORECASE,
)


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
        return whole_seconds(Decimal(str(value.total_seconds())))
    if isinstance(value, dt.time):
        return dt.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a number: {value!r}")
        amount = Decimal(str(value))
        return whole_seconds(amount * _UNIT_SECONDS[unit])
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    text = value.strip().replace("\u00a0", " ")
    refuse_foreign_digits(text)
    if not text:
        raise ValueError("empty")
    if text[0] in "pP":
        return parse_business_iso(text)
    clock = _CLOCK.match(text)
    if clock:
        seconds = decimal_number(clock["s"]) if clock["s"] else Decimal(0)
        return whole_seconds(Decimal(int(clock["h"]) * 3600 + int(clock["m"]) * 60) + seconds)
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text, re.ASCII):
        return parse_duration(decimal_number(text), unit)
    units = _UNITS.match(text)
    if units and (units["h"] or units["m"]):
        hours = decimal_number(units["h"]) if units["h"] else Decimal(0)
        minutes = decimal_number(units["m"]) if units["m"] else Decimal(0)
        return whole_seconds(hours * 3600 + minutes * 60)
    raise ValueError(f"not a duration: {value!r}")
