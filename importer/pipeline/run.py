"""One import run: read every file, book every valid row exactly once, account for every row.

``run_import(options) -> RunSummary`` is the whole product as a library call; the CLI only
parses flags into :class:`RunOptions` and turns the summary (or an error) into an exit code.
This module only wires the stages together: inputs → bookings → the worker pool (delivering
or planning) → the sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from importer.clock import Clock
from importer.config import DeliverySection, check_batch_name
from importer.deliver import (
    Journal,
    Planner,
    RunStop,
    exclusive,
)
from importer.errors import (
    ImporterError,
    InputError,
    exit_code_for,
)
from importer.log import get_logger, redacting
from importer.models import Booking, Mode, Outcome
from importer.normalize import DayTotals
from importer.pipeline.bookings import bookings
from importer.pipeline.delivery import Delivery, identify, open_delivery, target_of
from importer.pipeline.inputs import InputFile, open_inputs
from importer.pipeline.options import (
    RunOptions,
    credentials_for,
    precheck_on,
    report_path_for,
    signals,
    state_path,
    summary_path,
)
from importer.pipeline.pool import WorkerPool
from importer.pipeline.sink import Sink, flushing, make_sink
from importer.pipeline.syncing import (
    SyncRefused,
    check_valve,
    handler,
    make_plan,
    plan_lines,
    plan_summary,
)
from importer.report import RunSummary, Tally
from importer.sync import CorrectionGuard, Step, SyncPlan
from importer.tracker import RequestStats


def _union_columns(inputs: Sequence[InputFile]) -> list[str]:
    seen: dict[str, None] = {}
    for opened in inputs:
        seen.update(dict.fromkeys(opened.table.columns))
    return list(seen)


def _until_unreadable(
    rows: Iterator[Booking | Outcome], stops: RunStop
) -> Iterator[Booking | Outcome]:
    """The rows, until one cannot be read: then the run stops there, rows under way
    settle, and the summary says what was booked (files are read whole before the first
    request, so this takes a file that changed or broke while the run read it)."""
    try:
        yield from rows
    except InputError as exc:
        stops.stop(exc)


def open_sink(
    options: RunOptions,
    inputs: Sequence[InputFile],
    report_path: Path,
    tally: Tally,
    stats: Callable[[], RequestStats | None],
    stops: RunStop,
    stack: contextlib.AsyncExitStack,
) -> Sink:
    """The report, the failed-rows file and the progress bar, closed with ``stack``; an
    output that cannot be written is refused now, before anything is sent."""
    sink = make_sink(
        report_path,
        _union_columns(inputs),
        tally,
        stats,
        stops.stop,
        stack,
        summary_path=summary_path(options, report_path),
        progress=options.progress,
    )
    if options.progress is not None:
        options.progress.start(sum(i.table.estimated_rows() for i in inputs))
        stack.callback(options.progress.stop)
    return sink


async def _book_or_plan(
    options: RunOptions,
    steps: Iterable[Step],
    journal: Journal,
    target: str,
    stops: RunStop,
    pool: WorkerPool,
    delivery: Delivery | None,
) -> None:
    """Deliver every row (or, in a dry run, plan it), the pool's workers sharing the work."""
    if options.dry_run:
        holdings = delivery.holdings if delivery is not None and precheck_on(options) else None
        planner = Planner(journal, target, stops, holdings)
        zone = options.settings.zone
        await pool.run(steps, handler(None, planner.plan, zone), pooled=lambda: False)
    else:
        assert delivery is not None  # a real run always has a token
        handle = handler(delivery.editor, delivery.deliverer.deliver)
        await pool.run(steps, handle, pooled=lambda: stops.reason is None)
    if not journal.readonly:
        await journal.flush()


def batch_for(options: RunOptions, inputs: Sequence[InputFile]) -> str:
    """The batch this run's bookings belong to: --batch, run.batch, or the first file's name."""
    if options.batch:
        return check_batch_name(options.batch)
    return options.settings.run.batch or inputs[0].table.path.stem or "import"


async def run_import_async(
    options: RunOptions,
    *,
    clock: Clock | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunSummary:
    """Run one import; raises ``ConfigError``/``InputError``/``StateLocked`` before sending."""
    settings, dry_run = options.settings, options.dry_run
    mode = Mode(options.mode or settings.tracker.mode)  # "import" from a Python caller too
    inputs = open_inputs(options.files, settings, mode=mode, now=now)
    batch = batch_for(options, inputs)
    report_path = report_path_for(options)
    tally = Tally(dry_run=dry_run)
    stops = RunStop()
    delivery: Delivery | None = None
    plan: SyncPlan | None = None
    guard: CorrectionGuard | None = None
    state = state_path(options)
    with exclusive(None if dry_run else state):
        journal = Journal.open(state, readonly=dry_run)
        try:
            async with contextlib.AsyncExitStack() as stack:
                credentials = await stack.enter_async_context(credentials_for(options))
                stack.enter_context(redacting(credentials.token))
                target = target_of(credentials)
                journal.begin_run(
                    "sync" if options.sync else "run",
                    target=target,
                    batch=batch,
                    files=[str(i.table.path) for i in inputs],
                )
                rows = bookings(inputs, mode, target, DayTotals(settings.input.max_day_hours))
                steps: Iterable[Step]
                refusal = ""
                if options.sync:
                    plan = make_plan(rows, journal, target, batch)  # reads every row first
                    refusal = _valve(options, plan, batch)
                    steps = plan.steps
                else:
                    guard = CorrectionGuard(
                        journal.batch_bookings(target, batch),
                        journal.recall(target),
                        book_beside=options.book_beside,
                        zone=settings.zone,
                    )
                    steps = guard.rows(_until_unreadable(rows, stops))
                stats = lambda: delivery.client.stats if delivery else None  # noqa: E731
                sink = open_sink(options, inputs, report_path, tally, stats, stops, stack)
                pool = WorkerPool(settings.delivery.concurrency, sink)
                if credentials.token:
                    delivery = await open_delivery(
                        credentials,
                        _delivery_policy(options),
                        journal,
                        stops,
                        pool,
                        stack,
                        mode=mode,
                        precheck=precheck_on(options),
                        clock=clock,
                        zone=settings.zone,
                    )
                get_logger().info(
                    "run_started",
                    files=[str(i.table.path) for i in inputs],
                    presets=[i.column_map.preset_name for i in inputs],
                    dry_run=dry_run,
                    mode=mode,
                    journal=journal.path,
                    precheck=precheck_on(options),
                    batch=batch,
                    run_id=journal.run_id,
                    sync=options.sync,
                )
                with signals(stops, options.handle_signals, options.cancel):
                    if delivery is not None and (precheck_on(options) or not dry_run):
                        await identify(delivery.holdings, stops, credentials)
                    async with flushing(sink):
                        await _book_or_plan(options, steps, journal, target, stops, pool, delivery)
            summary = RunSummary.of(
                tally,
                delivery.client.stats if delivery else None,
                report_path=report_path,
                summary_path=summary_path(options, report_path),
                failed_rows_path=sink.failed.path if sink.failed.rows else None,
                state_path=journal.path,
                problems=sink.problems,
                stopped=stops.reason,
                sent=stops.sent > 0,
            )
            summary.batch, summary.run_id = batch, journal.run_id
            summary.timezone = settings.input.timezone
            summary.command = "sync" if options.sync else "run"
            if plan is not None:
                summary.sync = {**plan_summary(plan), "plan": plan_lines(plan, batch)}
                if refusal:
                    summary.sync["a_real_run_would_refuse"] = refusal
            if guard is not None and guard.earlier and guard.read_all and stops.reason is None:
                summary.removed_from_files = guard.removed
            journal.end_run(int(summary.exit_code))
        except ImporterError as error:
            journal.end_run(int(exit_code_for(error)))
            raise
        finally:
            journal.close()
    summary.publish(
        "run_finished",
        hours_created=summary.hours_created,
        stopped=summary.stopped or None,
        removed_from_files=summary.removed_from_files,
    )
    return summary


def _delivery_policy(options: RunOptions) -> DeliverySection:
    """The config's delivery policy; against the embedded sandbox, its own commit horizon:
    the double stores a write within its ``commit_delay`` and ``latency``, so a rehearsal
    with dropped answers need not wait a real Tracker's horizon."""
    policy = options.settings.delivery
    if options.sandbox is None:
        return policy
    own = options.sandbox.commit_delay + options.sandbox.latency + 1.0
    return dataclasses.replace(policy, commit_horizon=min(policy.commit_horizon, own))


def _valve(options: RunOptions, plan: SyncPlan, batch: str) -> str:
    """Refuse a sync that would delete too much; a dry run only says it would refuse."""
    share = options.settings.sync.max_delete_share
    try:
        check_valve(plan, batch, share, options.allow_mass_delete)
    except SyncRefused as refused:
        if not options.dry_run:
            raise
        return str(refused).splitlines()[0]
    return ""


def run_import(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Run one import to the end (see :func:`run_import_async`)."""
    return asyncio.run(run_import_async(options, clock=clock))
