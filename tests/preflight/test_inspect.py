"""`worklog-import inspect`: what a new export will look like before a real run."""

from __future__ import annotations

from pathlib import Path

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


def test_inspect_calls_utf8_without_a_bom_utf8_and_says_a_run_needs_a_timezone() -> None:
    """Clockify writes UTF-8 without a BOM; its times carry no offset."""
    code, out = inspect(str(PRESETS_DIR / "clockify" / "clockify_detailed.csv"), "--rows", "1")
    assert code == 0
    assert "encoding: utf-8  delimiter" in out
    [zone] = [line for line in out.splitlines() if line.startswith("timezone: ")]
    assert zone.startswith("timezone: NOT SET: row 2 column 'Start Date' value ")
    assert "a run refuses the file until input.timezone is set" in zone


def test_inspect_names_a_file_with_a_bom_so() -> None:
    code, out = inspect(str(PRESETS_DIR / "toggl" / "toggl_detailed.csv"), "--rows", "1")
    assert code == 0 and "encoding: utf-8 with BOM  delimiter" in out


def test_a_config_that_sets_only_a_timezone_guesses_the_preset_as_no_config_does(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[input]\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    toggl = str(PRESETS_DIR / "toggl" / "toggl_detailed.csv")
    code, out = inspect(toggl, "-c", str(config), "--rows", "1")
    assert code == 0, out
    assert "preset in use: toggl" in out
    assert "timezone: Europe/Berlin (input.timezone)" in out
    assert "start 2026-10-05T09:14:27.000+0200" in out  # Berlin summer time, not Moscow's


def test_the_example_config_copied_as_it_is_guesses_the_preset(tmp_path: Path) -> None:
    """Its [columns] are placeholders: left in force they would override what a preset
    finds ("Issue" is no Toggl column) and refuse every Toggl export."""
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(example.replace('timezone = ""', 'timezone = "Europe/Moscow"'), "utf-8")
    code, out = inspect(str(PRESETS_DIR / "toggl" / "toggl_detailed.csv"), "-c", str(config))
    assert code == 0, out
    assert "preset in use: toggl" in out
