"""The sync plan: how a file's rows pair with its batch's earlier bookings (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from importer.journal.schema import Booked, Entry
from importer.models import Booking, SourceRow, Worklog
from importer.sync import Delete, Update, plan_sync

START = dt.datetime(2026, 10, 1, 6, 0, tzinfo=dt.UTC)


def booking(n: int, hours: float = 1, comment: str = "work", day: int = 0) -> Booking:
    worklog = Worklog(
        f"PORT-{n}", START + dt.timedelta(days=day), dt.timedelta(hours=hours), comment, "anna"
    )
    return Booking(SourceRow("oct.csv", n + 1, {}), worklog, f"fp-{n}-{hours}-{comment}-{day}")


def booked(b: Booking, state: str = "created") -> Booked:
    w = b.worklog
    return Booked(
        fingerprint=b.fingerprint,
        state=state,
        target="t",
        issue=w.issue,
        start_utc=w.start.astimezone(dt.UTC).isoformat(),
        seconds=int(w.duration.total_seconds()),
        comment=w.comment,
        author=w.author,
        mode="create",
        worklog_id=str(b.source.row * 10),
        source_file="oct.csv",
        source_row=b.source.row,
        updated_at="",
        batch="october",
        run_id=1,
        version="1",
        created_by="robot",
        tracker_created_at=None,
        intent=None,
        changed_run=None,
    )


def nothing(fp: str) -> Entry | None:
    return None


def test_unchanged_corrected_removed_and_new_rows() -> None:
    first = [booking(1), booking(2, hours=2), booking(3, comment="old"), booking(4)]
    file = [booking(1), booking(2, hours=1.5), booking(3, comment="new"), booking(5)]
    plan = plan_sync(file, [booked(b) for b in first], nothing)
    assert (plan.unchanged, plan.creates, plan.updates, plan.deletes) == (1, 1, 2, 1)
    updates = [s for s in plan.steps if isinstance(s, Update)]
    assert [(u.booking.source.row, u.earlier.fingerprint) for u in updates] == [
        (3, first[1].fingerprint),
        (4, first[2].fingerprint),
    ]
    [delete] = [s for s in plan.steps if isinstance(s, Delete)]
    assert delete.earlier.issue == "PORT-4"
    assert plan.hours_by_author() == {"anna": (5.0, 4.5)}
    assert plan.delete_share() == 0.25


def test_a_moved_start_is_a_deletion_and_a_creation() -> None:
    plan = plan_sync([booking(1, day=1)], [booked(booking(1))], nothing)
    assert (plan.creates, plan.updates, plan.deletes) == (1, 0, 1)


def test_a_start_moved_within_its_day_is_not_a_removal_to_the_safety_valve() -> None:
    """Tracker cannot move a start: the booking is deleted and booked anew. The valve against
    truncated exports counts what the file removes, not such moves."""
    earlier = [booking(n) for n in range(1, 5)]
    moved = [dataclasses.replace(b, worklog=dataclasses.replace(
        b.worklog, start=b.worklog.start + dt.timedelta(hours=2)), fingerprint=b.fingerprint + "m")
        for b in earlier[:2]]  # fmt: skip
    plan = plan_sync([*moved, *earlier[2:3]], [booked(b) for b in earlier], nothing)
    assert (plan.creates, plan.deletes, plan.moved) == (2, 3, 2)
    assert plan.delete_share() == 0.25  # one of four removed (PORT-4); two moved
    other_day = plan_sync([booking(1, day=1)], [booked(booking(1))], nothing)
    assert (other_day.deletes, other_day.moved) == (1, 0)  # another day: a removal too


def test_an_ambiguous_correction_is_not_guessed() -> None:
    # Two earlier bookings share issue, start and author: which one was corrected is unknown.
    twins = [booking(1, comment="a"), booking(1, comment="b")]
    plan = plan_sync([booking(1, comment="c")], [booked(b) for b in twins], nothing)
    assert (plan.creates, plan.updates, plan.deletes) == (1, 0, 2)


def test_a_row_booked_by_another_batch_is_neither_new_nor_deleted() -> None:
    other = booking(7)

    def recall(fp: str) -> Entry | None:
        return Entry("created", "70", "") if fp == other.fingerprint else None

    plan = plan_sync([other], [], recall)
    assert (plan.unchanged, plan.creates, plan.deletes) == (1, 0, 0)


def test_a_booking_a_stopped_sync_was_editing_is_brought_back_to_its_row() -> None:
    row = booking(1)
    earlier = dataclasses.replace(booked(row), state="updating", intent='{"seconds": 60}')
    plan = plan_sync([row], [earlier], nothing)
    [update] = plan.steps
    assert isinstance(update, Update) and update.earlier is earlier


def test_first_rows_of_each_kind() -> None:
    plan = plan_sync([booking(n) for n in range(1, 9)], [], nothing)
    assert [s.source.row for s in plan.first(Booking, 3)] == [2, 3, 4]  # type: ignore[union-attr]
