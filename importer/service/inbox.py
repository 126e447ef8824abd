"""The inbox folder: a timesheet dropped into it becomes a job; when the job ends, the file
moves to ``done/`` (exit 0) or ``failed/`` (anything else) with its report beside it.

A file is taken only once it is complete: never while its name says it is still being
written (a dot file, ``*.tmp``, ``*.part``, ``*.crdownload``, Office's ``~$…`` lock files),
and only once its size and modification time have not changed for ``STABLE_FOR`` seconds —
so a file copied slowly over a network share is not imported half-written. Writing under a
temporary name and renaming it into the inbox is the quick, safe way.

Where a file is dropped says how it is imported: ``INBOX/`` as ``run``, ``INBOX/sync/`` as
``run --sync``, ``INBOX/dry-run/`` as ``run --dry-run``; the batch is the file's name
without its extension.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from importer.log import get_logger
from importer.service.jobs import Job, JobStore, batch_from_name, shown_name
from importer.service.uploads import ACCEPTED

log = get_logger()
STABLE_FOR = 3.0  # seconds a file's size and time must hold still before it is taken
FOLDERS: dict[str, dict[str, Any]] = {  # where a file is dropped → how it is imported
    "": {},
    "sync": {"sync": True},
    "dry-run": {"dry_run": True},
}
_WRITING = re.compile(r"^(\.|~\$)|\.(tmp|part|crdownload|partial|swp)$", re.IGNORECASE)


@dataclasses.dataclass
class _Seen:
    signature: tuple[int, int]  # size, mtime in ns
    since: float  # when it was first seen so


class Inbox:
    """Scans the inbox (``scan``, about every second) and files away ended jobs."""

    def __init__(self, folder: Path, store: JobStore, jobs_dir: Path) -> None:
        self.folder = folder
        self.store = store
        self.jobs_dir = jobs_dir
        self._seen: dict[Path, _Seen] = {}
        for sub in (*FOLDERS, "done", "failed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def _candidates(self) -> list[tuple[Path, dict[str, Any]]]:
        found = []
        for sub, options in FOLDERS.items():
            (self.folder / sub).mkdir(parents=True, exist_ok=True)  # removed meanwhile: again
            for path in sorted((self.folder / sub).iterdir()):
                if (
                    path.is_file()
                    and not _WRITING.search(path.name)
                    and path.suffix.lower() in ACCEPTED
                ):
                    found.append((path, options))
        return found

    def scan(self, now: float) -> list[Job]:
        """Take every complete file as a job; ``now`` is the monotonic clock."""
        taken: list[Job] = []
        present = set()
        for path, options in self._candidates():
            present.add(path)
            try:
                stat = path.stat()
            except OSError:
                continue  # gone meanwhile
            signature = (stat.st_size, stat.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen.signature != signature:
                self._seen[path] = _Seen(signature, now)
                continue
            if now - seen.since < STABLE_FOR:
                continue
            taken.append(self._take(path, options))
            del self._seen[path]
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return taken

    def _take(self, path: Path, options: dict[str, Any]) -> Job:
        folder = self.jobs_dir / f"inbox-{secrets.token_hex(8)}"
        (folder / "files").mkdir(parents=True)
        stored = folder / "files" / f"1{path.suffix.lower()}"
        shutil.move(path, stored)
        relative = shown_name(str(path.relative_to(self.folder)))
        job_options = {**options, "batch": batch_from_name(path.name), "inbox": relative}
        name = shown_name(path.name)
        job = self.store.add([name], [str(stored)], job_options, str(folder), "inbox")
        log.info("inbox_taken", job=job.id, file=relative)
        return job

    def file_away(self, job: Job) -> Path | None:
        """An inbox job ended: its file and its report files into ``done/`` or ``failed/``."""
        if "inbox" not in job.options:
            return None
        where = self.folder / ("done" if job.exit_code == 0 else "failed")
        where.mkdir(parents=True, exist_ok=True)
        name = Path(job.names[0])
        base = where / f"{name.stem[:150]}.job{job.id}"  # a name's own limit is 255 bytes
        folder = Path(job.folder)
        moves = [(Path(job.files[0]), base.with_name(base.name + name.suffix))]
        for made, suffix in (
            ("report.csv", ".report.csv"),
            ("report.failed.csv", ".failed.csv"),
            ("report.summary.json", ".summary.json"),
        ):
            if (folder / made).exists():
                moves.append((folder / made, base.with_name(base.name + suffix)))
        for source, target in moves:
            if source.exists():  # copies: the API still serves the job's own files
                shutil.copyfile(source, target)
        log.info("inbox_filed", job=job.id, to=str(where), exit_code=job.exit_code)
        return where
