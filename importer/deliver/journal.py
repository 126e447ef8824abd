"""The journal: what this machine has booked where, so every row is booked exactly once.

A SQLite file (WAL) keyed by each row's *fingerprint* (see :mod:`importer.deliver.identity`).
A row is marked ``sending`` — durably — before its POST and ``created`` with the worklog id
after. A crash between the two leaves ``sending``, and the next run reconciles
that row against Tracker before anything is re-sent.

Writes are group-committed: every mark queued while the writer was busy goes into one
transaction. ``sending`` marks are awaited (the POST waits for its mark to be on disk);
``created`` marks are not (losing one only costs a reconciliation next time).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

from importer.errors import JournalError, StateLocked
from importer.models import Mode, Worklog

_SENDING = (
    "INSERT INTO bookings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT (fingerprint) DO UPDATE SET state = 'sending', updated_at = excluded.updated_at"
)
_CREATED = (
    "UPDATE bookings SET state = 'created', worklog_id = ?, updated_at = ? WHERE fingerprint = ?"
)
_Mark = tuple[str, tuple[object, ...], "asyncio.Future[None] | None"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS bookings (
    fingerprint  TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('sending', 'created')),
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
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_target ON bookings (target, state);
"""


def default_state_path() -> Path:
    """``$XDG_STATE_HOME/worklog-import/journal.sqlite`` (``~/.local/state/...``)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "worklog-import" / "journal.sqlite"


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    state: str
    worklog_id: str | None
    updated_at: str


class Journal:
    """One SQLite journal; ``readonly`` journals answer lookups and never write."""

    def __init__(self, db: sqlite3.Connection, *, readonly: bool = False, path: str = "") -> None:
        self._db = db
        self.readonly = readonly
        self.path = path
        self._queue: list[_Mark] = []
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, path: Path | None, *, readonly: bool = False) -> Journal:
        """Open (creating if needed) the journal at ``path``; ``None`` keeps it in memory."""
        if path is None:
            db = sqlite3.connect(":memory:")
            db.executescript(SCHEMA)
            return cls(db, path=":memory:")
        if readonly:
            if not path.exists():
                return cls.open(None)  # nothing booked yet; an empty journal, nothing written
            try:
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                db.execute("SELECT 1 FROM bookings LIMIT 1")
            except sqlite3.Error as exc:
                raise JournalError(f"{path}: cannot read the journal: {exc}") from None
            return cls(db, readonly=True, path=str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives the process being killed; only a power
            # loss may lose the last commits, and then the Tracker pre-check still catches them.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"{path}: cannot open the journal: {exc}") from None
        return cls(db, path=str(path))

    def lookup(self, fingerprint: str) -> Entry | None:
        row = self._db.execute(
            "SELECT state, worklog_id, updated_at FROM bookings WHERE fingerprint = ?",
            (fingerprint,),
        ).fetchone()
        return Entry(*row) if row else None

    def knows(self, target: str) -> bool:
        """Whether any row was ever marked for this Tracker (else every lookup misses)."""
        row = self._db.execute("SELECT 1 FROM bookings WHERE target = ? LIMIT 1", (target,))
        return row.fetchone() is not None

    def recall(self, target: str) -> Callable[[str], Entry | None]:
        """A lookup for this Tracker's rows; one that never asks when none was ever marked.

        Fingerprints are unique within an input, so only earlier runs' marks can match a
        row: a first run (or a dry run) pays nothing for its lookups.
        """
        return self.lookup if self.knows(target) else _nothing

    def claimed_ids(self, target: str) -> set[str]:
        """Worklog ids already booked for some row at this Tracker."""
        rows = self._db.execute(
            "SELECT worklog_id FROM bookings WHERE target = ? AND worklog_id IS NOT NULL",
            (target,),
        )
        return {str(r[0]) for r in rows}

    async def mark_sending(
        self, fp: str, worklog: Worklog, *, target: str, mode: Mode, file: str, row: int
    ) -> None:
        """Durably record that a POST for this row is about to go out."""
        values = (
            fp,
            "sending",
            target,
            worklog.issue,
            worklog.start.astimezone(dt.UTC).isoformat(),
            int(worklog.duration.total_seconds()),
            worklog.comment.strip(),
            worklog.author,
            mode.value,
            None,
            file,
            row,
            _now(),
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_SENDING, values, done)
        await done

    def mark_created(self, fp: str, worklog_id: str) -> None:
        """Record the worklog id; committed with the next batch, not awaited."""
        self._enqueue(_CREATED, (worklog_id, _now(), fp), None)

    def _enqueue(
        self, statement: str, values: tuple[object, ...], done: asyncio.Future[None] | None
    ) -> None:
        if self.readonly:
            raise RuntimeError("the journal is open read-only")
        self._queue.append((statement, values, done))
        if self._writer is None:
            self._wake = asyncio.Event()
            self._writer = asyncio.create_task(self._write_batches())
        assert self._wake is not None
        self._wake.set()

    async def _write_batches(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[_Mark]) -> None:
        try:
            self._db.execute("BEGIN")
            # 'sending' before 'created': a row marked both in one batch ends up created.
            for statement in (_SENDING, _CREATED):
                rows = [values for kind, values, _ in batch if kind == statement]
                if rows:
                    self._db.executemany(statement, rows)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            for _, _, done in batch:
                if done is not None and not done.done():
                    done.set_exception(
                        JournalError(f"{self.path}: cannot write the journal: {exc}")
                    )
            return
        for _, _, done in batch:
            if done is not None and not done.done():
                done.set_result(None)

    async def flush(self) -> None:
        """Commit everything queued so far."""
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        batch, self._queue = self._queue, []
        if batch:
            self._commit(batch)

    def close(self) -> None:
        self._db.close()


@contextlib.contextmanager
def exclusive(state: Path | None) -> Iterator[None]:
    """Hold the journal's lock for the whole run, so two cron runs never overlap."""
    if state is None:
        yield
        return
    state.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(state) + ".lock", timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StateLocked(
            f"another run is using {state} (lock {lock.lock_file}); wait for it to finish "
            "or pass --state for an independent journal"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _nothing(fingerprint: str) -> None:
    return None
