from __future__ import annotations

import datetime as dt

import pytest

from importer.models import Invalid, Skipped, SourceRow, Worklog
from importer.normalize import Normalizer

from .conftest import make_settings

MSK = dt.timezone(dt.timedelta(hours=3))


def row(**values: object) -> SourceRow:
    base: dict[str, object] = {
        "Issue": "PORT-412",
        "Date": "01.10.2026",
        "Start": "09:30",
        "Hours": "1,5",
        "Comment": "SSO fix",
        "Author": "a.smirnova",
    }
    base.update(values)
    return SourceRow("october.csv", 7, base)  # type: ignore[arg-type]


def test_a_valid_row_becomes_a_worklog_in_the_configured_zone() -> None:
    result = Normalizer(make_settings()).normalize(row())
    assert result == Worklog(
        issue="PORT-412",
        start=dt.datetime(2026, 10, 1, 9, 30, tzinfo=MSK),
        duration=dt.timedelta(hours=1, minutes=30),
        comment="SSO fix",
        author="a.smirnova",
    )
    assert isinstance(result, Worklog)
    assert result.payload() == {
        "start": "2026-10-01T09:30:00.000+0300",
        "duration": "PT1H30M",
        "comment": "SSO fix",
    }


def test_issue_keys_are_uppercased_and_trimmed() -> None:
    result = Normalizer(make_settings()).normalize(row(Issue="  port-412 "))
    assert isinstance(result, Worklog) and result.issue == "PORT-412"


def test_date_only_rows_start_at_the_default_time() -> None:
    settings = make_settings(input={"default_start_time": "10:00"})
    result = Normalizer(settings).normalize(row(Start=""))
    assert isinstance(result, Worklog)
    assert result.start == dt.datetime(2026, 10, 1, 10, 0, tzinfo=MSK)


def test_one_datetime_column_can_replace_date_and_time() -> None:
    settings = make_settings(columns={"date": "", "time": "", "start": "When"})
    result = Normalizer(settings).normalize(row(When="2026-10-01 18:45"))
    assert isinstance(result, Worklog)
    assert result.start == dt.datetime(2026, 10, 1, 18, 45, tzinfo=MSK)


def test_excel_cells_are_read_as_typed_values() -> None:
    cells = row(Date=dt.datetime(2026, 10, 1), Start=dt.time(9, 30), Hours=1.5)
    result = Normalizer(make_settings()).normalize(cells)
    assert isinstance(result, Worklog)
    assert result.start == dt.datetime(2026, 10, 1, 9, 30, tzinfo=MSK)
    assert result.duration == dt.timedelta(minutes=90)


@pytest.mark.parametrize(
    ("values", "reason", "column"),
    [
        (
            {"Issue": "PORT412"},
            "column 'Issue' value 'PORT412' holds no issue key like QUEUE-123",
            "Issue",
        ),
        ({"Issue": ""}, "column 'Issue' is empty", "Issue"),
        ({"Date": "31.09.2026"}, "column 'Date' value '31.09.2026': not a date", "Date"),
        ({"Start": "25:10"}, "column 'Start' value '25:10': not a time: '25:10'", "Start"),
        ({"Hours": "полтора"}, "column 'Hours' value 'полтора': not a duration", "Hours"),
        ({"Hours": "0"}, "column 'Hours' value '0': duration must be positive", "Hours"),
        ({"Hours": "-2"}, "column 'Hours' value '-2': not a duration", "Hours"),
        ({"Hours": "30"}, "column 'Hours' value '30': more than 24 hours in one row", "Hours"),
    ],
)
def test_invalid_rows_name_their_column_and_value(
    values: dict[str, object], reason: str, column: str
) -> None:
    result = Normalizer(make_settings()).normalize(row(**values))
    assert isinstance(result, Invalid)
    assert result.reason.startswith(reason)
    assert result.column == column


def test_blank_rows_are_skipped_not_invalid() -> None:
    blank = SourceRow("f.csv", 3, {"Issue": "", "Date": " ", "Start": None, "Hours": float("nan")})
    assert Normalizer(make_settings()).normalize(blank) == Skipped("blank row")
