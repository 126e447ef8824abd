"""``verify``: read-only audit of files against Tracker itself (not the journal).

The journal is only asked which worklogs belong to the batch, so that worklogs of the batch the
file no longer has show up as ``extra``; whether a row is in Tracker is decided by Tracker's
own listings of the files' issues.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Collection
from pathlib import Path

from importer.clock import Clock
from importer.config import resolve_credentials
from importer.deliver import Journal, RunStop
from importer.errors import Rejected
from importer.log import get_logger, redacting
from importer.models import Booking, Mode, Outcome, Status
from importer.normalize import DayTotals
from importer.pipeline.bookings import bookings
from importer.pipeline.delivery import Delivery, identify, open_delivery, target_of
from importer.pipeline.inputs import open_inputs
from importer.pipeline.options import RunOptions, state_path
from importer.pipeline.pool import WorkerPool
from importer.pipeline.run import batch_for, open_sink
from importer.report import RunSummary, Tally, summary_path_for
from importer.sync.audit import Audit, audit
from importer.tracker import Record


def verify_report_path(options: RunOptions) -> Path:
    """``--report``, else ``report.path`` with ``-verify`` before its extension."""
    if options.report_path is not None:
        return options.report_path
    configured = Path(options.settings.report.path)
    return configured.with_name(f"{configured.stem}-verify{configured.suffix or '.csv'}")


async def _listings(
    delivery: Delivery, issues: list[str], concurrency: int
) -> tuple[dict[str, list[Record]], dict[str, str]]:
    """Every issue's worklogs; an issue Tracker refuses to list is kept with its reason."""
    calls = delivery.deliverer.calls
    client = delivery.client
    gate = asyncio.Semaphore(concurrency)
    found: dict[str, list[Record]] = {}
    refused: dict[str, str] = {}

    async def one(issue: str) -> None:
        async with gate:
            try:
                found[issue] = await calls.pages(
                    f"{issue} (verify)", lambda each: client.issue_worklogs(issue, each_page=each)
                )
            except Rejected as error:
                refused[issue] = f"cannot read {issue}'s worklogs: {error.message}"

    await asyncio.gather(*(one(issue) for issue in issues))
    return found, refused


async def verify_async(
    options: RunOptions,
    *,
    clock: Clock | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunSummary:
    """Compare the files with Tracker; raises ``ConfigError``/``InputError`` on bad input."""
    settings = options.settings
    mode = Mode(options.mode or settings.tracker.mode)
    inputs = open_inputs(options.files, settings, mode=mode, now=now)
    batch = batch_for(options, inputs)
    report_path = verify_report_path(options)
    tally, stops = Tally(), RunStop()
    credentials = resolve_credentials(settings, options.environ)
    target = target_of(credentials)
    journal = Journal.open(state_path(options), readonly=True)
    delivery: Delivery | None = None
    result = Audit()
    try:
        items = list(bookings(inputs, mode, target, DayTotals(settings.input.max_day_hours)))
        rows = [item for item in items if isinstance(item, Booking)]
        earlier = journal.batch_bookings(target, batch)
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(redacting(credentials.token))
            stats = lambda: delivery.client.stats if delivery else None  # noqa: E731
            sink = open_sink(options, inputs, report_path, tally, stats, stops, stack)
            pool = WorkerPool(settings.delivery.concurrency, sink)
            delivery = await open_delivery(
                credentials,
                settings.delivery,
                journal,
                stops,
                pool,
                stack,
                mode=mode,
                precheck=False,
                clock=clock,
                zone=settings.zone,
            )
            get_logger().info("verify_started", batch=batch, rows=len(rows), mode=mode)
            await identify(delivery.holdings, stops, credentials)
            if stops.reason is None:
                issues = sorted({r.worklog.issue for r in rows} | {e.issue for e in earlier})
                listings, refused = await _listings(delivery, issues, settings.delivery.concurrency)
                people: dict[str, Collection[str]] = {}
                for row in rows:
                    if row.worklog.author not in people:
                        people[row.worklog.author] = await delivery.holdings.authors(row.worklog)
                ids = {e.worklog_id: e for e in earlier if e.worklog_id}
                checked = [r for r in rows if r.worklog.issue not in refused]
                result = audit(checked, listings, lambda w: people[w.author], ids)
                for item in items:
                    if isinstance(item, Outcome):
                        sink(item)
                    elif item.worklog.issue in refused:
                        sink(
                            Outcome(
                                item.source,
                                Status.FAILED,
                                item.worklog,
                                error=refused[item.worklog.issue],
                            )
                        )
                for outcome in result.outcomes:
                    sink(outcome)
    finally:
        journal.close()
    summary = RunSummary.of(
        tally,
        delivery.client.stats if delivery else None,
        report_path=report_path,
        summary_path=summary_path_for(report_path),
        failed_rows_path=None,
        state_path=journal.path,
        problems=sink.problems,
        stopped=stops.reason,
    )
    summary.command, summary.batch = "verify", batch
    summary.verify = result.totals()
    summary.publish("verify_finished", batch=batch)
    return summary
