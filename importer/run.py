"""One import run: read every file, book every valid row exactly once, account for every row.

``run_import(options) -> RunSummary`` is the whole product as a library call; the CLI only
parses flags into :class:`RunOptions` and turns the summary (or an error) into an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import enum
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from .clock import Clock
from .config import Credentials, Mode, Settings, resolve_credentials
from .delivery import Deliverer
from .errors import (
    AuthError,
    ConfigError,
    ImporterError,
    Interrupted,
    JournalError,
    TrackerUnavailable,
)
from .inputs import InputFile, open_inputs
from .journal import (
    Journal,
    Occurrences,
    booking_content,
    default_state_path,
    exclusive,
    fingerprint,
)
from .log import get_logger, redact
from .models import Booking, Invalid, Outcome, SourceRow, Status, Worklog
from .normalize import DayTotals
from .progress import NoProgress, RunProgress
from .report import FailedRowsWriter, ReportWriter, Tally, summary_path_for, write_summary
from .sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, SandboxSettings, running_sandbox
from .tracker import RequestStats, TrackerClient


class ExitCode(enum.IntEnum):
    """What the process tells cron."""

    OK = 0
    ROWS_FAILED = 1
    BAD_INPUT = 2
    AUTH = 3
    UNAVAILABLE = 4
    LOCKED = 5
    INTERRUPTED = 130  # SIGINT
    TERMINATED = 143  # SIGTERM


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Everything one run needs; the CLI builds this from flags and the config file."""

    files: Sequence[Path]
    settings: Settings
    report_path: Path | None = None
    state_path: Path | None = None
    dry_run: bool = False
    precheck: bool | None = None  # None: the config's delivery.precheck
    mode: Mode | None = None
    sandbox: SandboxSettings | None = None  # run against an in-process sandbox
    environ: Mapping[str, str] | None = None
    handle_signals: bool = False  # SIGINT/SIGTERM stop the run gracefully (the CLI sets it)
    progress: RunProgress | None = None  # a progress bar, for a person at a terminal


@dataclasses.dataclass
class RunSummary:
    """How a run ended: what the summary JSON holds and what decides the exit code."""

    counts: dict[str, int]
    hours_created: float
    elapsed_seconds: float
    requests: int
    retries: int
    responses_429: int
    report_path: Path
    summary_path: Path
    failed_rows_path: Path | None
    state_path: str
    hours_by_author: dict[str, float] = dataclasses.field(default_factory=dict)
    hours_by_issue: dict[str, float] = dataclasses.field(default_factory=dict)
    problems: list[dict[str, str]] = dataclasses.field(default_factory=list)  # the first few
    dry_run: bool = False
    stopped: str = ""
    exit_code: ExitCode = ExitCode.OK

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("report_path", "summary_path", "failed_rows_path"):
            data[key] = str(data[key]) if data[key] is not None else None
        data["exit_code"] = int(self.exit_code)
        data["rows"] = sum(self.counts.values())
        return data


def _union_columns(inputs: Sequence[InputFile]) -> list[str]:
    seen: dict[str, None] = {}
    for opened in inputs:
        seen.update(dict.fromkeys(opened.table.columns))
    return list(seen)


def _target(credentials: Credentials) -> str:
    """Which Tracker organisation a booking lives in: part of every fingerprint."""
    org = credentials.org_id or f"cloud:{credentials.cloud_org_id}"
    return f"{credentials.base_url}|{org}"


@contextlib.asynccontextmanager
async def _tracker(options: RunOptions) -> AsyncIterator[Credentials]:
    if options.sandbox is None:
        yield resolve_credentials(options.settings, options.environ)
        return
    async with running_sandbox(options.sandbox) as sandbox:
        yield Credentials(sandbox.base_url, DEFAULT_TOKEN, "oauth", org_id=DEFAULT_ORG_ID)


def _state_path(options: RunOptions) -> Path | None:
    """Where the journal lives; ``None`` (in memory) for a run against a throw-away sandbox."""
    if options.sandbox is not None and options.state_path is None:
        return None
    if options.state_path is not None:
        return options.state_path
    configured = options.settings.state.path
    return Path(configured).expanduser() if configured else default_state_path()


PROBLEMS_KEPT = 10


class _Sink:
    """Where outcomes go: the report, the failed-rows file, the tally, the log, the bar."""

    def __init__(
        self,
        report: ReportWriter,
        failed: FailedRowsWriter,
        tally: Tally,
        progress: RunProgress,
        stats: Callable[[], RequestStats | None],
    ) -> None:
        self.report = report
        self.failed = failed
        self.tally = tally
        self.progress = progress
        self.stats = stats
        self.problems: list[dict[str, str]] = []
        self.log = get_logger()
        self.per_row = self.log.is_enabled_for(logging.DEBUG)

    def __call__(self, outcome: Outcome) -> None:
        self.report.write(outcome)
        self.tally.add(outcome)
        self.progress.advance(outcome, self.stats())
        source = outcome.source
        if outcome.status in (Status.FAILED, Status.INVALID):
            self.failed.write(outcome)
            self.log.warning(
                "row_" + outcome.status, file=source.file, row=source.row, reason=outcome.error
            )
        elif self.per_row:
            self.log.debug(
                "row_" + outcome.status,
                file=source.file,
                row=source.row,
                worklog_id=outcome.worklog_id or None,
                note=outcome.error or None,
            )
        if outcome.status in (Status.FAILED, Status.INVALID) and len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(
                {
                    "file": source.file,
                    "row": str(source.row),
                    "status": outcome.status,
                    "error": outcome.error,
                }
            )


def _not_delivered(source: SourceRow, result: Worklog | Any, error: str) -> Outcome:
    if isinstance(result, Worklog):
        return Outcome(source, Status.PENDING, result, error=error)
    status = Status.INVALID if isinstance(result, Invalid) else Status.SKIPPED
    return Outcome(source, status, error=result.reason)


ROWS_PER_SLOT = 8


async def _pump(
    inputs: Sequence[InputFile],
    deliverer: Deliverer,
    sink: _Sink,
    *,
    concurrency: int,
    dry_run: bool,
    day_totals: DayTotals,
) -> None:
    """Read rows in order and deliver valid ones with ``concurrency`` workers at a time.

    A row whose first attempt failed waits (backoff, reconciliation) holding no request
    slot; the pool lends its worker's place to a new worker meanwhile, so fresh rows keep
    Tracker's rate limit busy. At most ``ROWS_PER_SLOT`` workers per slot keep memory flat
    on a Tracker that fails a lot; a full pool, like the end of the input, tells waiting
    reconciliations to go ahead.
    """
    log = get_logger()
    occurrences = Occurrences()
    queue: asyncio.Queue[Booking | None] = asyncio.Queue(concurrency)
    workers: set[asyncio.Task[None]] = set()
    most = concurrency * ROWS_PER_SLOT

    read_all = False

    def full() -> None:
        """Waiting reconciliations go ahead once no more rows are coming or can be taken."""
        if read_all or len(workers) >= most:
            deliverer.reconcile_now.set()
        else:
            deliverer.reconcile_now.clear()

    async def worker() -> None:
        # Retire when more workers are free to take rows than ``concurrency``.
        while len(workers) - deliverer.parked <= concurrency:
            booking = await queue.get()
            if booking is None:
                queue.put_nowait(None)  # pass the end on to the next worker
                return
            sink(await deliverer.deliver(booking))
            full()

    def spawn() -> None:
        if len(workers) < most:
            task = asyncio.create_task(worker())
            workers.add(task)
            task.add_done_callback(workers.discard)
        full()

    async def wind_down() -> None:
        """Tell the workers the input is over and wait for the rows under way."""
        nonlocal read_all
        read_all = True
        full()
        await queue.put(None)
        while workers:
            await asyncio.gather(*workers)

    deliverer.on_park = spawn
    for _ in range(0 if dry_run else concurrency):
        spawn()
    try:
        for opened in inputs:
            table, normalizer = opened.table, opened.normalizer
            rows = 0
            for source in table.rows():
                rows += 1
                result = normalizer.normalize(source)
                if not isinstance(result, Worklog):
                    sink(_not_delivered(source, result, ""))
                    continue
                content = booking_content(result)
                fp = fingerprint(
                    result,
                    mode=deliverer.mode,
                    target=deliverer.target,
                    occurrence=occurrences.next(content),
                    content=content,
                )
                booking = Booking(source, result, fp, day_totals.add(result))
                if dry_run:
                    consult = deliverer.consults_tracker
                    sink(
                        await deliverer.plan(booking)
                        if consult
                        else deliverer.plan_offline(booking)
                    )
                elif deliverer.stop_reason is None:
                    await queue.put(booking)
                else:
                    sink(await deliverer.deliver(booking))  # journal knowledge, else pending
            log.info("file_read", file=str(table.path), rows=rows, header_row=table.header_row)
    except asyncio.CancelledError:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    except BaseException:
        await wind_down()  # rows under way finish and are reported, even if reading failed
        raise
    await wind_down()


def _exit_code(tally: Tally, reason: ImporterError | None, dry_run: bool) -> ExitCode:
    if isinstance(reason, Interrupted):
        return ExitCode(reason.exit_code)
    if isinstance(reason, AuthError):
        return ExitCode.AUTH
    if isinstance(reason, TrackerUnavailable) and not dry_run:
        return ExitCode.UNAVAILABLE
    if isinstance(reason, JournalError):
        return ExitCode.BAD_INPUT
    c = tally.counts
    trouble = c[Status.INVALID] + c[Status.FAILED] + (0 if dry_run else c[Status.PENDING])
    return ExitCode.ROWS_FAILED if trouble else ExitCode.OK


@contextlib.contextmanager
def _signals(deliverer: Deliverer, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM: stop taking rows, let in-flight ones settle, then finish the report."""
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    codes = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
    for signum, code in codes.items():
        loop.add_signal_handler(
            signum, deliverer.stop, Interrupted(signal.Signals(signum).name, int(code))
        )
    try:
        yield
    finally:
        for signum in codes:
            loop.remove_signal_handler(signum)


async def run_import_async(
    options: RunOptions,
    *,
    clock: Clock | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunSummary:
    """Run one import; raises ``ConfigError``/``InputError``/``StateLocked`` before sending."""
    settings = options.settings
    mode = options.mode or settings.tracker.mode
    precheck = settings.delivery.precheck if options.precheck is None else options.precheck
    log = get_logger()
    inputs = open_inputs(options.files, settings, mode=mode, now=now)
    report_path = options.report_path or Path(settings.report.path)
    summary_path = (
        Path(settings.report.summary_path)
        if settings.report.summary_path and options.report_path is None
        else summary_path_for(report_path)
    )
    state = _state_path(options)
    tally = Tally(dry_run=options.dry_run)
    client: TrackerClient | None = None
    with exclusive(None if options.dry_run else state):
        journal = Journal.open(state, readonly=options.dry_run)
        try:
            async with contextlib.AsyncExitStack() as stack:
                credentials = await _credentials(options, stack)
                redact(credentials.token)
                if credentials.token:
                    session = await stack.enter_async_context(aiohttp.ClientSession())
                    client = TrackerClient(
                        session,
                        credentials,
                        rate_limit=settings.delivery.rate_limit,
                        request_timeout=settings.delivery.request_timeout,
                        clock=clock,
                    )
                deliverer = Deliverer(
                    client,
                    settings.delivery,
                    journal=journal,
                    target=_target(credentials),
                    mode=mode,
                    precheck=precheck,
                )
                log.info(
                    "run_started",
                    files=[str(i.table.path) for i in inputs],
                    presets=[
                        i.column_map.preset.name if i.column_map.preset else None for i in inputs
                    ],
                    dry_run=options.dry_run,
                    mode=mode,
                    journal=journal.path,
                    precheck=precheck,
                )
                columns = _union_columns(inputs)
                report = stack.enter_context(ReportWriter(report_path, columns))
                failed = stack.enter_context(FailedRowsWriter(report_path, columns))
                progress = options.progress or NoProgress()
                if options.progress is not None:
                    progress.start(sum(i.table.estimated_rows() for i in inputs))
                    stack.callback(progress.stop)
                sink = _Sink(
                    report, failed, tally, progress, lambda: client.stats if client else None
                )
                with _signals(deliverer, options.handle_signals):
                    if client is not None and (precheck or not options.dry_run):
                        await deliverer.identify()
                    await _pump(
                        inputs,
                        deliverer,
                        sink,
                        concurrency=settings.delivery.concurrency,
                        dry_run=options.dry_run,
                        day_totals=DayTotals(settings.input.max_day_hours),
                    )
                    if not journal.readonly:
                        await journal.flush()
        finally:
            journal.close()
    stats = client.stats if client else None
    reason = deliverer.stop_reason
    summary = RunSummary(
        counts=dict(tally.counts),
        hours_created=round(tally.seconds_created / 3600, 4),
        elapsed_seconds=round(tally.elapsed(), 3),
        requests=stats.requests if stats else 0,
        retries=stats.retries if stats else 0,
        responses_429=stats.responses_429 if stats else 0,
        report_path=report_path,
        summary_path=summary_path,
        failed_rows_path=failed.path if failed.rows else None,
        state_path=journal.path,
        hours_by_author=tally.hours_by("author"),
        hours_by_issue=tally.hours_by("issue"),
        problems=sink.problems,
        dry_run=options.dry_run,
        stopped=str(reason) if reason else "",
        exit_code=_exit_code(tally, reason, options.dry_run),
    )
    write_summary(summary_path, summary.as_json())
    log.info(
        "run_finished",
        **summary.counts,
        hours_created=summary.hours_created,
        exit_code=int(summary.exit_code),
        stopped=summary.stopped or None,
    )
    return summary


async def _credentials(options: RunOptions, stack: contextlib.AsyncExitStack) -> Credentials:
    """Where to send. A dry run may lack a token: it then plans from the journal alone."""
    if options.sandbox is None and options.dry_run:
        try:
            return resolve_credentials(options.settings, options.environ, require_token=False)
        except ConfigError as exc:
            get_logger().warning("journal_not_consulted", reason=str(exc))
            return Credentials(options.settings.tracker.base_url, "", "oauth")
    return await stack.enter_async_context(_tracker(options))


def run_import(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Run one import to the end (see :func:`run_import_async`)."""
    return asyncio.run(run_import_async(options, clock=clock))
