"""``verify``: the file's rows matched with what Tracker holds, read-only. Pure.

Each row is ``present`` (a worklog books exactly it), ``different`` (a worklog of the same
issue, start and person books another duration or comment: what differs is said) or
``missing``. Worklogs of the batch (the journal knows their ids) that no row matched are
``extra``. Records are matched one for one, so two identical rows need two worklogs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from importer.deliver.matching import books, created_by_one_of
from importer.formats import parse_business_iso, parse_tracker_start
from importer.journal.schema import Booked
from importer.models import Booking, Outcome, Status, Worklog
from importer.sync.plan import earlier_source

Record = Mapping[str, Any]


def as_worklog(record: Record, issue: str, author: str = "") -> Worklog | None:
    """A Tracker record as a worklog, or ``None`` when its start or duration is unreadable."""
    try:
        start = parse_tracker_start(str(record["start"]))
        duration = parse_business_iso(str(record["duration"]))
    except (KeyError, ValueError):
        return None
    return Worklog(issue, start, duration, str(record.get("comment") or ""), author)


def _sort_key(record: Record) -> tuple[int, str]:
    return (len(str(record.get("id"))), str(record.get("id")))


@dataclasses.dataclass
class Audit:
    """What ``verify`` found, row by row, and the hours on each side."""

    outcomes: list[Outcome] = dataclasses.field(default_factory=list)
    file_seconds: dict[str, dict[str, int]] = dataclasses.field(
        default_factory=lambda: {"person": {}, "issue": {}}
    )
    tracker_seconds: dict[str, dict[str, int]] = dataclasses.field(
        default_factory=lambda: {"person": {}, "issue": {}}
    )
    refused: dict[str, str] = dataclasses.field(default_factory=dict)  # issue → why unread

    def _add(self, side: dict[str, dict[str, int]], worklog: Worklog) -> None:
        seconds = int(worklog.duration.total_seconds())
        for field, key in (("person", worklog.author), ("issue", worklog.issue)):
            side[field][key] = side[field].get(key, 0) + seconds

    def totals(self) -> dict[str, dict[str, dict[str, float]]]:
        """Hours per person and per issue: ``{"person": {name: {"file": h, "tracker": h}}}``."""
        found: dict[str, dict[str, dict[str, float]]] = {}
        for field in ("person", "issue"):
            keys = sorted(self.file_seconds[field].keys() | self.tracker_seconds[field].keys())
            found[field] = {
                key: {
                    "file": round(self.file_seconds[field].get(key, 0) / 3600, 4),
                    "tracker": round(self.tracker_seconds[field].get(key, 0) / 3600, 4),
                }
                for key in keys
            }
        return found


def audit(
    rows: Sequence[Booking],
    listings: Mapping[str, Sequence[Record]],
    authors: Callable[[Worklog], Collection[str]],
    batch_ids: Mapping[str, Booked],
) -> Audit:
    """Match ``rows`` with the issues' ``listings``; ``authors(w)``: who may have booked ``w``;
    ``batch_ids``: the batch's worklog ids (with the rows they came from) for ``extra``."""
    found = Audit()
    claimed: set[str] = set()
    by_issue: dict[str, list[Record]] = {
        issue: sorted(records, key=lambda r: (str(r.get("id")) not in batch_ids, _sort_key(r)))
        for issue, records in listings.items()
    }
    unmatched: list[Booking] = []
    for row in rows:
        found._add(found.file_seconds, row.worklog)
        record = _first(
            by_issue.get(row.worklog.issue, []),
            claimed,
            authors(row.worklog),
            functools.partial(books, worklog=row.worklog),
        )
        if record is None:
            unmatched.append(row)
            continue
        found._add(found.tracker_seconds, row.worklog)
        found.outcomes.append(_line(row, Status.PRESENT, record, ""))
    for row in unmatched:
        start = row.worklog.start.astimezone(dt.UTC)
        record = _first(
            by_issue.get(row.worklog.issue, []),
            claimed,
            authors(row.worklog),
            functools.partial(_starts_at, start=start),
        )
        if record is None:
            found.outcomes.append(_line(row, Status.MISSING, None, "not in Tracker"))
            continue
        held = as_worklog(record, row.worklog.issue, row.worklog.author) or row.worklog
        found._add(found.tracker_seconds, held)
        line = _line(
            row, Status.DIFFERENT, record, "Tracker holds " + _difference(row.worklog, held)
        )
        line.previous = held
        found.outcomes.append(line)
    _extras(found, by_issue, claimed, batch_ids)
    return found


def _extras(
    found: Audit,
    by_issue: Mapping[str, list[Record]],
    claimed: set[str],
    batch_ids: Mapping[str, Booked],
) -> None:
    """Worklogs the batch booked that no row of the file claimed: ``extra``."""
    for issue, records in by_issue.items():
        for record in records:
            worklog_id = str(record.get("id"))
            if worklog_id not in batch_ids or worklog_id in claimed:
                continue
            extra = as_worklog(record, issue, batch_ids[worklog_id].author)
            if extra is None:
                continue
            found._add(found.tracker_seconds, extra)
            found.outcomes.append(
                Outcome(
                    earlier_source(batch_ids[worklog_id]),
                    Status.EXTRA,
                    extra,
                    worklog_id=worklog_id,
                    error="in Tracker (booked for this batch), not in the file",
                )
            )


def _first(
    records: Iterable[Record],
    claimed: set[str],
    authors: Collection[str],
    fits: Callable[[Record], bool],
) -> Record | None:
    for record in records:
        worklog_id = str(record.get("id"))
        if worklog_id not in claimed and created_by_one_of(record, authors) and fits(record):
            claimed.add(worklog_id)
            return record
    return None


def _starts_at(record: Record, start: dt.datetime) -> bool:
    try:
        return parse_tracker_start(str(record["start"])) == start
    except (KeyError, ValueError):
        return False


def _difference(file: Worklog, held: Worklog) -> str:
    parts = []
    if file.duration != held.duration:
        parts.append(
            f"{held.duration.total_seconds() / 3600:g} h, the file "
            f"{file.duration.total_seconds() / 3600:g} h"
        )
    if file.comment.strip() != held.comment.strip():
        parts.append(f"comment {held.comment.strip()!r}, the file {file.comment.strip()!r}")
    return "; ".join(parts) or "another version"


def _line(row: Booking, status: Status, record: Record | None, error: str) -> Outcome:
    return Outcome(
        row.source,
        status,
        row.worklog,
        worklog_id=str(record.get("id")) if record else "",
        error=error,
        warning=row.warning,
        members=row.members,  # merged per day: a line for each of the group's rows
    )
