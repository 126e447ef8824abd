"""``run --rebook``: a batch booked one way (a worklog per row, or merged per day) is booked
the other way: its earlier worklogs are taken back first, as ``undo`` takes them back, then
the files are booked as usual.

Taken back first, so the batch never holds its hours twice, not even for a moment. Each
deletion is journaled (``deleting`` before the request, ``deleted`` after), and the rows'
bookings too, so a rebook killed part-way and run again with ``--rebook`` takes back the rest
and books the rest, each exactly once. When some earlier worklog could not be taken back
(someone edited it in Tracker since, or Tracker refused), nothing is booked anew: every row
is left ``pending``, the run exits 1, and the report names the worklogs left.

Without ``--rebook`` such a batch is refused before anything is sent: booking it the other
way beside its earlier worklogs would book its hours twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from importer.errors import ConfigError, SwitchRefused
from importer.journal import Journal
from importer.journal.schema import Booked
from importer.models import Booking, Outcome, Status
from importer.pipeline.delivery import Delivery
from importer.pipeline.session import RunSession
from importer.pipeline.syncing import handler
from importer.sync import Delete

MERGED_RUN = "run+day"  # how the journal records a merged run
TAKEN_BACK = (Status.DELETED, Status.GONE)


def _ways(merged: bool) -> tuple[str, str]:
    per_row, per_day = "one worklog per row", "one worklog per person, issue and day"
    return (per_row, per_day) if merged else (per_day, per_row)


def _per(merged: bool) -> dict[str, str]:
    """How the batch was booked and how it is booked now, as ``row``/``day``."""
    return {"from": "row", "to": "day"} if merged else {"from": "day", "to": "row"}


def booked_other_way(journal: Journal, target: str, batch: str, *, merged: bool) -> list[Booked]:
    """The batch's live bookings made the other way (merged, when this run books per row)."""
    runs = {run.id: run.command for run in journal.runs(target, batch)}
    other = {"run", "sync"} if merged else {MERGED_RUN}
    return [
        b
        for b in journal.batch_bookings(target, batch)
        if runs.get(b.run_id if b.run_id is not None else -1, "run") in other
    ]


def refuse_switch(earlier: list[Booked], batch: str, *, merged: bool, rebook: bool) -> None:
    """A batch booked one way is not booked the other way beside it: its hours would be
    booked twice. ``--rebook`` takes the earlier worklogs back first instead."""
    if not earlier or rebook:
        return
    was, now = _ways(merged)
    raise SwitchRefused(
        f"batch {batch!r} was booked {was} ({len(earlier)} worklogs); booking it {now} "
        f"beside them would book its hours a second time. Keep merge.per as it was for this "
        f"batch, or run again with --rebook to take those worklogs back and book the files "
        f"{now} (try it with --dry-run first)",
        {"batch": batch, **_per(merged)},
    )


def refuse_other_way(earlier: list[Booked], batch: str, *, merged: bool) -> None:
    """``verify`` compares the files the way the batch was booked, or not at all."""
    if not earlier:
        return
    was, now = _ways(merged)
    option = "off" if merged else "day"
    raise ConfigError(
        f"batch {batch!r} was booked {was} ({len(earlier)} worklogs); compared {now} every "
        f"row would differ. Verify it the way it was booked: --merge {option}"
    )


@dataclasses.dataclass
class Rebook:
    """The earlier worklogs a rebook takes back, and how that went."""

    earlier: list[Booked]
    merged: bool
    taken_back: int = 0
    left: int = 0  # not taken back: nothing is booked anew
    stopped: bool = False  # the run stopped while taking them back

    async def take_back(self, session: RunSession, delivery: Delivery | None, dry: bool) -> None:
        """Delete the earlier worklogs (a dry run: plan their deletion), each with a line in
        the report; the rows are booked only once every one of them is gone."""
        pool, stops = session.pool, session.stops
        assert pool is not None
        zone = session.options.settings.zone
        real = delivery is not None and not dry
        edit = handler(delivery.editor if real and delivery else None, _never, zone)
        was, _ = _ways(self.merged)

        async def handle(step: Delete) -> Outcome:
            outcome = await edit(step)
            if outcome.status in TAKEN_BACK:
                self.taken_back += 1
            elif real:
                self.left += 1
            note = f"taken back to rebook the batch (it was booked {was})"
            if outcome.status is Status.PENDING and not real:
                note = f"would be taken back to rebook the batch (it was booked {was})"
            warning = f"{outcome.warning}; {note}" if outcome.warning else note
            return dataclasses.replace(outcome, warning=warning)

        steps = [Delete(b) for b in self.earlier]
        await pool.run(steps, handle, pooled=lambda: real and stops.reason is None)
        self.stopped = stops.reason is not None

    @property
    def unfinished(self) -> bool:
        """Some earlier worklog is still in Tracker: nothing may be booked anew."""
        return bool(self.left) or self.stopped

    def held(self, rows: Iterator[Booking | Outcome]) -> Iterator[Booking | Outcome]:
        """Every row the run would book, left ``pending``, saying why."""
        why = (
            f"not booked: {self.left} of the batch's {len(self.earlier)} earlier worklogs could "
            f"not be taken back (see their lines); booking beside them would book hours twice. "
            f"Settle them and run again with --rebook"
        )
        if self.stopped:
            why = (
                f"not sent, run stopped while taking back the batch's earlier worklogs "
                f"({self.taken_back} of {len(self.earlier)} taken back); run again with --rebook"
            )
        for item in rows:
            if isinstance(item, Booking):
                item = Outcome(
                    item.source, Status.PENDING, item.worklog, error=why, members=item.members
                )
            yield item

    def fingerprints(self) -> frozenset[str]:
        """What a dry run must not call booked: these worklogs would be taken back first."""
        return frozenset(b.fingerprint for b in self.earlier)

    def as_json(self) -> dict[str, Any]:
        was, now = _ways(self.merged)
        return {
            **_per(self.merged),
            "was": was,
            "now": now,
            "earlier_worklogs": len(self.earlier),
            "earlier_hours": round(sum(b.seconds for b in self.earlier) / 3600, 4),
            "taken_back": self.taken_back,
            "left": self.left,
            "stopped": self.stopped,
        }


async def _never(step: Booking) -> Outcome:
    raise AssertionError("taking back has no rows to book")
