"""The service's worker: the queued jobs, one at a time, each as ``run`` would import it.

One Tracker organisation per service (its config), and its rate limit is the
organisation's: jobs never run side by side. A ``run`` from cron holding the journal's lock
makes the next job wait, with a note, instead of failing it.

A job runs in a thread of its own, on an event loop of its own: reading, normalizing,
planning and writing reports are CPU work, and on the service's loop they would hold up the
health check, the pages and other people's uploads for as long as a big file takes (a
200,000-row dry run held ``/api/health`` for 5.6 s). The service's loop only hands the job
over, reads its progress and, on cancel, wakes the job's loop thread-safely. Everything the
job touches (journal, report, Tracker session) is opened and closed inside its thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from importer.config import Settings
from importer.errors import ExitCode, ImporterError, StateLocked, exit_code_for
from importer.log import get_logger
from importer.models import Mode, Outcome, RequestStats
from importer.pipeline import RunOptions, run_import_async
from importer.report import RunSummary
from importer.service.jobs import Job, JobState, JobStore

if TYPE_CHECKING:
    from importer.sandbox import SandboxSettings

log = get_logger()
LOCKED_RETRY = 10.0  # seconds between tries while another run holds the journal


class JobProgress:
    """A job's rows so far, for the API: counts by status, rows a second, the ETA.

    Written by the job's thread, read by the service's: every access holds the lock."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests = 0
        self.retries = 0
        self.responses_429 = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def start(self, total: int | None) -> None:
        with self._lock:
            self.total = total
            self._started = time.monotonic()

    def advance(self, outcome: Outcome, stats: RequestStats | None) -> None:
        with self._lock:
            self.counts[outcome.status] += 1
            if stats is not None:
                self.requests, self.retries = stats.requests, stats.retries
                self.responses_429 = stats.responses_429

    def stop(self) -> None:
        return None

    def snapshot(self) -> collections.Counter[str]:
        with self._lock:
            return self.counts.copy()

    def as_json(self) -> dict[str, object]:
        with self._lock:
            counts, total, started = dict(self.counts), self.total, self._started
            requests, retries, limited = self.requests, self.retries, self.responses_429
        done = sum(counts.values())
        rate = done / max(time.monotonic() - started, 1e-6)
        left = (total - done) if total is not None else None
        return {
            "rows_done": done,
            "rows_total": total,
            "counts": counts,
            "rows_per_second": round(rate, 1),
            "eta_seconds": round(left / rate, 1) if left is not None and rate > 0 else None,
            "requests": requests,
            "retries": retries,
            "responses_429": limited,
        }


class JobCancel:
    """A running job's stop, set from the service's loop, awaited on the job's own.

    ``asyncio.Event`` is not thread-safe: the service's loop asks the job's loop to set it.
    Asked before the job's loop exists, it is set as soon as the loop attaches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def attach(self) -> asyncio.Event:
        """On the job's loop: the event the run waits on."""
        event = asyncio.Event()
        with self._lock:
            self._loop, self._event = asyncio.get_running_loop(), event
            if self._asked:
                event.set()
        return event

    def set(self) -> None:
        with self._lock:
            self._asked = True
            loop, event = self._loop, self._event
        if loop is not None and event is not None:
            # RuntimeError: the job's loop closed meanwhile, nothing is left to stop
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def is_set(self) -> bool:
        with self._lock:
            return self._asked


@dataclasses.dataclass
class Running:
    job: Job
    progress: JobProgress
    cancel: JobCancel
    shutting_down: bool = False  # the service stops: the job resumes on the next start


def _run_in_own_loop(options: RunOptions, cancel: JobCancel) -> RunSummary:
    """In the job's thread: the run on a loop of its own, its cancel attached to that loop."""

    async def job() -> RunSummary:
        return await run_import_async(dataclasses.replace(options, cancel=cancel.attach()))

    return asyncio.run(job())


def shown_names(names: list[str]) -> list[str]:
    """The uploads' own names, two with the same name told apart by their position."""
    counts = collections.Counter(names)
    return [f"{n} (file {i + 1})" if counts[n] > 1 else n for i, n in enumerate(names)]


async def _in_thread(options: RunOptions, running: Running) -> RunSummary:
    """The job in its thread. Cancelled meanwhile (the service is going down and will not
    wait any longer), the job is stopped as SIGTERM stops a run and is let settle, so the
    thread never outlives the service's loop; it resumes on the next start."""
    job = asyncio.ensure_future(asyncio.to_thread(_run_in_own_loop, options, running.cancel))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        running.shutting_down = True
        running.cancel.set()
        with contextlib.suppress(Exception):
            await job
        raise


class Runner:
    """Takes queued jobs in order and imports them, one at a time."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        state: Path,
        environ: Mapping[str, str] | None = None,
        sandbox: SandboxSettings | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.state = state
        self.environ = environ
        self.sandbox = sandbox  # serve --sandbox: every job books into the kept rehearsal
        self.wakeup = asyncio.Event()
        self.locked_retry = LOCKED_RETRY
        self.stopping = False
        self.current: Running | None = None
        self.on_end: list[Callable[[Job], object]] = []  # told of every job that ended
        self.finished_rows: collections.Counter[str] = collections.Counter()

    async def serve(self) -> None:
        """Run queued jobs until cancelled."""
        for job_id in self.store.resume_interrupted():
            log.warning("job_resumed", job=job_id)
        while not self.stopping:
            job = self.store.next_queued()
            if job is None:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            if not await self.run(job):
                await asyncio.sleep(self.locked_retry)

    def cancel(self, job_id: int) -> bool:
        """Stop a job: a queued one never starts, a running one stops as on SIGTERM."""
        job = self.store.get(job_id)
        if job is None or job.state not in (JobState.QUEUED, JobState.RUNNING):
            return False
        if self.current is not None and self.current.job.id == job_id:
            self.current.cancel.set()
        else:
            self.store.finish(job_id, JobState.CANCELLED, int(ExitCode.TERMINATED), "cancelled", {})
            self._ended(job_id)
        return True

    def _ended(self, job_id: int) -> None:
        job = self.store.get(job_id)
        for tell in self.on_end:
            if job is not None:
                tell(job)

    def shut_down(self) -> None:
        """The service stops: the running job stops as on SIGTERM and resumes on start."""
        self.stopping = True
        self.wakeup.set()
        if self.current is not None:
            self.current.shutting_down = True
            self.current.cancel.set()

    async def run(self, job: Job) -> bool:
        """Import one job; False when another run holds the journal (try again later)."""
        progress, cancel = JobProgress(), JobCancel()
        running = Running(job, progress, cancel)
        self.current = running
        waited = job.note.startswith("waiting:")  # a resumed job keeps saying it was resumed
        self.store.set_state(job.id, JobState.RUNNING, note="" if waited else None)
        folder = Path(job.folder)
        opts = job.options
        options = RunOptions(
            files=[Path(f) for f in job.files],
            file_names=shown_names(job.names),
            settings=self.settings,
            report_path=folder / "report.csv",
            state_path=self.state,
            dry_run=bool(opts.get("dry_run")),
            mode=Mode(str(opts["mode"])) if opts.get("mode") else None,
            batch=str(opts["batch"]) if opts.get("batch") else None,
            sync=bool(opts.get("sync")),
            allow_mass_delete=bool(opts.get("allow_mass_delete")),
            environ=self.environ,
            sandbox=self.sandbox,
            progress=progress,
            submitted_by=job.submitted_by or None,
        )
        log.info("job_started", job=job.id, files=job.names, submitted_by=job.submitted_by, **opts)
        try:
            summary = await _in_thread(options, running)
        except StateLocked as error:
            self.store.set_state(job.id, JobState.QUEUED, note=f"waiting: {error}")
            log.warning("job_waiting", job=job.id, reason=str(error))
            return False
        except ImporterError as error:
            self.store.finish(job.id, JobState.FAILED, int(exit_code_for(error)), str(error), {})
            log.warning("job_failed", job=job.id, reason=str(error))
            self._ended(job.id)
            return True
        finally:
            self.current = None
        counts = {k: v for k, v in summary.counts.items() if v}
        if running.shutting_down:
            self.store.set_state(job.id, JobState.RUNNING, note="the service stopped mid-job")
            return True  # found running at the next start: resumed
        state = JobState.CANCELLED if cancel.is_set() else JobState.FINISHED
        reading = {"timezone": summary.timezone, "batch": summary.batch, "presets": summary.presets}
        self.store.finish(job.id, state, int(summary.exit_code), summary.stopped, counts, reading)
        self.finished_rows.update(summary.counts)
        log.info(
            "job_finished",
            job=job.id,
            state=state,
            exit_code=int(summary.exit_code),
            submitted_by=job.submitted_by,
        )
        self._ended(job.id)
        return True
