"""The commands about what was booked before: ``batches``, ``undo`` and ``verify``."""

from __future__ import annotations

from pathlib import Path

import click

from importer.cli._common import (
    Watching,
    conclude,
    config_option,
    echo,
    fail,
    log_options,
    optional_config_option,
    report_option,
    sandbox_option,
    sandbox_settings,
    state_option,
)
from importer.cli.render import print_summary, print_verify
from importer.config import load_settings, parse_settings
from importer.errors import ImporterError
from importer.pipeline import RunOptions, UndoOptions, journal_path, list_batches
from importer.pipeline import undo as undo_import
from importer.pipeline import verify as verify_files
from importer.pipeline.batches import run_files
from importer.report import RunSummary


@click.command()
@optional_config_option("The TOML config (for state.path; default: the default journal).")
@state_option()
@click.option("--runs", "show_runs", default=5, show_default=True, help="Runs shown per batch.")
def batches(config_path: Path | None, state_path: Path | None, show_runs: int) -> None:
    """List what the journal knows: each batch, its Tracker, runs, bookings and hours.

    \b
    Example:
      worklog-import batches -c config.toml
    """
    try:
        settings = load_settings(config_path) if config_path else parse_settings({})
        path = journal_path(settings, state_path)
        found = list_batches(path)
    except ImporterError as error:
        fail(error)
    if not found:
        echo(f"journal {path}: no bookings yet")
        return
    echo(f"journal {path}")
    for batch in found:
        info = batch.info
        unsure = f"  unsettled: {info.pending}" if info.pending else ""
        echo(
            f"batch {info.batch!r}  {batch.where}  bookings: {info.rows}"
            f"  hours: {info.hours:g}  runs: {info.runs}{unsure}"
        )
        if len(batch.runs) > show_runs:
            echo(f"  … {len(batch.runs) - show_runs} earlier runs")
        for run in batch.runs[-show_runs:] if show_runs > 0 else []:
            code = "running or killed" if run.exit_code is None else f"exit {run.exit_code}"
            files = ", ".join(run_files(run)) or "-"
            echo(f"  run {run.id:<5} {run.command:<5} {run.started_at}  {code:<17} {files}")


@click.command()
@config_option
@click.option("--batch", help="Take back every booking this batch holds.")
@click.option("--run", "run_id", type=int, help="Take back what this run booked (see `batches`).")
@state_option()
@report_option("The per-worklog report (default: report.path with -undo before its extension).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; send nothing.")
@sandbox_option
@log_options
def undo(
    config_path: Path,
    batch: str | None,
    run_id: int | None,
    state_path: Path | None,
    report_path: Path | None,
    dry_run: bool,
    sandbox: bool,
    watching: Watching,
) -> None:
    """Delete from Tracker exactly what a batch or a run booked.

    A worklog someone edited in Tracker since it was booked is left and reported
    'conflict'; one already deleted is reported 'gone'. Safe to run again after a crash.

    \b
    Example:
      worklog-import undo -c config.toml --batch 2026-10 --dry-run
      worklog-import undo -c config.toml --run 17
    """

    def call() -> RunSummary:
        settings = load_settings(config_path)
        run = RunOptions(
            files=(),
            settings=settings,
            report_path=report_path,
            state_path=state_path,
            dry_run=dry_run,
            handle_signals=True,
            sandbox=sandbox_settings(settings, sandbox),
        )
        return undo_import(UndoOptions(run=run, batch=batch, run_id=run_id))

    conclude(call, quiet=watching.quiet, show=print_summary)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@click.option(
    "--batch",
    help="The batch the files were booked as (default: run.batch, else the first file's name).",
)
@state_option()
@report_option("The per-row report (default: report.path with -verify before its extension).")
@sandbox_option
@log_options
def verify(
    files: tuple[Path, ...],
    config_path: Path,
    batch: str | None,
    state_path: Path | None,
    report_path: Path | None,
    sandbox: bool,
    watching: Watching,
) -> None:
    """Check FILE... against Tracker itself, read-only: each row present, missing or
    different, worklogs of the batch the files lack (extra), hours file vs Tracker.

    Exit 0 when Tracker matches the files, 1 when it differs.

    \b
    Example:
      worklog-import verify october.xlsx -c config.toml --batch 2026-10
    """

    def call() -> RunSummary:
        settings = load_settings(config_path)
        options = RunOptions(
            files=list(files),
            settings=settings,
            report_path=report_path,
            state_path=state_path,
            batch=batch,
            sandbox=sandbox_settings(settings, sandbox),
        )
        return verify_files(options)

    conclude(call, quiet=watching.quiet, show=print_verify)
