"""The importer killed or stopped mid-run, against a sandbox in its own process."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.testing import sandbox_process
from tests.helpers import CONFIG_TOML, month_rows, read_report, sandbox_get, tracker_env

pytestmark = pytest.mark.slow  # a whole process or more per test


def start_import(
    base_url: str, csv: Path, tmp_path: Path, report: str, config_text: str = CONFIG_TOML
) -> subprocess.Popen[bytes]:
    config = tmp_path / "config.toml"
    config.write_text(config_text, encoding="utf-8")
    env = {**os.environ, **tracker_env(base_url)}
    command = [
        sys.executable, "-m", "importer", "run", str(csv), "-c", str(config),
        "--state", str(tmp_path / "journal.sqlite"), "--report", str(tmp_path / report),
        "--quiet", "--log-format", "json",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stored_count(base_url: str) -> int:
    return int(sandbox_get(base_url, "/_sandbox/stats")["served"].get("201", 0))


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], limit: float = 60
) -> bool:
    """Poll the sandbox until ``condition`` holds; False if the import ended first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError("the import made no progress")


def expected_bookings(rows: list[list[str]]) -> collections.Counter[tuple[str, str, str]]:
    return collections.Counter((r[0], r[4], r[3]) for r in rows[1:])


def stored_bookings(base_url: str) -> collections.Counter[tuple[str, str, str]]:
    hours = {
        "PT30M": "0,5",
        "PT1H": "1",
        "PT1H15M": "1,25",
        "PT2H": "2",
        "PT7H30M": "7,5",
        "PT45M": "0:45",
    }
    return collections.Counter(
        (w["issue"]["key"], w["comment"], hours[w["duration"]])
        for w in sandbox_get(base_url, "/_sandbox/worklogs")
    )


def test_sigkill_at_many_moments_still_books_each_row_once(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(1000, identical_pairs=25)
    csv = write_csv(rows)
    dice = random.Random(20261122)
    kills = 0
    with sandbox_process(
        "--latency", "0.002", "--p-503", "0.05", "--p-created-then-drop", "0.02"
    ) as url:
        for attempt in range(12):
            process = start_import(url, csv, tmp_path, f"report-{attempt}.csv")
            # Kill at a random point of progress: before any POST, or after k more worklogs,
            # then a random fraction of a moment later.
            progress = stored_count(url)
            step = dice.choice([0, 0, *range(1, 60)])
            if not wait_for(lambda p=progress, s=step: stored_count(url) >= p + s, process):
                break  # it finished first
            time.sleep(dice.random() * 0.02)
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
            kills += 1
        last = start_import(url, csv, tmp_path, "report-last.csv")
        assert last.wait(timeout=120) == 0
        stored = stored_bookings(url)
    assert kills == 12
    assert stored == expected_bookings(rows)
    final = read_report(tmp_path / "report-last.csv")
    assert len(final) == 1025
    assert {line["status"] for line in final} <= {"created", "already_imported"}


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
)
def test_a_stop_signal_settles_in_flight_rows_writes_the_report_and_exits(
    signum: int, code: int, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(600)
    csv = write_csv(rows)
    with sandbox_process("--latency", "0.005") as url:
        process = start_import(url, csv, tmp_path, "stopped.csv")
        assert wait_for(lambda: stored_count(url) >= 50, process)
        process.send_signal(signum)
        assert process.wait(timeout=30) == code
        report = read_report(tmp_path / "stopped.csv")
        statuses = collections.Counter(line["status"] for line in report)
        created_before = stored_count(url)
        assert len(report) == 600
        assert set(statuses) == {"created", "pending"}
        assert statuses["created"] == created_before
        again = start_import(url, csv, tmp_path, "again.csv")
        assert again.wait(timeout=120) == 0
        stored = stored_bookings(url)
    assert stored == expected_bookings(rows)


def test_a_killed_run_leaves_the_lines_it_finished_and_the_next_run_says_what_it_booked(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """The report reaches the disk at least every second, not only every 200 lines: a
    SIGKILL (or the OOM killer) takes at most the last second's lines. The next run's
    report names the killed run for every row it had booked."""
    rows = month_rows(400)
    csv = write_csv(rows)
    slow = CONFIG_TOML.replace("rate_limit = 2000", "rate_limit = 40")
    with sandbox_process() as url:
        process = start_import(url, csv, tmp_path, "killed.csv", slow)
        assert wait_for(lambda: stored_count(url) >= 20, process)
        settled = stored_count(url)
        time.sleep(2.5)  # what was booked by then has been on disk for over a second
        process.kill()
        process.wait(timeout=10)
        booked = stored_count(url)
        killed = read_report(tmp_path / "killed.csv")
        again = start_import(url, csv, tmp_path, "again.csv")
        assert again.wait(timeout=120) == 0
        stored = stored_bookings(url)
    assert settled <= len(killed) < 200  # before: nothing but the header until line 200
    report = read_report(tmp_path / "again.csv")
    told = [line for line in report if "interrupted before it finished" in line["error"]]
    assert settled <= len(told) <= booked
    assert {line["status"] for line in told} == {"already_imported"}
    assert stored == expected_bookings(rows)  # and nothing twice
