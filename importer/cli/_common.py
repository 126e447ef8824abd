"""What every command shares: the config option, log options, and errors → exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from importer.errors import ImporterError, exit_code_for
from importer.log import LogFormat, configure_logging

_F = TypeVar("_F", bound=Callable[..., Any])


def fail(error: ImporterError) -> NoReturn:
    """Print the error on stderr and exit with its code (see :func:`exit_code_for`)."""
    click.echo(f"error: {error}", err=True)
    sys.exit(int(exit_code_for(error)))


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


def log_options(command: _F) -> _F:
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


def start_logging(
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
