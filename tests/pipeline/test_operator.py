"""What a person at a terminal sees, and what cron gets: progress, summary, logs, quiet."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CONFIG_TOML, HEADER, month_rows

# A server limit below the client's pace makes 429s certain; 503s make retries near-certain.
FAULTY = "\n[sandbox]\nlatency = 0.005\nrate_limit = 40\np_503 = 0.2\nseed = 3\n"
SECRET = "y0_operator-secret-token-42"


def command(csv: Path, tmp_path: Path, *extra: str, sandbox: str = "") -> list[str]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML + sandbox, encoding="utf-8")
    return [
        sys.executable, "-m", "importer", "run", str(csv), "-c", str(config), "--sandbox",
        "--report", str(tmp_path / "report.csv"), *extra,
    ]  # fmt: skip


def environment() -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "TRACKER_TOKEN": SECRET}
    env.pop("NO_COLOR", None)
    return env


def run_in_terminal(args: list[str]) -> tuple[int, str]:
    """Run under a pseudo-terminal, as a person would, and capture what they would see."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        args, stdin=follower, stdout=follower, stderr=follower, env=environment()
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_a_terminal_gets_a_progress_bar_and_a_summary(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    csv = write_csv([*month_rows(60), ["BAD", "01.10.2026", "09:00", "1", "broken", "a"]])
    code, screen = run_in_terminal(command(csv, tmp_path, sandbox=FAULTY))
    assert code == 1
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "61/61 rows" in plain and "/s" in plain
    assert "retries" in screen and "429s" in screen and "ETA" in screen
    assert "rows: 61  created: 60" in screen
    assert "hours created by person:" in screen and "hours created by issue:" in screen
    assert f"  {csv}:62 invalid: column 'Issue' value 'BAD' holds no issue key" in screen
    # Once, in "rows to fix" — not a second time as a warning above the bar.
    assert screen.count("value 'BAD' holds no issue key") == 1
    assert "rows to fix and re-run:" in screen
    assert '"event"' not in screen, "no JSON on a terminal"
    assert SECRET not in screen


@pytest.mark.slow
def test_cron_gets_no_animation_and_json_logs(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    csv = write_csv([*month_rows(60), ["BAD", "01.10.2026", "09:00", "1", "broken", "a"]])
    result = subprocess.run(
        command(csv, tmp_path, sandbox=FAULTY), capture_output=True, text=True, env=environment()
    )
    assert result.returncode == 1
    assert "\x1b[" not in result.stdout + result.stderr, "nothing animated without a terminal"
    assert "61/61 rows" not in result.stderr
    assert result.stdout.startswith("rows: 61  created: 60")
    events = [json.loads(line) for line in result.stderr.splitlines()]
    names = [e["event"] for e in events]
    for expected in ("run_started", "authenticated", "file_read", "row_invalid", "run_finished"):
        assert expected in names
    retried = {e["error"].split(":")[0] for e in events if e["event"] == "retry"}
    assert {"HTTP 503", "HTTP 429"} <= retried, "the sandbox injected 503s and limited the rate"
    finished = events[names.index("run_finished")]
    assert (finished["created"], finished["invalid"], finished["exit_code"]) == (60, 1, 1)
    assert all(e.get("timestamp") and e.get("level") for e in events)
    assert SECRET not in result.stdout + result.stderr


def test_log_file_and_verbose_per_row_events(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    csv = write_csv(month_rows(5))
    log_file = tmp_path / "logs" / "import.jsonl"
    result = subprocess.run(
        command(csv, tmp_path, "--log-file", str(log_file), "-v", "--quiet"),
        capture_output=True,
        text=True,
        env=environment(),
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    events = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    created = [e for e in events if e["event"] == "row_created"]
    assert sorted(e["row"] for e in created) == [2, 3, 4, 5, 6]
    assert SECRET not in log_file.read_text(encoding="utf-8")


def test_quiet_prints_the_summary_when_a_row_fails(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    csv = write_csv(
        [
            HEADER,
            ["PORT-1", "01.10.2026", "09:00", "1", "ok", "a"],
            ["PORT-1", "x", "", "1", "", ""],
        ]
    )
    result = subprocess.run(
        command(csv, tmp_path, "--quiet"), capture_output=True, text=True, env=environment()
    )
    assert result.returncode == 1
    assert result.stdout.startswith("rows: 2  created: 1")
    assert f"  {csv}:3 invalid: column 'Date' value 'x': not a date: 'x'" in result.stdout
    assert result.stderr.count("\n") <= 2, "quiet: only errors are logged"
