"""The service's jobs, kept in SQLite beside the journal, so a restart resumes them.

A job is one import as ``run`` would do it: its uploaded files (stored under generated
names in the job's folder), its options, its state, and how it ended. States:

* ``queued`` — waiting for its turn (one job at a time per Tracker organisation);
* ``running`` — being imported; found so at start-up, it was interrupted (the service was
  killed): it is queued again, and its rows are reconciled as after any crash;
* ``finished`` — the run ended; ``exit_code`` says how, as it would to cron;
* ``cancelled`` — stopped on request (queued: never started; running: stopped as SIGTERM
  stops a run, its report written);
* ``failed`` — the run could not start (a bad file, a bad option): ``stopped`` says why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from importer.errors import JournalError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    state       TEXT NOT NULL,
    names       TEXT NOT NULL,
    files       TEXT NOT NULL,
    options     TEXT NOT NULL,
    folder      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    exit_code   INTEGER,
    stopped     TEXT NOT NULL DEFAULT '',
    counts      TEXT NOT NULL DEFAULT '{}',
    note        TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL DEFAULT '',
    files_removed_at TEXT,
    reading     TEXT NOT NULL DEFAULT '{}'
)"""
# Columns added since the first release, added in place to an older jobs table.
_ADDED = {
    "submitted_by": "TEXT NOT NULL DEFAULT ''",
    "files_removed_at": "TEXT",
    "reading": "TEXT NOT NULL DEFAULT '{}'",
}
_FIELDS = (
    "id, state, names, files, options, folder, created_at, started_at, finished_at, "
    "exit_code, stopped, counts, note, submitted_by, files_removed_at, reading"
)


class JobState(enum.StrEnum):
    """Where a job is (see the module's docstring); stored as its value."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


ENDED = (JobState.FINISHED, JobState.CANCELLED, JobState.FAILED)


def batch_from_name(name: str) -> str:
    """A job's default batch: its (first) file's name without the extension, made safe."""
    stem = re.sub(r"[^\w.-]+", "-", Path(name).stem).strip("-.") or "upload"
    return stem[:100]


def shown_name(name: str) -> str:
    """A file's name as people see it and logs and the jobs table keep it: bytes that are not
    UTF-8 become U+FFFD (Python keeps them as lone surrogates, which no encoder writes)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclasses.dataclass
class Job:
    id: int
    state: str
    names: list[str]  # the files' names as uploaded (shown, never used as paths)
    files: list[str]  # where they are stored
    options: dict[str, Any]  # dry_run, batch, sync, mode, allow_mass_delete, rebook
    folder: str  # the job's folder: its files, report, failed rows, summary
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    stopped: str = ""
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    note: str = ""
    submitted_by: str = ""  # the named token's name, "shared-token", "local" or "inbox"
    files_removed_at: str | None = None  # when retention removed its files (None: kept)
    # timezone, batch, presets; a refused job: what it could be asked again with ("offer")
    reading: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["files"], data["folder"]  # server paths are no one's business
        return data


class JobStore:
    """The jobs table; every change is committed at once (jobs are few, changes rare)."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute(_SCHEMA)
            have = {str(row[1]) for row in self._db.execute("PRAGMA table_info(jobs)")}
            for column, kind in _ADDED.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        except (sqlite3.Error, OSError) as error:
            raise JournalError(f"{path}: cannot open the service's jobs: {error}") from None
        self.path = path

    def close(self) -> None:
        self._db.close()

    def _job(self, row: tuple[Any, ...]) -> Job:
        values = list(row)
        for index in (2, 3, 4, 11, 15):
            values[index] = json.loads(values[index])
        values[2] = [shown_name(name) for name in values[2]]  # a job stored before names were
        return Job(*values)

    def add(
        self,
        names: list[str],
        files: list[str],
        options: dict[str, Any],
        folder: str,
        submitted_by: str = "",
    ) -> Job:
        cursor = self._db.execute(
            "INSERT INTO jobs (state, names, files, options, folder, created_at, submitted_by) "
            f"VALUES ('{JobState.QUEUED}', ?, ?, ?, ?, ?, ?)",
            (
                json.dumps([shown_name(name) for name in names]),
                json.dumps(files),
                json.dumps(options),
                folder,
                _now(),
                submitted_by,
            ),
        )
        job = self.get(int(cursor.lastrowid or 0))
        assert job is not None
        return job

    def get(self, job_id: int) -> Job | None:
        row = self._db.execute(f"SELECT {_FIELDS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def recent(self, limit: int = 50) -> list[Job]:
        rows = self._db.execute(f"SELECT {_FIELDS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
        return [self._job(r) for r in rows]

    def folders(self) -> set[str]:
        """Every job's folder (its name): what the service's jobs folder may hold."""
        return {Path(str(r[0])).name for r in self._db.execute("SELECT folder FROM jobs")}

    def count_by_state(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    def next_queued(self) -> Job | None:
        row = self._db.execute(
            f"SELECT {_FIELDS} FROM jobs WHERE state = '{JobState.QUEUED}' ORDER BY id LIMIT 1"
        ).fetchone()
        return self._job(row) if row else None

    def resume_interrupted(self) -> list[int]:
        """Jobs found ``running`` at start-up were interrupted: queue them again."""
        running = f"SELECT id FROM jobs WHERE state = '{JobState.RUNNING}'"
        ids = [int(r[0]) for r in self._db.execute(running)]
        self._db.execute(
            "UPDATE jobs SET state = 'queued', note = 'interrupted by a restart of the "
            "service; its rows are checked in the journal and Tracker first' "
            "WHERE state = 'running'"
        )
        return ids

    def set_state(self, job_id: int, state: JobState, *, note: str | None = None) -> None:
        started = _now() if state is JobState.RUNNING else None
        self._db.execute(
            "UPDATE jobs SET state = ?, started_at = COALESCE(?, started_at), "
            "note = COALESCE(?, note) WHERE id = ?",
            (state, started, note, job_id),
        )

    def expired(self, before: str) -> list[Job]:
        """Ended jobs that finished before ``before`` (ISO, UTC) and still have their files."""
        states = ", ".join(f"'{state.value}'" for state in ENDED)
        rows = self._db.execute(
            f"SELECT {_FIELDS} FROM jobs WHERE state IN ({states}) AND files_removed_at IS NULL "
            "AND COALESCE(finished_at, created_at) < ? ORDER BY id",
            (before,),
        )
        return [self._job(r) for r in rows]

    def files_removed(self, job_id: int, when: str) -> None:
        self._db.execute("UPDATE jobs SET files_removed_at = ? WHERE id = ?", (when, job_id))

    def finish(
        self,
        job_id: int,
        state: JobState,
        exit_code: int,
        stopped: str,
        counts: dict[str, int],
        reading: dict[str, Any] | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE jobs SET state = ?, exit_code = ?, stopped = ?, counts = ?, "
            "finished_at = ?, reading = ? WHERE id = ?",
            (
                state,
                exit_code,
                stopped,
                json.dumps(counts),
                _now(),
                json.dumps(reading or {}),
                job_id,
            ),
        )
