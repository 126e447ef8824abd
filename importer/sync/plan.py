"""What a ``--sync`` does: the file compared with its batch's earlier bookings. Pure.

The file is the truth for its batch. Every earlier booking is paired with the file's rows:

* a row with the fingerprint of an earlier booking is that booking (unchanged);
* a row that books the same issue, start instant and author as exactly one earlier booking
  that no row claims, and no other new row shares that key, is its *correction*
  (another duration or comment): the worklog is edited (:class:`Update`);
* the remaining earlier bookings are no longer in the file: their worklogs are deleted
  (:class:`Delete`); the remaining rows are new (created as by any run).

A row that another batch booked stays booked there (``already_imported``); a sync only ever
edits or deletes what its own batch booked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence

from importer.formats import utc_instant
from importer.journal.schema import Booked, Entry
from importer.models import Booking, Outcome, SourceRow, Worklog


@dataclasses.dataclass(frozen=True, slots=True)
class Update:
    """Edit ``earlier``'s worklog so it books ``booking`` (its corrected row)."""

    booking: Booking
    earlier: Booked


@dataclasses.dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``earlier``'s worklog: its row is no longer in the file (or is undone)."""

    earlier: Booked


Step = Booking | Outcome | Update | Delete


def earlier_worklog(earlier: Booked, zone: dt.tzinfo | None = None) -> Worklog:
    """What an earlier booking booked, as a worklog (its start shown in ``zone``)."""
    start = dt.datetime.fromisoformat(earlier.start_utc)
    return Worklog(
        issue=earlier.issue,
        start=start.astimezone(zone) if zone is not None else start,
        duration=dt.timedelta(seconds=earlier.seconds),
        comment=earlier.comment,
        author=earlier.author,
    )


def earlier_source(earlier: Booked) -> SourceRow:
    """The row an earlier booking came from (its cells are not kept, only what it booked)."""
    return SourceRow(earlier.source_file, earlier.source_row, {})


def correction_key(worklog: Worklog) -> tuple[str, str, str]:
    """What a corrected row keeps of its earlier booking (``Booked.key``): issue, start
    instant and author."""
    return (worklog.issue, utc_instant(worklog.start), worklog.author)


@dataclasses.dataclass
class SyncPlan:
    """The steps of a sync, in file order, then the deletions."""

    steps: list[Step]
    batch_size: int  # bookings the batch held before
    unchanged: int = 0
    creates: int = 0
    updates: int = 0
    deletes: int = 0
    # of the deletions, those whose issue, person and day get a new booking in the same plan:
    # a row (or merged group) whose start moved — Tracker cannot move a start — not a removal
    moved: int = 0
    new: set[str] = dataclasses.field(default_factory=set)  # fingerprints of rows to create
    seconds_before: dict[str, int] = dataclasses.field(default_factory=dict)  # by author
    seconds_after: dict[str, int] = dataclasses.field(default_factory=dict)

    def delete_share(self) -> float:
        """The share of the batch the plan removes (deletions of moved rows not counted)."""
        return (self.deletes - self.moved) / self.batch_size if self.batch_size else 0.0

    def first(self, kind: type, count: int = 5) -> list[Step]:
        """The first ``count`` steps of a kind (``Booking``: the rows to create)."""
        chosen: Iterator[Step] = (s for s in self.steps if isinstance(s, kind))
        if kind is Booking:
            chosen = (s for s in chosen if isinstance(s, Booking) and s.fingerprint in self.new)
        return list(itertools.islice(chosen, count))

    def hours_by_author(self) -> dict[str, tuple[float, float]]:
        """Hours per person: the batch before → the file."""
        people = sorted(self.seconds_before.keys() | self.seconds_after.keys())
        return {
            p: (
                round(self.seconds_before.get(p, 0) / 3600, 4),
                round(self.seconds_after.get(p, 0) / 3600, 4),
            )
            for p in people
        }


def plan_sync(
    items: Sequence[Booking | Outcome],
    earlier: Iterable[Booked],
    recall: Callable[[str], Entry | None],
) -> SyncPlan:
    """Pair the file's rows with the batch's earlier bookings (see the module's rules).

    ``recall`` is the journal's lookup: a row another batch booked is not new.
    """
    earlier = list(earlier)
    by_fp = {e.fingerprint: e for e in earlier}
    claimed = {i.fingerprint for i in items if isinstance(i, Booking) and i.fingerprint in by_fp}
    new_rows = [
        item
        for item in items
        if isinstance(item, Booking)
        and item.fingerprint not in by_fp
        and (recall(item.fingerprint) is None or _deleted(recall(item.fingerprint)))
    ]
    leftovers = [e for e in earlier if e.fingerprint not in claimed]
    corrections = _corrections(new_rows, leftovers)
    corrected = {e.fingerprint for e in corrections.values()}
    plan = SyncPlan(steps=[], batch_size=len(earlier), new={b.fingerprint for b in new_rows})
    for e in earlier:
        plan.seconds_before[e.author] = plan.seconds_before.get(e.author, 0) + e.seconds
    for item in items:
        if isinstance(item, Booking):
            _place(plan, item, corrections.get(item.fingerprint), by_fp.get(item.fingerprint))
        else:
            plan.steps.append(item)
    replaced = Counter(_day_key(b.worklog.issue, b.worklog.author, b.worklog.start)
                       for b in new_rows)  # fmt: skip
    for e in leftovers:
        if e.fingerprint not in corrected:
            plan.steps.append(Delete(e))
            plan.deletes += 1
            key = _day_key(e.issue, e.author, dt.datetime.fromisoformat(e.start_utc))
            if replaced[key]:
                replaced[key] -= 1
                plan.moved += 1
    return plan


def _day_key(issue: str, author: str, start: dt.datetime) -> tuple[str, str, dt.date]:
    return (issue, author, start.astimezone(dt.UTC).date())


def _corrections(new_rows: list[Booking], leftovers: list[Booked]) -> dict[str, Booked]:
    """New rows that correct exactly one leftover booking, which no other new row shares."""
    left_by_key: dict[tuple[str, str, str], list[Booked]] = defaultdict(list)
    for e in leftovers:
        left_by_key[e.key].append(e)
    new_keys = Counter(correction_key(b.worklog) for b in new_rows)
    corrections: dict[str, Booked] = {}
    for booking in new_rows:
        key = correction_key(booking.worklog)
        candidates = left_by_key.get(key, [])
        if new_keys[key] == 1 and len(candidates) == 1:
            corrections[booking.fingerprint] = candidates[0]
    return corrections


def _place(plan: SyncPlan, item: Booking, pair: Booked | None, earlier: Booked | None) -> None:
    """One row's step: an edit of the booking it corrects, a creation, or nothing to do."""
    author = item.worklog.author
    seconds = int(item.worklog.duration.total_seconds())
    plan.seconds_after[author] = plan.seconds_after.get(author, 0) + seconds
    if earlier is not None and earlier.state in ("updating", "deleting"):
        pair = earlier  # a sync stopped while editing it: bring it back to this row
    if pair is not None:
        plan.steps.append(Update(item, pair))
        plan.updates += 1
        return
    plan.steps.append(item)
    if item.fingerprint in plan.new:
        plan.creates += 1
    else:
        plan.unchanged += 1  # booked before (by this batch, or by another)


def intended(earlier: Booked) -> Worklog | None:
    """What an unfinished edit of ``earlier`` was about to write, if it was an edit."""
    if earlier.state != "updating" or not earlier.intent:
        return None
    try:
        intent = json.loads(earlier.intent)
        seconds, comment = int(intent["seconds"]), str(intent["comment"])
    except (ValueError, KeyError, TypeError):
        return None
    was = earlier_worklog(earlier)
    return dataclasses.replace(was, duration=dt.timedelta(seconds=seconds), comment=comment)


def _deleted(entry: Entry | None) -> bool:
    return entry is not None and entry.state == "deleted"
