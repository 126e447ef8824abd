"""Tracker's formats: issue keys, ``start`` instants and business-time durations.

Tracker counts *business* time: one day is 8 hours and one week is 5 days (40 hours), and it
answers with normalised values (``PT8H`` comes back as ``P1D``). So we always send hours and
minutes (``PT7H30M``) and read every ISO 8601 duration with 8 h days and 40 h weeks.
``start`` is ``YYYY-MM-DDThh:mm:ss.sss±hhmm`` (an offset without a colon); Tracker stores
and answers UTC. Pure functions, shared by every stage and by the sandbox.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from isodate.isoduration import ISO8601_PERIOD_REGEX

# Tracker issue keys: a queue key (Latin letters, digits after the first) and a number.
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9]*-[1-9][0-9]*$")
BUSINESS_DAY = dt.timedelta(hours=8)
BUSINESS_WEEK = 5 * BUSINESS_DAY
_MOST_SECONDS = Decimal(10**9)  # about 31 years: anything longer is not a time entry


def decimal_number(text: str) -> Decimal:
    """``1,5`` or ``1.5`` as a decimal."""
    return Decimal(text.replace(",", "."))


def whole_seconds(amount: Decimal) -> dt.timedelta:
    """Seconds as a duration, rounded to whole seconds; absurd amounts are a ``ValueError``."""
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
            total += decimal_number(parts[name][:-1]) * Decimal(seconds)
    if not found:
        raise ValueError(f"empty ISO 8601 duration: {text!r}")
    return whole_seconds(total)


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


def utc_instant(moment: dt.datetime) -> str:
    """A start as the journal keeps it and bookings are compared by: the instant in UTC,
    ISO 8601 (``2026-10-01T06:00:00+00:00``). Fingerprints hash it: never change it."""
    return moment.astimezone(dt.UTC).isoformat()


def format_tracker_start(moment: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss±hhmm``, the only form Tracker's ``start`` accepts."""
    if moment.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    millis = moment.microsecond // 1000
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}" + moment.strftime("%z")


def parse_tracker_start(text: str) -> dt.datetime:
    """Tracker's ``start`` (``2026-10-01T06:00:00.000+0000``) as an aware datetime.

    ``fromisoformat`` reads Tracker's format 80 times faster than ``strptime`` (0.15 µs
    against 12 µs: it runs for every answered POST and every record matched); a text it
    does not read goes to ``strptime`` with the exact format, and one without an offset is
    refused."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    if moment.tzinfo is None:
        raise ValueError(f"not a Tracker time (no UTC offset): {text!r}")
    return moment
