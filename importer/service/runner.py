"""The service's worker: the queued jobs, one at a time, each as ``run`` would import it.

One Tracker organisation per service (its config), and its rate limit is the
organisation's: jobs never run side by side. A ``run`` from cron holding the journal's lock
makes the next job wait, with a note, instead of failing it.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from importer.config import Settings
from importer.errors import ExitCode, ImporterError, StateLocked, exit_code_for
from importer.log import get_logger
from importer.models import Mode, Outcome, RequestStats
from importer.pipeline import RunOptions, run_import_async
from importer.service.jobs import Job, JobState, JobStore

if TYPE_CHECKING:
    from importer.sandbox import SandboxSettings

log = get_logger()
LOCKED_RETRY = 10.0  # seconds between tries while another run holds the journal


class JobProgress:
    """A job's rows so far, for the API: counts by status, rows a second, the ETA."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests = 0
        self.retries = 0
        self.responses_429 = 0
        self._started = time.monotonic()

    def start(self, total: int | None) -> None:
        self.total = total
        self._started = time.monotonic()

    def advance(self, outcome: Outcome, stats: RequestStats | None) -> None:
        self.counts[outcome.status] += 1
        if stats is not None:
            self.requests, self.retries = stats.requests, stats.retries
            self.responses_429 = stats.responses_429

    def stop(self) -> None:
        return None

    def as_json(self) -> dict[str, object]:
        done = sum(self.counts.values())
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = done / elapsed
        left = (self.total - done) if self.total is not None else None
        return {
            "rows_done": done,
            "rows_total": self.total,
            "counts": dict(self.counts),
            "rows_per_second": round(rate, 1),
            "eta_seconds": round(left / rate, 1) if left is not None and rate > 0 else None,
            "requests": self.requests,
            "retries": self.retries,
            "responses_429": self.responses_429,
        }


@dataclasses.dataclass
class Running:
    job: Job
    progress: JobProgress
    cancel: asyncio.Event
    shutting_down: bool = False  # the service stops: the job resumes on the next start


def shown_names(names: list[str]) -> list[str]:
    """The uploads' own names, two with the same name told apart by their position."""
    counts = collections.Counter(names)
    return [f"{n} (file {i + 1})" if counts[n] > 1 else n for i, n in enumerate(names)]


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
        progress, cancel = JobProgress(), asyncio.Event()
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
            cancel=cancel,
        )
        log.info("job_started", job=job.id, files=job.names, **opts)
        try:
            summary = await run_import_async(options)
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
        self.store.finish(job.id, state, int(summary.exit_code), summary.stopped, counts)
        self.finished_rows.update(summary.counts)
        log.info("job_finished", job=job.id, state=state, exit_code=int(summary.exit_code))
        self._ended(job.id)
        return True
