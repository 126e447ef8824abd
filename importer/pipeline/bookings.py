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
from collections.abc import Iterator, Sequence

from importer.deliver import Occurrences, Refusals, booking_content
from importer.deliver.identity import Fingerprints
from importer.log import get_logger
from importer.models import Booking, Invalid, Mode, Outcome, Status, Worklog
from importer.month import MonthFacts, MonthFindings
from importer.pipeline.inputs import InputFile


def survey(inputs: Sequence[InputFile]) -> MonthFacts:
    """The first pass: every valid row's person, issue, day and time, nothing else kept."""
    facts = MonthFacts([opened.table.shown for opened in inputs])
    for position, opened in enumerate(inputs):
        normalize = opened.normalizer.normalize
        for source in opened.table.rows():
            result = normalize(source)
            if isinstance(result, Worklog):
                facts.add(position, source.row, result)
    return facts


@dataclasses.dataclass
class RowNotes:
    """What the whole month and Tracker's lookups say of single rows."""

    findings: MonthFindings | None = None
    refusals: Refusals | None = None
    mode: Mode = Mode.CREATE

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
    occurrences = Occurrences()
    prints = Fingerprints(target, mode)
    notes = notes or RowNotes()
    for position, opened in enumerate(inputs):
        table, normalizer = opened.table, opened.normalizer
        rows = 0
        for source in table.rows():
            rows += 1
            result = normalizer.normalize(source)
            if not isinstance(result, Worklog):
                status = Status.INVALID if isinstance(result, Invalid) else Status.SKIPPED
                yield Outcome(source, status, error=result.reason)
                continue
            warning, refused = notes.of(position, source.row, result)
            if refused:
                yield Outcome(source, Status.INVALID, error=refused)
                continue
            content = booking_content(result).encode()
            fp = prints.of(content, occurrences.next(content))
            yield Booking(source, result, fp, warning)
        log.info("file_read", file=str(table.path), rows=rows, header_row=table.header_row)
