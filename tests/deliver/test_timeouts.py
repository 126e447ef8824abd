"""A POST that times out may still be stored: it is reconciled, never simply sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from importer.errors import ExitCode
from importer.sandbox import RunningSandbox, SandboxSettings, running_sandbox
from tests.helpers import import_into, make_settings, month_rows, read_report

SLOW = 0.3  # seconds Tracker takes to answer a POST …
PATIENCE = 0.1  # … that the importer waits for


async def _slow_post_once(sandbox: RunningSandbox, knobs: SandboxSettings) -> None:
    """After who-am-I, Tracker turns slow: the first POST is stored after the client has
    given up on it; once it is stored, Tracker answers promptly again."""
    while not sandbox.stats.served:
        await asyncio.sleep(0)
    knobs.latency = SLOW
    while not sandbox.store.worklogs:
        await asyncio.sleep(0.01)
    knobs.latency = 0.0


async def test_a_post_stored_after_the_timeout_is_adopted_not_booked_twice(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(1))
    settings = make_settings(delivery={"request_timeout": PATIENCE, "precheck": False})
    knobs = SandboxSettings()
    async with running_sandbox(knobs) as sandbox:
        slow = asyncio.create_task(_slow_post_once(sandbox, knobs))
        summary = await import_into(sandbox, [path], settings, tmp_path / "r.csv")
        await slow
        stored = list(sandbox.store.worklogs)
    [line] = read_report(tmp_path / "r.csv")
    assert len(stored) == 1
    assert (line["status"], line["worklog_id"], line["http_status"]) == (
        "created",
        str(stored[0]),
        "200",
    )
    assert line["error"] == "adopted the worklog an unanswered request had created"
    assert summary.exit_code == ExitCode.OK


async def test_out_of_attempts_after_a_timeout_the_next_run_checks_tracker_first(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(1))
    settings = make_settings(
        delivery={"request_timeout": PATIENCE, "precheck": False, "max_attempts": 1}
    )
    state = tmp_path / "journal.sqlite"
    knobs = SandboxSettings()
    async with running_sandbox(knobs) as sandbox:
        slow = asyncio.create_task(_slow_post_once(sandbox, knobs))
        first = await import_into(sandbox, [path], settings, tmp_path / "r1.csv", state=state)
        await slow  # the late POST is stored now
        second = await import_into(sandbox, [path], settings, tmp_path / "r2.csv", state=state)
        stored = list(sandbox.store.worklogs)
    [line] = read_report(tmp_path / "r1.csv")
    assert first.exit_code == ExitCode.UNAVAILABLE
    assert line["status"] == "pending"
    assert line["error"] == (
        "outcome unknown, run stopped: Tracker is not answering: no answer within 0.1 s; "
        "the next run checks Tracker first"
    )
    [again] = read_report(tmp_path / "r2.csv")
    assert len(stored) == 1
    assert (again["status"], again["worklog_id"]) == ("already_imported", str(stored[0]))
    assert again["error"] == "found in Tracker: booked by an earlier run that was interrupted"
    assert second.exit_code == ExitCode.OK
