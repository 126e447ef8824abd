from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.formats import format_business_duration, format_duration, parse_business_iso
from importer.normalize.durations import parse_duration

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5 * H),
        ("1,5", 1.5 * H),
        ("1,50", 1.5 * H),
        ("12.5", 12.5 * H),
        ("2", 2 * H),
        ("0,25", 15 * M),
        ("1:30", 90 * M),
        ("12:05", 12 * H + 5 * M),
        ("1:30:30", 90 * M + dt.timedelta(seconds=30)),
        ("1h 30m", 90 * M),
        ("1ч 30м", 90 * M),
        ("90m", 90 * M),
        ("2 ч", 2 * H),
        ("PT1H30M", 90 * M),
        ("pt45m", 45 * M),
        ("P1D", 8 * H),
        ("P1W", 40 * H),
        ("P1DT1H", 9 * H),
        ("PT1,5H", 90 * M),
    ],
)
def test_timesheet_durations_are_read_in_business_time(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


def test_decimal_comma_hours_are_read_as_hours_not_minutes() -> None:
    assert parse_duration("12.5") == dt.timedelta(hours=12, minutes=30)
    assert parse_duration("1,5") == dt.timedelta(hours=1, minutes=30)


def test_bare_numbers_follow_the_configured_unit() -> None:
    assert parse_duration("90", "minutes") == 90 * M
    assert parse_duration(45.0, "minutes") == 45 * M
    assert parse_duration(1.25) == 75 * M


def test_cells_from_spreadsheets_are_read() -> None:
    assert parse_duration(dt.time(1, 30)) == 90 * M
    assert parse_duration(dt.timedelta(hours=30)) == 30 * H


def test_business_iso_does_not_fold_hours_into_calendar_days() -> None:
    # isodate would make P1DT25H two calendar days and an hour; Tracker means 8 + 25 hours.
    assert parse_business_iso("P1DT25H") == 33 * H


@pytest.mark.parametrize(
    "text", ["", "  ", "полтора", "1,5,5", "P1M", "P1Y", "PT", "P", "-P1D", "h", "1:75"]
)
def test_unreadable_durations_say_why(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_hours_and_minutes_are_sent_never_days() -> None:
    assert format_duration(7.5 * H) == "PT7H30M"
    assert format_duration(8 * H) == "PT8H"
    assert format_duration(25 * H) == "PT25H"
    assert format_duration(90 * M + dt.timedelta(seconds=5)) == "PT1H30M5S"
    with pytest.raises(ValueError):
        format_duration(dt.timedelta(0))


def test_tracker_normalises_to_weeks_and_days() -> None:
    assert format_business_duration(8 * H) == "P1D"
    assert format_business_duration(40 * H) == "P1W"
    assert format_business_duration(9 * H + 20 * M) == "P1DT1H20M"
    assert format_business_duration(40 * H + 20 * M) == "P1WT20M"
    assert format_business_duration(30 * M) == "PT30M"


@given(st.text(max_size=30))
def test_any_string_gives_a_duration_or_a_reason(text: str) -> None:
    try:
        result = parse_duration(text)
    except ValueError:
        return
    assert isinstance(result, dt.timedelta)


seconds = st.integers(min_value=1, max_value=10_000 * 3600)


@given(seconds)
def test_sent_durations_read_back_unchanged(total: int) -> None:
    duration = dt.timedelta(seconds=total)
    assert parse_duration(format_duration(duration)) == duration


@given(seconds)
def test_tracker_normalised_durations_read_back_unchanged(total: int) -> None:
    duration = dt.timedelta(seconds=total)
    assert parse_business_iso(format_business_duration(duration)) == duration


@given(st.decimals(min_value=0, max_value=1000, places=2))
def test_decimal_comma_and_point_agree(hours: object) -> None:
    text = f"{hours}"
    assert parse_duration(text) == parse_duration(text.replace(".", ","))


@pytest.mark.parametrize("text", ["24000000000", "3000000000000000000000000", "99999999999:00"])
def test_absurdly_long_durations_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="far too long"):
        parse_duration(text)
