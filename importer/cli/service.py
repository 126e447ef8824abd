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
from importer.errors import ImporterError
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
