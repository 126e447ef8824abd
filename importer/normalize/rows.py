"""Turn a ``SourceRow`` into a ``Worklog`` — or say, naming column and value, why not.

No I/O, and the clock is passed in, so every rule here is tested directly. A normalizer
memoises what it parsed (a month repeats the same few dates, times and durations), so the
same cell always gives the same answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from importer.config import InputSection, Settings
from importer.errors import RowInvalid
from importer.models import Cell, Invalid, Mode, Skipped, SourceRow, Worklog
from importer.normalize.cells import cached, cell_text, is_blank, parsed, present, totals_marker
from importer.normalize.durations import parse_duration
from importer.normalize.issues import IssueKeys
from importer.normalize.people import Authors
from importer.normalize.sendable import check_cells, check_start, whole_minutes
from importer.normalize.starts import Starts
from importer.normalize.times import (
    localize,
    parse_date,
    parse_datetime,
    parse_time,
)
from importer.read.columns import ColumnMap
from importer.read.presets import FIELDS, Preset

_T = TypeVar("_T")


def effective_input(settings: Settings, preset: Preset | None) -> InputSection:
    """The ``[input]`` options for one file: the preset's, unless the config set them."""
    if preset is None:
        return settings.input
    chosen = {k: v for k, v in preset.options.items() if f"input.{k}" not in settings.explicit}
    return dataclasses.replace(settings.input, **chosen)  # type: ignore[arg-type]


def _checked_span(
    column: str, value: Cell, duration: dt.timedelta, most: dt.timedelta, rounded: bool = True
) -> dt.timedelta:
    """A positive duration in whole minutes, at most ``most``; ``rounded=False`` keeps the
    seconds (rows summed into one worklog are rounded once, after summing)."""
    if duration <= dt.timedelta(0):
        raise RowInvalid(
            f"column '{column}' value {cell_text(value)!r}: duration must be positive",
            column,
            value,
        )
    if rounded:
        duration = whole_minutes(duration, column, value)
    if duration > most:
        limit = most.total_seconds() / 3600
        raise RowInvalid(
            f"column '{column}' value {cell_text(value)!r}: more than {limit:g} hours "
            "in one row (input.max_duration_hours)",
            column,
            value,
        )
    return duration


ONLY_NUMBERS = "totals row (no issue, date or text; only numbers)"


class Normalizer:
    """Applies one file's column map and the configured rules to its rows."""

    def __init__(
        self,
        settings: Settings,
        column_map: ColumnMap | None = None,
        *,
        issue_map: Mapping[str, str] | None = None,
        user_map: Mapping[str, str] | None = None,
        mode: Mode = Mode.CREATE,
        now: Callable[[], dt.datetime] | None = None,
        control_free: bool = False,
    ) -> None:
        """``control_free``: the file was scanned and holds no control character at all."""
        column_map = column_map or ColumnMap(settings.columns)
        options = effective_input(settings, column_map.preset)
        self.columns = column_map.columns
        self._mapped = [getattr(self.columns, f) for f in FIELDS if getattr(self.columns, f)]
        self._control_free = control_free
        self.zone = settings.zone
        self.dayfirst = options.dayfirst
        self.date_system = options.date_system
        self.unit = options.duration_unit
        self.max_duration = dt.timedelta(hours=options.max_duration_hours)
        self.rounded = settings.merge.per == "off"  # merged: rounded once, as their sum
        self.max_comment = options.max_comment_length
        needs_map = column_map.preset is not None and column_map.preset.issue_map
        self.issue_keys = IssueKeys(settings.issue, issue_map, needs_map=needs_map)
        # The preset's author column may hold part of the name (unless the config chose
        # the column): the rest is in another one.
        preset = column_map.preset
        self.authors = Authors(
            self.columns.author,
            rest=preset.author_rest.get(self.columns.author, "")
            if preset is not None and not settings.columns.author
            else "",
            user_map=user_map,
            import_mode=Mode(mode) is Mode.IMPORT,
        )
        self.starts = Starts(
            self.columns,
            options,
            self.zone,
            settings.default_start_time,
            now or (lambda: dt.datetime.now(dt.UTC)),
        )
        self.parse_moment = self.starts.parse_moment
        # A month of rows repeats the same few dates, times and durations: parse each once.
        self._parse_span = cached(partial(parse_duration, unit=self.unit))
        self._span_at = functools.lru_cache(maxsize=4096)(self._span_from)
        self._issue_at = functools.lru_cache(maxsize=65536)(self._issue_from)

    def normalize(self, row: SourceRow) -> Worklog | Invalid | Skipped:
        """The worklog one row books, or why it books nothing."""
        if row.problem:
            if marker := totals_marker(row.values):
                return Skipped(f"totals row ({marker!r})")
            return Invalid(row.problem)
        try:
            if not self._control_free:
                check_cells(row.values, self._mapped)
            start = self._start(row)
            return Worklog(
                issue=self._issue(row),
                start=start,
                duration=self._duration(row, start),
                comment=self._comment(row),
                author=self.authors.of(row.values),
                created_at=self._created_at(row),
            )
        except RowInvalid as exc:
            # Only a row that books nothing can be a blank or a totals row: a real row whose
            # comment says "Итого за спринт" is still booked.
            if all(is_blank(v) for v in row.values.values()):
                return Skipped("blank row")
            if marker := totals_marker(row.values):
                return Skipped(f"totals row ({marker!r})")
            if self._only_totals(row):
                return Skipped(ONLY_NUMBERS)
            return Invalid(exc.reason, exc.column, exc.value)

    def total_in(self, row: SourceRow) -> dt.timedelta | None:
        """The hours a totals row writes in the duration column, if it writes any."""
        column = self.columns.duration
        value = row.values.get(column) if column else None
        if is_blank(value):
            return None
        try:
            return self._parse_span(value)
        except ValueError:
            return None

    def whose(self, row: SourceRow) -> tuple[str, str, dt.datetime] | None:
        """An invalid row's author, issue and start, if readable: the group it would join."""
        with contextlib.suppress(RowInvalid):
            return self.authors.of(row.values), self._issue(row), self._start(row)
        return None

    def _only_totals(self, row: SourceRow) -> bool:
        c = self.columns
        texts = (c.issue, c.start or c.date, c.time, c.comment, c.author)
        if any(not is_blank(row.values.get(name)) for name in texts if name):
            return False
        return any(
            isinstance(v, (int, float, dt.timedelta, dt.time)) or (isinstance(v, str) and v.strip())
            for v in row.values.values()
            if not is_blank(v)
        )

    def _cell(self, row: SourceRow, column: str) -> Cell:
        return row.values.get(column)

    def _required(self, row: SourceRow, column: str) -> Cell:
        return present(column, row.values.get(column))

    def _issue(self, row: SourceRow) -> str:
        return self._issue_at(row.values.get(self.columns.issue))

    def _issue_from(self, value: Cell) -> str:
        """The issue key in a cell; memoised per cell (``_issue_at``): a month books the
        same few issues again and again."""
        column = self.columns.issue
        return self.issue_keys.key(column, present(column, value))

    def _start(self, row: SourceRow) -> dt.datetime:
        c = self.columns
        values = row.values
        if c.start:
            return self.starts.at(values.get(c.start), None)
        return self.starts.at(values.get(c.date), values.get(c.time) if c.time else None)

    def _duration(self, row: SourceRow, start: dt.datetime) -> dt.timedelta:
        c = self.columns
        if c.duration:
            return self._span_at(row.values.get(c.duration))
        value = self._required(row, c.end)
        span = self._until_end(row, start, value)
        return _checked_span(c.end, value, span, self.max_duration, self.rounded)

    def _span_from(self, value: Cell) -> dt.timedelta:
        """A duration cell as Tracker books it; memoised per cell (``_span_at``)."""
        column = self.columns.duration
        value = present(column, value)
        duration = parsed(column, value, self._parse_span)
        return _checked_span(column, value, duration, self.max_duration, self.rounded)

    def _until_end(self, row: SourceRow, start: dt.datetime, value: Cell) -> dt.timedelta:
        """Elapsed time from the start to the end. An end that writes its own date (and
        perhaps its offset) is that moment; a bare end time before the start is the next day
        (a timer that ran past midnight); one equal to the start is no time at all."""
        c = self.columns
        if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value.strip()) > 8):
            parse = partial(parse_datetime, dayfirst=self.dayfirst, date_system=self.date_system)
            end = parsed(c.end, value, parse)
        else:
            day = start.replace(tzinfo=None).date()
            crossed = not c.end_date
            if c.end_date and not is_blank(end_day := self._cell(row, c.end_date)):
                day = parsed(c.end_date, end_day, partial(parse_date, dayfirst=self.dayfirst))
            end = dt.datetime.combine(day, parsed(c.end, value, parse_time))
            if crossed and end < start.replace(tzinfo=None):
                end += dt.timedelta(days=1)  # crossed midnight
        # Elapsed time between two instants, so a DST change inside the span counts right.
        # (Python subtracts datetimes sharing a tzinfo by wall clock: compare in UTC.) Without
        # a configured zone the start carried an offset, and a bare end time shares it.
        zone = self.zone or start.tzinfo
        return localize(end, zone).astimezone(dt.UTC) - start.astimezone(dt.UTC)

    def _created_at(self, row: SourceRow) -> dt.datetime | None:
        column = self.columns.created_at
        if not column or is_blank(value := row.values.get(column)):
            return None
        created_at = self.starts.pinned(parsed(column, value, self.parse_moment), column, value)
        check_start(created_at, column, value)
        return created_at

    def _comment(self, row: SourceRow) -> str:
        column = self.columns.comment
        comment = self._optional_text(row, column)
        if len(comment) > self.max_comment:
            raise RowInvalid(
                f"column '{column}': the comment has {len(comment)} characters, more than "
                f"input.max_comment_length = {self.max_comment}",
                column,
                comment[:40] + "…",
            )
        return comment

    def _optional_text(self, row: SourceRow, column: str) -> str:
        if not column:
            return ""
        value = row.values.get(column)
        if type(value) is str:
            return value.strip()
        return "" if is_blank(value) else cell_text(value)
