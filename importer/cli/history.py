"""The commands about what was booked before: ``batches``, ``undo`` and ``verify``."""

from __future__ import annotations

from pathlib import Path

import click

from importer.cli import _common as common
from importer.cli.render import print_summary, print_verify
from importer.config import load_settings, parse_settings
from importer.errors import ImporterError
from importer.pipeline import UndoOptions, journal_path, list_batches
from importer.pipeline import undo as undo_import
from importer.pipeline import verify as verify_files
from importer.pipeline.batches import run_files
from importer.report import RunSummary


@click.command()
@common.optional_config_option("The TOML config (for state.path; default: the default journal).")
@common.state_option()
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
        common.fail(error)
    if not found:
        common.echo(f"journal {path}: no bookings yet")
        return
    common.echo(f"journal {path}")
    for batch in found:
        info = batch.info
        unsure = f"  unsettled: {info.pending}" if info.pending else ""
        common.echo(
            f"batch {info.batch!r}  {batch.where}  bookings: {info.rows}"
            f"  hours: {info.hours:g}  runs: {info.runs}{unsure}"
        )
        if len(batch.runs) > show_runs:
            common.echo(f"  … {len(batch.runs) - show_runs} earlier runs")
        for run in batch.runs[-show_runs:] if show_runs > 0 else []:
            code = "running or killed" if run.exit_code is None else f"exit {run.exit_code}"
            files = ", ".join(run_files(run)) or "-"
            common.echo(f"  run {run.id:<5} {run.command:<5} {run.started_at}  {code:<17} {files}")


@click.command()
@common.config_option
@click.option("--batch", help="Take back every booking this batch holds.")
@click.option("--run", "run_id", type=int, help="Take back what this run booked (see `batches`).")
@common.state_option()
@common.report_option(
    "The per-worklog report (default: report.path with -undo before its extension)."
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; send nothing.")
@common.sandbox_option
@common.log_options
def undo(
    config_path: Path,
    batch: str | None,
    run_id: int | None,
    state_path: Path | None,
    report_path: Path | None,
    dry_run: bool,
    sandbox: bool,
    watching: common.Watching,
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
        run = common.run_options(
            config_path,
            (),
            report_path=report_path,
            state_path=state_path,
            sandbox=sandbox,
            dry_run=dry_run,
            handle_signals=True,
        )
        return undo_import(UndoOptions(run=run, batch=batch, run_id=run_id))

    common.conclude(call, quiet=watching.quiet, show=print_summary)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@common.config_option
@click.option(
    "--batch",
    help="The batch the files were booked as (default: run.batch, else the first file's name).",
)
@common.state_option()
@common.report_option(
    "The per-row report (default: report.path with -verify before its extension)."
)
@common.sandbox_option
@click.option(
    "--merge",
    type=click.Choice(["off", "day"]),
    help="Compare as the batch was booked: day, one worklog per person, issue and day; off, "
    "one per row. Default: merge.per of the config.",
)
@common.log_options
def verify(
    files: tuple[Path, ...],
    config_path: Path,
    batch: str | None,
    state_path: Path | None,
    report_path: Path | None,
    sandbox: bool,
    merge: str | None,
    watching: common.Watching,
) -> None:
    """Check FILE... against Tracker itself, read-only: each row present, missing or
    different, worklogs of the batch the files lack (extra), hours file vs Tracker.

    Exit 0 when Tracker matches the files, 1 when it differs.

    \b
    Example:
      worklog-import verify october.xlsx -c config.toml --batch 2026-10
    """

    def call() -> RunSummary:
        options = common.run_options(
            config_path,
            files,
            report_path=report_path,
            state_path=state_path,
            sandbox=sandbox,
            batch=batch,
            merge=merge,
        )
        return verify_files(options)

    common.conclude(call, quiet=watching.quiet, show=print_verify)
