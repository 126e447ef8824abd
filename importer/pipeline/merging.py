"""``[merge] per = "day"``: the rows of one person, issue and day booked as one worklog.

A group's worklog starts at its earliest row, lasts the sum of its rows (rounded to whole
minutes once, after summing: rows read with ``merge`` keep their seconds) and says each
distinct comment once, in start order. The first pass knows each group's last row, so a
group closes there and rows stream on; only the rows of groups still open are held. A group
with an invalid row (one the first pass could still place, or one a month check or Tracker
refuses) is held whole — each of its rows reported why — unless ``merge.partial`` books the
valid part. Every source row stays accountable: the sink writes one line per member.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Iterator

from importer.config import MergeSection
from importer.errors import ConfigError, RowInvalid
from importer.models import Booking, Outcome, SourceRow, Status, Worklog
from importer.month.groups import Groups
from importer.normalize.sendable import whole_minutes
from importer.pipeline.options import RunOptions


@dataclasses.dataclass
class _Member:
    source: SourceRow
    worklog: Worklog
    warning: str


def members_label(sources: list[SourceRow]) -> str:
    """``a.csv:2,5,9; b.csv:3`` — the rows that share a worklog."""
    by_file: dict[str, list[str]] = {}
    for source in sources:
        by_file.setdefault(source.file, []).append(str(source.row))
    return "; ".join(f"{file}:{','.join(rows)}" for file, rows in by_file.items())


class Merger:
    """Collects each group's rows and closes the group at its last row."""

    def __init__(self, groups: Groups, rules: MergeSection, max_comment: int) -> None:
        self.groups = groups
        self.rules = rules
        self.max_comment = max_comment
        self._open: dict[int, list[_Member]] = {}
        self._refused: dict[int, list[str]] = {}  # rows refused in the second pass, by group
        self.not_booked = 0  # groups closed without a worklog: held whole, or no row left to book

    def add(self, index: int, source: SourceRow, worklog: Worklog, warning: str) -> None:
        self._open.setdefault(self.groups.of_row[index], []).append(
            _Member(source, worklog, warning)
        )

    def refuse(self, index: int, source: SourceRow) -> None:
        """A row of the group that will not be booked (a month check, Tracker)."""
        label = f"{source.file}:{source.row}"
        self._refused.setdefault(self.groups.of_row[index], []).append(label)

    def close(self, index: int) -> Iterator[Closed | Outcome]:
        """At a group's last row: its members to book together, or their outcomes."""
        number = self.groups.of_row[index]
        if self.groups.last[number] != index:
            return
        members = self._open.pop(number, [])
        invalid = self.groups.strays.get(number, []) + self._refused.pop(number, [])
        if not members:
            self.not_booked += 1
            return
        if invalid and self.rules.partial == "hold":
            self.not_booked += 1
            person, issue, day = self.groups.keys[number]
            why = (
                f"held with its group ({person or 'the token owner'}, {issue}, {day}): "
                f"{_rows(invalid)} of it invalid; fix them, or set merge.partial = "
                '"book_valid" to book the rest'
            )
            for member in members:
                yield Outcome(member.source, Status.INVALID, error=why)
            return
        yield Closed(tuple(members), invalid)

    def merged(self, members: tuple[_Member, ...]) -> Worklog | str:
        """The group's one worklog, or why it cannot be booked."""
        ordered = sorted(members, key=lambda m: m.worklog.start)
        first = ordered[0].worklog
        total = sum((m.worklog.duration for m in ordered), dt.timedelta(0))
        try:
            duration = whole_minutes(total, "duration", f"{total.total_seconds():g} s")
        except RowInvalid as error:
            return f"the group's rows add up to {error.reason.split(': ', 1)[-1]}"
        comments = list(dict.fromkeys(c for m in ordered if (c := m.worklog.comment.strip())))
        comment = self.rules.separator.join(comments)
        if len(comment) > self.max_comment:
            cut = len(comment) - self.max_comment
            note = f" … ({cut} characters cut)"
            comment = comment[: self.max_comment - len(note)] + note
        created = [m.worklog.created_at for m in ordered if m.worklog.created_at is not None]
        return dataclasses.replace(
            first, duration=duration, comment=comment, created_at=min(created) if created else None
        )

    def held(self) -> Iterator[Outcome]:
        """Rows of groups never closed (a file that changed between the passes)."""
        for members in self._open.values():
            for member in members:
                yield Outcome(
                    member.source,
                    Status.INVALID,
                    error="its group never closed: the file changed while it was read",
                )
        self._open.clear()


def _rows(labels: list[str]) -> str:
    shown = ", ".join(labels[:3])
    return shown + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")


@dataclasses.dataclass(frozen=True)
class Closed:
    """A closed group to book: its rows, and (``merge.partial = "book_valid"``) the invalid
    rows it is booked without."""

    members: tuple[_Member, ...]
    without: list[str]

    def booking(self, worklog: Worklog, fingerprint: str) -> Booking:
        """The merged booking: the first row stands for it; every row is kept for the report."""
        warnings = list(dict.fromkeys(m.warning for m in self.members if m.warning))
        if self.without:
            warnings.append(f"booked without {_rows(self.without)} of its group (invalid)")
        return Booking(
            self.members[0].source,
            worklog,
            fingerprint,
            "; ".join(warnings),
            members=tuple((m.source, m.worklog) for m in self.members),
        )


Per = typing.Literal["off", "day"]


def merge_option(options: RunOptions) -> RunOptions:
    """``--merge`` over the config's ``merge.per`` (rows read for merging keep their seconds,
    so the setting must be known before the files are opened)."""
    if options.merge is None or options.merge == options.settings.merge.per:
        return options
    if options.merge not in ("off", "day"):
        raise ConfigError(f"--merge must be 'off' or 'day', got {options.merge!r}")
    merge = dataclasses.replace(options.settings.merge, per=typing.cast(Per, options.merge))
    return dataclasses.replace(options, settings=dataclasses.replace(options.settings, merge=merge))
