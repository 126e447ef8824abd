"""Turn a ``SourceRow`` into a ``Worklog`` — or say, naming column and value, why not.

Pure functions over plain values: no I/O, no clock, so every rule here is tested directly.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from .config import Settings
from .durations import parse_duration
from .errors import RowInvalid
from .models import Cell, Invalid, Skipped, SourceRow, Worklog
from .times import localize, parse_date, parse_datetime, parse_time

_T = TypeVar("_T")

# Tracker issue keys: a queue key (Latin letters, digits after the first) and a number.
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9]*-[1-9][0-9]*$")


def is_blank(value: Cell) -> bool:
    """An empty cell, whatever the reader made of it."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class Normalizer:
    """Applies one configuration's column map and rules to rows."""

    def __init__(self, settings: Settings) -> None:
        self.columns = settings.columns
        self.zone = settings.zone
        self.dayfirst = settings.input.dayfirst
        self.default_start = settings.default_start_time
        self.unit = settings.input.duration_unit
        self.max_duration = dt.timedelta(hours=settings.input.max_duration_hours)

    def required_columns(self) -> list[str]:
        """The columns every input file must have."""
        c = self.columns
        names = [c.issue, c.duration, c.start or c.date]
        return [n for n in names if n]

    def optional_columns(self) -> list[str]:
        c = self.columns
        return [n for n in (c.time, c.comment, c.author) if n]

    def normalize(self, row: SourceRow) -> Worklog | Invalid | Skipped:
        """The worklog one row books, or why it books nothing."""
        if all(is_blank(v) for v in row.values.values()):
            return Skipped("blank row")
        try:
            return Worklog(
                issue=self._issue(row),
                start=self._start(row),
                duration=self._duration(row),
                comment=self._optional_text(row, self.columns.comment),
                author=self._optional_text(row, self.columns.author),
            )
        except RowInvalid as exc:
            return Invalid(exc.reason, exc.column, exc.value)

    def _cell(self, row: SourceRow, column: str) -> Cell:
        return row.values.get(column)

    def _required(self, row: SourceRow, column: str) -> Cell:
        value = self._cell(row, column)
        if is_blank(value):
            raise RowInvalid(f"column '{column}' is empty", column, value)
        return value

    def _issue(self, row: SourceRow) -> str:
        column = self.columns.issue
        value = self._required(row, column)
        key = _text(value).upper()
        if not ISSUE_KEY.match(key):
            raise RowInvalid(
                f"column '{column}' value {_text(value)!r} is not an issue key like QUEUE-123",
                column,
                value,
            )
        return key

    @staticmethod
    def _parse(column: str, value: Cell, parse: Callable[[Cell], _T]) -> _T:
        """Apply a parser; its complaint becomes a reason naming the column and the value."""
        try:
            return parse(value)
        except ValueError as exc:
            raise RowInvalid(
                f"column '{column}' value {_text(value)!r}: {exc}", column, value
            ) from None

    def _start(self, row: SourceRow) -> dt.datetime:
        c = self.columns
        if c.start:
            moment = self._parse(
                c.start,
                self._required(row, c.start),
                partial(parse_datetime, dayfirst=self.dayfirst),
            )
            return localize(moment, self.zone)
        day = self._parse(
            c.date, self._required(row, c.date), partial(parse_date, dayfirst=self.dayfirst)
        )
        clock = self.default_start
        if c.time and not is_blank(time_value := self._cell(row, c.time)):
            clock = self._parse(c.time, time_value, parse_time)
        return localize(dt.datetime.combine(day, clock), self.zone)

    def _duration(self, row: SourceRow) -> dt.timedelta:
        column = self.columns.duration
        value = self._required(row, column)
        duration = self._parse(column, value, partial(parse_duration, unit=self.unit))
        if duration <= dt.timedelta(0):
            raise RowInvalid(
                f"column '{column}' value {_text(value)!r}: duration must be positive",
                column,
                value,
            )
        if duration > self.max_duration:
            limit = self.max_duration.total_seconds() / 3600
            raise RowInvalid(
                f"column '{column}' value {_text(value)!r}: more than {limit:g} hours in one row "
                "(input.max_duration_hours)",
                column,
                value,
            )
        return duration

    def _optional_text(self, row: SourceRow, column: str) -> str:
        if not column:
            return ""
        value = self._cell(row, column)
        return "" if is_blank(value) else _text(value)
