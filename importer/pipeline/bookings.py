"""Rows → bookings: each file's rows normalized, fingerprinted and checked across rows.

Two passes over the files. :func:`survey` reads every row once before anything is sent and
records what the month checks and Tracker's lookups need (:class:`importer.month.MonthFacts`).
:func:`bookings` is a generator, so rows stream from the reader to the worker pool: a row
that books nothing comes out as its ``Outcome`` (``invalid``, ``skipped``; or refused by a
month check the config makes invalid, or for an issue or author Tracker is known to refuse),
a valid one as a ``Booking`` carrying its month warnings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence

from importer.deliver import Occurrences, Refusals, booking_content
from importer.deliver.identity import Fingerprints
from importer.errors import InputError
from importer.log import get_logger
from importer.models import Booking, Invalid, Mode, Outcome, Skipped, SourceRow, Status, Worklog
from importer.month import MonthFacts, MonthFindings
from importer.normalize.rows import ONLY_NUMBERS, Normalizer
from importer.normalize.times import date_order
from importer.pipeline.inputs import InputFile
from importer.pipeline.merging import Merger


def survey(inputs: Sequence[InputFile], merged: bool = False) -> MonthFacts:
    """The first pass: every valid row's person, issue, day and time, nothing else kept;
    ``merged``: also where each invalid row would have been booked, if that can be read."""
    facts = MonthFacts([opened.table.shown for opened in inputs])
    for position, opened in enumerate(inputs):
        normalizer = opened.normalizer
        normalize = normalizer.normalize
        order = _DateOrder(normalizer.columns.start or normalizer.columns.date, normalizer.dayfirst)
        for source in opened.table.rows():
            cell = source.values.get(order.column)
            if type(cell) is str and "/" in cell:
                order.see(source, cell)
            result = normalize(source)
            if isinstance(result, Worklog):
                facts.add(position, source.row, result)
            elif merged and isinstance(result, Invalid) and (whose := normalizer.whose(source)):
                facts.add_stray(position, source.row, *whose)
        order.check()
    return facts


class _DateOrder:
    """A file whose slashed dates are read one way (``05/10/2026`` as 5 October) but that
    also holds one that only the other way can be (``13/10/2026``) is refused before anything
    is sent: its ambiguous dates would be booked on the wrong day."""

    def __init__(self, column: str, dayfirst: bool) -> None:
        self.column, self.dayfirst = column, dayfirst
        self.ambiguous: SourceRow | None = None
        self.other: tuple[SourceRow, str] | None = None

    def see(self, source: SourceRow, cell: str) -> None:
        order = date_order(cell)  # one look at the cell, on every slashed row of the file
        if order == "either":
            if self.ambiguous is None:
                self.ambiguous = source
        elif order is not None and (order == "day") != self.dayfirst and self.other is None:
            self.other = (source, cell)

    def check(self) -> None:
        if self.ambiguous is None or self.other is None:
            return
        source, cell = self.other
        read, written = ("day", "month") if self.dayfirst else ("month", "day")
        raise InputError(
            f"{source.file}: row {source.row} column '{self.column}' value {cell!r} can only "
            f"be {written} first, but the file's dates are read {read} first (input.dayfirst "
            f"= {str(self.dayfirst).lower()}, a preset's default or the config's): row "
            f"{self.ambiguous.row}'s {self.ambiguous.values.get(self.column)!r} and every date "
            f"like it would be booked on the wrong day. Set input.dayfirst = "
            f"{str(not self.dayfirst).lower()}; nothing was sent"
        )


@dataclasses.dataclass
class RowNotes:
    """What the whole month and Tracker's lookups say of single rows."""

    findings: MonthFindings | None = None
    refusals: Refusals | None = None
    mode: Mode = Mode.CREATE

    merger: Merger | None = None  # [merge] per = "day": the groups the rows close into

    def of(self, file: int, row: int, worklog: Worklog) -> tuple[str, str]:
        """(warning, why the row is refused) of one valid row."""
        warning, refused = self.findings.for_row(file, row) if self.findings else ("", "")
        tracker = self.refusals.of(worklog, self.mode) if self.refusals else ""
        return warning, "; ".join(r for r in (tracker, refused) if r)


def bookings(
    inputs: Sequence[InputFile], mode: Mode, target: str, notes: RowNotes | None = None
) -> Iterator[Booking | Outcome]:
    """Every row of every file, in order, as a booking or as the outcome it already has."""
    log = get_logger()
    fingerprint = _fingerprinter(target, mode)
    notes = notes or RowNotes()
    for position, opened in enumerate(inputs):
        table, normalizer = opened.table, opened.normalizer
        rows = 0
        totals = _Totals(notes.findings.facts if notes.findings else None, position)
        for source in table.rows():
            rows += 1
            result = normalizer.normalize(source)
            if not isinstance(result, Worklog):
                if isinstance(result, Skipped):
                    result = totals.check(source, result, normalizer)
                status = Status.INVALID if isinstance(result, Invalid) else Status.SKIPPED
                yield Outcome(source, status, error=result.reason)
                continue
            warning, refused = notes.of(position, source.row, result)
            if notes.merger is not None:
                yield from _merged(notes, position, source, result, warning, refused, fingerprint)
                continue
            if refused:
                yield Outcome(source, Status.INVALID, error=refused)
                continue
            yield Booking(source, result, fingerprint(result), warning)
        log.info("file_read", file=str(table.path), rows=rows, header_row=table.header_row)
    if notes.merger is not None:
        yield from notes.merger.held()


class _Totals:
    """A row of numbers only (no issue, date or label) is a totals row when it adds up the
    rows above it — since the last totals row, or from the top; otherwise it is a lost entry
    (its issue and date missing), and reported ``invalid`` rather than skipped. The sums come
    from the first pass's durations, so nothing is added up row by row."""

    def __init__(self, facts: MonthFacts | None, file: int) -> None:
        self.facts, self.file = facts, file
        self.last = 0  # the row of the last totals row

    def check(
        self, source: SourceRow, skipped: Skipped, normalizer: Normalizer
    ) -> Invalid | Skipped:
        if not skipped.reason.startswith("totals row"):
            return skipped  # a blank row
        since_row, self.last = self.last, source.row
        if skipped.reason != ONLY_NUMBERS or self.facts is None:
            return skipped  # it says it is a total ("Итого"), or no first pass to add up
        total = normalizer.total_in(source)
        since = dt.timedelta(seconds=self.facts.seconds_between(self.file, since_row, source.row))
        every = dt.timedelta(seconds=self.facts.seconds_between(self.file, 0, source.row))
        if total is None or any(abs(total - sum_) <= TOLERANCE for sum_ in (since, every)):
            return skipped
        column = normalizer.columns.duration
        return Invalid(
            f"column '{column}' value {source.values.get(column)!r}: a row with no issue, "
            f"date or text, and its hours are not the total of the rows above "
            f"({_hours(since)} since the last total, {_hours(every)} in all): is it an "
            "entry missing its issue and date?",
            column,
            source.values.get(column),
        )


TOLERANCE = dt.timedelta(minutes=1)  # a total of hours written with two decimals


def _hours(span: dt.timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


def _fingerprinter(target: str, mode: Mode) -> Callable[[Worklog], str]:
    occurrences = Occurrences()
    prints = Fingerprints(target, mode)

    def fingerprint(worklog: Worklog) -> str:
        content = booking_content(worklog).encode()
        return prints.of(content, occurrences.next(content))

    return fingerprint


def _merged(
    notes: RowNotes,
    file: int,
    source: SourceRow,
    worklog: Worklog,
    warning: str,
    refused: str,
    fingerprint: Callable[[Worklog], str],
) -> Iterator[Booking | Outcome]:
    """One valid row of a merged run: into its group; at the group's last row, the group."""
    merger = notes.merger
    assert merger is not None and notes.findings is not None
    index = notes.findings.index_of(file, source.row)
    if index < 0:
        raise InputError(
            f"{source.file}: row {source.row} was not there, or not valid, when the files "
            "were first read: the file changed while it was read"
        )
    if refused:
        yield Outcome(source, Status.INVALID, error=refused)
        merger.refuse(index, source)
    else:
        merger.add(index, source, worklog, warning)
    for closed in merger.close(index):
        if isinstance(closed, Outcome):
            yield closed
            continue
        merged = merger.merged(closed.members)
        if isinstance(merged, str):
            merger.not_booked += 1
            for member in closed.members:
                yield Outcome(member.source, Status.INVALID, error=merged)
            continue
        yield closed.booking(merged, fingerprint(merged))
