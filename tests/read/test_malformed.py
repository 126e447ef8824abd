"""Malformed input: every case names file, row, column and value, with the right outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.cli import main
from importer.config import InputSection
from importer.models import Invalid, Skipped, SourceRow, Worklog
from importer.normalize import Normalizer
from importer.read.tables import open_table
from importer.report.writers import neutralised
from tests.helpers import CONFIG_TOML, HEADER, make_settings, read_report

GOOD = ["PORT-1", "01.10.2026", "09:00", "1,5", "fine", "a"]
CASES = [
    ("Issue", "PORT 1", "column 'Issue' value 'PORT 1' holds no issue key like QUEUE-123"),
    ("Date", "32.10.2026", "column 'Date' value '32.10.2026': not a date: '32.10.2026'"),
    ("Date", "10/25/2026", "column 'Date' value '10/25/2026': not a day-first date"),
    ("Date", "2099-01-01", "column 'Date': the work starts in the future"),
    ("Start", "9.15", "column 'Start' value '9.15': not a time: '9.15'"),
    ("Start", "13:00 PM", "column 'Start' value '13:00 PM': not a 12-hour time"),
    ("Hours", "1.5.2", "column 'Hours' value '1.5.2': not a duration"),
    ("Hours", "полтора", "column 'Hours' value 'полтора': not a duration"),
    ("Hours", "-1", "column 'Hours' value '-1': not a duration"),
    ("Hours", "0:00", "column 'Hours' value '0:00': duration must be positive"),
    ("Hours", "P1M", "column 'Hours' value 'P1M': years and months have no fixed length"),
    ("Hours", "25", "column 'Hours' value '25': more than 24 hours in one row"),
]


@pytest.mark.parametrize(("column", "value", "reason"), CASES)
def test_a_bad_cell_is_reported_with_file_row_column_and_value(
    column: str, value: str, reason: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    bad = list(GOOD)
    bad[HEADER.index(column)] = value
    path = write_csv([HEADER, GOOD, bad])
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    report = tmp_path / "plan.csv"
    result = CliRunner().invoke(
        main,
        ["run", str(path), "-c", str(config), "--dry-run", "--report", str(report)],
        env={"TRACKER_TOKEN": "", "TRACKER_ORG_ID": "1"},
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    line = read_report(report)[1]
    assert (line["file"], line["row"], line["status"]) == (str(path), "3", "invalid")
    assert line["error"].startswith(reason), line["error"]
    failed = read_report(tmp_path / "plan.failed.csv")
    # Neutralised for Excel like the report ('-1), and read back as it was written (-1).
    assert [(f[column], f["error"]) for f in failed] == [
        (neutralised(value), neutralised(line["error"]))
    ]
    table = open_table(tmp_path / "plan.failed.csv", InputSection())
    assert [row.values[column] for row in table.rows()] == [value]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        (
            "Issue,Date\nPORT-1,01.10.2026\n",
            "column 'Hours', 'Start', 'Comment', 'Author' not found",
        ),
    ],
)
def test_an_unusable_file_stops_before_anything_is_sent_with_exit_2(
    content: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(content, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "-c", str(config)], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"error: {path}: " in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_issue_map_names_the_file_and_the_value(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("redmine_id,tracker_key\n412,PORT-412\n415,port 415\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML + f'\n[issue]\nmap_file = "{mapping.name}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(write_csv([HEADER, GOOD])), "-c", str(config)])
    assert result.exit_code == 2
    assert f"issue.map_file {mapping}: 'PORT 415' (for '415') is not a Tracker key" in result.stderr


cells = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({name: cells for name in HEADER}))
def test_no_cell_content_can_crash_the_normalizer(values: dict[str, object]) -> None:
    result = Normalizer(make_settings()).normalize(SourceRow("f.csv", 2, values))  # type: ignore[arg-type]
    assert isinstance(result, (Worklog, Invalid, Skipped))
    if isinstance(result, Invalid):
        assert result.column in HEADER and f"'{result.column}'" in result.reason
