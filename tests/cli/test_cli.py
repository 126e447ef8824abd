"""The command line as cron sees it: exit codes 0–4, messages, silence on success."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock
import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.testing import sandbox_process
from tests.helpers import CONFIG_TOML, HEADER, month_rows, read_report, tracker_env


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """A sandbox in its own process, as `worklog-import sandbox` runs it."""
    with sandbox_process() as url:
        yield url


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_exit_0_when_every_row_is_created(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(5))
    report = tmp_path / "r.csv"
    code, out, err = invoke(
        ["run", str(path), "-c", str(config), "--report", str(report)], tracker_env(sandbox_url)
    )
    assert code == 0, err
    assert "created: 5" in out
    assert [line["status"] for line in read_report(report)] == ["created"] * 5
    summary = json.loads((tmp_path / "r.summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["created"] == 5 and summary["exit_code"] == 0


def test_exit_1_when_a_row_is_invalid_and_the_message_names_file_row_column_value(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv([HEADER, ["PORT-1", "01.10.2026", "09:00", "полтора", "x", "a"]])
    report = tmp_path / "r.csv"
    code, _, err = invoke(
        ["run", str(path), "-c", str(config), "--report", str(report), "--log-format", "json"],
        tracker_env(sandbox_url),
    )
    assert code == 1
    [line] = read_report(report)
    assert (line["file"], line["row"], line["status"]) == (str(path), "2", "invalid")
    assert line["error"] == "column 'Hours' value 'полтора': not a duration: 'полтора'"
    events = [json.loads(text) for text in err.splitlines() if text.startswith("{")]
    invalid = [e for e in events if e["event"] == "row_invalid"]
    assert invalid == [
        {**invalid[0], "file": str(path), "row": 2, "reason": line["error"]},
    ]


def test_exit_2_for_a_bad_config_names_the_key_without_a_traceback(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[delivery]\nconcurency = 4\n[columns]\nissue="I"\ndate="D"\nduration="H"\n',
        encoding="utf-8",
    )
    code, _, err = invoke(["run", str(write_csv(month_rows(1))), "-c", str(config)])
    assert code == 2
    assert "unknown key delivery.concurency" in err
    assert "Traceback" not in err


def test_exit_2_for_a_missing_column_names_file_and_columns(
    config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv([["Issue", "Date", "Time spent"], ["PORT-1", "01.10.2026", "1"]])
    code, _, err = invoke(
        ["run", str(path), "-c", str(config), "--dry-run", "--report", str(tmp_path / "r.csv")]
    )
    assert code == 2
    assert f"{path}: column 'Hours', 'Start', 'Comment', 'Author' not found" in err


def test_exit_2_for_a_missing_input_file(config: Path, tmp_path: Path) -> None:
    code, _, err = invoke(["run", str(tmp_path / "nope.csv"), "-c", str(config)])
    assert code == 2
    assert "nope.csv: no such file" in err


def test_exit_3_when_the_token_is_rejected(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    secret = "y0_wrong-token-0123456789"
    code, out, err = invoke(
        [
            "run",
            str(write_csv(month_rows(2))),
            "-c",
            str(config),
            "--report",
            str(tmp_path / "r.csv"),
        ],
        tracker_env(sandbox_url, secret),
    )
    assert code == 3
    assert "stopped: http://127.0.0.1" in out and "rejected the token: HTTP 401" in out
    assert secret not in out + err + (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


def test_exit_4_when_tracker_cannot_be_reached(
    config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    report = tmp_path / "r.csv"
    code, out, _ = invoke(
        ["run", str(write_csv(month_rows(3))), "-c", str(config), "--report", str(report)],
        tracker_env(closed),
    )
    assert code == 4
    assert "cannot connect" in out
    assert [line["status"] for line in read_report(report)] == ["pending"] * 3


def test_quiet_sandbox_run_prints_nothing_on_success(
    config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(4))
    code, out, err = invoke(
        [
            "run",
            str(path),
            "-c",
            str(config),
            "--sandbox",
            "--quiet",
            "--report",
            str(tmp_path / "r.csv"),
        ]
    )
    assert (code, out, err) == (0, "", "")
    assert len(read_report(tmp_path / "r.csv")) == 4


def test_check_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[tracker]\nbase_url = "http://tracker.example.com"\nmode = "import"\n'
        '[issue]\nmap_file = "missing.csv"\n[columns]\ndate = "Date"\n',
        encoding="utf-8",
    )
    code, _, err = invoke(
        ["check-config", "-c", str(config)],
        tracker_env("", "", org_id="", cloud_org_id=""),
    )
    assert code == 2
    assert f"{config}: 4 problem(s):" in err
    assert "  - columns.issue is required" in err
    assert "  - no token: set the environment variable TRACKER_TOKEN" in err
    assert f"  - issue.map_file {tmp_path / 'missing.csv'}: cannot read" in err
    assert "  - tracker.mode = 'import' books each row as its author: map columns.author" in err


def test_check_config_refuses_plain_http_and_two_organisations(config: Path) -> None:
    code, _, err = invoke(
        ["check-config", "-c", str(config)],
        tracker_env("", "y0", org_id="1", cloud_org_id="2"),
    )
    assert code == 2 and "set exactly one organisation" in err and "both are set" in err
    code, _, err = invoke(
        ["check-config", "-c", str(config)],
        tracker_env("http://tracker.example.com", "y0", org_id="1", cloud_org_id=""),
    )
    assert code == 2 and "refusing plain http:// to tracker.example.com" in err


def test_check_config_says_where_it_would_go(config: Path) -> None:
    code, out, _ = invoke(
        ["check-config", "-c", str(config)],
        tracker_env("", "y0_x", org_id="7", cloud_org_id=""),
    )
    assert code == 0
    assert "tracker: https://api.tracker.yandex.net  organisation: X-Org-ID 7" in out
    assert "journal: " in out and "journal.sqlite  mode: create" in out
    assert "y0_x" not in out


def test_help_never_shows_the_token() -> None:
    secret = "y0_help-secret-123"
    for command in ([], ["run"], ["sandbox"], ["check-config"]):
        code, out, _ = invoke([*command, "--help"], {"TRACKER_TOKEN": secret})
        assert code == 0 and secret not in out


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "importer", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert result.returncode == 0 and "run" in result.stdout


def test_exit_5_when_another_run_holds_the_state(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    state = tmp_path / "journal.sqlite"
    with filelock.FileLock(f"{state}.lock"):
        code, _, err = invoke(
            ["run", str(write_csv(month_rows(2))), "-c", str(config), "--state", str(state)],
            tracker_env(sandbox_url),
        )
    assert code == 5
    assert f"another run is using {state}" in err


def test_dry_run_prints_the_plan_with_hours_per_person_and_issue(
    config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [
        HEADER,
        ["PORT-1", "01.10.2026", "09:00", "1,5", "a", "a.smirnova"],
        ["PORT-1", "01.10.2026", "11:00", "2", "b", "i.petrov"],
        ["BILL-7", "02.10.2026", "09:00", "0:30", "c", "a.smirnova"],
        ["BILL-7", "02.10.2026", "bad", "1", "d", "i.petrov"],
    ]
    code, out, _ = invoke(
        [
            "run",
            str(write_csv(rows)),
            "-c",
            str(config),
            "--dry-run",
            "--report",
            str(tmp_path / "plan.csv"),
        ],
        {"TRACKER_TOKEN": "", "TRACKER_ORG_ID": "1", "TRACKER_CLOUD_ORG_ID": ""},
    )
    assert code == 1  # one invalid row
    assert "dry run: nothing was sent, no state was changed" in out
    assert "rows: 4  to create: 3  already imported: 0  invalid: 1  skipped: 0" in out
    assert "  a.smirnova                          2.00 h" in out
    assert "  i.petrov                            2.00 h" in out
    assert "  PORT-1                              3.50 h" in out
    assert "  BILL-7                              0.50 h" in out
    assert f"rows to fix and re-run: {tmp_path / 'plan.failed.csv'}" in out
