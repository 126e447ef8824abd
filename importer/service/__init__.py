"""``worklog-import serve``: imports as jobs behind an HTTP API, one at a time.

The people who hold the monthly files upload them; the service imports each as ``run``
would (same journal, lock, batches, sync, report files) and shows what happened to every
row. Jobs live in SQLite beside the journal (``JOURNAL.service/jobs.sqlite``, their files and
reports in ``JOURNAL.service/jobs/``): a restart resumes queued jobs, and a job the service
was killed in is run again, its rows reconciled as after any crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from importer.config import Settings, config_path
from importer.errors import ConfigError
from importer.log import get_logger, redacting
from importer.service.api import create_service_app
from importer.service.inbox import Inbox
from importer.service.jobs import Job, JobStore
from importer.service.people import Submitters
from importer.service.retention import keep_sweeping
from importer.service.runner import JobProgress, Runner

__all__ = [
    "TOKEN_ENV",
    "Inbox",
    "Job",
    "JobProgress",
    "JobStore",
    "Runner",
    "Submitters",
    "create_service_app",
    "parse_listen",
    "serve",
    "service_folder",
]

if TYPE_CHECKING:
    from importer.sandbox import SandboxSettings

log = get_logger()
TOKEN_ENV = "WORKLOG_IMPORT_API_TOKEN"
SHUTDOWN_WAIT = 60.0  # seconds the running job gets to settle its rows on SIGTERM
INBOX_EVERY = 1.0  # seconds between looks into the inbox


def parse_listen(listen: str, token: str | bool) -> tuple[str, int]:
    """``HOST:PORT``; anything but loopback needs API tokens (``token``: whether there are)."""
    host, _, port_text = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8765") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"--listen {listen!r}: a port is 0 to 65535")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not token:
        raise ConfigError(
            f"--listen {listen}: listening beyond this machine needs API tokens; set "
            f"service.tokens_file (worklog-import token add NAME) or {TOKEN_ENV} (clients then "
            "send 'Authorization: Bearer <token>')"
        )
    return host, port


def service_folder(state: Path) -> Path:
    return state.with_name(state.name + ".service")


async def serve(
    settings: Settings,
    state: Path,
    listen: str,
    *,
    environ: Mapping[str, str],
    token: str = "",
    inbox: Path | None = None,
    ready: asyncio.Event | None = None,
    sandbox: SandboxSettings | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; the running job then stops as a run does, and resumes on
    the next start."""
    tokens_file = settings.service.tokens_file
    submitters = Submitters(config_path(settings, tokens_file) if tokens_file else None, token)
    host, port = parse_listen(listen, submitters.needed)
    folder = service_folder(state)
    store = JobStore(folder / "jobs.sqlite")
    runner = Runner(settings, store, state, environ, sandbox)
    app = create_service_app(runner, folder / "jobs", submitters=submitters)
    web_runner = web.AppRunner(app, access_log=None)
    await web_runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    secrets = [token, environ.get(settings.tracker.token_env, "")]
    with redacting(*secrets):
        try:
            site = web.TCPSite(web_runner, host, port)
            try:
                await site.start()
            except OSError as error:  # the port taken, the address not this machine's
                raise ConfigError(
                    f"--listen {listen}: cannot listen there: {error.strerror or error}"
                ) from None
            _sweep_cut_uploads(folder / "jobs", store)
            log.info("service_started", listen=f"{host}:{port}", jobs=str(folder))
            worker = asyncio.create_task(runner.serve())
            watcher = asyncio.create_task(_watch(inbox, runner, folder / "jobs")) if inbox else None
            sweeper = asyncio.create_task(keep_sweeping(store, settings.service.keep_days))
            if ready is not None:
                ready.set()
            await stop.wait()
            log.info("service_stopping")
            runner.shut_down()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_settled(runner), SHUTDOWN_WAIT)
            for task in (worker, watcher, sweeper):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            await web_runner.cleanup()
            store.close()


def _sweep_cut_uploads(jobs_dir: Path, store: JobStore) -> None:
    """An upload cut off by the service's own death (SIGKILL mid-body) left a folder that no
    job owns: removed at start, as an upload cut off by its client is at once."""
    owned = store.folders()
    for folder in jobs_dir.glob("upload-*"):
        if folder.is_dir() and folder.name not in owned:
            shutil.rmtree(folder, ignore_errors=True)
            log.info("cut_upload_removed", folder=str(folder))


async def _watch(folder: Path, runner: Runner, jobs_dir: Path) -> None:
    """Look into the inbox every second; file away the jobs it started when they end."""
    inbox = Inbox(folder, runner.store, jobs_dir)
    runner.on_end.append(inbox.file_away)
    loop = asyncio.get_running_loop()
    while True:
        try:
            if inbox.scan(loop.time()):
                runner.wakeup.set()
        except OSError as error:  # a folder gone or unreadable: said, and looked at again
            log.error("inbox_unreadable", folder=str(folder), reason=str(error))
        await asyncio.sleep(INBOX_EVERY)


async def _settled(runner: Runner) -> None:
    while runner.current is not None:
        await asyncio.sleep(0.05)
