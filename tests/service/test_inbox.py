"""The inbox folder: only complete files become jobs; ended jobs are filed with reports."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

from importer.service import Inbox, JobStore, Runner
from importer.service.inbox import STABLE_FOR
from importer.testing import sandbox_process
from tests.helpers import make_settings, month_rows, read_report, sandbox_get, tracker_env


def test_a_file_is_taken_only_once_it_holds_still_and_not_under_a_temporary_name(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    inbox = Inbox(tmp_path / "inbox", store, tmp_path / "jobs")
    source = write_csv(month_rows(5)).read_bytes()
    growing = tmp_path / "inbox" / "october.csv"
    growing.write_bytes(source[:100])
    (tmp_path / "inbox" / "november.csv.part").write_bytes(source)  # still being copied
    (tmp_path / "inbox" / "~$december.xlsx").write_bytes(b"lock")  # Excel's lock file
    (tmp_path / "inbox" / "notes.docx").write_bytes(b"not a timesheet")
    (tmp_path / "inbox" / "sync" / "2026-09.csv").write_bytes(source)
    assert inbox.scan(now=100.0) == []  # first seen
    growing.write_bytes(source)  # the copy goes on
    assert [j.names for j in inbox.scan(now=100.0 + STABLE_FOR)] == [["2026-09.csv"]]
    assert inbox.scan(now=100.0 + STABLE_FOR + 1) == []  # october changed: its clock restarted
    [october] = inbox.scan(now=100.0 + 2 * STABLE_FOR + 1)
    assert october.names == ["october.csv"] and october.options["batch"] == "october"
    assert not growing.exists() and Path(october.files[0]).read_bytes() == source
    [synced] = [j for j in store.recent() if j.names == ["2026-09.csv"]]
    assert synced.options["sync"] is True and synced.options["batch"] == "2026-09"
    assert (tmp_path / "inbox" / "november.csv.part").exists()  # never taken
    store.close()


async def test_an_inbox_job_is_imported_and_filed_with_its_report(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    inbox = Inbox(tmp_path / "inbox", store, tmp_path / "jobs")
    good = tmp_path / "inbox" / "october.csv"
    good.write_bytes(write_csv(month_rows(4)).read_bytes())
    bad = tmp_path / "inbox" / "broken.csv"
    other_rows = [month_rows(0)[0], *month_rows(10)[9:], ["BAD", "x", "", "1", "", "a"]]
    bad.write_bytes(write_csv(other_rows, "b.csv").read_bytes())  # rows 8, 9 and a bad one
    with sandbox_process() as url:
        runner = Runner(make_settings(), store, tmp_path / "journal.sqlite", tracker_env(url))
        runner.on_end.append(inbox.file_away)
        inbox.scan(now=0.0)
        assert len(inbox.scan(now=STABLE_FOR)) == 2
        worker = asyncio.create_task(runner.serve())
        for _ in range(1000):
            if all(j.state == "finished" for j in store.recent()):
                break
            await asyncio.sleep(0.02)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        booked = len(sandbox_get(url, "/_sandbox/worklogs"))
    done, failed = tmp_path / "inbox" / "done", tmp_path / "inbox" / "failed"
    good_job = next(j for j in store.recent() if j.names == ["october.csv"])
    bad_job = next(j for j in store.recent() if j.names == ["broken.csv"])
    base, broken = f"october.job{good_job.id}", f"broken.job{bad_job.id}"
    assert sorted(p.name for p in done.iterdir()) == sorted(
        [f"{base}.csv", f"{base}.report.csv", f"{base}.summary.json"]
    )
    assert sorted(p.name for p in failed.iterdir()) == sorted(
        [f"{broken}.csv", f"{broken}.report.csv", f"{broken}.failed.csv", f"{broken}.summary.json"]
    )
    assert [r["status"] for r in read_report(done / f"{base}.report.csv")] == ["created"] * 4
    summary = json.loads((failed / f"{broken}.summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 1 and booked == 4 + 2
    store.close()
