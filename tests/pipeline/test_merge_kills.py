"""SIGKILL in the middle of a merged run and of a rebook: run again, and Tracker holds each
group (then each row) exactly once, whatever moment the process died at."""

from __future__ import annotations

import collections
import datetime as dt
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.formats import parse_business_iso, parse_tracker_start
from importer.testing import sandbox_process
from tests.helpers import HEADER, read_report, sandbox_get
from tests.pipeline.test_merging import expected_groups
from tests.pipeline.test_rebook import per_row_holdings
from tests.sync.test_sync_faults import kill_after_edits, start

pytestmark = pytest.mark.slow  # whole processes, killed
MSK = dt.timezone(dt.timedelta(hours=3))
POST = "POST /v2/issues/{key}/worklog"


def timer_month(people: int = 4, days: int = 20) -> list[list[str]]:
    """Whole-minute start/stop entries: 3 on one issue, 1 on another, per person and day."""
    rows = [HEADER]
    for day in range(1, days + 1):
        date = f"{day:02d}.10.2026"
        for p in range(people):
            person = ["a.smirnova", "i.petrov", "m.kuznetsova", "d.volkov"][p % 4]
            hour = 8 + p
            rows += [
                [f"KILL-{p + 1}", date, f"{hour:02d}:00:00", "0:25:00", "code", person],
                [f"KILL-{p + 1}", date, f"{hour:02d}:30:00", "0:15:00", "tests", person],
                [f"KILL-{p + 1}", date, f"{hour:02d}:50:00", "0:05:00", "code", person],
                [f"KILL-{p + 5}", date, f"{hour + 5:02d}:00:00", "1:10:00", "review", person],
            ]
    return rows


def held(url: str) -> collections.Counter[tuple[str, str, int, str]]:
    """Tracker's worklogs as the tests' groups are written: issue, local start, minutes,
    comment (a Counter: a worklog booked twice counts 2)."""
    found: collections.Counter[tuple[str, str, int, str]] = collections.Counter()
    for w in sandbox_get(url, "/_sandbox/worklogs"):
        start = parse_tracker_start(w["start"]).astimezone(MSK).strftime("%Y-%m-%dT%H:%M:%S")
        minutes = int(parse_business_iso(w["duration"]).total_seconds()) // 60
        found[w["issue"]["key"], start, minutes, w.get("comment") or ""] += 1
    return found


def writes_seen(url: str) -> int:
    stats = sandbox_get(url, "/_sandbox/stats")
    return int(stats["routes"].get(POST, 0)) + sum(stats["edits"].values())


def kill_after_writes(
    url: str, process: subprocess.Popen[bytes], writes: int, dice: random.Random
) -> bool:
    """SIGKILL the run once Tracker saw ``writes`` more POSTs and DELETEs; False if the
    run ended first."""
    return kill_after_edits(url, process, writes, dice, seen=writes_seen)


def test_sigkill_during_a_merged_run_and_a_rebook_then_a_rerun_ends_exactly(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = timer_month()
    dice = random.Random(20261207)
    with sandbox_process("--latency", "0.003", "--p-created-then-drop", "0.02") as url:
        csv = str(write_csv(rows, name="october.csv"))
        kills = 0
        for attempt in range(5):
            report = str(tmp_path / f"merged-{attempt}.csv")
            process = start(url, tmp_path, "run", csv, "--merge", "day", "--report", report)
            if not kill_after_writes(url, process, dice.randint(1, 30), dice):
                break
            kills += 1
        last = start(url, tmp_path, "run", csv, "--merge", "day", "--report", str(tmp_path / "m"))
        assert last.wait(timeout=120) == 0
        merged = held(url)
        assert kills >= 3

        rebook_kills = 0
        for attempt in range(5):
            report = str(tmp_path / f"rebook-{attempt}.csv")
            process = start(url, tmp_path, "run", csv, "--rebook", "--report", report)
            if not kill_after_writes(url, process, dice.randint(1, 60), dice):
                break
            rebook_kills += 1
        final = start(url, tmp_path, "run", csv, "--rebook", "--report", str(tmp_path / "r"))
        assert final.wait(timeout=120) == 0
        per_row = held(url)
        stats = sandbox_get(url, "/_sandbox/stats")
    assert merged == expected_groups(rows)  # 160 groups, each once
    assert sum(merged.values()) == 160
    assert rebook_kills >= 3
    assert per_row == per_row_holdings(rows)  # 320 rows, each once; no group left behind
    assert stats["edits"].get("DELETE 404", 0) == 0  # no worklog was deleted twice
    assert {line["status"] for line in read_report(tmp_path / "r")} <= {
        "created", "already_imported", "deleted", "gone",
    }  # fmt: skip
