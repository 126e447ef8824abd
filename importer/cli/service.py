"""``worklog-import serve``: the importer as a service (see :mod:`importer.service`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from importer.cli._common import config_option, fail, log_options, start_logging
from importer.config import load_settings
from importer.errors import ImporterError
from importer.log import LogFormat
from importer.pipeline import RunOptions
from importer.pipeline.options import state_path


@click.command()
@config_option
@click.option(
    "--listen",
    default="127.0.0.1:8765",
    show_default=True,
    help="HOST:PORT to serve on; beyond loopback, WORKLOG_IMPORT_API_TOKEN must be set.",
)
@click.option(
    "--state",
    "state",
    type=click.Path(path_type=Path),
    help="The journal (as for run); the jobs are kept beside it in JOURNAL.service/.",
)
@click.option(
    "--inbox",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder to watch: a timesheet dropped into it becomes a job (INBOX/sync/: --sync, "
    "INBOX/dry-run/: --dry-run); it then moves to INBOX/done/ or INBOX/failed/ with its report.",
)
@log_options
def serve(
    config_path: Path,
    listen: str,
    state: Path | None,
    inbox: Path | None,
    quiet: bool,
    verbose: bool,
    log_format: LogFormat | None,
    log_file: Path | None,
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

    start_logging(log_format, log_file, verbose, quiet)
    try:
        settings = load_settings(config_path)
        journal = state_path(RunOptions(files=[], settings=settings, state_path=state))
        assert journal is not None  # only a sandbox run keeps its journal in memory
        token = os.environ.get(TOKEN_ENV, "")
        environ = dict(os.environ)
        asyncio.run(serving(settings, journal, listen, environ=environ, token=token, inbox=inbox))
    except ImporterError as error:
        fail(error)
