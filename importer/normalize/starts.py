"""When a row's work starts: its start cell, or its date cell with its time cell (or
``input.default_start_time``), pinned to ``input.timezone`` — memoised per pair of cells, since
a month repeats its few dates and times. Nothing written in a cell is dropped: a time in the
date cell is the start, and a date cell and a time cell that disagree make the row invalid.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from functools import partial

from importer.config import ColumnsSection, InputSection
from importer.errors import RowInvalid
from importer.models import Cell
from importer.normalize.cells import cached, cell_text, is_blank, parsed, present
from importer.normalize.sendable import check_start, plausible_start
from importer.normalize.times import (
    localize,
    parse_date,
    parse_datetime,
    parse_time,
    time_written_in,
)


class Starts:
    """The start of each row, from the cells ``columns`` names."""

    def __init__(
        self,
        columns: ColumnsSection,
        options: InputSection,
        zone: dt.tzinfo | None,
        default_start: dt.time,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.columns = columns
        self.zone = zone
        self.dayfirst = options.dayfirst
        self.date_system = options.date_system
        self.default_start = default_start
        self.allow_future = options.allow_future
        self.now = now
        self._seen_now = now()
        self._parse_day = cached(
            partial(parse_date, dayfirst=self.dayfirst, date_system=self.date_system)
        )
        self._parse_clock = cached(parse_time)
        self.parse_moment = cached(
            partial(
                parse_datetime,
                dayfirst=self.dayfirst,
                date_system=self.date_system,
                default_time=default_start,
            )
        )
        self._local = functools.lru_cache(maxsize=65536)(self._localize)
        self.at = functools.lru_cache(maxsize=65536)(self._start_from)

    def _now_again(self) -> dt.datetime:
        self._seen_now = self.now()
        return self._seen_now

    def _localize(self, day: dt.date, clock: dt.time) -> dt.datetime:
        """The instant, checked once per (day, time) pair; a naive result marks one that
        Tracker cannot take (hashing aware datetimes per row would cost more)."""
        start = localize(dt.datetime.combine(day, clock), self.zone)
        return start if plausible_start(start) else start.replace(tzinfo=None)

    def pinned(self, moment: dt.datetime, column: str, value: Cell) -> dt.datetime:
        """``moment`` in the configured zone; a naive one without a zone names the key."""
        try:
            return localize(moment, self.zone)
        except ValueError as exc:
            reason = f"column '{column}' value {cell_text(value)!r} {exc}"
            raise RowInvalid(reason, column, value) from None

    def _start_from(self, first: Cell, clock_value: Cell) -> dt.datetime:
        """The start from the start cell (or the date and time cells); memoised per pair of
        cells (``at``): a month repeats its few dates and times."""
        c = self.columns
        if c.start:
            value = present(c.start, first)
            start = self.pinned(parsed(c.start, value, self.parse_moment), c.start, value)
            check_start(start, c.start, value)
        else:
            start = self._start_on_day(present(c.date, first), clock_value)
        # Time only moves on: a start before a ``now`` read earlier is in the past (and stays
        # so, which is why a start may be memoised); only a later one asks the clock again.
        if not self.allow_future and start > self._seen_now and start > self._now_again():
            column = c.start or c.date
            raise RowInvalid(
                f"column '{column}': the work starts in the future ({start.isoformat()}); "
                "set input.allow_future = true to book it anyway",
                column,
                first,
            )
        return start

    def _start_on_day(self, value: Cell, clock_value: Cell) -> dt.datetime:
        """The date cell with the time cell, or at ``input.default_start_time``. A date cell
        that writes a time of day too (``2026-10-01 14:30``, an Excel date and time, an
        offset) starts then; a time cell that says another time, or holds another day, makes
        the row invalid rather than one of them silently dropped."""
        c = self.columns
        day = parsed(c.date, value, self._parse_day)
        written = time_written_in(value, dayfirst=self.dayfirst, date_system=self.date_system)
        clock = self.default_start
        if c.time and not is_blank(clock_value):
            clock = parsed(c.time, clock_value, self._parse_clock)
            on = clock_value.date() if isinstance(clock_value, dt.datetime) else day
            if on != day and on.year > 1900:  # 1899-12-30/31: a time cell's placeholder day
                raise RowInvalid(
                    f"column '{c.time}' value {cell_text(clock_value)!r} is on another day "
                    f"than column '{c.date}' value {cell_text(value)!r}",
                    c.time,
                    clock_value,
                )
            if written is not None and written.time() != clock:
                raise RowInvalid(
                    f"column '{c.date}' value {cell_text(value)!r} writes the time "
                    f"{written.time().isoformat()}, column '{c.time}' value "
                    f"{cell_text(clock_value)!r} another; which one is meant?",
                    c.date,
                    value,
                )
        if written is None:
            if self.zone is None:
                self.pinned(dt.datetime.combine(day, clock), c.date, value)  # refuses it
            start = self._local(day, clock)
            if start.tzinfo is None:  # _localize's mark of a start Tracker cannot take
                check_start(start.replace(tzinfo=self.zone), c.date, value)
            return start
        start = self.pinned(written, c.date, value)  # its own offset, or input.timezone
        check_start(start, c.date, value)
        return start
