"""What one run (or undo) is given, and what every such run sets up the same way: where the
journal is, where to send, how signals stop it, where the summary goes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from importer.config import Credentials, Settings, resolve_credentials
from importer.deliver import RunStop, default_state_path
from importer.errors import ConfigError, ExitCode, Interrupted
from importer.log import get_logger
from importer.models import Mode
from importer.report import summary_path_for
from importer.report.progress import RunProgress

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
    handle_signals: bool = False  # SIGHUP/INT/TERM stop the run gracefully (the CLI sets it)
    progress: RunProgress | None = None  # a progress bar, for a person at a terminal
    batch: str | None = None  # None: run.batch in the config, else the first file's name
    sync: bool = False  # the files are the truth for their batch: edit and delete to match
    allow_mass_delete: bool = False  # --sync may delete more than sync.max_delete_share
    book_beside: bool = False  # without --sync, book a corrected row beside its earlier booking
    cancel: asyncio.Event | None = None  # set: the run stops as on SIGTERM (a service's cancel)


EMBEDDED_SANDBOX = "embedded-sandbox"  # the target name of `run --sandbox`'s bookings


def state_path(options: RunOptions) -> Path | None:
    """Where the journal lives; ``None`` (in memory) for a run against a throw-away sandbox."""
    if options.sandbox is not None and options.state_path is None:
        return None
    if options.state_path is not None:
        return options.state_path
    configured = options.settings.state.path
    return Path(configured).expanduser() if configured else default_state_path()


@contextlib.asynccontextmanager
async def credentials_for(options: RunOptions) -> AsyncIterator[Credentials]:
    """Where to send. A dry run may lack a token: it then plans from the journal alone."""
    if options.sandbox is not None:
        from importer.sandbox import running_sandbox  # only now: it brings aiohttp's server

        # With --state, the rehearsal's Tracker keeps its worklogs beside the journal, and
        # its bookings are journaled under one name whatever port it listens on: run twice,
        # the second run books nothing.
        state = state_path(options)
        kept = state.with_name(state.name + ".sandbox.json") if state is not None else None
        async with running_sandbox(options.sandbox, kept=kept, keep=not options.dry_run) as box:
            yield dataclasses.replace(box.credentials(), name=EMBEDDED_SANDBOX)
        return
    if not options.dry_run:
        yield resolve_credentials(options.settings, options.environ)
        return
    try:
        yield resolve_credentials(options.settings, options.environ, require_token=False)
    except ConfigError as exc:
        get_logger().warning("journal_not_consulted", reason=str(exc))
        yield Credentials(options.settings.tracker.base_url, "", "oauth")


async def _stop_when(cancel: asyncio.Event, stops: RunStop) -> None:
    await cancel.wait()
    stops.stop(Interrupted("cancel", int(ExitCode.TERMINATED)))


@contextlib.contextmanager
def signals(stops: RunStop, enabled: bool, cancel: asyncio.Event | None = None) -> Iterator[None]:
    """SIGHUP/SIGINT/SIGTERM: stop taking rows, let in-flight ones settle, then finish the
    report. SIGHUP is a dropped SSH session or closed terminal: the run must not die half-way
    through writing, so it ends the way SIGTERM ends it."""
    watcher = (
        asyncio.get_running_loop().create_task(_stop_when(cancel, stops))
        if cancel is not None
        else None
    )
    try:
        if not enabled:
            yield
            return
        with _handled(stops):
            yield
    finally:
        if watcher is not None:
            watcher.cancel()


@contextlib.contextmanager
def _handled(stops: RunStop) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    codes = {
        signal.SIGHUP: ExitCode.HUNG_UP,
        signal.SIGINT: ExitCode.INTERRUPTED,
        signal.SIGTERM: ExitCode.TERMINATED,
    }
    for signum, code in codes.items():
        loop.add_signal_handler(
            signum, stops.stop, Interrupted(signal.Signals(signum).name, int(code))
        )
    try:
        yield
    finally:
        for signum in codes:
            loop.remove_signal_handler(signum)


def precheck_on(options: RunOptions) -> bool:
    configured = options.settings.delivery.precheck
    return configured if options.precheck is None else options.precheck


def named(path: Path, tag: str) -> Path:
    """``out/report.csv`` → ``out/report-TAG.csv``."""
    return path.with_name(f"{path.stem}-{tag}{path.suffix or '.csv'}")


def report_path_for(options: RunOptions, tag: str = "") -> Path:
    """``--report``, else ``report.path`` (with ``-TAG`` before its extension, e.g. undo's).
    A dry run's default report is ``-dry-run``: a rehearsal never overwrites the last real
    run's report (an explicit ``--report`` is written where it says)."""
    if options.report_path is not None:
        return options.report_path
    configured = Path(options.settings.report.path)
    tags = [t for t in (tag, "dry-run" if options.dry_run else "") if t]
    return named(configured, "-".join(tags)) if tags else configured


def summary_path(options: RunOptions, report_path: Path) -> Path:
    configured = options.settings.report.summary_path
    if configured and options.report_path is None:
        return named(Path(configured), "dry-run") if options.dry_run else Path(configured)
    return summary_path_for(report_path)
