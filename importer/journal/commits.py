"""The journal's writer: marks queued by rows, committed together in one transaction.

Every mark queued while the writer was busy goes into one transaction (a *group commit*):
a million-row run costs thousands of commits, not a million. A mark that must be on disk
before its request goes out is awaited (:meth:`GroupCommit.durably`); the rest are not
(losing one only costs a check of Tracker next time).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from importer.errors import JournalError
from importer.journal.schema import FIELDS

INSERT = f"INSERT INTO bookings ({FIELDS}) VALUES ({', '.join('?' * 20)}) "
SENDING = INSERT + (
    "ON CONFLICT (fingerprint) DO UPDATE SET state = 'sending', updated_at = excluded.updated_at, "
    "batch = excluded.batch, run_id = excluded.run_id, source_file = excluded.source_file, "
    "source_row = excluded.source_row, worklog_id = NULL, version = NULL, created_by = NULL, "
    "tracker_created_at = NULL, intent = NULL"
)
ADOPTED = INSERT + (
    "ON CONFLICT (fingerprint) DO UPDATE SET state = 'created', updated_at = excluded.updated_at, "
    "batch = excluded.batch, run_id = excluded.run_id, worklog_id = excluded.worklog_id, "
    "version = excluded.version, created_by = excluded.created_by, "
    "tracker_created_at = excluded.tracker_created_at, intent = NULL"
)
CREATED = (
    "UPDATE bookings SET state = 'created', worklog_id = ?, version = ?, created_by = ?, "
    "tracker_created_at = ?, updated_at = ? WHERE fingerprint = ?"
)
INTENT = (
    "UPDATE bookings SET state = ?, intent = ?, changed_run = ?, updated_at = ? "
    "WHERE fingerprint = ?"
)
# The worklog now books the corrected row: its entry takes the new row's fingerprint (any
# stale entry under that fingerprint, e.g. a deleted booking of the same content, gives way).
UPDATED = (
    "UPDATE OR REPLACE bookings SET fingerprint = ?, state = 'created', seconds = ?, "
    "comment = ?, version = ?, source_file = ?, source_row = ?, intent = NULL, "
    "changed_run = ?, updated_at = ? WHERE fingerprint = ?"
)
DELETED = (
    "UPDATE bookings SET state = 'deleted', intent = NULL, changed_run = ?, updated_at = ? "
    "WHERE fingerprint = ?"
)
KEPT = (
    "UPDATE bookings SET state = 'created', intent = NULL, version = COALESCE(?, version), "
    "updated_at = ? WHERE fingerprint = ?"
)
# Marks queued together commit in this order, which is the order they can happen in.
ORDER = (SENDING, ADOPTED, CREATED, INTENT, UPDATED, DELETED, KEPT)
_Mark = tuple[str, tuple[object, ...], "asyncio.Future[None] | None"]


class GroupCommit:
    """Queues marks and commits them in batches, in the order they can happen in."""

    def __init__(self, db: sqlite3.Connection, path: str, *, readonly: bool) -> None:
        self._db = db
        self.path = path
        self.readonly = readonly
        self._queue: list[_Mark] = []
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None

    async def durably(self, statement: str, values: tuple[object, ...]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.enqueue(statement, values, done)
        await done

    def enqueue(
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
            for statement in ORDER:  # e.g. 'sending' before 'created': the row ends created
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
