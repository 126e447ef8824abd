from __future__ import annotations

import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.formats import format_tracker_start, parse_tracker_start
from importer.normalize.times import localize, parse_date, parse_datetime, parse_time

BERLIN = ZoneInfo("Europe/Berlin")
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-31", dt.date(2026, 10, 31)),
        ("31.10.2026", dt.date(2026, 10, 31)),
        ("1.2.2026", dt.date(2026, 2, 1)),
        ("01/02/2026", dt.date(2026, 2, 1)),
        ("2026-10-31 09:15", dt.date(2026, 10, 31)),
        (dt.datetime(2026, 10, 31, 0, 0), dt.date(2026, 10, 31)),
        (46326, dt.date(2026, 10, 31)),
    ],
)
def test_dates_in_timesheet_forms(value: object, expected: dt.date) -> None:
    assert parse_date(value) == expected


def test_month_first_dates_when_configured() -> None:
    assert parse_date("01/02/2026", dayfirst=False) == dt.date(2026, 1, 2)


@pytest.mark.parametrize("value", ["31.09.2026", "2026-13-01", "yesterday", "", None])
def test_impossible_dates_say_why(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9:15", dt.time(9, 15)),
        ("09:15:30", dt.time(9, 15, 30)),
        ("09:15 AM", dt.time(9, 15)),
        ("12:05 PM", dt.time(12, 5)),
        ("12:05 am", dt.time(0, 5)),
        ("9:15:00 PM", dt.time(21, 15)),
        (0.375, dt.time(9, 0)),
        (dt.time(9, 0), dt.time(9, 0)),
    ],
)
def test_clock_times(value: object, expected: dt.time) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["25:10", "9:75", "13:00 PM", "nine"])
def test_impossible_times_say_why(value: str) -> None:
    with pytest.raises(ValueError):
        parse_time(value)


def test_datetimes_keep_an_explicit_offset() -> None:
    moment = parse_datetime("2026-10-31T09:15:00+05:00")
    assert moment.utcoffset() == dt.timedelta(hours=5)
    assert localize(moment, MOSCOW) is moment


def test_datetimes_without_offset_are_naive_until_localized() -> None:
    moment = parse_datetime("31.10.2026 09:15")
    assert moment == dt.datetime(2026, 10, 31, 9, 15)
    assert localize(moment, MOSCOW).astimezone(dt.UTC) == dt.datetime(
        2026, 10, 31, 6, 15, tzinfo=dt.UTC
    )


def test_moscow_has_no_dst_and_is_utc_plus_3() -> None:
    for month in (1, 7):
        moment = localize(dt.datetime(2026, month, 15, 9, 0), MOSCOW)
        assert format_tracker_start(moment) == f"2026-{month:02d}-15T09:00:00.000+0300"


def test_berlin_spring_gap_reads_with_the_offset_before_the_change() -> None:
    # 2026-03-29 02:30 does not exist in Berlin; it is read as 01:30 UTC (= 03:30 CEST).
    moment = localize(dt.datetime(2026, 3, 29, 2, 30), BERLIN)
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    before = localize(dt.datetime(2026, 3, 29, 1, 30), BERLIN)
    after = localize(dt.datetime(2026, 3, 29, 3, 30), BERLIN)
    assert before.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
    assert after.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)


def test_berlin_autumn_repeated_hour_is_the_first_occurrence() -> None:
    # 2026-10-25 02:30 happens twice in Berlin; the first one is 00:30 UTC (CEST).
    moment = localize(dt.datetime(2026, 10, 25, 2, 30), BERLIN)
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert format_tracker_start(moment) == "2026-10-25T02:30:00.000+0200"


def test_tracker_start_has_milliseconds_and_an_offset_without_colon() -> None:
    moment = dt.datetime(2026, 10, 1, 9, 0, 5, 123456, tzinfo=MOSCOW)
    assert format_tracker_start(moment) == "2026-10-01T09:00:05.123+0300"
    with pytest.raises(ValueError):
        format_tracker_start(dt.datetime(2026, 10, 1, 9, 0))


@given(st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_tracker_start_round_trips_to_the_same_instant(naive: dt.datetime) -> None:
    moment = localize(naive.replace(microsecond=naive.microsecond // 1000 * 1000), BERLIN)
    back = parse_tracker_start(format_tracker_start(moment))
    # Compared as instants: Python calls an ambiguous wall time (02:00 on the night clocks go
    # back) unequal to any other zone's datetime, even the very same instant (PEP 495).
    assert back.timestamp() == moment.timestamp()
    assert back.utcoffset() == moment.utcoffset()


@given(st.text(max_size=25))
def test_any_string_gives_a_time_or_a_reason(text: str) -> None:
    for parse in (parse_date, parse_time, parse_datetime):
        with contextlib.suppress(ValueError):
            parse(text)
