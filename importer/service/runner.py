"""The service's worker: the queued jobs, one at a time, each as ``run`` would import it.

One Tracker organisation per service (its config), and its rate limit is the
organisation's: jobs never run side by side. A ``run`` from cron holding the journal's lock
makes the next job wait, with a note, instead of failing it.

A job runs in a process of its own (:mod:`importer.service.worker`): its CPU work never
holds up the health check, the pages or other people's uploads. The service's loop starts
it, reads its progress and tells it to stop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.config import Settings
from importer.errors import ExitCode
from importer.log import get_logger
from importer.models import Mode
from importer.pipeline import RunOptions
from importer.report import RunSummary
from importer.service.jobs import Job, JobState, JobStore
from importer.service.worker import Ended, JobProcess, warm_up

if TYPE_CHECKING:
    from importer.sandbox import SandboxSettings

log = get_logger()
LOCKED_RETRY = 10.0  # seconds between tries while another run holds the journal


class JobProgress:
    """A job's rows so far, as its process last told: counts by status, rows a second, the
    ETA, requests."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests = 0
        self.retries = 0
        self.responses_429 = 0
        self._started = time.monotonic()

    def update(self, told: dict[str, Any]) -> None:
        """A progress message from the job's process."""
        if self.total is None and told.get("total") is not None:
            self._started = time.monotonic()
        self.total = told.get("total")
        self.counts = collections.Counter(told.get("counts", {}))
        self.requests = int(told.get("requests", self.requests))
        self.retries = int(told.get("retries", self.retries))
        self.responses_429 = int(told.get("responses_429", self.responses_429))

    def as_json(self) -> dict[str, object]:
        done = sum(self.counts.values())
        rate = done / max(time.monotonic() - self._started, 1e-6)
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


class JobCancel:
    """A job's stop: asked before its process exists, it is passed on once it does."""

    def __init__(self) -> None:
        self._asked = False
        self._process: JobProcess | None = None

    def attach(self, process: JobProcess) -> None:
        self._process = process
        if self._asked:
            process.cancel()

    def set(self) -> None:
        self._asked = True
        if self._process is not None:
            self._process.cancel()

    def is_set(self) -> bool:
        return self._asked


@dataclasses.dataclass
class Running:
    job: Job
    progress: JobProgress
    cancel: JobCancel
    shutting_down: bool = False  # the service stops: the job resumes on the next start


def shown_names(names: list[str]) -> list[str]:
    """The uploads' own names, two with the same name told apart by their position."""
    counts = collections.Counter(names)
    return [f"{n} (file {i + 1})" if counts[n] > 1 else n for i, n in enumerate(names)]


def _as_uploaded(reason: str, job: Job) -> str:
    """A refusal names the files as they were uploaded, never where the service keeps them."""
    for stored, shown in zip(job.files, shown_names(job.names), strict=True):
        reason = reason.replace(stored, shown)
    return reason


async def _in_process(options: RunOptions, running: Running) -> Ended:
    """The job in its process. Cancelled meanwhile (the service is going down and will not
    wait any longer), the job is stopped as SIGTERM stops a run and is let settle, so it
    never outlives the service unnoticed; it resumes on the next start."""
    job = JobProcess(options, running.progress.update)
    await job.start()
    running.cancel.attach(job)
    try:
        return await job.ended()
    except asyncio.CancelledError:
        running.shutting_down = True
        running.cancel.set()
        with contextlib.suppress(Exception):
            await job.ended()
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
        await asyncio.to_thread(warm_up)
        for job_id in self.store.resume_interrupted():
            log.warning("job_resumed", job=job_id)
        while not self.stopping:
            job = self.store.next_queued()
            if job is None:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            try:
                ran = await self.run(job)
            except Exception as error:  # one job's trouble never stops the queue
                log.exception("job_crashed", job=job.id)
                reason = f"the service could not run this job: {type(error).__name__}: {error}"
                self.store.finish(job.id, JobState.FAILED, 1, reason, {})
                self._ended(job.id)
                continue
            if not ran:
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
            if job is None:
                continue
            try:
                tell(job)
            except Exception:  # e.g. filing an inbox job away: said, not fatal
                log.exception("job_end_not_handled", job=job_id)

    def shut_down(self) -> None:
        """The service stops: the running job stops as on SIGTERM and resumes on start."""
        self.stopping = True
        self.wakeup.set()
        if self.current is not None:
            self.current.shutting_down = True
            self.current.cancel.set()

    async def run(self, job: Job) -> bool:
        """Import one job; False when another run holds the journal (try again later)."""
        running = Running(job, JobProgress(), JobCancel())
        self.current = running
        waited = job.note.startswith("waiting:")  # a resumed job keeps saying it was resumed
        self.store.set_state(job.id, JobState.RUNNING, note="" if waited else None)
        log.info(
            "job_started", job=job.id, files=job.names, submitted_by=job.submitted_by, **job.options
        )
        try:
            ended = await _in_process(self._options(job), running)
        finally:
            self.current = None
        if ended.locked:
            self.store.set_state(job.id, JobState.QUEUED, note=f"waiting: {ended.locked}")
            log.warning("job_waiting", job=job.id, reason=ended.locked)
            return False
        if running.shutting_down:
            self.store.set_state(job.id, JobState.RUNNING, note="the service stopped mid-job")
            return True  # found running at the next start: resumed
        if ended.summary is None:
            reading = ended.offer  # a rebook's offer: the page asks again with one
            reason = _as_uploaded(ended.reason, job)
            self.store.finish(job.id, JobState.FAILED, ended.exit_code, reason, {}, reading)
            log.warning("job_failed", job=job.id, reason=reason)
        else:
            self._finished(running, ended.summary)
        self._ended(job.id)
        return True

    def _options(self, job: Job) -> RunOptions:
        folder, opts = Path(job.folder), job.options
        return RunOptions(
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
            rebook=bool(opts.get("rebook")),
            environ=self.environ if self.environ is not None else dict(os.environ),
            sandbox=self.sandbox,
            submitted_by=job.submitted_by or None,
        )

    def _finished(self, running: Running, summary: RunSummary) -> None:
        job = running.job
        counts = {k: v for k, v in summary.counts.items() if v}
        state = JobState.CANCELLED if running.cancel.is_set() else JobState.FINISHED
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
