"""Dates and times as timesheets write them, pinned to a timezone.

Rules for wall-clock times that a DST change makes odd (Python's ``zoneinfo`` rules, kept on
purpose so that a timer that ran across the change books the instant it really measured):

* a time that happens twice (autumn, clocks go back) is the *first* occurrence;
* a time that never happens (spring, clocks go forward) is read with the offset in force just
  before the change, i.e. 02:30 on the Berlin spring day is 03:30 CEST (01:30 UTC).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from importer.normalize.cells import refuse_foreign_digits

# Excel's 1900 date system counts from 1899-12-30 (it believes 1900 was a leap year); the
# 1904 system (old Mac workbooks) from 1904-01-01.
_EXCEL_EPOCHS = {1900: dt.datetime(1899, 12, 30), 1904: dt.datetime(1904, 1, 1)}

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", re.ASCII)
_SLASHED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_CLOCK = re.compile(
    r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?$",
    re.ASCII,
)


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def excel_serial_to_datetime(serial: float, date_system: int = 1900) -> dt.datetime:
    """An Excel serial number (days, fraction = time of day) as a naive datetime."""
    if not 1 <= serial < 2958466:  # 1900-01-01 .. 9999-12-31
        raise ValueError(f"not an Excel date serial: {serial!r}")
    return _EXCEL_EPOCHS[date_system] + dt.timedelta(days=serial)


def parse_date(value: object, *, dayfirst: bool = True, date_system: int = 1900) -> dt.date:
    """A date cell: a date, ISO ``2026-10-31``, ``31.10.2026``, ``31/10/2026`` or a serial."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return excel_serial_to_datetime(float(value), date_system).date()
    if not isinstance(value, str) or _is_blank(value):
        raise ValueError("empty" if _is_blank(value) else f"not a date: {value!r}")
    text = value.strip()
    refuse_foreign_digits(text)
    # A datetime in a date column: take its date part.
    head = re.split(r"[T ]", text, maxsplit=1)[0]
    if m := _ISO_DATE.match(head):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _DOTTED_DATE.match(head):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    elif m := _SLASHED_DATE.match(head):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        day, month = (first, second) if dayfirst else (second, first)
        if month > 12 >= day:
            # 03/25/2026 read day-first has no month 25: the file writes month first.
            order, setting = ("day", "false") if dayfirst else ("month", "true")
            raise ValueError(
                f"not a {order}-first date: {value!r}; if the file writes "
                f"{'month' if dayfirst else 'day'} first, set input.dayfirst = {setting}"
            )
    elif head.isdigit() and 4 <= len(head) <= 6:
        return excel_serial_to_datetime(float(head), date_system).date()
    else:
        raise ValueError(f"not a date: {value!r}")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r} ({exc})") from None


def date_order(text: str) -> str | None:
    """How a slashed date (``13/10/2026``, perhaps with a time after it) can be read: ``"day"``
    (day first only), ``"month"`` (month first only), ``"either"``; ``None``: not slashed."""
    m = _SLASHED_DATE.match(re.split(r"[T ]", text.strip(), maxsplit=1)[0])
    if m is None:
        return None
    first, second = int(m[1]), int(m[2])
    if first > 12 >= second:
        return "day"
    if second > 12 >= first:
        return "month"
    return "either"


def parse_time(value: object) -> dt.time:
    """A time-of-day cell: ``9:15``, ``09:15:00``, ``09:15 AM``, a time, or a day fraction."""
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 <= value < 1:
            raise ValueError(f"not a time of day: {value!r}")
        seconds = round(float(value) * 86400)
        return (dt.datetime.min + dt.timedelta(seconds=min(seconds, 86399))).time()
    if not isinstance(value, str) or _is_blank(value):
        raise ValueError("empty" if _is_blank(value) else f"not a time: {value!r}")
    refuse_foreign_digits(value)
    m = _CLOCK.match(value.strip())
    if not m:
        raise ValueError(f"not a time: {value!r}")
    hour, minute = int(m["h"]), int(m["m"])
    second = int(m["s"] or 0)
    micro = int((m["f"] or "0").ljust(6, "0"))
    if m["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"not a 12-hour time: {value!r}")
        hour = hour % 12 + (12 if m["ampm"][0] in "Pp" else 0)
    try:
        return dt.time(hour, minute, second, micro)
    except ValueError:
        raise ValueError(f"not a time: {value!r}") from None


def parse_datetime(
    value: object,
    *,
    dayfirst: bool = True,
    date_system: int = 1900,
    default_time: dt.time | None = None,
) -> dt.datetime:
    """A date-and-time cell; naive unless the text carries an offset (``+03:00``, ``Z``).

    With ``default_time``, a bare date is accepted and starts at that time.
    """
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        if default_time is None:
            raise ValueError(f"a date without a time: {value!r}")
        return dt.datetime.combine(value, default_time)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return excel_serial_to_datetime(float(value), date_system)
    if not isinstance(value, str) or _is_blank(value):
        raise ValueError("empty" if _is_blank(value) else f"not a date and time: {value!r}")
    text = value.strip()
    refuse_foreign_digits(text)
    if _ISO_DATE.match(text) or _DOTTED_DATE.match(text) or _SLASHED_DATE.match(text):
        if default_time is None:
            raise ValueError(f"a date without a time: {value!r}")
        return dt.datetime.combine(parse_date(text, dayfirst=dayfirst), default_time)
    try:
        return dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    parts = re.split(r"[T ]+", text, maxsplit=1)
    if len(parts) != 2:
        if default_time is not None:
            return dt.datetime.combine(parse_date(text, dayfirst=dayfirst), default_time)
        raise ValueError(f"not a date and time: {value!r}")
    day = parse_date(parts[0], dayfirst=dayfirst)
    clock = parse_time(parts[1])
    return dt.datetime.combine(day, clock)


def time_written_in(
    value: object, *, dayfirst: bool = True, date_system: int = 1900
) -> dt.datetime | None:
    """The moment a *date* cell writes when it holds a time of day (or an offset) too:
    ``2026-10-01 14:30``, ``2026-10-02T11:15+05:00``, an Excel date and time or a serial
    with a fraction. ``None`` for a bare date — and for midnight without an offset, which is
    how spreadsheets store a bare date."""
    moment: dt.datetime
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer():
            return None
        try:
            moment = excel_serial_to_datetime(float(value), date_system)
        except ValueError:
            return None
    elif isinstance(value, str) and ":" in value:
        try:
            moment = parse_datetime(value, dayfirst=dayfirst, date_system=date_system)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None and moment.time() == dt.time(0):
        return None
    return moment


def localize(moment: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    """Pin a naive wall-clock time to ``zone`` (see the module's DST rules); keep aware ones.
    Without a zone (``input.timezone`` unset) a naive time is refused, never guessed."""
    if moment.tzinfo is not None:
        return moment
    if zone is None:
        raise ValueError(f"{NO_ZONE}; set input.timezone to the zone the file's times are in")
    return moment.replace(tzinfo=zone, fold=0)


NO_ZONE = "carries no UTC offset and input.timezone is not set"


def machine_zone() -> str:
    """This machine's timezone name, to suggest for ``input.timezone`` (never used on its
    own: a server's zone is often UTC while the people who export work elsewhere)."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(os.readlink("/etc/localtime").partition("zoneinfo/")[2])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in filter(None, candidates):
        with contextlib.suppress(ValueError, ZoneInfoNotFoundError):
            ZoneInfo(name)
            return name
    return "UTC"
