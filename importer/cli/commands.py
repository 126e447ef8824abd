"""The commands: flags in, one library call, exit code out.

No parsing, HTTP or business rules live here; :func:`importer.errors.exit_code_for` maps
errors to exit codes, :mod:`importer.cli.render` writes the text.
"""

from __future__ import annotations

import asyncio
import sys
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
    run_options,
    state_option,
)
from importer.cli.render import inspection_lines, print_summary
from importer.config import load_settings, parse_settings
from importer.errors import ConfigError, ExitCode, ImporterError
from importer.models import Mode
from importer.normalize.times import machine_zone
from importer.pipeline import run_import
from importer.preflight import check_setup, inspect_file, whoami_async
from importer.report import RunSummary
from importer.report.progress import TerminalProgress


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@report_option("Where to write the per-row report CSV (default: report.path in the config).")
@state_option()
@click.option(
    "--dry-run", is_flag=True, help="Validate and print the plan; send nothing, change no state."
)
@click.option(
    "--precheck/--no-precheck",
    default=None,
    help="Read each issue's worklogs once and adopt those already booked "
    "(default: on, delivery.precheck).",
)
@click.option(
    "--sandbox",
    is_flag=True,
    help="Import into an embedded sandbox Tracker instead of the real one.",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    help="create: book as the token's owner (default, from the config).",
)
@click.option(
    "--batch",
    help="The batch these bookings belong to (default: run.batch in the config, else the "
    "first file's name without its extension).",
)
@click.option(
    "--sync",
    is_flag=True,
    help="The files are the truth for their batch: edit corrected rows' worklogs and delete "
    "those of rows no longer in the files.",
)
@click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Let --sync delete more of the batch than sync.max_delete_share.",
)
@click.option(
    "--book-beside",
    is_flag=True,
    help="Without --sync, book a row that corrects an earlier booking of its batch beside it "
    "(both worklogs stay in Tracker). By default such a row is not booked (needs_sync).",
)
@click.option(
    "--merge",
    type=click.Choice(["off", "day"]),
    help="day: one worklog per person, issue and day (the rows' hours summed, their comments "
    "joined); off: one per row. Default: merge.per of the config.",
)
@click.option(
    "--recheck",
    is_flag=True,
    help="Look for the batch's worklogs in Tracker first (a listing per issue): a row whose "
    "worklog was deleted there since is booked again instead of trusted to the journal.",
)
@click.option(
    "--rebook",
    is_flag=True,
    help="The batch was booked the other way (per row, or merged per day): take its "
    "worklogs back first, then book the files as --merge says. Try it with --dry-run.",
)
@log_options
def run(
    files: tuple[Path, ...],
    config_path: Path,
    report_path: Path | None,
    state_path: Path | None,
    dry_run: bool,
    precheck: bool | None,
    sandbox: bool,
    mode: str | None,
    batch: str | None,
    sync: bool,
    allow_mass_delete: bool,
    book_beside: bool,
    merge: str | None,
    rebook: bool,
    recheck: bool,
    watching: Watching,
) -> None:
    """Import FILE... into Tracker and write a per-row report.

    \b
    Example:
      export TRACKER_TOKEN=... TRACKER_ORG_ID=...
      worklog-import run october.xlsx -c config.toml --report out/october-report.csv
      worklog-import run october.xlsx -c config.toml --batch 2026-10 --sync
    """

    def call() -> RunSummary:
        if book_beside and sync:
            raise ConfigError(
                "--book-beside and --sync exclude each other: --sync edits the "
                "earlier booking, --book-beside keeps it and books the row too"
            )
        options = run_options(
            config_path,
            files,
            report_path=report_path,
            state_path=state_path,
            sandbox=sandbox,
            dry_run=dry_run,
            precheck=precheck,
            handle_signals=True,
            progress=TerminalProgress() if watching.terminal else None,
            mode=Mode(mode) if mode else None,
            batch=batch,
            sync=sync,
            allow_mass_delete=allow_mass_delete,
            book_beside=book_beside,
            merge=merge,
            rebook=rebook,
            recheck=recheck,
        )
        return run_import(options)

    conclude(call, quiet=watching.quiet, show=print_summary)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@optional_config_option("A config to apply (default: guess the preset from the header).")
@click.option("--rows", default=5, show_default=True, help="How many rows to show.")
def inspect(file: Path, config_path: Path | None, rows: int) -> None:
    """Show how FILE would be read: format, encoding, header, preset, columns, first rows.

    \b
    Example:
      worklog-import inspect export.csv
      worklog-import inspect export.xlsx -c config.toml --rows 10
    """
    try:
        settings = load_settings(config_path) if config_path else None
        found = inspect_file(file, settings, rows=rows)
    except ImporterError as error:
        fail(error)
    echo("\n".join(inspection_lines(found)))
    sys.exit(int(ExitCode.BAD_INPUT) if found.problem else 0)


@click.command()
@optional_config_option("The TOML config (default: only the TRACKER_* environment).")
def whoami(config_path: Path | None) -> None:
    """Show whose token this is and in which organisation, or why Tracker refuses it.

    \b
    Example:
      TRACKER_TOKEN=... TRACKER_ORG_ID=... worklog-import whoami -c config.toml
    """
    try:
        settings = load_settings(config_path) if config_path else parse_settings({})
        me = asyncio.run(whoami_async(settings))
    except ImporterError as error:
        fail(error)
    echo(f"login: {me.login}  name: {me.display}  uid: {me.uid}")
    echo(f"organisation: {me.organisation}  tracker: {me.base_url}")


@click.command("check-config")
@config_option
def check_config(config_path: Path) -> None:
    """Check the config and the environment without touching the network.

    \b
    Example:
      worklog-import check-config -c config.toml
    """
    try:
        settings = load_settings(config_path)
    except ImporterError as error:
        fail(error)
    checkup = check_setup(settings)
    if checkup.problems:
        echo(f"{config_path}: {len(checkup.problems)} problem(s):", err=True)
        for problem in checkup.problems:
            echo(f"  - {problem}", err=True)
        sys.exit(int(ExitCode.BAD_INPUT))
    credentials = checkup.credentials
    assert credentials is not None
    echo(f"config ok: {config_path}")
    echo(f"journal: {checkup.state_path}  mode: {settings.tracker.mode}")
    echo(
        f"timezone: {settings.input.timezone}"
        if settings.input.timezone
        else "timezone: not set: only files whose every time carries a UTC offset can be "
        f"booked (this machine's zone is {machine_zone()})"
    )
    echo(
        f"tracker: {credentials.base_url}  organisation: {credentials.organisation}"
        f"  auth: {credentials.auth}"
    )
