"""``worklog-import serve``: the importer as a service (see :mod:`importer.service`)."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from importer.cli._common import (
    Watching,
    config_option,
    fail,
    log_options,
    sandbox_option,
    sandbox_settings,
    state_option,
)
from importer.config import load_settings
from importer.errors import ConfigError, ImporterError
from importer.pipeline import journal_path


@click.command()
@config_option
@click.option(
    "--listen",
    default="127.0.0.1:8765",
    show_default=True,
    help="HOST:PORT to serve on; beyond loopback, WORKLOG_IMPORT_API_TOKEN must be set.",
)
@state_option("The journal (as for run); the jobs are kept beside it in JOURNAL.service/.")
@click.option(
    "--inbox",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder to watch: a timesheet dropped into it becomes a job (INBOX/sync/: --sync, "
    "INBOX/dry-run/: --dry-run); it then moves to INBOX/done/ or INBOX/failed/ with its report.",
)
@sandbox_option
@log_options
def serve(
    config_path: Path,
    listen: str,
    state_path: Path | None,
    inbox: Path | None,
    sandbox: bool,
    watching: Watching,
) -> None:
    """Take timesheet files over HTTP and import them as jobs, one at a time.

    \b
    Example:
      export TRACKER_TOKEN=... TRACKER_ORG_ID=...
      worklog-import serve -c config.toml --listen 127.0.0.1:8765 --inbox /srv/inbox
      curl -F file=@october.xlsx -F batch=2026-10 http://127.0.0.1:8765/api/jobs
    """

    from importer.service import TOKEN_ENV  # only now: it brings aiohttp's server
    from importer.service import serve as serving

    try:
        settings = load_settings(config_path)
        journal = journal_path(settings, state_path)
        token = os.environ.get(TOKEN_ENV, "")
        environ = dict(os.environ)
        rehearsal = sandbox_settings(settings, sandbox)
        asyncio.run(
            serving(
                settings,
                journal,
                listen,
                environ=environ,
                token=token,
                inbox=inbox,
                sandbox=rehearsal,
            )
        )
    except ImporterError as error:
        fail(error)


def _tokens_file(config_path: Path | None, tokens_file: Path | None) -> Path:
    """--tokens-file, or service.tokens_file of the config (relative to the config)."""
    if tokens_file is not None:
        return tokens_file
    if config_path is None:
        raise ConfigError("name the config (-c CONFIG, its service.tokens_file) or --tokens-file")
    from importer.config import config_path as relative_to_config

    settings = load_settings(config_path)
    if not settings.service.tokens_file:
        raise ConfigError(
            f"{config_path}: service.tokens_file is not set; name the file there (or pass "
            "--tokens-file)"
        )
    return relative_to_config(settings, settings.service.tokens_file)


def _on_tokens_file(command: Callable[..., None]) -> Callable[..., None]:
    """``-c CONFIG`` / ``--tokens-file PATH`` → the tokens file, given to ``command`` as
    ``path``; an error ends the command with its line and exit code."""

    @click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The TOML config whose service.tokens_file to use.",
    )
    @click.option(
        "--tokens-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The tokens file (default: service.tokens_file of the config).",
    )
    @functools.wraps(command)
    def run(config_path: Path | None, tokens_file: Path | None, **given: Any) -> None:
        try:
            command(_tokens_file(config_path, tokens_file), **given)
        except ImporterError as error:
            fail(error)

    return run


@click.group()
def token() -> None:
    """The service's API tokens, one per person: add, revoke, list.

    Each job records whose token submitted it. Only a token's SHA-256 is kept in the file
    (service.tokens_file); a revoked token stops working at once, without restarting the
    service.

    \b
    Example:
      worklog-import token add alice -c config.toml    # prints alice's token, once
      worklog-import token revoke alice -c config.toml
    """


@token.command("add")
@click.argument("name")
@_on_tokens_file
def token_add(path: Path, name: str) -> None:
    """Make NAME a new token and print it, once: give it to NAME; it is not kept anywhere."""
    from importer.service.people import check_name, new_token, read_tokens, token_hash, write_tokens

    check_name(name)
    tokens = read_tokens(path) if path.exists() else {}
    if name in tokens:
        raise ConfigError(f"{path}: {name!r} has a token already (revoke it first)")
    secret = new_token()
    write_tokens(path, {**tokens, name: token_hash(secret)})
    click.echo(secret)
    click.echo(
        f"{name}'s token, shown only now; clients send 'Authorization: Bearer <token>'.", err=True
    )


@token.command("revoke")
@click.argument("name")
@_on_tokens_file
def token_revoke(path: Path, name: str) -> None:
    """Stop NAME's token: a running service refuses it from its next request on."""
    from importer.service.people import read_tokens, write_tokens

    tokens = read_tokens(path)
    if name not in tokens:
        known = ", ".join(sorted(tokens)) or "none"
        raise ConfigError(f"{path}: no token named {name!r} (there are: {known})")
    del tokens[name]
    write_tokens(path, tokens)
    click.echo(f"{name}'s token is revoked.")


@token.command("list")
@_on_tokens_file
def token_list(path: Path) -> None:
    """The names that hold a token (never the tokens)."""
    from importer.service.people import read_tokens

    for name in sorted(read_tokens(path)) if path.exists() else []:
        click.echo(name)
