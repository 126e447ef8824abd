"""``run --sync``: Tracker ends up holding exactly the corrected file (sandbox in a process)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.errors import ExitCode, SyncRefused
from importer.formats import parse_business_iso
from importer.pipeline import RunOptions, run_import_async
from importer.report import RunSummary
from importer.sandbox import DEFAULT_TOKEN
from importer.testing import sandbox_process
from tests.helpers import HEADER, make_settings, read_report, tracker_env

FIRST = [
    HEADER,
    ["PORT-1", "01.10.2026", "09:00", "2", "design", "a.smirnova"],
    ["PORT-1", "02.10.2026", "09:00", "3", "build", "a.smirnova"],
    ["PORT-2", "03.10.2026", "10:00", "2", "review", "i.petrov"],
    ["PORT-2", "04.10.2026", "10:00", "4", "tests", "i.petrov"],
    ["PORT-3", "05.10.2026", "11:00", "1", "docs", "a.smirnova"],
]
# One row's hours corrected (2 → 1.5), one comment fixed, one row removed, one added.
CORRECTED = [
    HEADER,
    ["PORT-1", "01.10.2026", "09:00", "1,5", "design", "a.smirnova"],
    ["PORT-1", "02.10.2026", "09:00", "3", "build", "a.smirnova"],
    ["PORT-2", "03.10.2026", "10:00", "2", "code review", "i.petrov"],
    ["PORT-2", "04.10.2026", "10:00", "4", "tests", "i.petrov"],
    ["PORT-4", "06.10.2026", "12:00", "1", "meeting", "i.petrov"],
]


@pytest.fixture(scope="module")
def tracker() -> Iterator[str]:
    with sandbox_process() as url:
        yield url


def call(base_url: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"OAuth {DEFAULT_TOKEN}",
            "X-Org-ID": "sandbox-org",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else None


def holdings(base_url: str, issues: list[str]) -> dict[tuple[str, str], tuple[float, str]]:
    """What Tracker holds: (issue, start) → (hours, comment)."""
    found = {}
    for issue in issues:
        for record in call(base_url, "GET", f"/v2/issues/{issue}/worklog?perPage=1000"):
            key = (issue, record["start"])
            assert key not in found, f"two worklogs for {key}"
            hours = parse_business_iso(record["duration"]).total_seconds() / 3600
            found[key] = (hours, record.get("comment") or "")
    return found


class Importer:
    """Runs against one Tracker with one journal, as cron would."""

    def __init__(self, base_url: str, tmp_path: Path) -> None:
        self.base_url = base_url
        self.tmp_path = tmp_path
        self.runs = 0

    async def __call__(self, csv: Path, **options: Any) -> tuple[RunSummary, list[dict[str, str]]]:
        self.runs += 1
        report = self.tmp_path / f"report-{self.runs}.csv"
        settings = options.pop("settings", make_settings())
        summary = await run_import_async(
            RunOptions(
                files=[csv],
                settings=settings,
                report_path=report,
                state_path=self.tmp_path / "journal.sqlite",
                environ=tracker_env(self.base_url),
                batch=options.pop("batch", "october"),
                **options,
            )
        )
        return summary, read_report(report)


def statuses(report: list[dict[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in report:
        counts[line["status"]] = counts.get(line["status"], 0) + 1
    return counts


def unique_issues(prefix: str) -> Callable[[list[list[str]]], list[list[str]]]:
    """The same rows on issues of their own, so tests sharing a sandbox never meet."""

    def rename(rows: list[list[str]]) -> list[list[str]]:
        return [rows[0]] + [[prefix + r[0].split("-")[1], *r[1:]] for r in rows[1:]]

    return rename


async def test_the_corrected_month_synced_is_exactly_the_file(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("STORY-")
    run = Importer(tracker, tmp_path)
    first, _ = await run(write_csv(rename(FIRST), name="october.csv"))
    assert first.counts["created"] == 5
    summary, report = await run(write_csv(rename(CORRECTED), name="october.csv"), sync=True)
    assert summary.exit_code == ExitCode.OK
    assert statuses(report) == {"already_imported": 2, "updated": 2, "created": 1, "deleted": 1}
    held = holdings(tracker, ["STORY-1", "STORY-2", "STORY-3", "STORY-4"])
    assert sum(hours for hours, _ in held.values()) == 11.5  # the corrected file's total
    assert sorted(held.values()) == [
        (1.0, "meeting"),
        (1.5, "design"),
        (2.0, "code review"),
        (3.0, "build"),
        (4.0, "tests"),
    ]
    by_row = {(line["row"], line["status"]): line for line in report}
    hours = by_row[("2", "updated")]
    assert (hours["duration"], hours["previous_duration"]) == ("PT1H30M", "PT2H")
    assert hours["error"] == "updated: hours 2 → 1.5"
    comment = by_row[("4", "updated")]
    assert comment["previous_comment"] == "review"
    assert comment["error"] == "updated: comment 'review' → 'code review'"
    deleted = by_row[("6", "deleted")]
    assert Path(deleted["file"]).name == "october.csv" and deleted["issue"] == "STORY-3"
    assert (deleted["previous_duration"], deleted["previous_comment"]) == ("PT1H", "docs")

    again, report = await run(write_csv(rename(CORRECTED), name="october.csv"), sync=True)
    assert statuses(report) == {"already_imported": 5}
    assert again.requests == 1  # who am I: no write, no read of any worklog


async def test_without_sync_a_correction_is_held_back_unless_booked_beside(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("ADD-")
    run = Importer(tracker, tmp_path)
    await run(write_csv(rename(FIRST), name="october.csv"))
    summary, report = await run(write_csv(rename(CORRECTED), name="october.csv"))
    assert summary.exit_code == ExitCode.ROWS_FAILED
    assert statuses(report) == {"already_imported": 2, "needs_sync": 2, "created": 1}
    assert summary.removed_from_files == 1  # row 6 (STORY-3's docs) is gone, left in Tracker
    assert len(holdings(tracker, ["ADD-1", "ADD-2", "ADD-3", "ADD-4"])) == 6

    summary, report = await run(write_csv(rename(CORRECTED), name="october.csv"), book_beside=True)
    corrections = [line for line in report if "--sync" in line["warning"]]
    assert sorted(line["row"] for line in corrections) == ["2", "4"]
    assert "an earlier booking of this row, worklog" in corrections[0]["warning"]
    assert summary.corrections_booked == 2 and summary.exit_code == ExitCode.OK
    listed = [call(tracker, "GET", f"/v2/issues/ADD-{n}/worklog") for n in (1, 2, 3, 4)]
    assert sum(len(records) for records in listed) == 8  # both versions of rows 2 and 4


async def test_a_worklog_edited_in_tracker_is_a_conflict_and_left_alone(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("EDIT-")
    run = Importer(tracker, tmp_path)
    _, first = await run(write_csv(rename(FIRST), name="october.csv"))
    ids = {line["row"]: line["worklog_id"] for line in first}
    # Someone fixes row 2's worklog by hand, and deletes row 6's.
    call(tracker, "PATCH", f"/v2/issues/EDIT-1/worklog/{ids['2']}", {"duration": "PT5H"})
    call(tracker, "DELETE", f"/v2/issues/EDIT-3/worklog/{ids['6']}")
    summary, report = await run(write_csv(rename(CORRECTED), name="october.csv"), sync=True)
    by_row = {(line["row"], line["status"]): line for line in report}
    conflict = by_row[("2", "conflict")]
    assert "was edited in Tracker since it was booked" in conflict["error"]
    assert "hours 2 → 5" in conflict["error"]
    assert by_row[("6", "gone")]["issue"] == "EDIT-3"
    assert summary.exit_code == ExitCode.ROWS_FAILED
    held = holdings(tracker, ["EDIT-1"])
    assert (5.0, "design") in held.values()  # left as the person made it


async def test_the_safety_valve_stops_a_half_export_and_deletes_nothing(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("HALF-")
    run = Importer(tracker, tmp_path)
    await run(write_csv(rename(FIRST), name="october.csv"))
    half = write_csv(rename(FIRST[:3]), name="october.csv")
    with pytest.raises(SyncRefused, match=r"would delete 3 of the 5 bookings of batch 'october'"):
        await run(half, sync=True)
    assert len(holdings(tracker, ["HALF-1", "HALF-2", "HALF-3"])) == 5
    summary, report = await run(half, sync=True, dry_run=True)
    assert summary.sync is not None and summary.sync["to_delete"] == 3
    assert "a_real_run_would_refuse" in summary.sync
    summary, report = await run(half, sync=True, allow_mass_delete=True)
    assert statuses(report) == {"already_imported": 2, "deleted": 3}
    assert len(holdings(tracker, ["HALF-1", "HALF-2", "HALF-3"])) == 2


async def test_the_dry_run_prints_the_plan_and_changes_nothing(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("PLAN-")
    run = Importer(tracker, tmp_path)
    await run(write_csv(rename(FIRST), name="october.csv"))
    before = holdings(tracker, ["PLAN-1", "PLAN-2", "PLAN-3", "PLAN-4"])
    summary, report = await run(
        write_csv(rename(CORRECTED), name="october.csv"), sync=True, dry_run=True
    )
    assert holdings(tracker, ["PLAN-1", "PLAN-2", "PLAN-3", "PLAN-4"]) == before
    plan = summary.sync
    assert plan is not None
    assert (plan["unchanged"], plan["to_create"], plan["to_update"], plan["to_delete"]) == (
        2,
        1,
        2,
        1,
    )
    assert plan["hours_by_person"] == {
        "a.smirnova": {"before": 6.0, "after": 4.5},
        "i.petrov": {"before": 6.0, "after": 7.0},
    }
    assert any("first 2 to update" in line for line in plan["plan"])
    assert {line["status"] for line in report} == {"already_imported", "pending"}
    assert summary.hours_by_author == {"i.petrov": 1.0}  # only the new row creates hours


async def test_a_sync_in_import_mode_edits_through_v3_and_keeps_each_author(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("TEAM-")
    run = Importer(tracker, tmp_path)
    settings = make_settings(tracker={"mode": "import"})
    first, _ = await run(write_csv(rename(FIRST), name="october.csv"), settings=settings)
    assert first.counts["created"] == 5
    before = call(tracker, "GET", "/_sandbox/stats")["routes"]
    _, report = await run(
        write_csv(rename(CORRECTED), name="october.csv"), settings=settings, sync=True
    )
    assert statuses(report) == {"already_imported": 2, "updated": 2, "created": 1, "deleted": 1}
    routes = call(tracker, "GET", "/_sandbox/stats")["routes"]
    assert (
        routes.get("PATCH /v3/issues/{key}/worklog/{id}", 0)
        - before.get("PATCH /v3/issues/{key}/worklog/{id}", 0)
        == 2
    )
    authors = {
        (r["issue"]["key"], r["comment"]): r["createdBy"]["id"]
        for issue in ("TEAM-1", "TEAM-2", "TEAM-4")
        for r in call(tracker, "GET", f"/v2/issues/{issue}/worklog")
    }
    assert authors[("TEAM-1", "design")] == "1120000000000002"  # a.smirnova's uid
    assert authors[("TEAM-2", "code review")] == "1120000000000003"  # i.petrov
