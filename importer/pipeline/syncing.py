"""``run --sync``: the plan, its safety valve, and the steps handed to the worker pool."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from importer.errors import SyncRefused
from importer.formats import format_duration
from importer.journal.schema import Booked, Entry
from importer.models import Booking, Outcome, Status
from importer.sync import Delete, Editor, Step, SyncPlan, Update, describe_change, plan_sync
from importer.sync.plan import earlier_source, earlier_worklog

SHOWN = 5  # rows of each kind the plan shows


def make_plan(
    items: Iterable[Booking | Outcome],
    earlier: list[Booked],
    recall: Callable[[str], Entry | None],
) -> SyncPlan:
    """Read every row (so an unreadable file refuses before anything is sent) and pair
    them with the batch's ``earlier`` bookings."""
    return plan_sync(list(items), earlier, recall)


def _row(step: Step) -> str:
    if isinstance(step, Update):
        b = step.booking
        change = describe_change(earlier_worklog(step.earlier), b.worklog)
        return f"{b.source.file}:{b.source.row} {b.worklog.issue} {change}"
    if isinstance(step, Delete):
        e = step.earlier
        was = earlier_worklog(e)
        return (
            f"{e.source_file}:{e.source_row} {e.issue} {was.start.isoformat()} "
            f"{format_duration(was.duration)} (worklog {e.worklog_id or 'unknown'})"
        )
    assert isinstance(step, Booking)
    w = step.worklog
    return (
        f"{step.source.file}:{step.source.row} {w.issue} {w.start.isoformat()} "
        f"{format_duration(w.duration)}"
    )


def plan_lines(plan: SyncPlan, batch: str) -> list[str]:
    """The plan as a person reads it: counts, the first rows of each kind, hours per person."""
    lines = [
        f"sync of batch {batch!r}: {plan.unchanged} unchanged, {plan.creates} to create, "
        f"{plan.updates} to update, {plan.deletes} to delete"
        + (f" ({plan.moved} of them booked anew: their start moved)" if plan.moved else "")
        + " "
        f"(the batch holds {plan.batch_size} bookings)"
    ]
    for title, chosen in (
        ("to create", plan.first(Booking, SHOWN)),
        ("to update", plan.first(Update, SHOWN)),
        ("to delete", plan.first(Delete, SHOWN)),
    ):
        if chosen:
            lines.append(f"first {len(chosen)} {title}:")
            lines += [f"  {_row(s)}" for s in chosen]
    hours = plan.hours_by_author()
    if hours:
        lines.append("hours per person, batch before → file:")
        lines += [
            f"  {person or '(token owner)':<30} {before:>9.2f} → {after:.2f} h"
            for person, (before, after) in hours.items()
        ]
    return lines


def plan_summary(plan: SyncPlan) -> dict[str, Any]:
    """What the summary JSON says about the sync's plan."""
    return {
        "batch_size": plan.batch_size,
        "unchanged": plan.unchanged,
        "to_create": plan.creates,
        "to_update": plan.updates,
        "to_delete": plan.deletes,
        "moved": plan.moved,
        "hours_by_person": {
            p: {"before": b, "after": a} for p, (b, a) in plan.hours_by_author().items()
        },
    }


def check_valve(plan: SyncPlan, batch: str, max_share: float, allowed: bool) -> None:
    """Refuse a sync that deletes more than ``max_share`` of its batch (a truncated export)."""
    if allowed or plan.deletes == 0 or plan.delete_share() <= max_share:
        return
    moved = f" and {plan.moved} more to book anew where their start moved" if plan.moved else ""
    message = (
        f"--sync would delete {plan.deletes - plan.moved}{moved} of the {plan.batch_size} "
        f"bookings of batch {batch!r} ({plan.delete_share():.0%} removed, more than "
        "sync.max_delete_share "
        f"{max_share:.0%}); nothing was sent. Is the file complete? If these rows really are "
        "gone, run again with --allow-mass-delete.\n" + "\n".join(plan_lines(plan, batch))
    )
    raise SyncRefused(message, plan)


def planned(step: Update | Delete, zone: dt.tzinfo | None = None) -> Outcome:
    """A dry run's line for an edit it would make."""
    was = earlier_worklog(step.earlier, zone)
    if isinstance(step, Update):
        return Outcome(
            step.booking.source,
            Status.PENDING,
            step.booking.worklog,
            worklog_id=step.earlier.worklog_id or "",
            error="dry run: would update: " + describe_change(was, step.booking.worklog),
            warning=step.booking.warning,
            previous=was,
            members=step.booking.members,
        )
    return Outcome(
        earlier_source(step.earlier),
        Status.PENDING,
        was,
        worklog_id=step.earlier.worklog_id or "",
        error=f"dry run: would delete worklog {step.earlier.worklog_id or '(not yet known)'}",
        previous=was,
    )


def handler(
    editor: Editor | None,
    deliver: Callable[[Booking], Awaitable[Outcome]],
    zone: dt.tzinfo | None = None,
) -> Callable[[Any], Awaitable[Outcome]]:
    """One worker's way with a step: edits to the editor (or, in a dry run, the plan; starts
    shown in ``zone``), rows to ``deliver``."""

    async def handle(step: Booking | Update | Delete) -> Outcome:
        if isinstance(step, (Update, Delete)):
            return await editor.apply(step) if editor is not None else planned(step, zone)
        return await deliver(step)

    return handle
