"""``worklog-import serve``: the importer as a service (see :mod:`importer.service`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

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


def _tokens_file(config_path: Path, tokens_file: Path | None) -> Path:
    if tokens_file is not None:
        return tokens_file
    from importer.config import config_path as relative_to_config

    settings = load_settings(config_path)
    if not settings.service.tokens_file:
        raise ConfigError(
            f"{config_path}: service.tokens_file is not set; name the file there (or pass "
            "--tokens-file)"
        )
    return relative_to_config(settings, settings.service.tokens_file)


_tokens_file_option = click.option(
    "--tokens-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The tokens file (default: service.tokens_file of the config).",
)


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
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False))
@_tokens_file_option
def token_add(name: str, config_path: Path | None, tokens_file: Path | None) -> None:
    """Make NAME a new token and print it, once: give it to NAME; it is not kept anywhere."""
    from importer.service.people import check_name, new_token, read_tokens, token_hash, write_tokens

    try:
        path = _tokens_file(_needed(config_path, tokens_file), tokens_file)
        check_name(name)
        tokens = read_tokens(path) if path.exists() else {}
        if name in tokens:
            raise ConfigError(f"{path}: {name!r} has a token already (revoke it first)")
        secret = new_token()
        write_tokens(path, {**tokens, name: token_hash(secret)})
    except ImporterError as error:
        fail(error)
    click.echo(secret)
    click.echo(
        f"{name}'s token, shown only now; clients send 'Authorization: Bearer <token>'.", err=True
    )


@token.command("revoke")
@click.argument("name")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False))
@_tokens_file_option
def token_revoke(name: str, config_path: Path | None, tokens_file: Path | None) -> None:
    """Stop NAME's token: a running service refuses it from its next request on."""
    from importer.service.people import read_tokens, write_tokens

    try:
        path = _tokens_file(_needed(config_path, tokens_file), tokens_file)
        tokens = read_tokens(path)
        if name not in tokens:
            known = ", ".join(sorted(tokens)) or "none"
            raise ConfigError(f"{path}: no token named {name!r} (there are: {known})")
        del tokens[name]
        write_tokens(path, tokens)
    except ImporterError as error:
        fail(error)
    click.echo(f"{name}'s token is revoked.")


@token.command("list")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False))
@_tokens_file_option
def token_list(config_path: Path | None, tokens_file: Path | None) -> None:
    """The names that hold a token (never the tokens)."""
    from importer.service.people import read_tokens

    try:
        path = _tokens_file(_needed(config_path, tokens_file), tokens_file)
        names = sorted(read_tokens(path)) if path.exists() else []
    except ImporterError as error:
        fail(error)
    for name in names:
        click.echo(name)


def _needed(config_path: Path | None, tokens_file: Path | None) -> Path:
    if config_path is None and tokens_file is None:
        raise ConfigError("name the config (-c CONFIG, its service.tokens_file) or --tokens-file")
    return config_path or Path()
