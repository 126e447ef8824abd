"""What Tracker will take: a row whose values it would refuse (or book wrong) is invalid.

* no control characters (C0, DEL, C1; tab and line breaks are fine) nor invisible ones
  (zero-width space, byte order mark, bidirectional overrides) in any mapped cell: an issue
  cell like ``PORT-4\\x0013`` is never booked to ``PORT-4``, and a comment is never sent
  with characters that mean nothing to a person;
* no spreadsheet error values (``#DIV/0!``, ``#N/A``) standing in for a value;
* a start from 1900 to 2099, in a whole-minute zone offset;
* a duration in whole minutes: rounded to the nearest minute, half a minute up (Toggl's
  ``00:29:31`` books 30 minutes); under half a minute it is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from importer.errors import RowInvalid
from importer.models import Cell, CellError
from importer.normalize.cells import cell_text

# C0 controls, DEL and C1 controls, but tab, line feed and carriage return (a comment may
# hold lines); and what shows nothing yet changes the text: the zero-width space, the byte
# order mark, and the bidirectional embeddings, overrides and isolates (U+202E shows a
# comment backwards). Joiners (U+200C/D: emoji, Persian) and direction marks stay.
INVISIBLE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff"
_CONTROL = re.compile(f"[{INVISIBLE}]")
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def plausible_start(moment: dt.datetime) -> bool:
    """From 1900 to 2099, in a whole-minute offset (see :func:`check_start`)."""
    if not 1900 <= moment.year < 2100:  # first: the year 9999 has no UTC instant to compare
        return False
    offset = moment.utcoffset() or dt.timedelta(0)
    return moment >= EARLIEST and not offset.seconds % 60 and not offset.microseconds


def check_start(moment: dt.datetime, column: str, value: Cell) -> None:
    """Refuse a start Tracker cannot take: before 1900 (Excel's day 0 is 1899-12-30, so such
    a date is an empty or zero cell read as a date), from 2100 on (a typo, or a date no
    timesheet holds), or an offset of odd seconds (a zone's local mean time before standard
    time, e.g. Moscow's +02:30:17 until 1919)."""
    if not plausible_start(moment):
        raise RowInvalid(
            f"column '{column}' value {cell_text(value)!r}: {moment.isoformat()} is before "
            "1900, from 2100 on, or in a zone offset Tracker cannot write; check the date",
            column,
            value,
        )


def whole_minutes(duration: dt.timedelta, column: str, value: Cell) -> dt.timedelta:
    """Tracker books whole minutes: round to the nearest one (half a minute rounds up)."""
    seconds = int(duration.total_seconds())
    if seconds % 60 == 0:
        return duration
    minutes = (seconds + 30) // 60
    if minutes == 0:
        raise RowInvalid(
            f"column '{column}' value {cell_text(value)!r}: {seconds} s is less than half a "
            "minute, which rounds to 0; Tracker books whole minutes",
            column,
            value,
        )
    return dt.timedelta(minutes=minutes)


def check_cells(values: Mapping[str, Cell], mapped: Sequence[str]) -> None:
    """Refuse a mapped cell that holds a spreadsheet error or a control character."""
    try:
        if not _CONTROL.search("".join(values.values())):  # type: ignore[arg-type]
            return  # the common case (CSV): plain text, nothing to refuse
    except TypeError:
        pass  # not all text (a spreadsheet row): look at the mapped cells one by one
    for column in mapped:
        value = values.get(column)
        if type(value) is str:
            if found := _CONTROL.search(value):
                what = "a control" if ord(found.group()) < 0xA0 else "an invisible"
                raise RowInvalid(
                    f"column '{column}' value {value!r}: {what} character "
                    f"(U+{ord(found.group()):04X}); such a cell is never sent",
                    column,
                    value,
                )
        elif isinstance(value, CellError):
            raise RowInvalid(
                f"column '{column}': the cell holds the spreadsheet error {value}",
                column,
                str(value),
            )
