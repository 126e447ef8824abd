"""How long a finished job's files are kept (``service.keep_days``).

A job's folder holds its uploads, report, failed rows and summary: months of uploads would
grow without bound. An ended job's folder is removed ``keep_days`` after it ended; the job
itself stays listed, saying when its files went, and the journal's bookings (what ``undo``,
``verify`` and ``--sync`` rely on) are never touched: they are not in the job's folder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil

from importer.log import get_logger
from importer.service.jobs import JobStore

log = get_logger()
SWEEP_EVERY = 3600.0  # seconds between looks for expired jobs' files


async def sweep(store: JobStore, keep_days: float, now: dt.datetime) -> list[int]:
    """Remove the files of jobs that ended more than ``keep_days`` before ``now``; their ids."""
    if keep_days <= 0:
        return []
    before = (now - dt.timedelta(days=keep_days)).isoformat(timespec="seconds")
    removed = []
    for job in store.expired(before):
        await asyncio.to_thread(shutil.rmtree, job.folder, ignore_errors=True)
        store.files_removed(job.id, now.isoformat(timespec="seconds"))
        log.info("job_files_removed", job=job.id, ended=job.finished_at, keep_days=keep_days)
        removed.append(job.id)
    return removed


async def keep_sweeping(store: JobStore, keep_days: float) -> None:
    """At start-up and then every hour, until cancelled."""
    while True:
        await sweep(store, keep_days, dt.datetime.now(dt.UTC))
        await asyncio.sleep(SWEEP_EVERY)
