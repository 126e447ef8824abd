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
import signal
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from importer.clock import Clock
from importer.config import Credentials, Settings, resolve_credentials
from importer.deliver import (
    Journal,
    Planner,
    RunStop,
    default_state_path,
    exclusive,
)
from importer.errors import ConfigError, ExitCode, InputError, Interrupted
from importer.log import get_logger, redacting
from importer.models import Booking, Mode, Outcome
from importer.normalize import DayTotals
from importer.pipeline.bookings import bookings
from importer.pipeline.delivery import Delivery, identify, open_delivery, target_of
from importer.pipeline.inputs import InputFile, open_inputs
from importer.pipeline.pool import WorkerPool
from importer.pipeline.sink import Sink
from importer.report import (
    FailedRowsWriter,
    ReportWriter,
    RunSummary,
    Tally,
    summary_path_for,
    write_summary,
)
from importer.report.progress import NoProgress, RunProgress
from importer.tracker import RequestStats

if TYPE_CHECKING:
    from importer.sandbox import SandboxSettings


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Everything one run needs; the CLI builds this from flags and the config file."""

    files: Sequence[Path]
    settings: Settings
    report_path: Path | None = None
    state_path: Path | None = None
    dry_run: bool = False
    precheck: bool | None = None  # None: the config's delivery.precheck
    mode: Mode | None = None  # None: the config's tracker.mode
    sandbox: SandboxSettings | None = None  # run against an in-process sandbox
    environ: Mapping[str, str] | None = None
    handle_signals: bool = False  # SIGINT/SIGTERM stop the run gracefully (the CLI sets it)
    progress: RunProgress | None = None  # a progress bar, for a person at a terminal


def _union_columns(inputs: Sequence[InputFile]) -> list[str]:
    seen: dict[str, None] = {}
    for opened in inputs:
        seen.update(dict.fromkeys(opened.table.columns))
    return list(seen)


def _state_path(options: RunOptions) -> Path | None:
    """Where the journal lives; ``None`` (in memory) for a run against a throw-away sandbox."""
    if options.sandbox is not None and options.state_path is None:
        return None
    if options.state_path is not None:
        return options.state_path
    configured = options.settings.state.path
    return Path(configured).expanduser() if configured else default_state_path()


@contextlib.asynccontextmanager
async def _credentials(options: RunOptions) -> AsyncIterator[Credentials]:
    """Where to send. A dry run may lack a token: it then plans from the journal alone."""
    if options.sandbox is not None:
        from importer.sandbox import running_sandbox  # only now: it brings aiohttp's server

        async with running_sandbox(options.sandbox) as sandbox:
            yield sandbox.credentials()
        return
    if not options.dry_run:
        yield resolve_credentials(options.settings, options.environ)
        return
    try:
        yield resolve_credentials(options.settings, options.environ, require_token=False)
    except ConfigError as exc:
        get_logger().warning("journal_not_consulted", reason=str(exc))
        yield Credentials(options.settings.tracker.base_url, "", "oauth")


@contextlib.contextmanager
def _signals(stops: RunStop, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM: stop taking rows, let in-flight ones settle, then finish the report."""
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    codes = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
    for signum, code in codes.items():
        loop.add_signal_handler(
            signum, stops.stop, Interrupted(signal.Signals(signum).name, int(code))
        )
    try:
        yield
    finally:
        for signum in codes:
            loop.remove_signal_handler(signum)


def _precheck(options: RunOptions) -> bool:
    configured = options.settings.delivery.precheck
    return configured if options.precheck is None else options.precheck


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


def _open_sink(
    options: RunOptions,
    inputs: Sequence[InputFile],
    report_path: Path,
    tally: Tally,
    stats: Callable[[], RequestStats | None],
    stack: contextlib.ExitStack | contextlib.AsyncExitStack,
) -> Sink:
    """The report, the failed-rows file and the progress bar, closed with ``stack``."""
    columns = _union_columns(inputs)
    report = stack.enter_context(ReportWriter(report_path, columns))
    failed = stack.enter_context(FailedRowsWriter(report_path, columns))
    progress = options.progress or NoProgress()
    if options.progress is not None:
        progress.start(sum(i.table.estimated_rows() for i in inputs))
        stack.callback(progress.stop)
    return Sink(report, failed, tally, progress, stats)


async def _book_or_plan(
    options: RunOptions,
    rows: Iterator[Booking | Outcome],
    journal: Journal,
    target: str,
    stops: RunStop,
    pool: WorkerPool,
    delivery: Delivery | None,
) -> None:
    """Deliver every row (or, in a dry run, plan it), the pool's workers sharing the work."""
    if options.dry_run:
        holdings = delivery.holdings if delivery is not None and _precheck(options) else None
        planner = Planner(journal, target, stops, holdings)
        await pool.run(rows, planner.plan, pooled=lambda: False)
    else:
        assert delivery is not None  # a real run always has a token
        await pool.run(rows, delivery.deliverer.deliver, pooled=lambda: stops.reason is None)
    if not journal.readonly:
        await journal.flush()


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
    report_path = options.report_path or Path(settings.report.path)
    tally = Tally(dry_run=dry_run)
    stops = RunStop()
    delivery: Delivery | None = None
    state = _state_path(options)
    with exclusive(None if dry_run else state):
        journal = Journal.open(state, readonly=dry_run)
        try:
            async with contextlib.AsyncExitStack() as stack:
                credentials = await stack.enter_async_context(_credentials(options))
                stack.enter_context(redacting(credentials.token))
                stats = lambda: delivery.client.stats if delivery else None  # noqa: E731
                sink = _open_sink(options, inputs, report_path, tally, stats, stack)
                pool = WorkerPool(settings.delivery.concurrency, sink)
                if credentials.token:
                    delivery = await open_delivery(
                        credentials,
                        settings.delivery,
                        journal,
                        stops,
                        pool,
                        stack,
                        mode=mode,
                        precheck=_precheck(options),
                        clock=clock,
                    )
                get_logger().info(
                    "run_started",
                    files=[str(i.table.path) for i in inputs],
                    presets=[i.column_map.preset_name for i in inputs],
                    dry_run=dry_run,
                    mode=mode,
                    journal=journal.path,
                    precheck=_precheck(options),
                )
                target = target_of(credentials)
                rows = _until_unreadable(
                    bookings(inputs, mode, target, DayTotals(settings.input.max_day_hours)), stops
                )
                with _signals(stops, options.handle_signals):
                    if delivery is not None and (_precheck(options) or not dry_run):
                        await identify(delivery.holdings, stops, credentials)
                    await _book_or_plan(options, rows, journal, target, stops, pool, delivery)
        finally:
            journal.close()
    summary = RunSummary.of(
        tally,
        delivery.client.stats if delivery else None,
        report_path=report_path,
        summary_path=_summary_path(options, report_path),
        failed_rows_path=sink.failed.path if sink.failed.rows else None,
        state_path=journal.path,
        problems=sink.problems,
        stopped=stops.reason,
        sent=stops.sent > 0,
    )
    write_summary(summary.summary_path, summary.as_json())
    get_logger().info(
        "run_finished",
        **summary.counts,
        hours_created=summary.hours_created,
        exit_code=int(summary.exit_code),
        stopped=summary.stopped or None,
    )
    return summary


def _summary_path(options: RunOptions, report_path: Path) -> Path:
    configured = options.settings.report.summary_path
    if configured and options.report_path is None:
        return Path(configured)
    return summary_path_for(report_path)


def run_import(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Run one import to the end (see :func:`run_import_async`)."""
    return asyncio.run(run_import_async(options, clock=clock))
