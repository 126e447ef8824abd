"""Rows → bookings: each file's rows normalized, fingerprinted and checked across rows.

A generator, so rows stream from the reader to the worker pool: a row that books nothing
comes out as its ``Outcome`` (``invalid``, ``skipped``), a valid one as a ``Booking``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from importer.deliver import Occurrences, booking_content
from importer.deliver.identity import Fingerprints
from importer.log import get_logger
from importer.models import Booking, Invalid, Mode, Outcome, Status, Worklog
from importer.normalize import DayTotals
from importer.pipeline.inputs import InputFile


def bookings(
    inputs: Sequence[InputFile], mode: Mode, target: str, day_totals: DayTotals
) -> Iterator[Booking | Outcome]:
    """Every row of every file, in order, as a booking or as the outcome it already has."""
    log = get_logger()
    occurrences = Occurrences()
    prints = Fingerprints(target, mode)
    for opened in inputs:
        table, normalizer = opened.table, opened.normalizer
        rows = 0
        for source in table.rows():
            rows += 1
            result = normalizer.normalize(source)
            if not isinstance(result, Worklog):
                status = Status.INVALID if isinstance(result, Invalid) else Status.SKIPPED
                yield Outcome(source, status, error=result.reason)
                continue
            content = booking_content(result).encode()
            fp = prints.of(content, occurrences.next(content))
            yield Booking(source, result, fp, day_totals.add(result))
        log.info("file_read", file=str(table.path), rows=rows, header_row=table.header_row)
