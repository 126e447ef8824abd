"""What only the month as a whole shows: overlapping rows of one person, days past the day's
limit, rows outside the batch's month, working days with no hours, and the person × day grid.

The rows are seen twice: a first pass over every valid row records a few numbers per row
(:class:`MonthFacts`: arrays of integers, about 40 bytes a row), the findings are worked
out from them with numpy (a million rows in well under a second, a few arrays of their
size), and the second pass — the one that books — asks each row's note in file order,
which is when its text is written: nothing per row is kept but a partner and a few bits.
Pure: no I/O.
"""

from __future__ import annotations

import array
import bisect
import collections
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping

import numpy as np

from importer.config import MonthSection
from importer.models import Worklog
from importer.month.period import days, month_days, named_month, working_days

CELL_ROWS = 10  # rows named per grid cell (hover); the hours and the count cover them all
LABELS = 50_000  # rows named in the whole grid at most: a big file's cells name fewer each
OVER_DAY, OUTSIDE = 1, 2  # a row's flags
RowKey = tuple[int, int]  # (the file's position among the inputs, the row number)
_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


class MonthFacts:
    """The first pass: per valid row, who, when, how long; and the distinct issues and
    people Tracker is asked about."""

    def __init__(self, files: list[str]) -> None:
        self.files = files  # shown names, by position
        self.people: dict[str, int] = {}
        self.issues: dict[str, int] = {}
        self.key = array.array("q")  # the file's position << 32 | the row number
        self.person = array.array("q")
        self.issue = array.array("q")  # the issue's number (``issues``)
        self.start = array.array("q")  # epoch seconds
        self.seconds = array.array("q")  # the duration
        self.offset = array.array("q")  # the start's UTC offset, seconds (local times, days)
        self.strays: list[tuple[int, int, str, str, int]] = []  # invalid rows' group keys
        self._sums: np.ndarray | None = None  # running sums of ``seconds``, once asked

    def add(self, file: int, row: int, worklog: Worklog) -> None:
        """One valid row (a million of them: kept to five integers and two lookups)."""
        people = self.people
        person = people.get(worklog.author)
        if person is None:
            person = people[worklog.author] = len(people)
        issue = self.issues.get(worklog.issue)
        if issue is None:
            issue = self.issues[worklog.issue] = len(self.issues)
        start = worklog.start
        offset = start.utcoffset()
        self.key.append(file << 32 | row)
        self.person.append(person)
        self.issue.append(issue)
        self.start.append(int(start.timestamp()))
        self.seconds.append(int(worklog.duration.total_seconds()))
        self.offset.append(int(offset.total_seconds()) if offset is not None else 0)

    def seconds_between(self, file: int, first: int, last: int) -> int:
        """The valid rows' seconds in rows ``first`` to ``last`` of file ``file`` (a totals
        row is checked against them: asked rarely, so nothing is summed per row)."""
        if self._sums is None:
            seconds = np.frombuffer(self.seconds, dtype=np.int64)
            self._sums = np.concatenate(([0], np.cumsum(seconds)))
        low = bisect.bisect_left(self.key, file << 32 | first)
        high = bisect.bisect_right(self.key, file << 32 | last)
        return int(self._sums[high] - self._sums[low])

    def add_stray(self, file: int, row: int, author: str, issue: str, start: dt.datetime) -> None:
        """An invalid row whose author, issue and day can still be read (a merged run holds
        back the group it would have joined)."""
        offset = start.utcoffset()
        local = int(start.timestamp()) + (int(offset.total_seconds()) if offset else 0)
        self.strays.append((file, row, author, issue, local // 86400 + _EPOCH_DAY))

    def __len__(self) -> int:
        return len(self.key)

    def file(self, index: int) -> int:
        return self.key[index] >> 32

    def row(self, index: int) -> int:
        return self.key[index] & 0xFFFFFFFF

    def day(self, index: int) -> int:
        """The ordinal of the row's local date (in the start's own offset)."""
        return (self.start[index] + self.offset[index]) // 86400 + _EPOCH_DAY

    def label(self, index: int) -> str:
        return f"{self.files[self.file(index)]}:{self.row(index)}"

    def span(self, index: int) -> str:
        """The row's local start and end, ``09:00–11:00``."""
        start = (self.start[index] + self.offset[index]) // 60
        end = (self.start[index] + self.offset[index] + self.seconds[index]) // 60
        return f"{start // 60 % 24:02d}:{start % 60:02d}–{end // 60 % 24:02d}:{end % 60:02d}"

    def days(self) -> np.ndarray:
        """Every row's local date, as ordinals."""
        local: np.ndarray = (self.numbers("start") + self.numbers("offset")) // 86400
        return local + _EPOCH_DAY

    def numbers(self, name: str) -> np.ndarray:
        """One of the arrays, as numpy sees it (no copy)."""
        return np.frombuffer(getattr(self, name), dtype=np.int64)


@dataclasses.dataclass
class MonthFindings:
    """The month's findings: per row a partner and flags, marked days, the grid."""

    facts: MonthFacts
    rules: MonthSection
    limit_seconds: int
    partner: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, np.int64))
    flags: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, np.uint8))
    totals: dict[tuple[int, int], int] = dataclasses.field(default_factory=dict)  # seconds
    period: tuple[dt.date, dt.date] | None = None
    named: bool = False  # the period is the month the batch names
    working: list[dt.date] = dataclasses.field(default_factory=list)
    grid: dict[str, dict[dt.date, int]] = dataclasses.field(default_factory=dict)  # seconds
    cells: dict[str, dict[dt.date, list[str]]] = dataclasses.field(default_factory=dict)
    cell_rows: dict[str, dict[dt.date, int]] = dataclasses.field(default_factory=dict)
    over: dict[str, list[dt.date]] = dataclasses.field(default_factory=dict)
    empty: dict[str, list[dt.date]] = dataclasses.field(default_factory=dict)
    counts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    names: list[str] = dataclasses.field(default_factory=list)  # people by their number
    _cursor: int = 0
    _noted: bytes = b""  # per row: whether any check found something

    def notes(self, index: int) -> Iterator[tuple[str, str]]:
        """(check, text) of each finding of one row, whatever the config does with it."""
        facts, rules = self.facts, self.rules
        other = int(self.partner[index]) if rules.overlaps != "off" else -1
        if other >= 0:
            span = facts.span(other)
            yield "overlaps", f"overlaps {facts.label(other)} ({span}) of the same person"
        if self.flags[index] & OVER_DAY and rules.over_day != "off":
            person, day = facts.person[index], facts.day(index)
            who = self.names[person] or "the author"
            total = self.totals[person, day]
            yield (
                "over_day",
                (
                    f"{who} books {total / 3600:g} h on {dt.date.fromordinal(day).isoformat()}, "
                    f"more than input.max_day_hours = {self.limit_seconds / 3600:g}"
                ),
            )
        if self.flags[index] & OUTSIDE and rules.outside_month != "off" and self.period is not None:
            dated = dt.date.fromordinal(facts.day(index))
            yield (
                "outside_month",
                (
                    f"dated {dated.isoformat()}, outside {self.period[0]:%Y-%m}, the month the "
                    "batch names"
                ),
            )

    def for_row(self, file: int, row: int) -> tuple[str, str]:
        """(warning, refusal) of one row. Asked in file order (the second pass reads the files
        as the first did): a cursor walks the first pass's rows, so nothing is looked up."""
        index = self.index_of(file, row)
        if index < 0 or not self._noted[index]:
            return "", ""  # the most rows: nothing found (read from bytes, not numpy: fast)
        return self.of(index)

    def index_of(self, file: int, row: int) -> int:
        """The first pass's number of a row (-1: not a valid row then). Asked in file order."""
        keys, wanted = self.facts.key, file << 32 | row
        while self._cursor < len(keys) and keys[self._cursor] < wanted:
            self._cursor += 1
        if self._cursor >= len(keys) or keys[self._cursor] != wanted:
            return -1
        return self._cursor

    def of(self, index: int) -> tuple[str, str]:
        """(warning, refusal) of the first pass's row ``index``, as ``[month]`` says."""
        warnings, refusals = [], []
        for check, text in self.notes(index):
            how = getattr(self.rules, check)
            if how == "invalid":
                refusals.append(text)
            elif how == "warn":
                warnings.append(text)
        return "; ".join(warnings), "; ".join(refusals)

    def noted(self) -> dict[RowKey, tuple[str, str]]:
        """Every row with a warning or a refusal (for tests and tools; the run asks row by row)."""
        found = {}
        for index in range(len(self.facts)):
            note = self.of(index)
            if any(note):
                found[self.facts.file(index), self.facts.row(index)] = note
        return found

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
            "limit_hours": self.limit_seconds / 3600,
            "people": sorted(self.grid),
            "grid": {
                p: {d.isoformat(): round(m / 3600, 4) for d, m in sorted(cells.items())}
                for p, cells in sorted(self.grid.items())
            },
            "rows": _by_day(self.cells),
            "row_counts": _by_day(self.cell_rows),
            "marks": {
                "over": {p: [d.isoformat() for d in v] for p, v in sorted(self.over.items())},
                "empty": {p: [d.isoformat() for d in v] for p, v in sorted(self.empty.items())},
            },
            "found": dict(self.counts),
        }


def _by_day(cells: Mapping[str, Mapping[dt.date, object]]) -> dict[str, dict[str, object]]:
    return {
        person: {day.isoformat(): value for day, value in sorted(by_day.items())}
        for person, by_day in sorted(cells.items())
    }


def find(facts: MonthFacts, rules: MonthSection, limit_hours: float, batch: str) -> MonthFindings:
    """Every finding of the month the rows make up (see the module's docstring)."""
    size = len(facts)
    findings = MonthFindings(
        facts,
        rules,
        round(limit_hours * 3600),
        partner=np.full(size, -1, dtype=np.int64),
        flags=np.zeros(size, dtype=np.uint8),
        names=list(facts.people),
    )
    if size:
        _days_and_grid(facts, findings)
        _overlaps(facts, findings)
    _period(findings, batch)
    if size:
        _outside(facts, findings)
    _count(findings)
    _empty_days(findings)
    findings._noted = _noted(findings).astype(np.uint8).tobytes()
    return findings


def _noted(findings: MonthFindings) -> np.ndarray:
    """Per row: whether a check that is on found something."""
    rules = findings.rules
    noted = np.zeros(len(findings.flags), dtype=bool)
    if rules.overlaps != "off":
        noted |= findings.partner >= 0
    if rules.over_day != "off":
        noted |= (findings.flags & OVER_DAY) > 0
    if rules.outside_month != "off":
        noted |= (findings.flags & OUTSIDE) > 0
    return noted


def _days_and_grid(facts: MonthFacts, findings: MonthFindings) -> None:
    """Hours per person and day, the rows behind each cell, and the days past the limit."""
    person, day, seconds = facts.numbers("person"), facts.days(), facts.numbers("seconds")
    first_day = int(day.min())
    cell_keys = person * (1 << 24) + (day - first_day)
    keys, which, rows = np.unique(cell_keys, return_inverse=True, return_counts=True)
    totals = np.bincount(which, weights=seconds).astype(np.int64)
    order = np.argsort(which, kind="stable")
    starts = np.concatenate(([0], np.cumsum(rows)[:-1]))
    named = max(1, min(CELL_ROWS, LABELS // len(keys)))
    names = findings.names
    for cell, key in enumerate(keys.tolist()):
        who, date = names[key >> 24], dt.date.fromordinal((key & 0xFFFFFF) + first_day)
        findings.grid.setdefault(who, {})[date] = int(totals[cell])
        findings.cell_rows.setdefault(who, {})[date] = int(rows[cell])
        behind = order[starts[cell] : starts[cell] + min(int(rows[cell]), named)]
        findings.cells.setdefault(who, {})[date] = [facts.label(int(i)) for i in behind]
        if totals[cell] > findings.limit_seconds:
            findings.over.setdefault(who, []).append(date)
            findings.totals[key >> 24, (key & 0xFFFFFF) + first_day] = int(totals[cell])
    findings.flags[totals[which] > findings.limit_seconds] |= OVER_DAY


def _overlaps(facts: MonthFacts, findings: MonthFindings) -> None:
    """Per person, rows by start: a row that starts before the latest end so far overlaps
    the row that ends there; each is given the other as its partner."""
    person, start = facts.numbers("person"), facts.numbers("start")
    seconds = facts.numbers("seconds")
    timed = np.nonzero(seconds > 0)[0]
    if len(timed) < 2:
        return
    order = timed[np.lexsort((start[timed], person[timed]))]
    who, begins = person[order], start[order]
    ends = begins + seconds[order]
    # The latest end so far within each person: ends lifted by the person's rank, so one
    # running maximum over everyone never carries one person's end into the next's.
    lifted = ends - ends.min() + who * (int(ends.max() - ends.min()) + 1)
    latest = np.maximum.accumulate(lifted)
    holder = np.maximum.accumulate(np.where(lifted == latest, np.arange(len(order)), 0))
    same = np.concatenate(([False], who[1:] == who[:-1]))
    before = np.concatenate(([0], holder[:-1]))
    hits = np.nonzero(same & (begins < ends[before]))[0]
    rows, partners = order[hits], order[before[hits]]
    findings.partner[partners] = rows  # the earlier row names one that overlaps it ...
    findings.partner[rows] = partners  # ... and each later row the one it overlaps


def _period(findings: MonthFindings, batch: str) -> None:
    """The month the batch names; else the calendar month most rows fall in (a stray date
    years away must not make the plan a decade long)."""
    month = named_month(batch)
    if month is not None:
        findings.period, findings.named = month_days(*month), True
    elif findings.cell_rows:
        rows: collections.Counter[tuple[int, int]] = collections.Counter()
        for counts in findings.cell_rows.values():
            for date, n in counts.items():
                rows[date.year, date.month] += n
        busiest = max(rows.items(), key=lambda item: (item[1], item[0]))[0]
        findings.period = month_days(*busiest)
    if findings.period is not None:
        findings.working = working_days(days(*findings.period), findings.rules)


def _outside(facts: MonthFacts, findings: MonthFindings) -> None:
    if not findings.named or findings.period is None:
        return
    first, last = (d.toordinal() for d in findings.period)
    day = facts.days()
    findings.flags[(day < first) | (day > last)] |= OUTSIDE


def _count(findings: MonthFindings) -> None:
    """Rows found by each check that is on (0: on, nothing found; absent: off)."""
    rules = findings.rules
    found = {
        "overlaps": int(np.count_nonzero(findings.partner >= 0)),
        "over_day": int(np.count_nonzero(findings.flags & OVER_DAY)),
        "outside_month": int(np.count_nonzero(findings.flags & OUTSIDE)),
    }
    for check, rows in found.items():
        if getattr(rules, check) != "off":
            findings.counts[check] = rows


def _empty_days(findings: MonthFindings) -> None:
    if findings.rules.empty_days == "off":
        return
    findings.counts["empty_days"] = 0
    first, last = findings.period or (dt.date.max, dt.date.min)
    for person, cells in findings.grid.items():
        if not any(first <= d <= last for d in cells):
            continue  # none of this person's rows is in the month: a misplaced file, not absence
        missing = [d for d in findings.working if not cells.get(d)]
        if missing:
            findings.empty[person] = missing
            findings.counts["empty_days"] += len(missing)
