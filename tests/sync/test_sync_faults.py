"""Sync and undo under a failing Tracker and under SIGKILL: the exact end state, every time."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.formats import parse_business_iso, parse_tracker_start
from importer.testing import sandbox_process
from tests.helpers import CONFIG_TOML, HEADER, read_report, sandbox_get, tracker_env
from tests.sync.test_sync import Importer

pytestmark = pytest.mark.slow  # thousands of requests, whole processes

MSK = dt.timezone(dt.timedelta(hours=3))
PEOPLE = ["a.smirnova", "i.petrov", "m.kuznetsova"]


def month(count: int, issues: str = "SYNC") -> list[list[str]]:
    """``count`` rows, each its own (issue, start, person): every change is a clean correction."""
    rows = [HEADER]
    for n in range(count):
        day = dt.date(2026, 10, 1) + dt.timedelta(days=n % 28)
        start = dt.datetime(2026, 1, 1, 6, 0) + dt.timedelta(minutes=15 * (n // 28))
        rows.append(
            [
                f"{issues}-{1 + n % 7}",
                day.strftime("%d.%m.%Y"),
                start.strftime("%H:%M"),
                ["0,5", "1", "1,25", "2", "3"][n % 5],
                f"row {n}",
                PEOPLE[n % 3],
            ]
        )
    return rows


def corrected(rows: list[list[str]], seed: int) -> list[list[str]]:
    """~5% hours changed, 3% comments changed, 3% rows removed, 2% rows added."""
    dice = random.Random(seed)
    body = [list(r) for r in rows[1:]]
    count = len(body)
    chosen = dice.sample(range(count), k=count * 11 // 100)
    hours, comments, removed = (
        chosen[: count // 20],
        chosen[count // 20 : count * 8 // 100],
        (chosen[count * 8 // 100 :]),
    )
    for i in hours:
        body[i][3] = "4,5" if body[i][3] != "4,5" else "0,25"
    for i in comments:
        body[i][4] += " (fixed)"
    kept = [r for i, r in enumerate(body) if i not in set(removed)]
    prefix = rows[1][0].split("-")[0]
    added = month(count + count // 50, prefix)[1 + count :]
    return [rows[0], *kept, *added]


def tracker_state(base_url: str, prefix: str) -> dict[str, tuple[str, str, str, str]]:
    """Every worklog of the test's issues: id → (issue, start instant, seconds, comment)."""
    found = {}
    for w in sandbox_get(base_url, "/_sandbox/worklogs"):
        if w["issue"]["key"].startswith(prefix):
            start = parse_tracker_start(w["start"]).astimezone(dt.UTC).isoformat()
            seconds = parse_business_iso(w["duration"]).total_seconds()
            found[str(w["id"])] = (w["issue"]["key"], start, f"{seconds:g}", w.get("comment") or "")
    return found


def expected(rows: list[list[str]]) -> list[tuple[str, str, str, str]]:
    """What Tracker must hold for ``rows``: (issue, start instant, seconds, comment)."""
    found = []
    for issue, day, start, hours, comment, _ in rows[1:]:
        moment = dt.datetime.strptime(f"{day} {start}", "%d.%m.%Y %H:%M").replace(tzinfo=MSK)
        seconds = float(hours.replace(",", ".")) * 3600
        found.append((issue, moment.astimezone(dt.UTC).isoformat(), f"{seconds:g}", comment))
    return sorted(found)


async def test_a_corrected_month_synced_through_faults_is_exactly_the_file(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = month(1000, "FLT")
    flags = ("--p-503", "0.2", "--p-created-then-500", "0.03", "--p-created-then-drop", "0.03")
    with sandbox_process(*flags, "--seed", "12") as url:
        run = Importer(url, tmp_path)
        first, _ = await run(write_csv(rows, name="october.csv"))
        assert first.exit_code == 0, first.stopped
        fixed = corrected(rows, seed=7)
        summary, report = await run(write_csv(fixed, name="october.csv"), sync=True)
        assert summary.exit_code == 0, (summary.stopped, summary.problems)
        held = tracker_state(url, "FLT-")
        stats = sandbox_get(url, "/_sandbox/stats")
    assert sorted(v for v in held.values()) == expected(fixed)
    counts = summary.counts
    assert (counts["updated"], counts["deleted"], counts["created"]) == (80, 30, 20)
    assert counts["already_imported"] == 1000 - 80 - 30
    # The report matches Tracker row for row: every booked line names a worklog Tracker holds
    # with that row's values; every deleted line one it no longer holds.
    booked = [r for r in report if r["status"] in ("created", "updated", "already_imported")]
    assert sorted(r["worklog_id"] for r in booked) == sorted(held)
    for line in booked:
        issue, start, _, _ = held[line["worklog_id"]]
        assert (issue, start) == (
            line["issue"],
            dt.datetime.fromisoformat(line["start"]).astimezone(dt.UTC).isoformat(),
        )
    assert not {r["worklog_id"] for r in report if r["status"] == "deleted"} & set(held)
    assert stats["edits"].get("DELETE 404", 0) == 0  # no worklog was deleted twice
    assert stats["edits"].get("PATCH 404", 0) == 0
    assert stats["faults"]["created_then_500"] and stats["faults"]["created_then_drop"]


def start(base_url: str, tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    env = {**os.environ, **tracker_env(base_url)}
    command = [
        sys.executable, "-m", "importer", *args, "-c", str(config),
        "--state", str(tmp_path / "journal.sqlite"), "--quiet", "--log-format", "json",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def edits_seen(base_url: str) -> int:
    return sum(sandbox_get(base_url, "/_sandbox/stats")["edits"].values())


def kill_after_edits(
    base_url: str,
    process: subprocess.Popen[bytes],
    edits: int,
    dice: random.Random,
    seen: Callable[[str], int] = edits_seen,
) -> bool:
    """SIGKILL the process once Tracker saw ``edits`` more edits (or whatever ``seen``
    counts); False if it ended first."""
    wanted = seen(base_url) + edits
    deadline = time.monotonic() + 60
    while seen(base_url) < wanted:
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.003)
    time.sleep(dice.random() * 0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    return True


def test_sigkill_during_a_sync_and_an_undo_then_a_rerun_ends_exactly(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = month(400, "KIL")
    fixed = corrected(rows, seed=3)
    dice = random.Random(20261128)
    with sandbox_process("--latency", "0.003", "--p-created-then-drop", "0.02") as url:
        csv = write_csv(rows, name="october.csv")
        first = start(url, tmp_path, "run", str(csv), "--report", str(tmp_path / "first.csv"))
        assert first.wait(timeout=120) == 0
        csv = write_csv(fixed, name="october.csv")
        kills = 0
        for attempt in range(6):
            report = str(tmp_path / f"sync-{attempt}.csv")
            process = start(url, tmp_path, "run", str(csv), "--sync", "--report", report)
            if not kill_after_edits(url, process, dice.randint(0, 12), dice):
                break
            kills += 1
        last = start(url, tmp_path, "run", str(csv), "--sync", "--report", str(tmp_path / "l.csv"))
        assert last.wait(timeout=120) == 0
        assert sorted(tracker_state(url, "KIL-").values()) == expected(fixed)
        assert kills >= 3

        for attempt in range(4):
            report = str(tmp_path / f"undo-{attempt}.csv")
            process = start(url, tmp_path, "undo", "--batch", "october", "--report", report)
            if not kill_after_edits(url, process, dice.randint(1, 40), dice):
                break
        last = start(url, tmp_path, "undo", "--batch", "october", "--report", str(tmp_path / "u"))
        assert last.wait(timeout=120) == 0
        assert tracker_state(url, "KIL-") == {}
        stats = sandbox_get(url, "/_sandbox/stats")
    assert stats["edits"].get("DELETE 404", 0) == 0
    final = read_report(tmp_path / "u")
    assert {line["status"] for line in final} <= {"deleted"}
