"""The journal's tables, how older journals are brought up to date, and its records.

Version 2 (this one) knows, per booking, the *batch* it belongs to, the run that booked it,
what Tracker answered (version, createdBy, createdAt) and a pending edit (``intent``); and
keeps a ``runs`` table. A version-1 journal (no batches) is rebuilt in place the first time a
run opens it for writing: each booking's batch becomes its source file's name without the
extension — what ``--batch`` defaults to — so a re-export of the same file syncs against it.
A read-only open (dry runs, ``batches``) migrates a copy in memory and leaves the file as is.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import PurePath

VERSION = 2


_BOOKINGS = """
CREATE TABLE bookings (
    fingerprint  TEXT PRIMARY KEY,
    state        TEXT NOT NULL
                 CHECK (state IN ('sending','created','updating','deleting','deleted')),
    target       TEXT NOT NULL,
    issue        TEXT NOT NULL,
    start_utc    TEXT NOT NULL,
    seconds      INTEGER NOT NULL,
    comment      TEXT NOT NULL,
    author       TEXT NOT NULL,
    mode         TEXT NOT NULL,
    worklog_id   TEXT,
    source_file  TEXT NOT NULL,
    source_row   INTEGER NOT NULL,
    updated_at   TEXT NOT NULL,
    batch        TEXT NOT NULL DEFAULT '',
    run_id       INTEGER,
    version      TEXT,
    created_by   TEXT,
    tracker_created_at TEXT,
    intent       TEXT,
    changed_run  INTEGER
)"""

_REST = """
CREATE INDEX IF NOT EXISTS bookings_target ON bookings (target, state);
CREATE INDEX IF NOT EXISTS bookings_batch ON bookings (target, batch);
CREATE INDEX IF NOT EXISTS bookings_run ON bookings (run_id);
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    command      TEXT NOT NULL,
    target       TEXT NOT NULL,
    batch        TEXT NOT NULL,
    files        TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    exit_code    INTEGER
);
"""

_V1_COLUMNS = (
    "fingerprint, state, target, issue, start_utc, seconds, comment, author, mode, "
    "worklog_id, source_file, source_row, updated_at"
)

FIELDS = (
    "fingerprint, state, target, issue, start_utc, seconds, comment, author, mode, worklog_id, "
    "source_file, source_row, updated_at, batch, run_id, version, created_by, "
    "tracker_created_at, intent, changed_run"
)


def _stem(path: str) -> str:
    return PurePath(path).stem


def prepare(db: sqlite3.Connection) -> None:
    """Create the tables of a new journal, or migrate an older one to :data:`VERSION`."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= VERSION:
        return
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bookings'"
    ).fetchone()
    db.create_function("stem", 1, _stem, deterministic=True)
    db.execute("BEGIN IMMEDIATE")
    try:
        if exists:
            db.execute("DROP INDEX IF EXISTS bookings_target")
            db.execute("ALTER TABLE bookings RENAME TO bookings_v1")
            db.execute(_BOOKINGS)
            db.execute(
                f"INSERT INTO bookings ({_V1_COLUMNS}, batch) "
                f"SELECT {_V1_COLUMNS}, stem(source_file) FROM bookings_v1"
            )
            db.execute("DROP TABLE bookings_v1")
        else:
            db.execute(_BOOKINGS)
        for statement in filter(str.strip, _REST.split(";")):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """What the journal says about one row, for the delivery of that row."""

    state: str
    worklog_id: str | None
    updated_at: str
    run_id: int | None = None  # the run that booked it …
    run_interrupted: bool = False  # … never ended: its report may lack this row's line


@dataclasses.dataclass(frozen=True, slots=True)
class Booked:
    """One booking as the journal holds it: what was sent, where, and what Tracker said."""

    fingerprint: str
    state: str
    target: str
    issue: str
    start_utc: str
    seconds: int
    comment: str
    author: str
    mode: str
    worklog_id: str | None
    source_file: str
    source_row: int
    updated_at: str
    batch: str
    run_id: int | None
    version: str | None
    created_by: str | None
    tracker_created_at: str | None
    intent: str | None
    changed_run: int | None

    @property
    def key(self) -> tuple[str, str, str]:
        """What a corrected row keeps: issue, start instant and author — the same as
        :func:`importer.sync.plan.correction_key` of the worklog it booked (``start_utc`` is
        :func:`importer.formats.utc_instant`)."""
        return (self.issue, self.start_utc, self.author)


@dataclasses.dataclass(frozen=True, slots=True)
class BatchInfo:
    """One batch as ``worklog-import batches`` lists it."""

    batch: str
    target: str
    runs: int
    last_run: int | None
    last_started: str
    last_exit_code: int | None
    rows: int
    hours: float
    pending: int  # bookings a run left unsure (sending, updating, deleting)


@dataclasses.dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    command: str
    target: str
    batch: str
    files: str
    started_at: str
    finished_at: str | None
    exit_code: int | None


_RUN_FIELDS = "id, command, target, batch, files, started_at, finished_at, exit_code"


def run_info(db: sqlite3.Connection, run_id: int) -> RunInfo | None:
    row = db.execute(f"SELECT {_RUN_FIELDS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    return RunInfo(*row) if row else None


def batch_infos(db: sqlite3.Connection) -> list[BatchInfo]:
    """What the journal knows, batch by batch: runs, live bookings, hours."""
    runs = {
        (target, batch): (count, last)
        for target, batch, count, last in db.execute(
            "SELECT target, batch, COUNT(*), MAX(id) FROM runs GROUP BY target, batch"
        )
    }
    booked = {
        (target, batch): (rows, seconds, pending)
        for target, batch, rows, seconds, pending in db.execute(
            "SELECT target, batch, SUM(state != 'deleted'), "
            "SUM(CASE WHEN state = 'created' THEN seconds ELSE 0 END), "
            "SUM(state IN ('sending', 'updating', 'deleting')) "
            "FROM bookings GROUP BY target, batch"
        )
    }
    found = []
    for target, batch in sorted(runs.keys() | booked.keys(), key=lambda k: (k[1], k[0])):
        count, last = runs.get((target, batch), (0, None))
        rows, seconds, pending = booked.get((target, batch), (0, 0, 0))
        run = run_info(db, last) if last is not None else None
        found.append(
            BatchInfo(
                batch=batch,
                target=target,
                runs=count,
                last_run=last,
                last_started=run.started_at if run else "",
                last_exit_code=run.exit_code if run else None,
                rows=rows,
                hours=round(seconds / 3600, 4),
                pending=pending,
            )
        )
    return found
