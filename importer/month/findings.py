"""What only the month as a whole shows: overlapping rows of one person, days past the day's
limit, rows outside the batch's month, working days with no hours, and the person × day grid.

The rows are seen twice: a first pass over every valid row records a few numbers per row
(:class:`MonthFacts`, arrays of integers: a million rows cost about 40 MB), the findings are
worked out from them, and the second pass — the one that books — attaches each row's
warning (or, where the config says so, refuses it). Pure: no I/O.
"""

from __future__ import annotations

import array
import collections
import dataclasses
import datetime as dt
from collections.abc import Iterator

from importer.config import MonthSection
from importer.models import Worklog
from importer.month.period import days, month_days, named_month, working_days

CELL_ROWS = 10  # rows named per grid cell (hover); the hours count them all
NOTES_PER_CHECK = 3  # a row overlapping many others names the first few
RowKey = tuple[int, int]  # (the file's position among the inputs, the row number)


class MonthFacts:
    """The first pass: per valid row, who, when, how long; and the distinct issues and
    people Tracker is asked about."""

    def __init__(self, files: list[str]) -> None:
        self.files = files  # shown names, by position
        self.people: dict[str, int] = {}
        self.issues: set[str] = set()
        self._file = array.array("i")
        self._row = array.array("q")
        self._person = array.array("i")
        self._start = array.array("q")  # epoch minutes
        self._minutes = array.array("q")
        self._day = array.array("i")  # the local date's ordinal
        self._offset = array.array("i")  # the start's UTC offset, minutes (to show local times)

    def add(self, file: int, row: int, worklog: Worklog) -> None:
        person = self.people.setdefault(worklog.author, len(self.people))
        self.issues.add(worklog.issue)
        start = worklog.start
        offset = start.utcoffset()
        self._file.append(file)
        self._row.append(row)
        self._person.append(person)
        self._start.append(int(start.timestamp()) // 60)
        self._minutes.append(int(worklog.duration.total_seconds()) // 60)
        self._day.append(start.date().toordinal())
        self._offset.append(int(offset.total_seconds()) // 60 if offset is not None else 0)

    def __len__(self) -> int:
        return len(self._row)

    def label(self, index: int) -> str:
        return f"{self.files[self._file[index]]}:{self._row[index]}"

    def key(self, index: int) -> RowKey:
        return self._file[index], self._row[index]

    def span(self, index: int) -> str:
        """The row's local start and end, ``09:00–11:00``."""
        start = self._start[index] + self._offset[index]
        end = start + self._minutes[index]
        return f"{start // 60 % 24:02d}:{start % 60:02d}–{end // 60 % 24:02d}:{end % 60:02d}"

    def rows(self) -> Iterator[tuple[int, int, int, int, int]]:
        """(index, person, day, start, minutes) of every row."""
        yield from zip(
            range(len(self)), self._person, self._day, self._start, self._minutes, strict=True
        )


@dataclasses.dataclass
class MonthFindings:
    """The month's findings: notes per row, marked days, the grid."""

    rules: MonthSection
    limit_minutes: int
    warnings: dict[RowKey, list[str]] = dataclasses.field(default_factory=dict)
    refusals: dict[RowKey, str] = dataclasses.field(default_factory=dict)
    period: tuple[dt.date, dt.date] | None = None
    named: bool = False  # the period is the month the batch names
    working: list[dt.date] = dataclasses.field(default_factory=list)
    grid: dict[str, dict[dt.date, int]] = dataclasses.field(default_factory=dict)  # minutes
    cells: dict[str, dict[dt.date, list[str]]] = dataclasses.field(default_factory=dict)
    cell_rows: dict[str, dict[dt.date, int]] = dataclasses.field(default_factory=dict)
    over: dict[str, list[dt.date]] = dataclasses.field(default_factory=dict)
    empty: dict[str, list[dt.date]] = dataclasses.field(default_factory=dict)
    counts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    _noted: collections.Counter[tuple[RowKey, str]] = dataclasses.field(
        default_factory=collections.Counter
    )

    def note(self, key: RowKey, check: str, text: str) -> None:
        """A row's finding, as the config says: a warning, a refusal, or nothing."""
        how = getattr(self.rules, check)
        seen = self._noted[key, check]
        if how == "off" or seen >= NOTES_PER_CHECK:
            return
        self._noted[key, check] += 1
        if not seen:
            self.counts[check] += 1  # rows, not pairs
        if how == "invalid":
            self.refusals[key] = f"{self.refusals[key]}; {text}" if key in self.refusals else text
        else:
            self.warnings.setdefault(key, []).append(text)

    def for_row(self, file: int, row: int) -> tuple[str, str]:
        """(warning, refusal) of one row."""
        key = (file, row)
        return "; ".join(self.warnings.get(key, ())), self.refusals.get(key, "")

    def as_json(self) -> dict[str, object]:
        first, last = self.period or (None, None)
        return {
            "period": {
                "from": first.isoformat() if first else None,
                "to": last.isoformat() if last else None,
                "named_by_batch": self.named,
            },
            "days": [d.isoformat() for d in days(first, last)] if first and last else [],
            "working_days": [d.isoformat() for d in self.working],
            "limit_hours": self.limit_minutes / 60,
            "people": sorted(self.grid),
            "grid": {
                p: {d.isoformat(): round(m / 60, 4) for d, m in sorted(cells.items())}
                for p, cells in sorted(self.grid.items())
            },
            "rows": {
                p: {d.isoformat(): labels for d, labels in sorted(cells.items())}
                for p, cells in sorted(self.cells.items())
            },
            "row_counts": {
                p: {d.isoformat(): n for d, n in sorted(counts.items())}
                for p, counts in sorted(self.cell_rows.items())
            },
            "marks": {
                "over": {p: [d.isoformat() for d in v] for p, v in sorted(self.over.items())},
                "empty": {p: [d.isoformat() for d in v] for p, v in sorted(self.empty.items())},
            },
            "found": dict(self.counts),
        }


def find(facts: MonthFacts, rules: MonthSection, limit_hours: float, batch: str) -> MonthFindings:
    """Every finding of the month the rows make up (see the module's docstring)."""
    findings = MonthFindings(rules, round(limit_hours * 60))
    for check in ("overlaps", "over_day", "outside_month", "empty_days"):
        if getattr(rules, check) != "off":
            findings.counts[check] = 0  # on, and nothing found (absent: the check is off)
    names = {index: name for name, index in facts.people.items()}
    _grid(facts, findings, names)
    _overlaps(facts, findings)
    _over_days(facts, findings, names)
    _period(facts, findings, batch)
    _outside(facts, findings)
    _empty_days(findings)
    return findings


def _grid(facts: MonthFacts, findings: MonthFindings, names: dict[int, str]) -> None:
    for index, person, day, _, minutes in facts.rows():
        date = dt.date.fromordinal(day)
        cells = findings.grid.setdefault(names[person], {})
        cells[date] = cells.get(date, 0) + minutes
        labels = findings.cells.setdefault(names[person], {}).setdefault(date, [])
        if len(labels) < CELL_ROWS:
            labels.append(facts.label(index))
        counted = findings.cell_rows.setdefault(names[person], {})
        counted[date] = counted.get(date, 0) + 1


def _overlaps(facts: MonthFacts, findings: MonthFindings) -> None:
    """Per person, rows by start: a row that starts before the latest end so far overlaps
    the row that ends there (each names the other)."""
    by_person: dict[int, list[int]] = {}
    for index, person, _, _, minutes in facts.rows():
        if minutes > 0:
            by_person.setdefault(person, []).append(index)
    starts = facts._start
    ends = [s + m for s, m in zip(facts._start, facts._minutes, strict=True)]
    for indices in by_person.values():
        indices.sort(key=starts.__getitem__)
        latest = -1
        for index in indices:
            if latest >= 0 and starts[index] < ends[latest]:
                for one, other in ((index, latest), (latest, index)):
                    findings.note(
                        facts.key(one),
                        "overlaps",
                        f"overlaps {facts.label(other)} ({facts.span(other)}) of the same person",
                    )
            if latest < 0 or ends[index] > ends[latest]:
                latest = index


def _over_days(facts: MonthFacts, findings: MonthFindings, names: dict[int, str]) -> None:
    limit = findings.limit_minutes
    over = {
        (person, date): minutes
        for person, cells in findings.grid.items()
        for date, minutes in cells.items()
        if minutes > limit
    }
    for name, date in sorted(over):
        findings.over.setdefault(name, []).append(date)
    for index, person, day, _, _ in facts.rows():
        total = over.get((names[person], dt.date.fromordinal(day)))
        if total is not None:
            who = names[person] or "the author"
            findings.note(
                facts.key(index),
                "over_day",
                f"{who} books {total / 60:g} h on {dt.date.fromordinal(day).isoformat()}, "
                f"more than input.max_day_hours = {limit / 60:g}",
            )


def _period(facts: MonthFacts, findings: MonthFindings, batch: str) -> None:
    month = named_month(batch)
    if month is not None:
        findings.period, findings.named = month_days(*month), True
    elif len(facts):
        dates = [d for cells in findings.grid.values() for d in cells]
        findings.period = (min(dates), max(dates))
    if findings.period is not None:
        findings.working = working_days(days(*findings.period), findings.rules)


def _outside(facts: MonthFacts, findings: MonthFindings) -> None:
    if not findings.named or findings.period is None:
        return
    first, last = findings.period
    for index, _, day, _, _ in facts.rows():
        date = dt.date.fromordinal(day)
        if not first <= date <= last:
            findings.note(
                facts.key(index),
                "outside_month",
                f"dated {date.isoformat()}, outside {first:%Y-%m}, the month the batch names",
            )


def _empty_days(findings: MonthFindings) -> None:
    if findings.rules.empty_days == "off":
        return
    first, last = findings.period or (dt.date.max, dt.date.min)
    for person, cells in findings.grid.items():
        if not any(first <= d <= last for d in cells):
            continue  # none of this person's rows is in the month: a misplaced file, not absence
        missing = [d for d in findings.working if not cells.get(d)]
        if missing:
            findings.empty[person] = missing
            findings.counts["empty_days"] += len(missing)
