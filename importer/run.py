"""One import run: read every file, book every valid row, account for every row.

``run_import(options) -> RunSummary`` is the whole product as a library call; the CLI only
parses flags into :class:`RunOptions` and turns the summary (or an error) into an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from .clock import Clock
from .config import Credentials, Mode, Settings, resolve_credentials
from .delivery import Deliverer
from .errors import AuthError, ConfigError, InputError, TrackerUnavailable
from .log import get_logger, redact
from .models import Invalid, Outcome, SourceRow, Status, Worklog
from .normalize import Normalizer
from .reading import Table, open_table
from .report import ReportWriter, Tally, summary_path_for, write_summary
from .sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, SandboxSettings, running_sandbox
from .tracker import TrackerClient


class ExitCode(enum.IntEnum):
    """What the process tells cron."""

    OK = 0
    ROWS_FAILED = 1
    BAD_INPUT = 2
    AUTH = 3
    UNAVAILABLE = 4


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Everything one run needs; the CLI builds this from flags and the config file."""

    files: Sequence[Path]
    settings: Settings
    report_path: Path | None = None
    dry_run: bool = False
    mode: Mode | None = None
    sandbox: SandboxSettings | None = None  # run against an in-process sandbox
    environ: Mapping[str, str] | None = None


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
    dry_run: bool = False
    stopped: str = ""
    exit_code: ExitCode = ExitCode.OK

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["report_path"] = str(self.report_path)
        data["summary_path"] = str(self.summary_path)
        data["exit_code"] = int(self.exit_code)
        data["rows"] = sum(self.counts.values())
        return data


def _check_columns(tables: Sequence[Table], normalizer: Normalizer) -> None:
    wanted = normalizer.required_columns() + normalizer.optional_columns()
    for table in tables:
        missing = [name for name in wanted if name not in table.columns]
        if missing:
            names = ", ".join(repr(m) for m in missing)
            raise InputError(
                f"{table.path}: column {names} not found (check [columns] in the config); "
                f"the file's columns are: {', '.join(repr(c) for c in table.columns)}"
            )


def _union_columns(tables: Sequence[Table]) -> list[str]:
    seen: dict[str, None] = {}
    for table in tables:
        seen.update(dict.fromkeys(table.columns))
    return list(seen)


@contextlib.asynccontextmanager
async def _tracker(options: RunOptions) -> AsyncIterator[Credentials]:
    if options.sandbox is None:
        yield resolve_credentials(options.settings, options.environ)
        return
    async with running_sandbox(options.sandbox) as sandbox:
        yield Credentials(sandbox.base_url, DEFAULT_TOKEN, "oauth", org_id=DEFAULT_ORG_ID)


class _Sink:
    """Where outcomes go: the report, the tally, the log."""

    def __init__(self, report: ReportWriter, tally: Tally) -> None:
        self.report = report
        self.tally = tally
        self.log = get_logger()

    def __call__(self, outcome: Outcome) -> None:
        self.report.write(outcome)
        self.tally.add(outcome)
        if outcome.status in (Status.FAILED, Status.INVALID):
            self.log.warning(
                "row_" + outcome.status.value,
                file=outcome.source.file,
                row=outcome.source.row,
                reason=outcome.error,
            )


def _not_delivered(source: SourceRow, result: Worklog | Any, error: str) -> Outcome:
    if isinstance(result, Worklog):
        return Outcome(source, Status.PENDING, result, error=error)
    status = Status.INVALID if isinstance(result, Invalid) else Status.SKIPPED
    return Outcome(source, status, error=result.reason)


async def _pump(
    tables: Sequence[Table],
    normalizer: Normalizer,
    deliverer: Deliverer | None,
    sink: _Sink,
    concurrency: int,
) -> None:
    """Read rows in order and hand valid ones to ``concurrency`` workers."""
    log = get_logger()
    queue: asyncio.Queue[tuple[SourceRow, Worklog] | None] = asyncio.Queue(concurrency * 2)

    async def worker() -> None:
        assert deliverer is not None
        while (item := await queue.get()) is not None:
            sink(await deliverer.deliver(*item))

    workers = [asyncio.create_task(worker()) for _ in range(concurrency if deliverer else 0)]
    try:
        for table in tables:
            rows = 0
            for source in table.rows():
                rows += 1
                result = normalizer.normalize(source)
                if deliverer is None:
                    sink(_not_delivered(source, result, "dry run: not sent"))
                elif isinstance(result, Worklog) and deliverer.stop_reason is None:
                    await queue.put((source, result))
                else:
                    reason = deliverer.stop_reason.message if deliverer.stop_reason else ""
                    sink(_not_delivered(source, result, f"not sent, run stopped: {reason}"))
            log.info("file_read", file=str(table.path), rows=rows)
    finally:
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)


def _exit_code(tally: Tally, deliverer: Deliverer | None, dry_run: bool) -> ExitCode:
    reason = deliverer.stop_reason if deliverer else None
    if isinstance(reason, AuthError):
        return ExitCode.AUTH
    if isinstance(reason, TrackerUnavailable):
        return ExitCode.UNAVAILABLE
    c = tally.counts
    trouble = c[Status.INVALID] + c[Status.FAILED] + (0 if dry_run else c[Status.PENDING])
    return ExitCode.ROWS_FAILED if trouble else ExitCode.OK


async def run_import_async(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Run one import; raises ``ConfigError``/``InputError`` before anything is sent."""
    settings = options.settings
    mode = options.mode or settings.tracker.mode
    if mode == "import":
        raise ConfigError(
            "mode 'import' (keeping each employee as the author) is not available in this "
            "version; use mode 'create'"
        )
    log = get_logger()
    normalizer = Normalizer(settings)
    tables = [open_table(path, settings.input) for path in options.files]
    if not tables:
        raise InputError("no input files given")
    _check_columns(tables, normalizer)
    report_path = options.report_path or Path(settings.report.path)
    summary_path = (
        Path(settings.report.summary_path)
        if settings.report.summary_path and options.report_path is None
        else summary_path_for(report_path)
    )
    tally = Tally()
    deliverer: Deliverer | None = None
    client: TrackerClient | None = None
    log.info("run_started", files=[str(t.path) for t in tables], dry_run=options.dry_run, mode=mode)
    with ReportWriter(report_path, _union_columns(tables)) as report:
        sink = _Sink(report, tally)
        if options.dry_run:
            await _pump(tables, normalizer, None, sink, 0)
        else:
            async with _tracker(options) as credentials, aiohttp.ClientSession() as session:
                redact(credentials.token)
                client = TrackerClient(
                    session,
                    credentials,
                    rate_limit=settings.delivery.rate_limit,
                    request_timeout=settings.delivery.request_timeout,
                    clock=clock,
                )
                deliverer = Deliverer(client, settings.delivery, mode=mode)
                await deliverer.identify()
                await _pump(tables, normalizer, deliverer, sink, settings.delivery.concurrency)
    stats = client.stats if client else None
    summary = RunSummary(
        counts=dict(tally.counts),
        hours_created=round(tally.seconds_created / 3600, 4),
        elapsed_seconds=round(tally.elapsed(), 3),
        requests=stats.requests if stats else 0,
        retries=stats.retries if stats else 0,
        responses_429=stats.responses_429 if stats else 0,
        report_path=report_path,
        summary_path=summary_path,
        dry_run=options.dry_run,
        stopped=deliverer.stop_reason.message if deliverer and deliverer.stop_reason else "",
        exit_code=_exit_code(tally, deliverer, options.dry_run),
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


def run_import(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Run one import to the end (see :func:`run_import_async`)."""
    return asyncio.run(run_import_async(options, clock=clock))
