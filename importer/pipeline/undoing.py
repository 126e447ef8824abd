"""``undo``: delete exactly what one batch or one run booked, exactly once.

Each booking is deleted the way ``--sync`` deletes a removed row (:mod:`importer.sync.editor`):
looked up in Tracker first, left and reported ``conflict`` when someone edited it since, ``gone``
when it is deleted already; the journal marks ``deleting`` before the request and ``deleted``
after, so an undo killed part-way and run again deletes the rest and nothing twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from importer.clock import Clock
from importer.deliver import Journal, RunStop, exclusive
from importer.deliver.journal_schema import Booked
from importer.errors import ConfigError, ImporterError, InputError, exit_code_for
from importer.log import get_logger, redacting
from importer.models import Booking, Mode, Outcome
from importer.pipeline.delivery import Delivery, identify, open_delivery, target_of
from importer.pipeline.options import (
    RunOptions,
    credentials_for,
    report_path_for,
    signals,
    state_path,
)
from importer.pipeline.pool import WorkerPool
from importer.pipeline.sink import flushing, make_sink
from importer.pipeline.syncing import handler
from importer.report import RunSummary, Tally, summary_path_for
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


async def undo_async(
    options: UndoOptions,
    *,
    clock: Clock | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunSummary:
    """Delete what a batch or run booked; raises ``ConfigError``/``InputError`` before sending."""
    if (options.batch is None) == (options.run_id is None):
        raise ConfigError("undo needs exactly one of --batch NAME or --run ID")
    run = options.run
    state = state_path(run)
    if state is None or not state.exists():
        raise ConfigError(f"no journal at {state}: nothing was booked from this machine there")
    report_path = undo_report_path(run)
    tally = Tally(dry_run=run.dry_run)
    stops = RunStop()
    delivery: Delivery | None = None
    with exclusive(None if run.dry_run else state):
        journal = Journal.open(state, readonly=run.dry_run)
        try:
            async with contextlib.AsyncExitStack() as stack:
                credentials = await stack.enter_async_context(credentials_for(run))
                stack.enter_context(redacting(credentials.token))
                target = target_of(credentials)
                batch, bookings = _what(journal, options, target)
                journal.begin_run("undo", target=target, batch=batch, files=[])
                stats = lambda: delivery.client.stats if delivery else None  # noqa: E731
                sink = make_sink(
                    report_path,
                    [],
                    tally,
                    stats,
                    stops.stop,
                    stack,
                    summary_path=summary_path_for(report_path),
                )
                pool = WorkerPool(run.settings.delivery.concurrency, sink)
                if credentials.token and not run.dry_run:
                    modes = {Mode(b.mode) for b in bookings} or {Mode.CREATE}
                    delivery = await open_delivery(
                        credentials,
                        run.settings.delivery,
                        journal,
                        stops,
                        pool,
                        stack,
                        mode=Mode.IMPORT if Mode.IMPORT in modes else Mode.CREATE,
                        precheck=True,
                        clock=clock,
                        zone=run.settings.zone,
                    )
                get_logger().info(
                    "undo_started",
                    batch=batch,
                    run_id=options.run_id,
                    bookings=len(bookings),
                    dry_run=run.dry_run,
                    journal=journal.path,
                )
                steps = [Delete(b) for b in bookings]
                with signals(stops, run.handle_signals):
                    if delivery is not None:
                        await identify(delivery.holdings, stops, credentials)
                        handle = handler(delivery.editor, delivery.deliverer.deliver)
                        async with flushing(sink):
                            await pool.run(steps, handle, pooled=lambda: stops.reason is None)
                    else:
                        idle = handler(None, _never, run.settings.zone)
                        await pool.run(steps, idle, pooled=lambda: False)
                if not journal.readonly:
                    await journal.flush()
            summary = RunSummary.of(
                tally,
                delivery.client.stats if delivery else None,
                report_path=report_path,
                summary_path=summary_path_for(report_path),
                failed_rows_path=None,
                state_path=journal.path,
                problems=sink.problems,
                stopped=stops.reason,
                sent=stops.sent > 0,
            )
            summary.batch, summary.run_id, summary.command = batch, journal.run_id, "undo"
            journal.end_run(int(summary.exit_code))
        except ImporterError as error:
            journal.end_run(int(exit_code_for(error)))
            raise
        finally:
            journal.close()
    summary.publish("undo_finished", batch=batch)
    return summary


async def _never(step: Booking) -> Outcome:
    raise AssertionError("an undo has no rows to book")
