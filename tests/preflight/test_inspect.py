"""`worklog-import inspect`: what a new export will look like before a real run."""

from __future__ import annotations

from click.testing import CliRunner

from importer.cli import main
from tests.helpers import PRESETS_DIR, ROOT


def inspect(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["inspect", *args], catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def test_inspect_shows_format_header_preset_columns_and_rows_as_sent() -> None:
    code, out = inspect(str(PRESETS_DIR / "redmine" / "redmine_en.csv"), "--rows", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "format: CSV  encoding: cp1252  delimiter: ','"
    assert lines[2] == "header row: 1"
    assert lines[3] == "columns: Project, Date, User, Activity, Issue, Comment, Hours"
    assert (
        lines[4] == "preset it would guess: redmine (Redmine, spent time (CSV, English or Russian))"
    )
    assert "  issue     <- Issue" in lines
    assert "  duration  <- Hours" in lines
    # Without an issue map, Redmine ids cannot be booked: inspect says so row by row.
    assert lines[-2].startswith("  row 2: invalid: column 'Issue' value ")
    assert lines[-2].endswith("(set issue.map_file to map its ids to Tracker keys)")


def test_inspect_with_a_config_shows_the_rows_as_they_would_be_sent() -> None:
    code, out = inspect(
        str(ROOT / "sample_data" / "timesheet-2026-10.xlsx"),
        "-c",
        str(ROOT / "sample_data" / "config.toml"),
        "--rows",
        "1",
    )
    assert code == 0
    assert "format: spreadsheet (XLSX)" in out
    assert "preset it would guess: - (none matches)" in out
    assert "preset in use: none (columns from the config)" in out
    assert (
        "  row 2: BILL-81  start 2026-10-01T09:00:00.000+0300  duration PT2H  "
        "comment 'Миграция тарифов: исправления'  author 'a.smirnova'"
    ) in out


def test_inspect_without_a_matching_preset_says_what_to_do() -> None:
    code, out = inspect(str(ROOT / "sample_data" / "timesheet-2026-10.csv"))
    assert code == 2
    assert "problem: " in out and "set input.preset to one of clockify, harvest" in out
