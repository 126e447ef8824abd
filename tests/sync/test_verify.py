"""``verify``: the file against Tracker itself finds exactly a seeded divergence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.errors import ExitCode
from importer.pipeline import RunOptions
from importer.pipeline.verifying import verify_async
from importer.testing import sandbox_process
from tests.helpers import CONFIG_TOML, make_settings, read_report, tracker_env
from tests.sync.test_sync import FIRST, Importer, call, unique_issues


@pytest.fixture(scope="module")
def tracker() -> Iterator[str]:
    with sandbox_process() as url:
        yield url


async def test_verify_finds_a_deleted_an_edited_and_an_extra_worklog(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("AUDIT-")
    run = Importer(tracker, tmp_path)
    _, report = await run(write_csv(rename(FIRST), name="october.csv"))
    ids = {line["row"]: line["worklog_id"] for line in report}
    call(tracker, "DELETE", f"/v2/issues/AUDIT-1/worklog/{ids['2']}")
    call(tracker, "PATCH", f"/v2/issues/AUDIT-1/worklog/{ids['3']}", {"duration": "PT4H"})
    without_last = write_csv(rename(FIRST[:5]), name="october.csv")  # row 6 left the file

    options = RunOptions(
        files=[without_last],
        settings=make_settings(),
        report_path=tmp_path / "verify.csv",
        state_path=tmp_path / "journal.sqlite",
        environ=tracker_env(tracker),
        batch="october",
    )
    summary = await verify_async(options)
    assert summary.exit_code == ExitCode.ROWS_FAILED
    lines = {(line["row"], line["status"]): line for line in read_report(tmp_path / "verify.csv")}
    assert set(lines) == {
        ("2", "missing"),
        ("3", "different"),
        ("4", "present"),
        ("5", "present"),
        ("6", "extra"),
    }
    assert lines[("3", "different")]["error"] == "Tracker holds 4 h, the file 3 h"
    assert lines[("6", "extra")]["worklog_id"] == ids["6"]
    assert summary.verify is not None
    assert summary.verify["issue"]["AUDIT-1"] == {"file": 5.0, "tracker": 4.0}
    assert summary.verify["issue"]["AUDIT-3"] == {"file": 0.0, "tracker": 1.0}

    matching = await verify_async(
        RunOptions(
            files=[write_csv(rename([FIRST[0], *FIRST[3:5]]), name="part.csv")],
            settings=make_settings(),
            report_path=tmp_path / "verify-part.csv",
            state_path=tmp_path / "journal.sqlite",
            environ=tracker_env(tracker),
            batch="part",  # a batch the journal does not know: nothing can be extra
        )
    )
    assert matching.exit_code == ExitCode.OK and matching.counts["present"] == 2


def cli_config(tracker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line's way in: the Tracker in the environment, the config in a file."""
    for name, value in tracker_env(tracker).items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    return config


def test_verify_on_the_command_line_exits_1_and_says_so(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = cli_config(tracker, tmp_path, monkeypatch)
    missing = write_csv(unique_issues("NOWHERE-")(FIRST[:2]), name="never-booked.csv")
    result = CliRunner().invoke(
        main, ["verify", str(missing), "-c", str(config), "--report", str(tmp_path / "v.csv")]
    )
    assert result.exit_code == 1, result.output
    assert "missing 1" in result.output and "Tracker differs from the file" in result.output


def test_verify_of_a_file_whose_only_trouble_is_invalid_rows_says_tracker_matches_the_rest(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = cli_config(tracker, tmp_path, monkeypatch)
    rows = unique_issues("VALIDONLY-")(FIRST[:3])
    path = write_csv(rows, name="october.csv")
    state = ["--state", str(tmp_path / "j.sqlite")]
    booked = CliRunner().invoke(main, ["run", str(path), "-c", str(config), *state, "-q"])
    assert booked.exit_code == 0, booked.output
    path = write_csv(
        [*rows, [rows[1][0], "32.10.2026", "09:00", "1", "bad", ""]], name="october.csv"
    )
    result = CliRunner().invoke(main, ["verify", str(path), "-c", str(config), *state,
                                       "--report", str(tmp_path / "v.csv")])  # fmt: skip
    assert result.exit_code == 1, result.output  # invalid rows: exit 1, as documented
    assert "Tracker matches the file's valid rows; 1 rows are invalid" in result.output
    assert "Tracker differs" not in result.output
