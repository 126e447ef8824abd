"""The month as a whole: overlaps, days past the limit, rows outside the batch's month, empty
working days and the grid — found in a crafted month and nowhere else."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from importer.config import MonthSection
from importer.models import Worklog
from importer.month import MonthFacts, find, named_month, working_days

MSK = ZoneInfo("Europe/Moscow")


def worklog(person: str, day: int, start: str, hours: float, month: int = 10) -> Worklog:
    hour, minute = map(int, start.split(":"))
    begins = dt.datetime(2026, month, day, hour, minute, tzinfo=MSK)
    return Worklog("PORT-1", begins, dt.timedelta(hours=hours), "work", person)


def facts_of(rows: list[Worklog]) -> MonthFacts:
    facts = MonthFacts(["october.csv"])
    for number, row in enumerate(rows, start=2):
        facts.add(0, number, row)
    return facts


def clean_month() -> list[Worklog]:
    """Two people, every working day of October 2026, 8 hours in two rows that do not touch."""
    rows = []
    for day in working_days([dt.date(2026, 10, d) for d in range(1, 32)], MonthSection()):
        for person in ("a.smirnova", "i.petrov"):
            rows.append(worklog(person, day.day, "09:00", 4))
            rows.append(worklog(person, day.day, "13:00", 4))
    return rows


def test_a_clean_month_shows_nothing() -> None:
    findings = find(facts_of(clean_month()), MonthSection(), 12, "2026-10")
    assert findings.noted() == {}
    assert findings.over == {} and findings.empty == {}
    assert findings.period == (dt.date(2026, 10, 1), dt.date(2026, 10, 31)) and findings.named
    assert len(findings.working) == 22  # October 2026: 22 weekdays


def test_overlaps_are_found_and_each_row_names_the_other() -> None:
    rows = clean_month()
    rows.append(worklog("a.smirnova", 5, "13:30", 0.5))  # 13:30–14:00 overlaps 13:00–17:00
    rows.append(worklog("i.petrov", 5, "17:00", 1))  # 17:00 touches 13:00–17:00: no overlap
    facts = facts_of(rows)
    findings = find(facts, MonthSection(), 12, "2026-10")
    flagged = {key: warning for key, (warning, _) in findings.noted().items()}
    new_row = len(rows)  # rows are numbered from 2: the 13:30 row is the one before last
    afternoon = next(
        i + 2
        for i, r in enumerate(rows)
        if r.author == "a.smirnova" and r.start.day == 5 and r.start.hour == 13
    )
    assert set(flagged) == {(0, new_row), (0, afternoon)}
    assert flagged[(0, new_row)] == (
        f"overlaps october.csv:{afternoon} (13:00–17:00) of the same person"
    )
    assert flagged[(0, afternoon)] == (
        f"overlaps october.csv:{new_row} (13:30–14:00) of the same person"
    )
    assert findings.counts["overlaps"] == 2


def test_a_day_past_the_limit_warns_on_every_row_of_that_day() -> None:
    rows = clean_month()
    rows.append(worklog("i.petrov", 6, "18:00", 5))  # 13 h on 2026-10-06
    findings = find(facts_of(rows), MonthSection(), 12, "2026-10")
    day_rows = [i + 2 for i, r in enumerate(rows) if r.author == "i.petrov" and r.start.day == 6]
    text = "i.petrov books 13 h on 2026-10-06, more than input.max_day_hours = 12"
    assert findings.noted() == {(0, n): (text, "") for n in day_rows}
    assert findings.over == {"i.petrov": [dt.date(2026, 10, 6)]}


def test_empty_working_days_skip_weekends_holidays_and_count_moved_workdays() -> None:
    rows = [r for r in clean_month() if not (r.author == "i.petrov" and r.start.day in (7, 8))]
    rules = MonthSection(holidays=("2026-10-08",), workdays=("2026-10-10",))
    findings = find(facts_of(rows), rules, 12, "2026-10")
    assert findings.empty == {
        "a.smirnova": [dt.date(2026, 10, 10)],  # a Saturday made a working day
        "i.petrov": [dt.date(2026, 10, 7), dt.date(2026, 10, 10)],  # the 8th is a holiday
    }
    assert find(facts_of(rows), MonthSection(empty_days="off"), 12, "2026-10").empty == {}


def test_rows_outside_the_month_the_batch_names_are_marked_and_can_be_refused() -> None:
    rows = [*clean_month(), worklog("a.smirnova", 2, "10:00", 1, month=11)]
    outside = (0, len(rows) + 1)
    warned = find(facts_of(rows), MonthSection(), 12, "timesheet-2026-10")
    text = "dated 2026-11-02, outside 2026-10, the month the batch names"
    assert warned.noted() == {outside: (text, "")}
    refused = find(facts_of(rows), MonthSection(outside_month="invalid"), 12, "2026-10")
    assert refused.for_row(0, 2) == ("", "") and refused.for_row(*outside) == ("", text)
    unnamed = find(facts_of(rows), MonthSection(), 12, "october")
    assert unnamed.noted() == {} and not unnamed.named
    assert unnamed.period == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))  # most rows


def test_without_a_named_month_a_stray_date_does_not_stretch_the_plan() -> None:
    rows = [*clean_month(), worklog("a.smirnova", 2, "10:00", 1, month=10)]
    rows[-1] = dataclasses.replace(rows[-1], start=rows[-1].start.replace(year=2016))
    findings = find(facts_of(rows), MonthSection(), 12, "export")
    assert findings.period == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert len(findings.as_json()["days"]) == 31  # type: ignore[arg-type]
    assert findings.empty == {}


def test_a_month_without_a_valid_row_finds_nothing() -> None:
    findings = find(facts_of([]), MonthSection(), 12, "2026-10")
    assert findings.noted() == {} and findings.grid == {} and findings.empty == {}
    assert findings.as_json()["found"] == {
        "overlaps": 0, "over_day": 0, "outside_month": 0, "empty_days": 0,
    }  # fmt: skip


def test_the_grid_holds_each_person_s_hours_per_day_and_names_the_rows() -> None:
    rows = clean_month()
    findings = find(facts_of(rows), MonthSection(), 12, "2026-10")
    grid = findings.as_json()["grid"]
    assert isinstance(grid, dict)
    assert grid["a.smirnova"]["2026-10-01"] == 8.0 and len(grid["a.smirnova"]) == 22
    assert sum(sum(days.values()) for days in grid.values()) == 8 * 22 * 2
    assert findings.cells["i.petrov"][dt.date(2026, 10, 1)] == ["october.csv:4", "october.csv:5"]


@pytest.mark.parametrize(
    ("batch", "month"),
    [("2026-10", (2026, 10)), ("timesheet-2026_11", (2026, 11)), ("табель 03.2027", (2027, 3)),
     ("october", None), ("2026-13", None), ("120261001", None)],
)  # fmt: skip
def test_the_month_a_batch_names(batch: str, month: tuple[int, int] | None) -> None:
    assert named_month(batch) == month


def test_a_row_is_flagged_exactly_when_it_overlaps_another_and_its_partner_does() -> None:
    """Against the plain definition, on many small random days of a few people."""
    import random

    rng = random.Random(7)
    for _ in range(200):
        rows = [
            worklog(
                rng.choice(["a", "b", "c"]),
                rng.randint(1, 3),
                f"{rng.randint(8, 18):02d}:{rng.choice([0, 15, 30, 45]):02d}",
                rng.choice([0.25, 0.5, 1, 2, 3]),
            )
            for _ in range(rng.randint(1, 12))
        ]
        findings = find(facts_of(rows), MonthSection(over_day="off"), 12, "2026-10")

        for i in range(len(rows)):
            partner = int(findings.partner[i])
            expected = any(_overlap(rows[i], rows[j]) for j in range(len(rows)) if j != i)
            assert (partner >= 0) == expected
            if partner >= 0:
                assert partner != i and _overlap(rows[i], rows[partner])


def _overlap(a: Worklog, b: Worklog) -> bool:
    return (
        a.author == b.author and a.start < b.start + b.duration and b.start < a.start + a.duration
    )
