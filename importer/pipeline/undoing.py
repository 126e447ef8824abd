"""``undo``: delete exactly what one batch or one run booked, exactly once.

Each booking is deleted the way ``--sync`` deletes a removed row (:mod:`importer.sync.editor`):
looked up in Tracker first, left and reported ``conflict`` when someone edited it since, ``gone``
when it is deleted already; the journal marks ``deleting`` before the request and ``deleted``
after, so an undo killed part-way and run again deletes the rest and nothing twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from importer.clock import Clock
from importer.errors import ConfigError, InputError
from importer.journal import Journal
from importer.journal.schema import Booked
from importer.log import get_logger
from importer.models import Booking, Mode, Outcome
from importer.pipeline.delivery import Delivery
from importer.pipeline.options import RunOptions, report_path_for, state_path, summary_path
from importer.pipeline.session import RunSession
from importer.pipeline.sink import flushing
from importer.pipeline.syncing import handler
from importer.report import RunSummary
from importer.sync import Delete


@dataclasses.dataclass(frozen=True)
class UndoOptions:
    """What to take back: a batch (every booking it holds) or one run (what it booked)."""

    run: RunOptions  # settings, report, state, dry run, environment, signals (files unused)
    batch: str | None = None
    run_id: int | None = None


def undo_report_path(options: RunOptions) -> Path:
    """``--report``, else ``report.path`` with ``-undo`` (``-undo-dry-run``) before its
    extension."""
    return report_path_for(options, "undo")


def _what(journal: Journal, options: UndoOptions, target: str) -> tuple[str, list[Booked]]:
    """The batch's name and the bookings to delete; refuses what the journal does not know."""
    if options.run_id is not None:
        run = journal.run(options.run_id)
        if run is None:
            raise InputError(
                f"the journal {journal.path} has no run {options.run_id}; "
                "`worklog-import batches` lists its runs"
            )
        if run.target != target:
            raise ConfigError(
                f"run {run.id} booked at {run.target.replace('|', ' organisation ')}, but the "
                f"credentials point at {target.replace('|', ' organisation ')}"
            )
        return run.batch, journal.run_bookings(run.id)
    assert options.batch is not None
    bookings = journal.batch_bookings(target, options.batch)
    if not bookings and not journal.runs(target, options.batch):
        raise InputError(
            f"the journal {journal.path} knows no batch {options.batch!r} at "
            f"{target.replace('|', ' organisation ')}; `worklog-import batches` lists them"
        )
    return options.batch, bookings


async def undo_async(options: UndoOptions, *, clock: Clock | None = None) -> RunSummary:
    """Delete what a batch or run booked; raises ``ConfigError``/``InputError`` before sending."""
    if (options.batch is None) == (options.run_id is None):
        raise ConfigError("undo needs exactly one of --batch NAME or --run ID")
    run = options.run
    state = state_path(run)
    if state is None or not state.exists():
        raise ConfigError(f"no journal at {state}: nothing was booked from this machine there")
    report_path = undo_report_path(run)
    async with RunSession.open(run, readonly=run.dry_run) as session:
        batch, bookings = _what(session.journal, options, session.target)
        session.begin("undo", batch, [])
        sink = session.open_sink(report_path, [], summary_path(run, report_path, "undo"))
        delivery: Delivery | None = None
        if session.credentials.token and not run.dry_run:
            modes = {Mode(b.mode) for b in bookings} or {Mode.CREATE}
            mode = Mode.IMPORT if Mode.IMPORT in modes else Mode.CREATE
            delivery = await session.open_delivery(mode=mode, precheck=True, clock=clock)
        get_logger().info(
            "undo_started",
            batch=batch,
            run_id=options.run_id,
            bookings=len(bookings),
            dry_run=run.dry_run,
            journal=session.journal.path,
        )
        steps = [Delete(b) for b in bookings]
        pool, stops = session.pool, session.stops
        assert pool is not None
        with session.signals():
            if delivery is not None:
                await session.identify()
                handle = handler(delivery.editor, delivery.deliverer.deliver)
                async with flushing(sink):
                    await pool.run(steps, handle, pooled=lambda: stops.reason is None)
            else:
                idle = handler(None, _never, run.settings.zone)
                await pool.run(steps, idle, pooled=lambda: False)
        if not session.journal.readonly:
            await session.journal.flush()
    summary = session.summary
    assert summary is not None
    summary.publish("undo_finished", batch=batch)
    return summary


async def _never(step: Booking) -> Outcome:
    raise AssertionError("an undo has no rows to book")


def undo(options: UndoOptions, *, clock: Clock | None = None) -> RunSummary:
    """Take back a batch or a run to the end (see :func:`undo_async`)."""
    return asyncio.run(undo_async(options, clock=clock))
