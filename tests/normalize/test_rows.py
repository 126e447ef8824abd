from __future__ import annotations

import datetime as dt

import pytest

from importer.models import Invalid, Skipped, SourceRow, Worklog
from importer.normalize import Normalizer
from tests.helpers import make_settings

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


def test_the_key_is_found_inside_a_description() -> None:
    settings = make_settings(columns={"issue": "Comment"})
    result = Normalizer(settings).normalize(row(Comment="review OPS-1210 and PORT-2"))
    assert isinstance(result, Worklog) and result.issue == "OPS-1210"
    lowercase = Normalizer(settings).normalize(row(Comment="see re-2 notes"))
    assert isinstance(lowercase, Invalid), "a lowercase word is not taken for a key"


def test_ids_are_mapped_to_keys() -> None:
    settings = make_settings()
    normalizer = Normalizer(settings, issue_map={"412": "PORT-412"})
    mapped = normalizer.normalize(row(Issue="Ошибка #412: Не работает вход (#2)"))
    assert isinstance(mapped, Worklog) and mapped.issue == "PORT-412"
    missing = normalizer.normalize(row(Issue="Ошибка #999: Другое"))
    assert missing == Invalid(
        "column 'Issue' value 'Ошибка #999: Другое': id 999 is not in the issue map "
        "(issue.map_file)",
        "Issue",
        "Ошибка #999: Другое",
    )


def test_an_end_time_instead_of_a_duration_crosses_midnight() -> None:
    settings = make_settings(columns={"duration": "", "end": "Until"})
    result = Normalizer(settings).normalize(row(Start="23:30", Until="00:45"))
    assert isinstance(result, Worklog) and result.duration == dt.timedelta(minutes=75)


def test_an_end_equal_to_the_start_is_no_time_not_a_whole_day() -> None:
    settings = make_settings(columns={"duration": "", "end": "Until"})
    result = Normalizer(settings).normalize(row(Start="09:00", Until="09:00"))
    assert isinstance(result, Invalid) and "duration must be positive" in result.reason


def test_an_end_with_its_own_date_or_offset_is_that_moment() -> None:
    """Only a bare end time crosses midnight; an end that writes its date is taken as it is
    (before the start: invalid, never a day added), and an offset is compared as an instant."""
    settings = make_settings(columns={"duration": "", "end": "Until"})
    normalize = Normalizer(settings).normalize
    offset = normalize(row(Start="09:00", Until="2026-10-01T10:30+03:00"))
    assert isinstance(offset, Worklog) and offset.duration == dt.timedelta(minutes=90)
    other = normalize(row(Start="09:00", Until="2026-10-01T12:00+05:00"))  # 10:00 Moscow
    assert isinstance(other, Worklog) and other.duration == dt.timedelta(hours=1)
    before = normalize(row(Start="09:00", Until="2026-10-01 08:00"))
    assert isinstance(before, Invalid) and "duration must be positive" in before.reason
    no_zone = make_settings(
        input={"timezone": ""}, columns={"date": "", "time": "", "start": "From", "end": "To"}
    )
    both = Normalizer(no_zone).normalize(
        row(From="2026-10-01T09:00+03:00", To="2026-10-01T10:30+03:00")
    )
    assert isinstance(both, Worklog) and both.duration == dt.timedelta(minutes=90)


@pytest.mark.parametrize(
    ("date", "start", "expected"),
    [
        ("2026-10-01 14:30", "", dt.datetime(2026, 10, 1, 14, 30, tzinfo=MSK)),
        ("01.10.2026 16:45", "", dt.datetime(2026, 10, 1, 16, 45, tzinfo=MSK)),
        ("2026-10-02T11:15:00+05:00", "", dt.datetime(2026, 10, 2, 9, 15, tzinfo=MSK)),
        (dt.datetime(2026, 10, 12, 14, 30), "", dt.datetime(2026, 10, 12, 14, 30, tzinfo=MSK)),
        (46296.75, "", dt.datetime(2026, 10, 1, 18, 0, tzinfo=MSK)),  # a serial's fraction
        ("2026-10-03 14:30", "14:30", dt.datetime(2026, 10, 3, 14, 30, tzinfo=MSK)),  # agree
        (dt.datetime(2026, 10, 5), "11:00", dt.datetime(2026, 10, 5, 11, 0, tzinfo=MSK)),
        ("2026-10-05 00:00", "", dt.datetime(2026, 10, 5, 9, 0, tzinfo=MSK)),  # a bare date
    ],
)
def test_a_time_written_in_the_date_cell_is_kept(
    date: object, start: str, expected: dt.datetime
) -> None:
    result = Normalizer(make_settings()).normalize(row(Date=date, Start=start))
    assert isinstance(result, Worklog), result
    assert result.start == expected


def test_a_date_cell_s_offset_is_kept_without_a_timezone() -> None:
    settings = make_settings(input={"timezone": ""})
    result = Normalizer(settings).normalize(row(Date="2026-10-02T11:15:00+05:00", Start=""))
    assert isinstance(result, Worklog)
    assert result.start.isoformat() == "2026-10-02T11:15:00+05:00"


@pytest.mark.parametrize(
    ("date", "start", "says"),
    [
        ("2026-10-03 14:30", "10:00", "column 'Date' value '2026-10-03 14:30' writes the time "
         "14:30:00, column 'Start' value '10:00' another; which one is meant?"),
        (dt.datetime(2026, 10, 5), dt.datetime(2026, 10, 6, 11, 0), "column 'Start' value "
         "'2026-10-06 11:00:00' is on another day than column 'Date' value '2026-10-05"),
        ("31.12.9999", "23:30", "from 2100 on"),
    ],
)  # fmt: skip
def test_a_date_and_a_time_that_disagree_are_refused(
    date: object, start: object, says: str
) -> None:
    settings = make_settings(input={"allow_future": True})
    result = Normalizer(settings).normalize(row(Date=date, Start=start))
    assert isinstance(result, Invalid) and says in result.reason, result


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        ("29.03.2026", 2),  # clocks go forward at 02:00: 01:00 → 04:00 on the wall is 2 h
        ("25.10.2026", 4),  # clocks go back at 03:00: 01:00 → 04:00 on the wall is 4 h
    ],
)
def test_an_end_across_a_dst_change_counts_real_elapsed_time(day: str, hours: int) -> None:
    settings = make_settings(
        input={"timezone": "Europe/Berlin"}, columns={"duration": "", "end": "Until"}
    )
    result = Normalizer(settings).normalize(row(Date=day, Start="01:00", Until="04:00"))
    assert isinstance(result, Worklog) and result.duration == dt.timedelta(hours=hours)


def test_excel_day_fractions_when_the_unit_is_days() -> None:
    settings = make_settings(input={"duration_unit": "days"})
    result = Normalizer(settings).normalize(row(Hours="0,0625"))
    assert isinstance(result, Worklog) and result.duration == dt.timedelta(minutes=90)


def test_month_first_date_under_day_first_says_which_setting_to_change() -> None:
    result = Normalizer(make_settings()).normalize(row(Date="10/25/2026"))
    assert result == Invalid(
        "column 'Date' value '10/25/2026': not a day-first date: '10/25/2026'; if the file "
        "writes month first, set input.dayfirst = false",
        "Date",
        "10/25/2026",
    )


def test_future_work_is_invalid_unless_allowed() -> None:
    now = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
    future = Normalizer(make_settings(), now=lambda: now).normalize(row(Date="02.10.2026"))
    assert isinstance(future, Invalid) and "starts in the future" in future.reason
    allowed = Normalizer(make_settings(input={"allow_future": True}), now=lambda: now)
    assert isinstance(allowed.normalize(row(Date="02.10.2026")), Worklog)


def test_overlong_comments_are_invalid() -> None:
    settings = make_settings(input={"max_comment_length": 10})
    result = Normalizer(settings).normalize(row(Comment="x" * 11))
    assert isinstance(result, Invalid)
    assert result.reason == (
        "column 'Comment': the comment has 11 characters, more than input.max_comment_length = 10"
    )


def test_a_preset_option_yields_to_the_config() -> None:
    from importer.read.columns import ColumnMap
    from importer.read.presets import PRESETS

    clockify = PRESETS["clockify"]
    columns = make_settings().columns
    mapped = ColumnMap(columns, clockify)
    assert Normalizer(make_settings(), mapped).dayfirst is False  # the preset's own
    explicit = make_settings(input={"dayfirst": True})
    assert Normalizer(explicit, ColumnMap(columns, clockify)).dayfirst is True
