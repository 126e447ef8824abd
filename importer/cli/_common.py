"""What every command shares: the config option, log options, and errors → exit codes."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import logging
import os
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from importer.config import Settings, load_settings
from importer.errors import ExitCode, ImporterError, OutputError, exit_code_for
from importer.log import GuardedFile, LogFormat, configure_logging, get_logger
from importer.pipeline import RunOptions
from importer.report import RunSummary

if TYPE_CHECKING:
    from importer.sandbox import SandboxSettings

_F = TypeVar("_F", bound=Callable[..., Any])


def echo(text: str = "", *, err: bool = False) -> None:
    """``click.echo``, but a reader that went away (``| head``) ends nothing: the rest of
    the text goes nowhere and the command still exits with its own code (click would exit
    1, "rows failed", for a run that booked everything)."""
    try:
        click.echo(text, err=err)
    except BrokenPipeError:
        stream = sys.stderr if err else sys.stdout
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())  # so the final flush at exit fails no more
            os.close(devnull)


def _logs_to() -> str:
    """Where this command's log lines go, as :func:`start_logging` chose: ``console``
    (stderr, for people), ``json`` (JSON lines on stderr) or ``file`` (``--log-file``)."""
    context = click.get_current_context(silent=True)
    return str(context.meta.get("importer.logs_to", "console")) if context else "console"


def fail(error: ImporterError) -> NoReturn:
    """Say why the command stops, and exit with its code (see :func:`exit_code_for`).

    A person, or cron's mail, reads stderr: a plain line there, unless stderr carries JSON
    lines (``--log-format json`` without ``--log-file``), which must stay JSON only. A log
    file gets the same as a JSON event, so it tells the whole story too.
    """
    code = int(exit_code_for(error))
    logs_to = _logs_to()
    if logs_to != "json":
        echo(f"error: {error}", err=True)
    if logs_to != "console":
        get_logger().error("command_failed", reason=str(error), exit_code=code)
    sys.exit(code)


def conclude(
    call: Callable[[], RunSummary], *, quiet: bool, show: Callable[[RunSummary], None]
) -> NoReturn:
    """Every command that books, edits or checks ends here: the library call, its summary
    printed (not under ``--quiet`` when all went well), its exit code; an error that stopped
    it, one line and that error's exit code (:func:`fail`)."""
    try:
        summary = call()
    except ImporterError as error:
        fail(error)
    if not (quiet and summary.exit_code == ExitCode.OK):
        show(summary)
    sys.exit(int(summary.exit_code))


def state_option(help: str = "") -> Callable[[_F], _F]:
    """``--state PATH``: the journal."""
    return click.option(
        "--state",
        "state_path",
        type=click.Path(path_type=Path),
        help=help
        or "The journal (default: state.path in the config, else "
        "~/.local/state/worklog-import/journal.sqlite).",
    )


def report_option(help: str) -> Callable[[_F], _F]:
    """``--report PATH``: the per-row report (a summary and failed rows beside it)."""
    return click.option("--report", "report_path", type=click.Path(path_type=Path), help=help)


def sandbox_option(command: _F) -> _F:
    """``--sandbox``: the embedded Tracker instead of the real one (with ``--state``, the
    rehearsal's worklogs are kept beside the journal, so run, verify and undo see them)."""
    return click.option(
        "--sandbox",
        is_flag=True,
        help="Work against the embedded sandbox Tracker instead of the real one "
        "(with --state, the one a rehearsal kept beside its journal).",
    )(command)


def sandbox_settings(settings: Settings, wanted: bool) -> SandboxSettings | None:
    """The sandbox's knobs from the config's ``[sandbox]``, when ``--sandbox`` was given."""
    if not wanted:
        return None
    from importer.sandbox import SandboxSettings  # only now: it brings aiohttp's server

    return SandboxSettings(**dataclasses.asdict(settings.sandbox))


def run_options(
    config_path: Path,
    files: Sequence[Path],
    *,
    report_path: Path | None,
    state_path: Path | None,
    sandbox: bool,
    **more: Any,
) -> RunOptions:
    """What run, undo and verify are given: the config, the files, where the report and the
    journal go, the sandbox when asked for, and whatever else the command sets."""
    settings = load_settings(config_path)
    return RunOptions(
        files=list(files),
        settings=settings,
        report_path=report_path,
        state_path=state_path,
        sandbox=sandbox_settings(settings, sandbox),
        **more,
    )


def _config_option(*, required: bool, help: str) -> Callable[[_F], _F]:
    return click.option(
        "-c",
        "--config",
        "config_path",
        required=required,
        type=click.Path(path_type=Path),
        help=help,
    )


config_option = _config_option(required=True, help="The TOML config (see config.example.toml).")


def optional_config_option(help: str) -> Callable[[_F], _F]:
    """``-c/--config`` for a command that can do without a config."""
    return _config_option(required=False, help=help)


@dataclasses.dataclass(frozen=True)
class Watching:
    """Who watches a command, as its log options said: ``quiet`` (cron), ``terminal`` (a
    person at a terminal who wants the progress bar)."""

    quiet: bool
    terminal: bool


def log_options(command: _F) -> _F:
    """``--log-format``, ``--log-file``, ``-v``, ``-q``: logging is set up before the command
    runs, and the command is told who is watching (``watching``)."""

    @functools.wraps(command)
    def logged(
        *args: Any,
        log_format: LogFormat | None,
        log_file: Path | None,
        verbose: bool,
        quiet: bool,
        **kwargs: Any,
    ) -> Any:
        terminal = start_logging(log_format, log_file, verbose, quiet)
        return command(*args, watching=Watching(quiet, terminal), **kwargs)

    wrapped: Any = logged
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
        wrapped = option(wrapped)
    return typing.cast(_F, wrapped)


def start_logging(
    log_format: LogFormat | None, log_file: Path | None, verbose: bool, quiet: bool
) -> bool:
    """Set up logs for who is watching; True when a person watches a terminal.

    ``quiet`` silences the terminal (the progress bar, the summary of a run that went well),
    never a log that was asked for: a ``--log-file`` or ``--log-format json`` keeps every
    event for whoever reads it later. Only logs nobody asked for (stderr, format by default)
    are cut to errors, so cron mails nothing when all went well.
    """
    terminal = sys.stderr.isatty() and log_file is None
    fmt: LogFormat = log_format or ("console" if terminal else "json")
    if verbose:
        level = logging.DEBUG
    elif log_file is not None or log_format == "json":
        level = logging.INFO
    elif quiet:
        level = logging.ERROR
    elif terminal and fmt == "console":
        # On a terminal the progress bar and the summary tell the story; warnings still show.
        level = logging.WARNING
    else:
        level = logging.INFO
    stream = None
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handle = log_file.open("a", encoding="utf-8")
        except OSError as error:
            fail(OutputError(f"cannot write the log file {log_file}: {error.strerror or error}"))
        click.get_current_context().call_on_close(handle.close)
        stream = GuardedFile(handle, str(log_file))
    configure_logging(fmt, level=level, stream=stream)
    # JSON-only stderr only when asked for: cron's default (JSON, no flag) still gets a
    # plain line for its mail when a run cannot start.
    chosen = "file" if log_file else ("json" if log_format == "json" else "console")
    click.get_current_context().meta["importer.logs_to"] = chosen
    return terminal and not quiet
