"""The commands about what was booked before: ``batches``, ``undo`` and ``verify``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from importer.cli._common import (
    config_option,
    echo,
    fail,
    log_options,
    optional_config_option,
    start_logging,
)
from importer.cli.render import print_summary, print_verify
from importer.config import load_settings, parse_settings
from importer.deliver import Journal
from importer.errors import ExitCode, ImporterError
from importer.log import LogFormat
from importer.pipeline import RunOptions
from importer.pipeline.options import state_path
from importer.pipeline.undoing import UndoOptions, undo_async
from importer.pipeline.verifying import verify_async

_STATE = click.option(
    "--state",
    "state_path_option",
    type=click.Path(path_type=Path),
    help="The journal (default: state.path in the config, else "
    "~/.local/state/worklog-import/journal.sqlite).",
)


def _where(target: str) -> str:
    base, _, org = target.partition("|")
    return f"{base} organisation {org}"


@click.command()
@optional_config_option("The TOML config (for state.path; default: the default journal).")
@_STATE
@click.option("--runs", "show_runs", default=5, show_default=True, help="Runs shown per batch.")
def batches(config_path: Path | None, state_path_option: Path | None, show_runs: int) -> None:
    """List what the journal knows: each batch, its Tracker, runs, bookings and hours.

    \b
    Example:
      worklog-import batches -c config.toml
    """
    try:
        settings = load_settings(config_path) if config_path else parse_settings({})
        path = state_path(RunOptions(files=(), settings=settings, state_path=state_path_option))
        assert path is not None
        journal = Journal.open(path, readonly=True)
    except ImporterError as error:
        fail(error)
    try:
        found = journal.batches()
        if not found:
            echo(f"journal {path}: no bookings yet")
            return
        echo(f"journal {path}")
        for info in found:
            unsure = f"  unsettled: {info.pending}" if info.pending else ""
            echo(
                f"batch {info.batch!r}  {_where(info.target)}  bookings: {info.rows}"
                f"  hours: {info.hours:g}  runs: {info.runs}{unsure}"
            )
            runs = journal.runs(info.target, info.batch)
            if len(runs) > show_runs:
                echo(f"  … {len(runs) - show_runs} earlier runs")
            for run in runs[-show_runs:] if show_runs > 0 else []:
                code = "running or killed" if run.exit_code is None else f"exit {run.exit_code}"
                files = ", ".join(Path(f).name for f in json.loads(run.files)) or "-"
                echo(f"  run {run.id:<5} {run.command:<5} {run.started_at}  {code:<17} {files}")
    finally:
        journal.close()


@click.command()
@config_option
@click.option("--batch", help="Take back every booking this batch holds.")
@click.option("--run", "run_id", type=int, help="Take back what this run booked (see `batches`).")
@_STATE
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="The per-worklog report (default: report.path with -undo before its extension).",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; send nothing.")
@log_options
def undo(
    config_path: Path,
    batch: str | None,
    run_id: int | None,
    state_path_option: Path | None,
    report_path: Path | None,
    dry_run: bool,
    quiet: bool,
    verbose: bool,
    log_format: LogFormat | None,
    log_file: Path | None,
) -> None:
    """Delete from Tracker exactly what a batch or a run booked.

    A worklog someone edited in Tracker since it was booked is left and reported
    'conflict'; one already deleted is reported 'gone'. Safe to run again after a crash.

    \b
    Example:
      worklog-import undo -c config.toml --batch 2026-10 --dry-run
      worklog-import undo -c config.toml --run 17
    """
    start_logging(log_format, log_file, verbose, quiet)
    try:
        settings = load_settings(config_path)
        options = UndoOptions(
            run=RunOptions(
                files=(),
                settings=settings,
                report_path=report_path,
                state_path=state_path_option,
                dry_run=dry_run,
                handle_signals=True,
            ),
            batch=batch,
            run_id=run_id,
        )
        summary = asyncio.run(undo_async(options))
    except ImporterError as error:
        fail(error)
    if not (quiet and summary.exit_code == ExitCode.OK):
        print_summary(summary)
    sys.exit(int(summary.exit_code))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@click.option(
    "--batch",
    help="The batch the files were booked as (default: run.batch, else the first file's name).",
)
@_STATE
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="The per-row report (default: report.path with -verify before its extension).",
)
@log_options
def verify(
    files: tuple[Path, ...],
    config_path: Path,
    batch: str | None,
    state_path_option: Path | None,
    report_path: Path | None,
    quiet: bool,
    verbose: bool,
    log_format: LogFormat | None,
    log_file: Path | None,
) -> None:
    """Check FILE... against Tracker itself, read-only: each row present, missing or
    different, worklogs of the batch the files lack (extra), hours file vs Tracker.

    Exit 0 when Tracker matches the files, 1 when it differs.

    \b
    Example:
      worklog-import verify october.xlsx -c config.toml --batch 2026-10
    """
    start_logging(log_format, log_file, verbose, quiet)
    try:
        options = RunOptions(
            files=list(files),
            settings=load_settings(config_path),
            report_path=report_path,
            state_path=state_path_option,
            batch=batch,
        )
        summary = asyncio.run(verify_async(options))
    except ImporterError as error:
        fail(error)
    if not (quiet and summary.exit_code == ExitCode.OK):
        print_verify(summary)
    sys.exit(int(summary.exit_code))
