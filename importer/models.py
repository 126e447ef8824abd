"""The values that flow through the pipeline: rows in, worklogs, outcomes out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping

from importer.formats import format_duration, format_tracker_start


@dataclasses.dataclass(frozen=True, slots=True)
class CellError:
    """A spreadsheet's error value standing in a cell (``#DIV/0!``, ``#N/A``, ``#REF!``)."""

    error: str

    def __str__(self) -> str:
        return self.error


Cell = str | int | float | dt.datetime | dt.date | dt.time | dt.timedelta | CellError | None


class Mode(enum.StrEnum):
    """How rows are booked: as the token's owner, or (administrators) as their own authors."""

    CREATE = "create"  # POST /v2/issues/<key>/worklog: the token's owner is the author
    IMPORT = "import"  # POST /v3/issues/<key>/worklogs/_import: createdBy from the row


class Status(enum.StrEnum):
    """What happened to one input row; every row ends with exactly one."""

    CREATED = "created"
    ALREADY_IMPORTED = "already_imported"
    INVALID = "invalid"
    SKIPPED = "skipped"
    FAILED = "failed"
    PENDING = "pending"
    # a plain run: the row corrects an earlier booking of its batch; not booked beside it
    NEEDS_SYNC = "needs_sync"
    # --sync and undo: what happened to an earlier booking
    UPDATED = "updated"  # its worklog was edited to the corrected row
    DELETED = "deleted"  # its worklog was deleted (the row is no longer in the file / undone)
    CONFLICT = "conflict"  # someone edited the worklog in Tracker since: left as it is
    GONE = "gone"  # the worklog was already deleted in Tracker
    # verify: the file against what Tracker holds
    PRESENT = "present"  # a worklog books exactly this row
    MISSING = "missing"  # no worklog books this row
    DIFFERENT = "different"  # a worklog of the same issue, start and person, other values
    EXTRA = "extra"  # a worklog of the batch that no row of the file books


# SourceRow and Booking are made for every row of a file: not frozen, because a frozen
# dataclass sets each field through object.__setattr__ (measured: 0.52 µs against 0.12 µs
# for six fields, about half a second of a million-row run). Treat them as read-only; they
# hold a dict, so they were never hashable anyway.
@dataclasses.dataclass(slots=True)
class SourceRow:
    """One row as read from a file; ``row`` is the number a person sees in the sheet.

    ``problem``: why the reader could not read this row as the header says (more or fewer
    fields, bytes not in the file's encoding); such a row is reported invalid, never sent.
    """

    file: str
    row: int
    values: Mapping[str, Cell]
    problem: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Worklog:
    """What one row books in Tracker."""

    issue: str
    start: dt.datetime
    duration: dt.timedelta
    comment: str
    author: str = ""
    created_at: dt.datetime | None = None  # import mode: when Tracker shows it was logged

    def payload(self) -> dict[str, str]:
        """The body of a create request: Tracker's start format, hours and minutes."""
        body = {
            "start": format_tracker_start(self.start),
            "duration": format_duration(self.duration),
        }
        if self.comment:
            body["comment"] = self.comment
        return body


@dataclasses.dataclass(slots=True)
class Booking:
    """One valid row on its way to Tracker — or, merged (``[merge] per = "day"``), the rows
    of one person, issue and day as one worklog: ``members`` are those rows and what each
    would have booked alone; ``source`` is the first of them."""

    source: SourceRow
    worklog: Worklog
    fingerprint: str
    warning: str = ""
    members: tuple[tuple[SourceRow, Worklog], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Invalid:
    """Why a row cannot become a worklog."""

    reason: str
    column: str | None = None
    value: object = None


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    """A row that books nothing on purpose (blank)."""

    reason: str


@dataclasses.dataclass(slots=True)
class Outcome:
    """The end state of one row, as the report shows it."""

    source: SourceRow
    status: Status
    worklog: Worklog | None = None
    worklog_id: str = ""
    http_status: int | None = None
    attempts: int = 0
    error: str = ""
    warning: str = ""
    previous: Worklog | None = None  # what the worklog held before this run edited/deleted it
    members: tuple[tuple[SourceRow, Worklog], ...] = ()  # a merged booking's rows (see Booking)
    group: str = ""  # the rows that share this row's worklog ("file.csv:2,5,9")


@dataclasses.dataclass
class RequestStats:
    """What a run asked of Tracker: requests, retries and 429s (the client counts, the
    summary and the progress bar read)."""

    requests: int = 0
    responses_429: int = 0
    retries: int = 0
