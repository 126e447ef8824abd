"""``worklog-import``: flags in, one library call, exit code out.

No parsing, HTTP or business rules live here; errors are mapped to exit codes in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .checkup import check_setup
from .config import Settings, load_settings, parse_settings
from .errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    ImporterError,
    InputError,
    JournalError,
    StateLocked,
    TrackerUnavailable,
)
from .inspection import describe, inspect_file
from .log import LogFormat, configure_logging
from .presets import PRESETS
from .progress import TerminalProgress
from .run import ExitCode, RunOptions, RunSummary, run_import
from .sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, SandboxSettings
from .whoami import whoami_async

_F = TypeVar("_F", bound=Callable[..., Any])


def _exit_code_for(error: ImporterError) -> ExitCode:
    if isinstance(error, StateLocked):
        return ExitCode.LOCKED
    if isinstance(error, (ConfigError, InputError, JournalError)):
        return ExitCode.BAD_INPUT
    if isinstance(error, AuthError):
        return ExitCode.AUTH
    if isinstance(error, (TrackerUnavailable, DeliveryError)):
        return ExitCode.UNAVAILABLE
    return ExitCode.BAD_INPUT


def _fail(error: ImporterError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(int(_exit_code_for(error)))


def _log_options(command: _F) -> _F:
    for option in (
        click.option(
            "--log-format",
            type=click.Choice(["console", "json"]),
            default=None,
            help="Log lines for people (console) or machines (json). "
            "Default: console on a terminal, json otherwise (cron, pipes, --log-file).",
        ),
        click.option(
            "--log-file",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Append the log lines to this file instead of stderr.",
        ),
        click.option(
            "--verbose", "-v", is_flag=True, help="Log every row's outcome (and every retry)."
        ),
        click.option(
            "--quiet", "-q", is_flag=True, help="Print nothing when every row succeeded (for cron)."
        ),
    ):
        command = option(command)
    return command


def _start_logging(
    log_format: LogFormat | None, log_file: Path | None, verbose: bool, quiet: bool
) -> bool:
    """Set up logs for who is watching; True when a person watches a terminal."""
    terminal = sys.stderr.isatty() and log_file is None
    fmt: LogFormat = log_format or ("console" if terminal else "json")
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.ERROR
    else:
        # On a terminal the progress bar and the summary tell the story; warnings still show.
        level = logging.WARNING if terminal else logging.INFO
    stream = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        stream = log_file.open("a", encoding="utf-8")
        click.get_current_context().call_on_close(stream.close)
    configure_logging(fmt, level=level, stream=stream)
    return terminal and not quiet


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracker-worklog-importer")
def main() -> None:
    """Book timesheets (CSV, Excel) into Yandex Tracker as worklogs, exactly once."""


TOP = 10


def _hours_table(title: str, hours: dict[str, float]) -> list[str]:
    lines = [f"{title}:"]
    for name, value in list(hours.items())[:TOP]:
        lines.append(f"  {name or '(none)':<30} {value:>9.2f} h")
    if len(hours) > TOP:
        rest = sum(list(hours.values())[TOP:])
        lines.append(f"  {f'… {len(hours) - TOP} more':<30} {rest:>9.2f} h")
    return lines


def _print_summary(summary: RunSummary, *, verbose_summary: bool = True) -> None:
    c = summary.counts
    if summary.dry_run:
        lines = [
            "dry run: nothing was sent, no state was changed",
            f"rows: {sum(c.values())}  to create: {c['pending']}"
            f"  already imported: {c['already_imported']}  invalid: {c['invalid']}"
            f"  skipped: {c['skipped']}",
        ]
        if summary.hours_by_author:
            lines += _hours_table("hours to create by person", summary.hours_by_author)
            lines += _hours_table("hours to create by issue", summary.hours_by_issue)
    else:
        lines = [
            f"rows: {sum(c.values())}  created: {c['created']}"
            f"  already imported: {c['already_imported']}"
            f"  invalid: {c['invalid']}  skipped: {c['skipped']}  failed: {c['failed']}"
            f"  pending: {c['pending']}",
            f"hours created: {summary.hours_created:g}  requests: {summary.requests}"
            f"  retries: {summary.retries}  429s: {summary.responses_429}"
            f"  elapsed: {summary.elapsed_seconds:.1f} s",
        ]
        if summary.hours_by_author and verbose_summary:
            lines += _hours_table("hours created by person", summary.hours_by_author)
            lines += _hours_table("hours created by issue", summary.hours_by_issue)
    if summary.problems:
        shown = len(summary.problems)
        trouble = c["failed"] + c["invalid"]
        lines.append(
            f"rows to fix (first {shown} of {trouble}):" if trouble > shown else "rows to fix:"
        )
        lines += [f"  {p['file']}:{p['row']} {p['status']}: {p['error']}" for p in summary.problems]
    if summary.stopped:
        lines.append(f"stopped: {summary.stopped}")
    lines.append(f"report: {summary.report_path}  summary: {summary.summary_path}")
    if summary.failed_rows_path is not None:
        lines.append(f"rows to fix and re-run: {summary.failed_rows_path}")
    click.echo("\n".join(lines))


config_option = click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The TOML config (see config.example.toml).",
)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="Where to write the per-row report CSV (default: report.path in the config).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path),
    help="The journal (default: state.path in the config, else "
    "~/.local/state/worklog-import/journal.sqlite).",
)
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
    type=click.Choice(["create", "import"]),
    help="create: book as the token's owner (default, from the config).",
)
@_log_options
def run(
    files: tuple[Path, ...],
    config_path: Path,
    report_path: Path | None,
    state_path: Path | None,
    dry_run: bool,
    precheck: bool | None,
    sandbox: bool,
    mode: str | None,
    quiet: bool,
    verbose: bool,
    log_format: LogFormat | None,
    log_file: Path | None,
) -> None:
    """Import FILE... into Tracker and write a per-row report.

    \b
    Example:
      export TRACKER_TOKEN=... TRACKER_ORG_ID=...
      worklog-import run october.xlsx -c config.toml --report out/october-report.csv
    """
    watched = _start_logging(log_format, log_file, verbose, quiet)
    try:
        settings = load_settings(config_path)
        options = RunOptions(
            files=list(files),
            settings=settings,
            report_path=report_path,
            state_path=state_path,
            dry_run=dry_run,
            precheck=precheck,
            handle_signals=True,
            progress=TerminalProgress() if watched else None,
            mode=mode,  # type: ignore[arg-type]
            sandbox=_sandbox_settings(settings) if sandbox else None,
        )
        summary = run_import(options)
    except ImporterError as error:
        _fail(error)
        return
    if not (quiet and summary.exit_code == ExitCode.OK):
        _print_summary(summary)
    sys.exit(int(summary.exit_code))


def _sandbox_settings(settings: Settings) -> SandboxSettings:
    knobs = dataclasses.asdict(settings.sandbox)
    return SandboxSettings(**knobs)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="A config to apply (default: guess the preset from the header).",
)
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
        _fail(error)
        return
    lines = [f"file: {found.path}"]
    if found.kind == "csv":
        delimiter = {"\t": "tab"}.get(found.delimiter, repr(found.delimiter))
        lines.append(f"format: CSV  encoding: {found.encoding}  delimiter: {delimiter}")
    else:
        lines.append(f"format: spreadsheet ({found.path.suffix.lstrip('.').upper()})")
    lines.append(f"header row: {found.header_row}")
    lines.append("columns: " + ", ".join(found.header))
    guessed = PRESETS[found.guessed_preset].title if found.guessed_preset else "none matches"
    lines.append(f"preset it would guess: {found.guessed_preset or '-'} ({guessed})")
    if found.problem:
        lines.append(f"problem: {found.problem}")
    else:
        lines.append(f"preset in use: {found.preset or 'none (columns from the config)'}")
        lines.append("column map:")
        lines += [f"  {field:<9} <- {column}" for field, column in found.column_map.items()]
        lines.append(f"first {len(found.rows)} rows as they would be sent:")
        lines += [f"  row {row.row}: {describe(result)}" for row, result in found.rows]
    click.echo("\n".join(lines))
    sys.exit(int(ExitCode.BAD_INPUT) if found.problem else 0)


@main.command()
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="The TOML config (default: only the TRACKER_* environment).",
)
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
        _fail(error)
        return
    click.echo(f"login: {me.login}  name: {me.display}  uid: {me.uid}")
    click.echo(f"organisation: {me.organisation}  tracker: {me.base_url}")


@main.command("check-config")
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
        _fail(error)
        return
    checkup = check_setup(settings)
    if checkup.problems:
        click.echo(f"{config_path}: {len(checkup.problems)} problem(s):", err=True)
        for problem in checkup.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(int(ExitCode.BAD_INPUT))
    credentials = checkup.credentials
    assert credentials is not None
    org = (
        f"X-Org-ID {credentials.org_id}"
        if credentials.org_id
        else f"X-Cloud-Org-ID {credentials.cloud_org_id}"
    )
    click.echo(f"config ok: {config_path}")
    click.echo(f"journal: {checkup.state_path}  mode: {settings.tracker.mode}")
    click.echo(f"tracker: {credentials.base_url}  organisation: {org}  auth: {credentials.auth}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on (0: any free).")
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to every answer.")
@click.option(
    "--rate-limit",
    default=0.0,
    show_default=True,
    help="Requests per second before 429 (0: unlimited).",
)
@click.option("--p-500", default=0.0, show_default=True, help="Probability of a 500.")
@click.option("--p-503", default=0.0, show_default=True, help="Probability of a 503.")
@click.option("--p-429", default=0.0, show_default=True, help="Probability of a random 429.")
@click.option(
    "--p-created-then-500",
    default=0.0,
    show_default=True,
    help="Probability that a worklog is stored and the answer is a 500.",
)
@click.option(
    "--p-created-then-drop",
    default=0.0,
    show_default=True,
    help="Probability that a worklog is stored and the connection dropped.",
)
@click.option("--seed", type=int, default=None, help="Seed for the fault dice.")
def sandbox(host: str, port: int, seed: int | None, **knobs: Any) -> None:
    """Serve a Tracker double on HOST:PORT for rehearsals and tests.

    \b
    Example:
      worklog-import sandbox --port 8080 --p-503 0.2
      TRACKER_BASE_URL=http://127.0.0.1:8080 TRACKER_TOKEN=sandbox-token \\
        TRACKER_ORG_ID=sandbox-org worklog-import run october.csv -c config.toml
    """
    from .sandbox import running_sandbox

    settings = dataclasses.replace(SandboxSettings(seed=seed), **knobs)

    async def serve() -> None:
        async with running_sandbox(settings, host, port) as running:
            click.echo(
                json.dumps(
                    {
                        "base_url": running.base_url,
                        "token": DEFAULT_TOKEN,
                        "org_id": DEFAULT_ORG_ID,
                    }
                ),
                nl=True,
            )
            sys.stdout.flush()
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
