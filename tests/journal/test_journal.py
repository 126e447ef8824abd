"""The journal: marks survive, a failed commit reaches every POST waiting for it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from importer.errors import ExitCode, JournalError
from importer.journal import Journal
from importer.models import Mode, Worklog
from tests.helpers import import_into, make_settings, month_rows, read_report

LONG = "x" * 5000  # a comment that needs pages of its own


def _worklog(n: int) -> Worklog:
    start = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC) + dt.timedelta(hours=n)
    return Worklog("PORT-1", start, dt.timedelta(hours=1), LONG)


def _fill_the_disk(journal: Journal) -> None:
    """Let the journal's file grow no more: every new row is 'database or disk is full'."""
    db: Any = journal._db  # the journal's own connection, as a full disk would hit it
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


async def test_marks_are_on_disk_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal.open(path)
    await journal.mark_sending("fp1", _worklog(1), target="t", mode=Mode.CREATE, file="f", row=2)
    journal.mark_created("fp1", "42")
    await journal.mark_sending("fp2", _worklog(2), target="t", mode=Mode.CREATE, file="f", row=3)
    await journal.flush()
    journal.close()
    again = Journal.open(path, readonly=True)
    assert [(e.state, e.worklog_id) for e in map(again.lookup, ("fp1", "fp2"))] == [
        ("created", "42"),
        ("sending", None),
    ]
    assert again.claimed_ids("t") == {"42"} and again.recall("other")("fp1") is None
    again.close()


async def test_a_failed_commit_reaches_every_post_waiting_for_it(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.sqlite")
    _fill_the_disk(journal)
    marks = [
        journal.mark_sending(f"fp{n}", _worklog(n), target="t", mode=Mode.CREATE, file="f", row=n)
        for n in range(5)
    ]
    results = await asyncio.gather(*marks, return_exceptions=True)
    assert all(isinstance(r, JournalError) for r in results), results
    assert all("cannot write the journal: database or disk is full" in str(r) for r in results)
    assert journal.lookup("fp0") is None  # the whole batch was rolled back
    journal.close()


async def test_a_journal_that_cannot_be_written_stops_the_run_before_any_post(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importer.sandbox import running_sandbox

    opened = Journal.open

    def open_on_a_full_disk(path: Path | None, *, readonly: bool = False) -> Journal:
        journal = opened(path, readonly=readonly)
        _fill_the_disk(journal)
        return journal

    monkeypatch.setattr(Journal, "open", open_on_a_full_disk)
    rows = month_rows(6)
    for row in rows[1:]:
        row[4] = LONG
    path = write_csv(rows)
    async with running_sandbox() as sandbox:
        summary = await import_into(sandbox, [path], make_settings(), tmp_path / "r.csv")
        stored = len(sandbox.store.worklogs)
    assert stored == 0
    assert summary.exit_code == ExitCode.BAD_INPUT
    assert "cannot write the journal: database or disk is full" in summary.stopped
    report = read_report(tmp_path / "r.csv")
    assert [line["status"] for line in report] == ["pending"] * 6
    assert all(line["error"].startswith("not sent, run stopped: ") for line in report)


V1_SCHEMA = """
CREATE TABLE bookings (
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
CREATE INDEX bookings_target ON bookings (target, state);
INSERT INTO bookings VALUES ('fp1', 'created', 't', 'PORT-1', '2026-10-01T06:00:00+00:00',
    3600, 'design', 'anna', 'create', '42', '/exports/october.csv', 2, '2026-11-01T00:00:00');
INSERT INTO bookings VALUES ('fp2', 'sending', 't', 'PORT-1', '2026-10-02T06:00:00+00:00',
    7200, 'build', 'anna', 'create', NULL, '/exports/october.csv', 3, '2026-11-01T00:00:00');
"""


def _v1_journal(path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.commit()
    db.close()


def test_a_journal_of_the_previous_version_is_read_without_changing_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    _v1_journal(path)
    before = path.read_bytes()
    journal = Journal.open(path, readonly=True)
    [info] = journal.batches()
    assert (info.batch, info.rows, info.hours, info.pending) == ("october", 2, 1.0, 1)
    assert [b.fingerprint for b in journal.batch_bookings("t", "october")] == ["fp1", "fp2"]
    journal.close()
    assert path.read_bytes() == before  # a dry run migrates a copy in memory


async def test_a_journal_of_the_previous_version_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    _v1_journal(path)
    journal = Journal.open(path)
    assert journal.lookup("fp1") == journal.lookup("fp1")  # readable at once
    [first, second] = journal.batch_bookings("t", "october")
    assert (first.state, first.worklog_id, first.batch, first.run_id) == (
        "created",
        "42",
        "october",
        None,
    )
    assert second.state == "sending"
    journal.begin_run("sync", target="t", batch="october", files=["october.csv"])
    await journal.mark_intent("fp1", "deleting", {"run": journal.run_id})
    journal.settle_deleted("fp1")
    await journal.flush()
    journal.end_run(0)
    journal.close()
    again = Journal.open(path)
    assert [b.fingerprint for b in again.batch_bookings("t", "october")] == ["fp2"]
    assert again.lookup("fp1") is not None and again.lookup("fp1").state == "deleted"  # type: ignore[union-attr]
    [run] = again.runs("t", "october")
    assert (run.command, run.exit_code) == ("sync", 0)
    again.close()
