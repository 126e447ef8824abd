"""``verify``: read-only audit of files against Tracker itself (not the journal).

The journal is only asked which worklogs belong to the batch, so that worklogs of the batch the
file no longer has show up as ``extra``; whether a row is in Tracker is decided by Tracker's
own listings of the files' issues.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Collection
from pathlib import Path

from importer.clock import Clock
from importer.journal.schema import Booked
from importer.log import get_logger
from importer.models import Booking, Outcome, Status
from importer.pipeline.bookings import RowNotes, bookings
from importer.pipeline.delivery import Delivery
from importer.pipeline.options import RunOptions, summary_path
from importer.pipeline.rebooking import booked_other_way, refuse_other_way
from importer.pipeline.rechecking import issue_listings
from importer.pipeline.run import read_files, union_columns
from importer.pipeline.session import RunSession
from importer.report import RunSummary
from importer.sync.verify import Audit, audit


def verify_report_path(options: RunOptions) -> Path:
    """``--report``, else ``report.path`` with ``-verify`` before its extension."""
    if options.report_path is not None:
        return options.report_path
    configured = Path(options.settings.report.path)
    return configured.with_name(f"{configured.stem}-verify{configured.suffix or '.csv'}")


async def verify_async(
    options: RunOptions,
    *,
    clock: Clock | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunSummary:
    """Compare the files with Tracker; raises ``ConfigError``/``InputError`` on bad input."""
    read = read_files(options, now)  # merged per day: groups are compared, as they were booked
    options, settings, mode, inputs, batch = (
        read.options,
        read.options.settings,
        read.mode,
        read.inputs,
        read.batch,
    )
    report_path = verify_report_path(options)
    result = Audit()
    # Read-only: no lock (a run from cron may hold the journal), nothing recorded.
    async with RunSession.open(options, readonly=True, lock=False) as session:
        session.command, session.batch = "verify", batch
        target, stops = session.target, session.stops
        items = list(
            bookings(inputs, mode, target, RowNotes(read.findings, None, mode, read.merger))
        )
        rows = [item for item in items if isinstance(item, Booking)]
        merged = read.merger is not None
        refuse_other_way(
            booked_other_way(session.journal, target, batch, merged=merged), batch, merged=merged
        )
        earlier = session.journal.batch_bookings(target, batch)
        columns = union_columns(inputs)
        sink = session.open_sink(report_path, columns, summary_path(options, report_path, "verify"))
        delivery = await session.open_delivery(mode=mode, precheck=False, clock=clock)
        get_logger().info("verify_started", batch=batch, rows=len(rows), mode=mode)
        await session.identify()
        if stops.reason is None:
            result = await _audit(delivery, rows, earlier, settings.delivery.concurrency)
            for item in items:
                if isinstance(item, Outcome):
                    sink(item)
                elif item.worklog.issue in result.refused:
                    reason = result.refused[item.worklog.issue]
                    sink(
                        Outcome(
                            item.source,
                            Status.FAILED,
                            item.worklog,
                            error=reason,
                            members=item.members,
                        )
                    )
            for outcome in result.outcomes:
                sink(outcome)
    summary = session.summary
    assert summary is not None
    summary.verify = result.totals()
    summary.publish("verify_finished", batch=batch)
    return summary


async def _audit(
    delivery: Delivery, rows: list[Booking], earlier: list[Booked], concurrency: int
) -> Audit:
    """Tracker's listings of every issue the file or the batch touches, matched with rows."""
    issues = sorted({r.worklog.issue for r in rows} | {e.issue for e in earlier})
    listings, refused = await issue_listings(delivery, issues, concurrency, "verify")
    people: dict[str, Collection[str]] = {}
    for row in rows:
        if row.worklog.author not in people:
            people[row.worklog.author] = await delivery.holdings.authors(row.worklog)
    ids = {e.worklog_id: e for e in earlier if e.worklog_id}
    checked = [r for r in rows if r.worklog.issue not in refused]
    result = audit(checked, listings, lambda w: people[w.author], ids)
    result.refused = refused
    return result


def verify(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Compare the files with Tracker to the end (see :func:`verify_async`)."""
    return asyncio.run(verify_async(options, clock=clock))
