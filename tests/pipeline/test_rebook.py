"""``run --rebook``: a batch booked one way (a worklog per row, or merged per day) is booked
the other way — its earlier worklogs taken back first, each exactly once — and Tracker ends
holding the files' hours once, never twice; a worklog that cannot be taken back books nothing
anew."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.errors import ConfigError, ExitCode
from importer.pipeline import RunOptions, run_import_async
from importer.report import RunSummary
from importer.sandbox import RunningSandbox, SandboxSettings, running_sandbox
from tests.helpers import HEADER, make_settings, read_report, sandbox_env
from tests.pipeline.test_merging import expected_groups, stored, timer_export, tracker_groups
from tests.sync.test_sync import call

PER_ROW = make_settings()
MERGED = make_settings(merge={"per": "day"})


def whole_minutes() -> list[list[str]]:
    """A month every row of which books alone too: some groups of one row, some of three."""
    rows = [HEADER]
    for day in range(1, 5):
        date = f"{day:02d}.10.2026"
        rows += [
            ["PORT-1", date, "09:00:00", "1:00:00", "design", "a.smirnova"],
            ["PORT-1", date, "11:00:00", "0:30:00", "code", "a.smirnova"],
            ["PORT-1", date, "14:00:00", "0:45:00", "design", "a.smirnova"],
            ["PORT-2", date, "10:00:00", "2:00:00", "review", "i.petrov"],  # a group of one
        ]
    return rows


def per_row_holdings(rows: list[list[str]]) -> collections.Counter[tuple[str, str, int, str]]:
    """What Tracker holds for the file booked a worklog per row."""
    found: collections.Counter[tuple[str, str, int, str]] = collections.Counter()
    for issue, date, start, length, comment, _ in rows[1:]:
        h, m, s = map(int, length.split(":"))
        day = dt.datetime.strptime(date, "%d.%m.%Y").strftime("%Y-%m-%d")
        found[issue, f"{day}T{start}", (h * 3600 + m * 60 + s) // 60, comment] += 1
    return found


@dataclasses.dataclass
class Runs:
    """Runs of one file against one sandbox and one journal, each with its own report."""

    sandbox: RunningSandbox
    tmp: Path
    path: Path
    count: int = 0

    async def __call__(self, settings: object, **more: object) -> tuple[RunSummary, Path]:
        self.count += 1
        report = self.tmp / f"r{self.count}.csv"
        options = RunOptions(
            [self.path], settings, report_path=report, state_path=self.tmp / "journal.sqlite",
            environ=sandbox_env(self.sandbox), **more,
        )  # type: ignore[arg-type]  # fmt: skip
        return await run_import_async(options), report


def statuses(report: Path) -> dict[str, int]:
    return dict(collections.Counter(line["status"] for line in read_report(report)))


async def test_a_batch_booked_per_row_is_rebooked_merged_and_tracker_holds_each_group_once(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = whole_minutes()
    async with running_sandbox() as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        first, _ = await run(PER_ROW)
        assert tracker_groups(sandbox) == per_row_holdings(rows) and first.counts["created"] == 16
        with pytest.raises(ConfigError, match="run again with --rebook"):
            await run(MERGED)
        with pytest.raises(ConfigError, match="run again with --rebook"):
            await run(MERGED, dry_run=True)  # the plan is refused too, in the same words
        planned, plan = await run(MERGED, rebook=True, dry_run=True)
        assert tracker_groups(sandbox) == per_row_holdings(rows)  # a dry run sends nothing
        before = sandbox.stats.routes.copy()
        rebooked, report = await run(MERGED, rebook=True)
        posts = sandbox.stats.routes["POST /v2/issues/{key}/worklog"] - before.get(
            "POST /v2/issues/{key}/worklog", 0
        )
        held = tracker_groups(sandbox)
        again, again_report = await run(MERGED)
        with pytest.raises(ConfigError, match="was booked one worklog per person, issue and day"):
            await run(PER_ROW)
    # The plan: every earlier worklog would go, every row would be booked (none of them
    # "already imported", though a group of one books what its row booked before).
    assert statuses(plan) == {"pending": 16 + 16}
    taken = [line for line in read_report(plan) if "would be taken back" in line["warning"]]
    assert len(taken) == 16 and "dry run: would delete worklog" in taken[0]["error"]
    assert planned.rebook == {"from": "row", "to": "day", "was": "one worklog per row",
                              "now": "one worklog per person, issue and day",
                              "earlier_worklogs": 16, "earlier_hours": 17.0,
                              "taken_back": 0, "left": 0, "stopped": False}  # fmt: skip
    assert rebooked.exit_code == ExitCode.OK, rebooked.stopped
    assert held == expected_groups(rows)  # 8 groups, each once; the per-row worklogs gone
    assert posts == 8 and len(stored(sandbox)) == 8
    assert statuses(report) == {"deleted": 16, "created": 16}
    assert rebooked.rebook is not None and rebooked.rebook["taken_back"] == 16
    created = [line for line in read_report(report) if line["status"] == "created"]
    assert sorted(int(line["row"]) for line in created) == list(range(2, 18))
    assert again.exit_code == ExitCode.OK and statuses(again_report) == {"already_imported": 16}


async def test_a_merged_batch_is_rebooked_per_row_even_its_groups_of_one(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = whole_minutes()
    async with running_sandbox() as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        await run(MERGED)
        assert tracker_groups(sandbox) == expected_groups(rows)
        rebooked, report = await run(PER_ROW, rebook=True)
        held = tracker_groups(sandbox)
        again, again_report = await run(PER_ROW, rebook=True)  # nothing left to take back
    assert rebooked.exit_code == ExitCode.OK, rebooked.stopped
    assert held == per_row_holdings(rows)
    assert statuses(report) == {"deleted": 8, "created": 16}
    assert again.rebook is None and statuses(again_report) == {"already_imported": 16}


async def test_a_worklog_that_cannot_be_taken_back_books_nothing_anew(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = timer_export(days=2)
    async with running_sandbox() as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        await run(MERGED)
        edited = stored(sandbox)[0]
        path = f"/v2/issues/{edited.issue}/worklog/{edited.id}"  # type: ignore[attr-defined]
        await asyncio.to_thread(call, sandbox.base_url, "PATCH", path, {"comment": "by hand"})
        held, report = await run(PER_ROW, rebook=True)
        kept = tracker_groups(sandbox)
        # Settled by hand (the worklog deleted in Tracker): the rebook goes through.
        await asyncio.to_thread(call, sandbox.base_url, "DELETE", path)
        done, done_report = await run(PER_ROW, rebook=True)
        final = tracker_groups(sandbox)
    assert held.exit_code == ExitCode.ROWS_FAILED
    lines = read_report(report)
    # The 20 s and 25 s entries are too short to book alone (invalid), the rest wait.
    assert collections.Counter(line["status"] for line in lines) == {
        "deleted": 7, "conflict": 1, "pending": 16, "invalid": 8,
    }  # fmt: skip
    assert held.rebook is not None and held.rebook["left"] == 1 and not held.removed_from_files
    assert all("could not be taken back" in line["error"]
               for line in lines if line["status"] == "pending")  # fmt: skip
    assert len(kept) == 1 and next(iter(kept))[3] == "by hand"  # nothing booked beside it
    assert done.exit_code == ExitCode.ROWS_FAILED  # the short entries, invalid alone
    assert statuses(done_report)["gone"] == 1
    assert final == per_row_holdings([r for r in rows if not r[3].startswith("0:00:")])


async def test_a_rebook_with_dropped_answers_takes_back_and_books_each_worklog_once(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = whole_minutes()
    knobs = SandboxSettings(p_created_then_drop=0.3, p_503=0.1, seed=5)
    async with running_sandbox(knobs) as sandbox:
        run = Runs(sandbox, tmp_path, write_csv(rows))
        await run(PER_ROW)
        rebooked, _ = await run(MERGED, rebook=True)
        merged = tracker_groups(sandbox)
        back, _ = await run(PER_ROW, rebook=True)
        per_row = tracker_groups(sandbox)
        faults = dict(sandbox.stats.faults)
    assert faults.get("created_then_drop", 0) > 0
    assert rebooked.exit_code == ExitCode.OK and back.exit_code == ExitCode.OK
    assert merged == expected_groups(rows) and per_row == per_row_holdings(rows)
