"""The journal: what this machine has booked where, so every row is booked exactly once.

A SQLite file (WAL) keyed by each row's *fingerprint* (see :mod:`importer.deliver.identity`).
A row is marked ``sending`` — durably — before its POST and ``created`` with the worklog id
after. A crash between the two leaves ``sending``, and the next run reconciles
that row against Tracker before anything is re-sent.

Every booking belongs to a *batch* (``--batch``; by default the first file's name) and to the
run that made it, and keeps what Tracker answered (version, ``createdBy``, ``createdAt``), so
``--sync`` can correct and remove earlier bookings and ``undo`` can take a batch or a run
back. An edit is marked too (``updating``/``deleting``, with what it is about to send) before
its request, and settled after: a crash between the two leaves the mark, and the next run
checks the worklog in Tracker before anything else happens.

Writes are group-committed (:mod:`importer.journal.commits`): ``sending`` and edit marks
are awaited (the request waits for its mark to be on disk); the rest are not (losing one
only costs a check of Tracker next time). Tables and migrations: :mod:`journal_schema`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import filelock

from importer.errors import JournalError, StateLocked
from importer.formats import utc_instant
from importer.journal.commits import (
    ADOPTED,
    CREATED,
    DELETED,
    INTENT,
    KEPT,
    SENDING,
    UPDATED,
    GroupCommit,
)
from importer.journal.schema import (
    FIELDS,
    VERSION,
    BatchInfo,
    Booked,
    Entry,
    RunInfo,
    batch_infos,
    prepare,
    run_info,
)
from importer.models import Mode, Worklog


def _answered(record: Mapping[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """What Tracker answered about a worklog: its version, ``createdBy`` id and ``createdAt``."""
    if not record:
        return None, None, None
    version = record.get("version")
    by = record.get("createdBy")
    by_id = by.get("id") if isinstance(by, Mapping) else by
    created = record.get("createdAt")
    return (
        None if version is None else str(version),
        None if by_id is None else str(by_id),
        None if created is None else str(created),
    )


def default_state_path() -> Path:
    """``$XDG_STATE_HOME/worklog-import/journal.sqlite`` (``~/.local/state/...``)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "worklog-import" / "journal.sqlite"


class Journal:
    """One SQLite journal; ``readonly`` journals answer lookups and never write.

    :meth:`begin_run` names the batch and the run that every booking marked afterwards
    belongs to.
    """

    def __init__(self, db: sqlite3.Connection, *, readonly: bool = False, path: str = "") -> None:
        self._db = db
        self.readonly = readonly
        self.path = path
        self.batch = ""
        self.run_id: int | None = None
        self._commits = GroupCommit(db, path, readonly=readonly)

    @classmethod
    def open(cls, path: Path | None, *, readonly: bool = False) -> Journal:
        """Open (creating if needed) the journal at ``path``; ``None`` keeps it in memory."""
        if path is None:
            db = sqlite3.connect(":memory:", isolation_level=None)
            prepare(db)
            return cls(db, path=":memory:")
        if readonly:
            if not path.exists():
                return cls.open(None)  # nothing booked yet; an empty journal, nothing written
            try:
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
                _check_intact(db, path)
                db.execute("SELECT 1 FROM bookings LIMIT 1")
                db = _current(db)
            except sqlite3.Error as exc:
                raise JournalError(f"{path}: cannot read the journal: {exc}") from None
            journal = cls(db, readonly=True, path=str(path))
            return journal
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives the process being killed; only a power
            # loss may lose the last commits, and then the Tracker pre-check still catches them.
            db.execute("PRAGMA synchronous=NORMAL")
            _check_intact(db, path)
            prepare(db)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"{path}: cannot open the journal: {exc}") from None
        return cls(db, path=str(path))

    # -- runs ------------------------------------------------------------------------------

    def begin_run(self, command: str, *, target: str, batch: str, files: list[str]) -> None:
        """Record that a run starts; bookings marked from now on belong to it and ``batch``."""
        self.batch = batch
        if self.readonly:
            return
        try:
            cursor = self._db.execute(
                "INSERT INTO runs (command, target, batch, files, started_at) VALUES (?,?,?,?,?)",
                (command, target, batch, json.dumps(files, ensure_ascii=False), _now()),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot write the journal: {exc}") from None
        self.run_id = cursor.lastrowid

    def end_run(self, exit_code: int) -> None:
        """Record how the run ended (best effort: the bookings are what matter)."""
        if self.readonly or self.run_id is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self._db.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ? WHERE id = ?",
                (_now(), exit_code, self.run_id),
            )

    # -- lookups ---------------------------------------------------------------------------

    def lookup(self, fingerprint: str) -> Entry | None:
        row = self._db.execute(
            "SELECT b.state, b.worklog_id, b.updated_at, b.run_id, "
            "r.id IS NOT NULL AND r.finished_at IS NULL "
            "FROM bookings b LEFT JOIN runs r ON r.id = b.run_id WHERE b.fingerprint = ?",
            (fingerprint,),
        ).fetchone()
        return Entry(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def knows(self, target: str) -> bool:
        """Whether any row was ever marked for this Tracker (else every lookup misses)."""
        row = self._db.execute("SELECT 1 FROM bookings WHERE target = ? LIMIT 1", (target,))
        return row.fetchone() is not None

    def recall(
        self, target: str, forget: frozenset[str] = frozenset()
    ) -> Callable[[str], Entry | None]:
        """A lookup for this Tracker's rows; one that never asks when none was ever marked.

        Fingerprints are unique within an input, so only earlier runs' marks can match a
        row: a first run (or a dry run) pays nothing for its lookups. ``forget``: bookings
        to treat as never made (a dry run's rebook would take them back first).
        """
        lookup = self.lookup if self.knows(target) else _nothing
        if not forget:
            return lookup
        return lambda fingerprint: None if fingerprint in forget else lookup(fingerprint)

    def claimed_ids(self, target: str) -> set[str]:
        """Worklog ids already booked for some row at this Tracker."""
        rows = self._db.execute(
            "SELECT worklog_id FROM bookings WHERE target = ? AND worklog_id IS NOT NULL",
            (target,),
        )
        return {str(r[0]) for r in rows}

    def batch_bookings(self, target: str, batch: str) -> list[Booked]:
        """Every booking of ``batch`` at this Tracker that is not deleted."""
        return self._booked("target = ? AND batch = ? AND state != 'deleted'", (target, batch))

    def run_bookings(self, run_id: int) -> list[Booked]:
        """Every booking a run made (or was making) that is not deleted."""
        return self._booked("run_id = ? AND state != 'deleted'", (run_id,))

    def _booked(self, where: str, values: tuple[object, ...]) -> list[Booked]:
        rows = self._db.execute(
            f"SELECT {FIELDS} FROM bookings WHERE {where} ORDER BY source_file, source_row",
            values,
        )
        return [Booked(*row) for row in rows]

    def batches(self) -> list[BatchInfo]:
        """What the journal knows, batch by batch: runs, live bookings, hours."""
        return batch_infos(self._db)

    def run(self, run_id: int) -> RunInfo | None:
        return run_info(self._db, run_id)

    def runs(self, target: str, batch: str) -> list[RunInfo]:
        rows = self._db.execute(
            "SELECT id, command, target, batch, files, started_at, finished_at, exit_code "
            "FROM runs WHERE target = ? AND batch = ? ORDER BY id",
            (target, batch),
        )
        return [RunInfo(*row) for row in rows]

    # -- marks -----------------------------------------------------------------------------

    def _new_row(
        self,
        fp: str,
        state: str,
        worklog: Worklog,
        target: str,
        mode: Mode,
        file: str,
        row: int,
        record: Mapping[str, Any] | None = None,
    ) -> tuple[object, ...]:
        version, created_by, created_at = _answered(record)
        return (
            fp,
            state,
            target,
            worklog.issue,
            utc_instant(worklog.start),
            int(worklog.duration.total_seconds()),
            worklog.comment.strip(),
            worklog.author,
            mode.value,
            None if record is None else str(record["id"]),
            file,
            row,
            _now(),
            self.batch,
            self.run_id,
            version,
            created_by,
            created_at,
            None,
            None,
        )

    async def mark_sending(
        self, fp: str, worklog: Worklog, *, target: str, mode: Mode, file: str, row: int
    ) -> None:
        """Durably record that a POST for this row is about to go out."""
        values = self._new_row(fp, "sending", worklog, target, mode, file, row)
        await self._commits.durably(SENDING, values)

    def mark_created(
        self, fp: str, worklog_id: str, record: Mapping[str, Any] | None = None
    ) -> None:
        """Record the worklog id (and what Tracker answered); committed with the next batch."""
        self._commits.enqueue(CREATED, (worklog_id, *_answered(record), _now(), fp), None)

    def mark_adopted(
        self,
        fp: str,
        worklog: Worklog,
        record: Mapping[str, Any],
        *,
        target: str,
        mode: Mode,
        file: str,
        row: int,
    ) -> None:
        """A worklog found in Tracker (booked before) now books this row of this batch."""
        values = self._new_row(fp, "created", worklog, target, mode, file, row, record)
        self._commits.enqueue(ADOPTED, values, None)

    async def mark_intent(self, fp: str, state: str, intent: Mapping[str, Any]) -> None:
        """Durably record that an edit (``updating``) or a ``deleting`` is about to go out."""
        text = json.dumps(dict(intent), ensure_ascii=False)
        await self._commits.durably(INTENT, (state, text, self.run_id, _now(), fp))

    def settle_updated(
        self,
        old_fp: str,
        new_fp: str,
        worklog: Worklog,
        version: str | None,
        *,
        file: str,
        row: int,
    ) -> None:
        """The worklog of ``old_fp`` now books ``worklog`` (the corrected row ``new_fp``)."""
        seconds = int(worklog.duration.total_seconds())
        values = (new_fp, seconds, worklog.comment.strip(), version, file, row, self.run_id)
        self._commits.enqueue(UPDATED, (*values, _now(), old_fp), None)

    def settle_deleted(self, fp: str) -> None:
        """The worklog of ``fp`` is no longer in Tracker (deleted by this run, or gone)."""
        self._commits.enqueue(DELETED, (self.run_id, _now(), fp), None)

    def settle_kept(self, fp: str, version: str | None = None) -> None:
        """The edit did not happen (a conflict, or it was never sent): back to ``created``."""
        self._commits.enqueue(KEPT, (version, _now(), fp), None)

    async def flush(self) -> None:
        """Commit everything queued so far."""
        await self._commits.flush()

    def close(self) -> None:
        self._db.close()


def _current(db: sqlite3.Connection) -> sqlite3.Connection:
    """A read-only journal of an older version: an up-to-date copy in memory."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return db
    copy = sqlite3.connect(":memory:", isolation_level=None)
    db.backup(copy)
    db.close()
    prepare(copy)
    return copy


@contextlib.contextmanager
def exclusive(state: Path | None) -> Iterator[None]:
    """Hold the journal's lock for the whole run, so two cron runs never overlap."""
    if state is None:
        yield
        return
    lock = filelock.FileLock(str(state) + ".lock", timeout=0)
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except filelock.Timeout:
        raise StateLocked(
            f"another run is using {state} (lock {lock.lock_file}); wait for it to finish "
            "or pass --state for an independent journal"
        ) from None
    except OSError as error:  # after Timeout, which is an OSError too
        raise JournalError(
            f"{state}: cannot lock the journal ({lock.lock_file}): {error.strerror or error}"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _check_intact(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged journal before anything is sent (a damaged page would otherwise
    surface in the middle of a run). ``quick_check`` reads every page once: about a
    second for a journal of a million bookings."""
    verdict = str(db.execute("PRAGMA quick_check(1)").fetchone()[0])
    if verdict != "ok":
        raise JournalError(
            f"{path}: the journal is damaged ({verdict}). Keep a copy; `sqlite3 {path} "
            "'.recover'` may save it. Or move it aside and run again: the pre-check then "
            "asks Tracker what is already booked"
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _nothing(fingerprint: str) -> None:
    return None
