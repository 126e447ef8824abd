"""A job in a process of its own, so the service is never frozen by it.

Reading, normalizing, planning and writing reports are CPU work. On the service's event
loop a 200,000-row dry run held ``/api/health`` for 5.6 s. A thread of its own was not
enough either (measured: ``bench/service.py``): CPython hands the GIL back to a waiting
thread only when the running one has held it for a whole switch interval without letting
go, and a thread that reads a file lets go for every block it reads, so the service's loop
waited up to 0.6 s for its turn while the job checked a big CSV. A process has its own GIL.

The job's process is forked from a small server process that has already imported the
importer (``forkserver``), so a job starts in milliseconds and never inherits the
service's threads or sockets. It gets the run's options (the environment included: the
Tracker token travels only through this pipe), the log setup and the secrets to scrub; it
answers over the pipe with progress (at most ten times a second) and, at the end, the run's
summary or why it could not start. A ``cancel`` message stops the run as SIGTERM stops a
run; so does the service's pipe closing (the service is gone) and SIGTERM itself (systemd
stopping the service's whole control group).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from typing import Any

from importer.errors import ImporterError, StateLocked, SwitchRefused, exit_code_for
from importer.log import LogSetup, get_logger, log_setup, redacting, secrets_redacted
from importer.models import Outcome, RequestStats
from importer.pipeline import RunOptions, run_import_async
from importer.report import RunSummary

log = get_logger()
PROGRESS_EVERY = 0.1  # seconds between progress messages from a job's process
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """What a job's process is given: picklable, the options without live objects."""

    options: RunOptions
    log: LogSetup
    secrets: frozenset[str]
    cwd: str  # the service's working directory (relative paths mean the same)


@dataclasses.dataclass(frozen=True)
class Ended:
    """How a job's process ended: a summary, or the refusal that stopped it starting."""

    summary: RunSummary | None = None
    locked: str = ""  # another run holds the journal: try again later
    exit_code: int = 0  # the run could not start: its exit code and why
    reason: str = ""
    offer: dict[str, str] | None = None  # what the job could be asked again with (a rebook)


class _PipeProgress:
    """In the job's process: the run's progress, sent to the service now and then."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._state: dict[str, Any] = {"total": None, "counts": {}}
        self._sent = 0.0

    def start(self, total: int | None) -> None:
        self._state["total"] = total
        self._send()

    def advance(self, outcome: Outcome, stats: RequestStats | None) -> None:
        counts = self._state["counts"]
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if stats is not None:
            self._state["requests"] = stats.requests
            self._state["retries"] = stats.retries
            self._state["responses_429"] = stats.responses_429
        if time.monotonic() - self._sent >= PROGRESS_EVERY:
            self._send()

    def stop(self) -> None:
        self._send()

    def _send(self) -> None:
        self._sent = time.monotonic()
        _tell(self._conn, ("progress", {**self._state, "counts": dict(self._state["counts"])}))


def _tell(conn: Connection, message: tuple[Any, ...]) -> None:
    with contextlib.suppress(OSError):  # the service is gone: the run stops on the pipe's end
        conn.send(message)


def _job_main(spec: JobSpec, conn: Connection) -> None:
    """The job's process: the run on its own loop, answers over ``conn``."""
    os.chdir(spec.cwd)
    spec.log.apply()
    with redacting(*spec.secrets):
        ended = asyncio.run(_run(spec.options, conn))
    _tell(conn, ("ended", ended))
    conn.close()


async def _run(options: RunOptions, conn: Connection) -> Ended:
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()

    def told() -> None:
        try:
            while conn.poll():
                if conn.recv() == ("cancel",):
                    cancel.set()
        except (EOFError, OSError):  # the service is gone: stop as on SIGTERM
            loop.remove_reader(conn.fileno())
            cancel.set()

    loop.add_reader(conn.fileno(), told)
    progress = _PipeProgress(conn)
    try:
        run = dataclasses.replace(options, progress=progress, cancel=cancel, handle_signals=True)
        return Ended(summary=await run_import_async(run))
    except StateLocked as error:
        return Ended(locked=str(error))
    except ImporterError as error:
        offer = error.offer if isinstance(error, SwitchRefused) else None
        return Ended(exit_code=int(exit_code_for(error)), reason=str(error), offer=offer)
    finally:
        loop.remove_reader(conn.fileno())


def warm_up() -> None:
    """Start the server jobs are forked from (it imports the importer: 0.3 s), so the first
    job starts as fast as the others. Blocking: call it in a thread."""
    forkserver.ensure_running()


class JobProcess:
    """The service's side of one job's process: start it, follow it, stop it."""

    def __init__(self, options: RunOptions, on_progress: Callable[[dict[str, Any]], None]) -> None:
        bare = dataclasses.replace(options, progress=None, cancel=None)
        self._spec = JobSpec(bare, log_setup(), secrets_redacted(), os.getcwd())
        self._conn, self._child = _CONTEXT.Pipe()
        self._process = _CONTEXT.Process(target=_job_main, args=(self._spec, self._child))
        self._on_progress = on_progress

    async def start(self) -> None:
        """Fork the job's process (in a thread: the fork server answers with its pid)."""
        await asyncio.to_thread(self._process.start)
        self._child.close()

    def cancel(self) -> None:
        """Stop the run as SIGTERM stops it: in-flight rows settle, the report is written."""
        _tell(self._conn, ("cancel",))

    async def ended(self) -> Ended:
        """Follow the job's messages until it ends; then reap its process."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Ended] = loop.create_future()

        def readable() -> None:
            try:
                while not answer.done() and self._conn.poll():
                    kind, body = self._conn.recv()
                    if kind == "progress":
                        self._on_progress(body)
                    else:
                        answer.set_result(body)
            except (EOFError, OSError):
                if not answer.done():
                    answer.set_exception(EOFError())

        loop.add_reader(self._conn.fileno(), readable)
        try:
            return await asyncio.shield(answer)
        except EOFError:
            await asyncio.to_thread(self._process.join)
            code = self._process.exitcode
            log.error("job_process_died", exit_code=code)
            return Ended(exit_code=1, reason=f"the job's process ended without a word ({code})")
        finally:
            loop.remove_reader(self._conn.fileno())
            if answer.done() and not answer.cancelled():
                await asyncio.to_thread(self._process.join)
                self._conn.close()
