"""Without ``--sync``: a corrected row is held back, never booked beside its earlier booking.

A re-exported month reaches a plain run (cron does not know a file is a correction). A row
that books the same issue, start instant and author as an earlier booking of its batch whose
own row is no longer in the files, with another duration or comment, *corrects* that booking:
booking it too would leave both worklogs in Tracker (2 h and 3 h for a row that says 3 h).
Such a row ends ``needs_sync`` (not sent; the run exits 1) unless ``book_beside`` asks for
both. Whether an earlier booking's own row is in the files is known only once every row was
read, so rows that share a key with an earlier booking wait until the end of the input; the
rest stream through untouched. Pure: the journal's answers are passed in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from importer.journal.schema import Booked, Entry
from importer.models import Booking, Outcome, Status
from importer.sync.editor import describe_change
from importer.sync.plan import correction_key, earlier_worklog

SYNC_HINT = "run with --sync to replace it"


class CorrectionGuard:
    """Holds back the rows of a plain run that correct an earlier booking of the batch."""

    def __init__(
        self,
        earlier: Iterable[Booked],
        recall: Callable[[str], Entry | None],
        *,
        book_beside: bool = False,
        zone: dt.tzinfo | None = None,
        per_day: bool = False,
    ) -> None:
        self.earlier = list(earlier)
        self._recall = recall
        self.book_beside = book_beside
        self._zone = zone
        # Merged per day, a group is itself by person, issue and day: a corrected export may
        # move its earliest row, and with it the worklog's start.
        self._per_day = per_day
        self._by_fp = {e.fingerprint: e for e in self.earlier}
        self._by_key: dict[tuple[str, str, str], list[Booked]] = defaultdict(list)
        for e in self.earlier:
            self._by_key[self._earlier_key(e)].append(e)
        self._seen: set[str] = set()  # earlier bookings whose own row is in the files
        self._corrected: set[str] = set()  # earlier bookings a held-back row corrects
        self.needs_sync = 0  # rows held back
        self.booked_beside = 0  # rows booked beside their earlier booking (book_beside)
        self.read_all = False

    def _row_key(self, row: Booking) -> tuple[str, str, str]:
        worklog = row.worklog
        if not self._per_day:
            return correction_key(worklog)
        return (worklog.issue, self._day(worklog.start), worklog.author)

    def _earlier_key(self, earlier: Booked) -> tuple[str, str, str]:
        if not self._per_day:
            return earlier.key
        start = dt.datetime.fromisoformat(earlier.start_utc.replace("Z", "+00:00"))
        return (earlier.issue, self._day(start), earlier.author)

    def _day(self, start: dt.datetime) -> str:
        return (start.astimezone(self._zone) if self._zone else start).date().isoformat()

    @property
    def removed(self) -> int:
        """Earlier bookings of the batch with no row in the files (nor a correcting row);
        a plain run leaves them in Tracker. Known once every row was read."""
        gone = self._seen | self._corrected
        return sum(1 for e in self.earlier if e.fingerprint not in gone)

    def rows(self, rows: Iterable[Booking | Outcome]) -> Iterator[Booking | Outcome]:
        """The rows, with those that correct an earlier booking decided at the end."""
        if not self.earlier:
            yield from rows
            self.read_all = True
            return
        held: list[Booking] = []
        for row in rows:
            if isinstance(row, Booking):
                if row.fingerprint in self._by_fp:
                    self._seen.add(row.fingerprint)
                elif self._by_key.get(self._row_key(row)):
                    held.append(row)
                    continue
            yield row
        self.read_all = True
        for row in held:
            yield self._decide(row)

    def _decide(self, row: Booking) -> Booking | Outcome:
        entry = self._recall(row.fingerprint)
        if entry is not None and entry.state != "deleted":
            return row  # booked before under another batch: the deliverer says so
        key = self._row_key(row)
        left = [e for e in self._by_key[key] if e.fingerprint not in self._seen]
        if not left:
            return row  # every earlier booking of that key still has its row: a new row
        self._corrected.update(e.fingerprint for e in left)
        earlier = left[0]
        was = earlier_worklog(earlier, self._zone)
        held = (
            f"worklog {earlier.worklog_id or '(id not yet known)'} "
            f"({_hours(earlier.seconds)} h, {earlier.comment.strip()!r}, booked from "
            f"{Path(earlier.source_file).name}:{earlier.source_row})"
        )
        if len(left) > 1:
            held += f" and {len(left) - 1} more booking(s) of the same issue, start and person"
        if self.book_beside:
            self.booked_beside += 1
            note = f"an earlier booking of this row, {held}, is still in Tracker; {SYNC_HINT}"
            return dataclasses.replace(
                row, warning=f"{row.warning}; {note}" if row.warning else note
            )
        self.needs_sync += 1
        return Outcome(
            row.source,
            Status.NEEDS_SYNC,
            row.worklog,
            worklog_id=earlier.worklog_id or "",
            error=(
                f"not booked: this row corrects {held} "
                f"({describe_change(was, row.worklog)}); {SYNC_HINT}, "
                "or with --book-beside to keep both"
            ),
            warning=row.warning,
            previous=was,
            members=row.members,  # a merged group: each of its rows is reported held
        )


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g}"
