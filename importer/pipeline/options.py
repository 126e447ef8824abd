"""What one run (or undo, verify) is given, and where it keeps things: the journal, the
report, the summary."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from importer.config import Settings
from importer.journal import default_state_path
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
    merge: str | None = None  # --merge: "day" or "off" (default: merge.per of the config)
    rebook: bool = False  # a batch booked the other way: take its worklogs back, book anew
    recheck: bool = False  # look for the batch's worklogs in Tracker; book the gone ones again
    cancel: asyncio.Event | None = None  # set: the run stops as on SIGTERM (a service's cancel)
    submitted_by: str | None = None  # a service's job: who submitted it (in the summary)
    # What people call the files (an upload's own name), one per file: the report, the plan
    # and the failed-rows file name them so. None: their paths.
    file_names: Sequence[str] | None = None


EMBEDDED_SANDBOX = "embedded-sandbox"  # the target name of `run --sandbox`'s bookings


def state_path(options: RunOptions) -> Path | None:
    """Where the journal lives; ``None`` (in memory) for a run against a throw-away sandbox."""
    if options.sandbox is not None and options.state_path is None:
        return None
    if options.state_path is not None:
        return options.state_path
    configured = options.settings.state.path
    return Path(configured).expanduser() if configured else default_state_path()


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


def summary_path(options: RunOptions, report_path: Path, tag: str = "") -> Path:
    """``report.summary_path`` when the report is the configured one (tagged as the report
    is: ``-undo``, ``-dry-run``), else beside the report (``NAME.summary.json``)."""
    configured = options.settings.report.summary_path
    if configured and options.report_path is None:
        tags = [t for t in (tag, "dry-run" if options.dry_run else "") if t]
        return named(Path(configured), "-".join(tags)) if tags else Path(configured)
    return summary_path_for(report_path)
