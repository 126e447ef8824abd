"""The first day and cron's mail: no silent timezone, errors where cron reads them, a log
file of JSON lines only, whatever --quiet says."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.testing import sandbox_process
from tests.helpers import CONFIG_TOML, month_rows, read_report, sandbox_get, tracker_env

NO_ZONE = CONFIG_TOML.replace('[input]\ntimezone = "Europe/Moscow"\n', "")


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with sandbox_process() as url:
        yield url


def invoke(args: list[str], url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=tracker_env(url))
    return result.exit_code, result.stdout, result.stderr


def stored(url: str) -> int:
    return len(sandbox_get(url, "/_sandbox/worklogs"))


def test_without_input_timezone_a_file_of_wall_clock_times_is_refused_naming_the_key(
    sandbox_url: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """The old default (Moscow) booked every export from elsewhere hours off, silently."""
    config = tmp_path / "config.toml"
    config.write_text(NO_ZONE, encoding="utf-8")
    assert "timezone" not in NO_ZONE
    before = stored(sandbox_url)
    path = write_csv(month_rows(3))
    code, _, err = invoke(
        ["run", str(path), "-c", str(config), "--state", str(tmp_path / "j")], sandbox_url
    )
    assert code == 2
    assert f"{path}: input.timezone is not set, and row 2 column 'Date' value " in err
    assert "this machine's is " in err and "Traceback" not in err
    assert stored(sandbox_url) == before  # nothing was sent


def test_without_input_timezone_times_that_carry_offsets_are_booked_as_written(
    sandbox_url: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        NO_ZONE.replace('date = "Date"\ntime = "Start"\n', 'start = "Start"\n'), "utf-8"
    )
    rows = [
        ["Issue", "Start", "Hours", "Comment", "Author"],
        ["PORT-1", "2026-10-01T09:00:00+05:00", "1", "Yekaterinburg morning", "a"],
        ["PORT-1", "2026-10-01 09:00:00Z", "1", "UTC morning", "a"],
    ]
    report = tmp_path / "r.csv"
    code, out, err = invoke(
        ["run", str(write_csv(rows)), "-c", str(config), "--state", str(tmp_path / "j"),
         "--report", str(report)],
        sandbox_url,
    )  # fmt: skip
    assert code == 0, err + out
    assert "times carried their own UTC offsets (input.timezone not set)" in out
    summary = json.loads((tmp_path / "r.summary.json").read_text(encoding="utf-8"))
    assert summary["timezone"] == ""
    sent = {line["Comment"]: line["start"] for line in read_report(report)}
    assert sent == {
        "Yekaterinburg morning": "2026-10-01T09:00:00+05:00",
        "UTC morning": "2026-10-01T09:00:00+00:00",
    }
    stored = {w["comment"]: w["start"] for w in sandbox_get(sandbox_url, "/_sandbox/worklogs")}
    assert stored["Yekaterinburg morning"] == "2026-10-01T04:00:00.000+0000"  # the same instant


def test_the_summary_and_the_dry_run_plan_say_which_zone_times_were_read_in(
    sandbox_url: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    args = ["run", str(write_csv(month_rows(2))), "-c", str(config), "--state", str(tmp_path / "j")]
    for extra in (["--dry-run"], []):
        code, out, _ = invoke([*args, *extra, "--report", str(tmp_path / "r.csv")], sandbox_url)
        assert code == 0
        assert "times read in Europe/Moscow (input.timezone)" in out


def test_quiet_keeps_the_log_file_whole_and_json_only_and_errors_reach_stderr(
    sandbox_url: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    log = tmp_path / "logs" / "import.jsonl"
    base = ["--state", str(tmp_path / "j"), "--quiet", "--log-file", str(log)]
    code, out, err = invoke(
        ["run", str(write_csv(month_rows(3))), "-c", str(config), *base], sandbox_url
    )
    assert (code, out, err) == (0, "", "")  # cron mails nothing …
    events = [json.loads(line)["event"] for line in log.read_text("utf-8").splitlines()]
    assert {"run_started", "run_finished"} <= set(events)  # … and the log has the run
    # A run that cannot start: one line on stderr for cron's mail, a JSON line in the log.
    code, _, err = invoke(["run", "missing.csv", "-c", str(config), *base], sandbox_url)
    assert code == 2
    assert err.startswith("error: ") and "missing.csv" in err and len(err.splitlines()) == 1
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert lines[-1]["event"] == "command_failed" and lines[-1]["exit_code"] == 2
    assert "missing.csv" in lines[-1]["reason"]


def test_json_logs_on_stderr_stay_json_when_a_run_cannot_start(
    sandbox_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    code, _, err = invoke(
        ["run", "missing.csv", "-c", str(config), "--quiet", "--log-format", "json"], sandbox_url
    )
    assert code == 2
    [line] = err.splitlines()
    assert json.loads(line)["event"] == "command_failed"


def test_a_reader_that_goes_away_is_not_exit_1(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """`worklog-import inspect big.csv --rows 20000 | head -1`: click exits 1 ("rows
    failed") on the broken pipe; the command's own exit code is kept instead."""
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    path = write_csv(month_rows(20000))
    command = [sys.executable, "-m", "importer", "inspect", str(path), "-c", str(config),
               "--rows", "20000"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().startswith(b"file: ")
        process.stdout.close()  # like `head -1`
        err = process.stderr.read().decode()
        assert process.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_a_rehearsal_with_a_state_remembers_what_it_booked(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """`run --sandbox --state FILE` twice: the embedded Tracker keeps its worklogs beside the
    journal, and its bookings are journaled under one name whatever port it listened on."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    state = tmp_path / "rehearsal.sqlite"
    path = str(write_csv(month_rows(6)))
    base = ["run", path, "-c", str(config), "--sandbox", "--state", str(state)]
    first = CliRunner().invoke(main, [*base, "--report", str(tmp_path / "r1.csv")])
    assert first.exit_code == 0, first.output
    kept = tmp_path / "rehearsal.sqlite.sandbox.json"
    assert len(json.loads(kept.read_text(encoding="utf-8"))) == 6
    plan = CliRunner().invoke(main, [*base, "--dry-run", "--report", str(tmp_path / "p.csv")])
    assert plan.exit_code == 0 and "to create: 0  already imported: 6" in plan.output
    second = CliRunner().invoke(main, [*base, "--report", str(tmp_path / "r2.csv")])
    assert second.exit_code == 0, second.output
    assert "created: 0  already imported: 6" in second.output
    assert len(json.loads(kept.read_text(encoding="utf-8"))) == 6  # nothing booked twice
