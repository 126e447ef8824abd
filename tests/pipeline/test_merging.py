"""One worklog per person, issue and day (``[merge] per = "day"``): a timer export books one
worklog per group, the hours stay the file's to the second, every source row is reported
once, and a group is booked exactly once — re-run, stopped part-way, answers dropped."""

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
from importer.sandbox import SandboxSettings, running_sandbox
from tests.helpers import HEADER, import_into, make_settings, read_report, sandbox_env

MERGED = make_settings(merge={"per": "day"})


def timer_export(
    days: int = 3, people: tuple[str, ...] = ("a.smirnova", "i.petrov")
) -> list[list[str]]:
    """Start/stop entries: per person and day a few short ones on two issues, some seconds."""
    rows = [HEADER]
    entries = [
        ("PORT-1", 20, "standup"), ("PORT-1", 1500, "code"), ("PORT-2", 2700, "review"),
        ("PORT-1", 25, "code"), ("PORT-1", 1800, "tests"), ("PORT-2", 600, "review"),
    ]  # fmt: skip
    for day in range(1, days + 1):
        for number, person in enumerate(people):
            clock = (8 + 2 * number) * 3600  # each person's day starts elsewhere
            for issue, seconds, comment in entries:
                start = f"{clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d}"
                length = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
                rows.append([issue, f"{day:02d}.10.2026", start, length, comment, person])
                clock += seconds + 60
    return rows


def groups_of(rows: list[list[str]]) -> dict[tuple[str, str, str], int]:
    """Seconds per (person, issue, day), as the file says."""
    found: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for issue, date, _, length, _, person in rows[1:]:
        h, m, s = map(int, length.split(":"))
        found[person, issue, date] += h * 3600 + m * 60 + s
    return dict(found)


def stored(sandbox: object) -> list[object]:
    return list(sandbox.store.worklogs.values())  # type: ignore[attr-defined]


def booked_keys(sandbox: object) -> collections.Counter[tuple[str, dt.datetime]]:
    """Each worklog's issue and start: a group's, unique (people start at other hours)."""
    return collections.Counter((w.issue, w.start) for w in stored(sandbox))  # type: ignore[attr-defined]


async def test_a_timer_export_books_one_worklog_per_group_and_reports_every_row(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = timer_export()
    path = write_csv(rows)
    async with running_sandbox() as sandbox:
        summary = await import_into(sandbox, [path], MERGED, tmp_path / "r.csv")
        booked = stored(sandbox)
        posts = sandbox.stats.routes["POST /v2/issues/{key}/worklog"]
    expected = groups_of(rows)
    assert posts == len(booked) == len(expected) == 12  # 3 days × 2 people × 2 issues
    msk = dt.timezone(dt.timedelta(hours=3))
    got = collections.Counter(
        (w.issue, w.start.astimezone(msk).strftime("%d.%m.%Y"), int(w.duration.total_seconds()))  # type: ignore[attr-defined]
        for w in booked
    )
    want = collections.Counter(
        (issue, day, (seconds + 30) // 60 * 60) for (_, issue, day), seconds in expected.items()
    )
    assert got == want  # rounded once, after summing
    first = min(booked, key=lambda w: (w.start, w.issue))  # type: ignore[attr-defined]
    assert first.comment == "standup; code; tests"  # type: ignore[attr-defined]
    report = read_report(tmp_path / "r.csv")
    assert sorted(int(line["row"]) for line in report) == list(range(2, len(rows) + 1))
    assert {line["status"] for line in report} == {"created"}
    by_worklog = collections.Counter(line["worklog_id"] for line in report)
    assert len(by_worklog) == 12 and sorted(set(by_worklog.values())) == [2, 4]
    row_2 = next(line for line in report if line["row"] == "2")
    assert row_2["group"] == f"{path}:2,3,5,6"  # a.smirnova's PORT-1 on the 1st
    hours: collections.Counter[str] = collections.Counter()
    for (person, _, _), seconds in expected.items():
        hours[person] += seconds
    assert summary.hours_by_author == {p: round(s / 3600, 4) for p, s in hours.items()}
    assert summary.merge == {
        "per": "day", "rows": 36, "groups": 12, "requests_saved": 24, "not_booked": 0,
    }  # fmt: skip


async def test_a_merged_batch_again_books_nothing_and_a_stopped_run_finishes_each_group_once(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(timer_export(days=5))
    state = tmp_path / "journal.sqlite"
    settings = make_settings(merge={"per": "day"}, delivery={"concurrency": 1})
    async with running_sandbox(SandboxSettings(latency=0.02)) as sandbox:
        cancel = asyncio.Event()
        options = RunOptions([path], settings, report_path=tmp_path / "r1.csv", state_path=state,
                             environ=sandbox_env(sandbox), cancel=cancel)  # fmt: skip
        running = asyncio.create_task(run_import_async(options))
        while len(stored(sandbox)) < 4:
            await asyncio.sleep(0.01)
        cancel.set()
        first = await running
        second = await import_into(sandbox, [path], settings, tmp_path / "r2.csv", state=state)
        third = await import_into(sandbox, [path], settings, tmp_path / "r3.csv", state=state)
        keys = booked_keys(sandbox)
    assert first.exit_code == ExitCode.TERMINATED and 0 < first.counts["created"] < 60
    assert second.exit_code == ExitCode.OK and {k: v for k, v in third.counts.items() if v} == {
        "already_imported": 60
    }
    assert len(keys) == 20 and set(keys.values()) == {1}


async def test_dropped_answers_book_each_group_once(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    knobs = SandboxSettings(p_created_then_drop=0.3, seed=3)
    async with running_sandbox(knobs) as sandbox:
        summary = await import_into(
            sandbox, [write_csv(timer_export(days=6))], MERGED, tmp_path / "r.csv"
        )
        keys = booked_keys(sandbox)
        drops = sandbox.stats.faults["created_then_drop"]
    assert drops > 0 and summary.exit_code == ExitCode.OK
    assert len(keys) == 24 and set(keys.values()) == {1}


async def test_a_group_with_an_invalid_row_is_held_or_booked_without_it(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = timer_export(days=1, people=("a.smirnova",))
    rows[2][3] = "soon"  # PORT-1's "code" row: its group (a.smirnova, PORT-1, 01.10) is hit
    path = write_csv(rows)
    async with running_sandbox() as sandbox:
        held = await import_into(sandbox, [path], MERGED, tmp_path / "held.csv", dry_run=True)
        partial = make_settings(merge={"per": "day", "partial": "book_valid"})
        booked = await import_into(sandbox, [path], partial, tmp_path / "booked.csv")
        worklogs = stored(sandbox)
    lines = {line["row"]: line for line in read_report(tmp_path / "held.csv")}
    assert lines["3"]["status"] == "invalid"
    assert [lines[r]["status"] for r in ("2", "5", "6")] == ["invalid"] * 3
    assert lines["2"]["error"].startswith("held with its group (a.smirnova, PORT-1, 2026-10-01)")
    assert f"{path}:3 of it invalid" in lines["2"]["error"]
    assert [lines[r]["status"] for r in ("4", "7")] == ["pending"] * 2  # PORT-2's group
    assert held.counts["invalid"] == 4 and booked.counts["created"] == 5
    assert held.merge is not None and booked.merge is not None
    assert (held.merge["not_booked"], booked.merge["not_booked"]) == (1, 0)
    assert len(worklogs) == 2
    done = {line["row"]: line for line in read_report(tmp_path / "booked.csv")}
    assert done["2"]["warning"] == f"booked without {path}:3 of its group (invalid)"


async def test_a_batch_booked_one_way_is_not_booked_the_other(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(timer_export(days=1))
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        await import_into(sandbox, [path], make_settings(), tmp_path / "r1.csv", state=state)
        with pytest.raises(ConfigError, match="was booked one worklog per row"):
            await import_into(sandbox, [path], MERGED, tmp_path / "r2.csv", state=state)
        other = tmp_path / "other.sqlite"
        await import_into(sandbox, [path], MERGED, tmp_path / "r3.csv", state=other)
        with pytest.raises(ConfigError, match=r"merge\.per as it was"):
            await import_into(sandbox, [path], make_settings(), tmp_path / "r4.csv", state=other)


async def test_a_corrected_export_merged_again_is_held_for_sync_never_booked_beside(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = timer_export(days=1, people=("a.smirnova",))
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        await import_into(sandbox, [write_csv(rows)], MERGED, tmp_path / "r1.csv", state=state)
        corrected = [list(r) for r in rows]
        corrected[1][2] = "07:30:00"  # the day's first row starts earlier: the group's start moves
        corrected[1][3] = "0:10:00"
        path = write_csv(corrected)  # the same name: the same batch, as cron runs it
        again = await import_into(sandbox, [path], MERGED, tmp_path / "r2.csv", state=state)
        booked = len(stored(sandbox))
    lines = {line["row"]: line for line in read_report(tmp_path / "r2.csv")}
    assert booked == 2  # nothing booked beside the earlier group
    assert again.counts["needs_sync"] == 4 and again.exit_code == ExitCode.ROWS_FAILED
    assert {lines[r]["status"] for r in ("2", "3", "5", "6")} == {"needs_sync"}
    assert {lines[r]["status"] for r in ("4", "7")} == {"already_imported"}


async def test_short_entries_are_rounded_once_as_their_sum_and_long_comments_cut(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [HEADER] + [
        ["PORT-1", "01.10.2026", f"09:00:{n * 20:02d}", "0:00:20", f"ping {n} " + "x" * 40,
         "a.smirnova"]
        for n in range(3)
    ]  # fmt: skip
    settings = make_settings(merge={"per": "day"}, input={"max_comment_length": 60})
    async with running_sandbox() as sandbox:
        summary = await import_into(sandbox, [write_csv(rows)], settings, tmp_path / "r.csv")
        [worklog] = stored(sandbox)
    # 3 × 20 s: alone each would round to 0 (invalid); together they make a minute.
    assert summary.counts["created"] == 3 and worklog.duration == dt.timedelta(minutes=1)  # type: ignore[attr-defined]
    assert len(worklog.comment) == 60 and worklog.comment.endswith("characters cut)")  # type: ignore[attr-defined]
    assert worklog.comment.startswith("ping 0 " + "x" * 20)  # type: ignore[attr-defined]


async def test_verify_compares_a_merged_batch_group_by_group(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    from importer.pipeline import verify_async

    rows = timer_export(days=2)
    path = write_csv(rows)
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        await import_into(sandbox, [path], MERGED, tmp_path / "r.csv", state=state)
        options = RunOptions([path], MERGED, report_path=tmp_path / "v.csv", state_path=state,
                             environ=sandbox_env(sandbox))  # fmt: skip
        equal = await verify_async(options)
        changed = [list(r) for r in rows]
        changed[2][3] = "0:45:00"  # one group's sum differs from what Tracker holds
        other = await verify_async(dataclasses.replace(options, files=[write_csv(changed)]))
        # Compared per row, every row would differ: refused, naming the option to use; with
        # --merge day over a per-row config, compared as booked.
        per_row = dataclasses.replace(
            options, files=[write_csv(rows)], settings=make_settings(), report_path=tmp_path / "p"
        )
        with pytest.raises(ConfigError, match="Verify it the way it was booked: --merge day"):
            await verify_async(per_row)
        asked = await verify_async(dataclasses.replace(per_row, merge="day"))
    assert {k: v for k, v in equal.counts.items() if v} == {"present": len(rows) - 1}
    assert {k: v for k, v in asked.counts.items() if v} == {"present": len(rows) - 1}
    assert other.counts["different"] == 4 and other.counts["present"] == len(rows) - 5
    lines = {line["row"]: line for line in read_report(tmp_path / "v.csv")}
    assert lines["2"]["group"].endswith(":2,3,5,6") and lines["3"]["status"] == "different"


def expected_groups(rows: list[list[str]]) -> collections.Counter[tuple[str, str, int, str]]:
    """What Tracker should hold for a file merged per day: issue, start, minutes, comment."""
    groups: dict[tuple[str, str, str], list[list[str]]] = {}
    for row in rows[1:]:
        groups.setdefault((row[5], row[0], row[1]), []).append(row)
    found: collections.Counter[tuple[str, str, int, str]] = collections.Counter()
    for (_, issue, date), members in groups.items():
        members.sort(key=lambda r: r[2])
        seconds = sum(
            int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in (r[3].split(":") for r in members)
        )
        day = dt.datetime.strptime(date, "%d.%m.%Y").strftime("%Y-%m-%d")
        comments = "; ".join(dict.fromkeys(r[4] for r in members))
        found[issue, f"{day}T{members[0][2]}", (seconds + 30) // 60, comments] += 1
    return found


def tracker_groups(sandbox: object) -> collections.Counter[tuple[str, str, int, str]]:
    msk = dt.timezone(dt.timedelta(hours=3))
    return collections.Counter(
        (w.issue, w.start.astimezone(msk).strftime("%Y-%m-%dT%H:%M:%S"),  # type: ignore[attr-defined]
         int(w.duration.total_seconds()) // 60, w.comment)  # type: ignore[attr-defined]
        for w in stored(sandbox)
    )  # fmt: skip


async def test_a_corrected_export_synced_merged_ends_with_tracker_equal_to_its_groups(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = timer_export(days=3)
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        await import_into(sandbox, [write_csv(rows)], MERGED, tmp_path / "r1.csv", state=state)
        assert tracker_groups(sandbox) == expected_groups(rows)
        corrected = [list(r) for r in rows]
        corrected[2][3] = "0:45:00"  # a longer "code" entry: its group's sum (PATCH)
        corrected[7][2] = "07:00:00"  # i.petrov's first row of day 1 starts earlier (new start)
        gone = [r for r in corrected[1:] if r[5] == "a.smirnova" and r[1] == "03.10.2026"
                and r[0] == "PORT-2"]  # fmt: skip
        corrected = [r for r in corrected if r not in gone]  # a whole group removed (DELETE)
        moved = next(r for r in corrected[1:] if r[5] == "i.petrov" and r[1] == "02.10.2026"
                     and r[0] == "PORT-2")  # fmt: skip
        moved[1] = "03.10.2026"  # a row moved to another day: two groups change
        path = write_csv(corrected)
        options = RunOptions(
            [path], MERGED, sync=True, allow_mass_delete=True, report_path=tmp_path / "s.csv",
            state_path=state, environ=sandbox_env(sandbox),
        )  # fmt: skip
        synced = await run_import_async(options)
        held = tracker_groups(sandbox)
        again = await run_import_async(
            dataclasses.replace(options, report_path=tmp_path / "s2.csv")
        )
    assert synced.exit_code == ExitCode.OK, synced.stopped
    assert held == expected_groups(corrected)
    report = read_report(tmp_path / "s.csv")
    rows_seen = sorted(int(line["row"]) for line in report if line["status"] != "deleted")
    assert rows_seen == list(range(2, len(corrected) + 1))  # every row of the file, once
    statuses = collections.Counter(line["status"] for line in report)
    # a PATCHed sum (4 rows), the day that gained a row (3 rows); three groups whose start
    # moved or that are gone deleted, and the moved-start ones booked anew (4 + 1 rows)
    assert statuses == {"already_imported": 22, "updated": 7, "created": 5, "deleted": 3}
    assert {k: v for k, v in again.counts.items() if v} == {"already_imported": len(corrected) - 1}
