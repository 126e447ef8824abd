"""``run --recheck``: a worklog deleted in Tracker since it was booked is found missing (its
issue's listing lacks it) and its row booked again, exactly once; without ``--recheck`` the
journal is trusted, as a cheap re-run needs."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from pathlib import Path

from importer.errors import ExitCode
from importer.sandbox import SandboxSettings, running_sandbox
from tests.helpers import make_settings, read_report
from tests.pipeline.test_merging import expected_groups, stored, tracker_groups
from tests.pipeline.test_rebook import Runs, per_row_holdings, statuses, whole_minutes
from tests.sync.test_sync import call

PER_ROW = make_settings()
MERGED = make_settings(merge={"per": "day"})


async def delete_by_hand(url: str, worklog: object) -> None:
    path = f"/v2/issues/{worklog.issue}/worklog/{worklog.id}"  # type: ignore[attr-defined]
    await asyncio.to_thread(call, url, "DELETE", path)


async def test_a_worklog_deleted_in_tracker_is_booked_again_with_recheck_only(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = whole_minutes()
    async with running_sandbox() as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        await run(PER_ROW)
        gone = [w for w in stored(sandbox) if w.issue == "PORT-2"][:2]  # type: ignore[attr-defined]
        for worklog in gone:
            await delete_by_hand(sandbox.base_url, worklog)
        _, trusted_report = await run(PER_ROW)  # the journal is trusted: still missing
        missing = len(stored(sandbox))
        planned, plan = await run(PER_ROW, recheck=True, dry_run=True)
        posts = sandbox.stats.routes["POST /v2/issues/{key}/worklog"]
        rechecked, report = await run(PER_ROW, recheck=True)
        posted = sandbox.stats.routes["POST /v2/issues/{key}/worklog"] - posts
        held = tracker_groups(sandbox)
        again, again_report = await run(PER_ROW, recheck=True, sync=True)
    assert statuses(trusted_report) == {"already_imported": 16} and missing == 14
    assert statuses(plan) == {"already_imported": 14, "pending": 2}
    assert planned.recheck == {"looked_for": 16, "issues": 2, "gone": 2, "unread_issues": {}}
    assert rechecked.exit_code == ExitCode.OK and posted == 2
    assert held == per_row_holdings(rows)  # each row once again, nothing twice
    lines = [line for line in read_report(report) if line["status"] == "created"]
    assert len(lines) == 2 and all("no longer in Tracker" in line["warning"] for line in lines)
    assert {line["worklog_id"] for line in lines}.isdisjoint(str(w.id) for w in gone)  # type: ignore[attr-defined]
    assert statuses(again_report) == {"already_imported": 16}
    assert again.recheck is not None and again.recheck["gone"] == 0


async def test_a_merged_group_deleted_in_tracker_is_booked_again_whole(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = whole_minutes()
    knobs = SandboxSettings(p_created_then_drop=0.3, seed=4)
    async with running_sandbox(knobs) as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        await run(MERGED)
        group = next(w for w in stored(sandbox) if w.issue == "PORT-1")  # a group of three rows
        await delete_by_hand(sandbox.base_url, group)
        rechecked, report = await run(MERGED, recheck=True)
        held = tracker_groups(sandbox)
    assert rechecked.exit_code == ExitCode.OK
    assert held == expected_groups(rows)
    created = collections.Counter(line["status"] for line in read_report(report))
    assert created == {"created": 3, "already_imported": 13}  # the group's three rows


async def test_an_issue_tracker_will_not_list_is_left_as_the_journal_says(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    from importer.sandbox._settings import SETTINGS

    rows = whole_minutes()
    async with running_sandbox() as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        await run(PER_ROW)
        gone = next(w for w in stored(sandbox) if w.issue == "PORT-2")
        await delete_by_hand(sandbox.base_url, gone)
        sandbox.app[SETTINGS].hidden_issues = "PORT-2"  # the token may no longer read it
        rechecked, report = await run(PER_ROW, recheck=True)
    assert rechecked.recheck is not None
    assert rechecked.recheck["gone"] == 0 and "PORT-2" in rechecked.recheck["unread_issues"]
    assert rechecked.recheck["looked_for"] == 16 and rechecked.recheck["issues"] == 2
    assert statuses(report)["already_imported"] == 16  # not booked again on a guess
