"""Limits across rows: a person's hours on one day."""

from __future__ import annotations

import datetime as dt

from importer.models import Worklog

_NOTHING = dt.timedelta(0)


class DayTotals:
    """Warns once when a person's booked hours on one day pass a limit."""

    def __init__(self, limit_hours: float) -> None:
        self.limit = dt.timedelta(hours=limit_hours)
        self._booked: dict[tuple[str, dt.date], dt.timedelta] = {}

    def add(self, worklog: Worklog) -> str:
        """The warning for this row, if it is the one that crosses the limit."""
        key = (worklog.author, worklog.start.date())
        before = self._booked.get(key, _NOTHING)
        after = before + worklog.duration
        self._booked[key] = after
        if after > self.limit >= before:
            who = worklog.author or "the author"
            return (
                f"{who} books {after.total_seconds() / 3600:g} h on {key[1].isoformat()}, "
                f"more than input.max_day_hours = {self.limit.total_seconds() / 3600:g}"
            )
        return ""
