"""Where outcomes go: the report, the failed-rows file, the tally, the log, the bar.

A report, failed-rows file or log file that cannot be written (disk full) stops the run
through ``on_broken``: rows under way settle, the journal stays right, and the outcomes
that could not be written are still counted for the summary. Writing never raises into a
worker (a worker that died left the pool waiting forever, holding the journal's lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from importer.errors import ImporterError, OutputError
from importer.log import get_logger, log_file_failure
from importer.models import Outcome, RequestStats, Status
from importer.pipeline.merging import members_label
from importer.report import FailedRowsWriter, ReportWriter, Tally
from importer.report.files import check_writable
from importer.report.progress import NoProgress, RunProgress, TerminalProgress
from importer.report.writers import FLUSH_SECONDS

PROBLEMS_KEPT = 10
# Not a row to fix in the file, but something a person should look at in Tracker.
_LOOK_AT = frozenset(
    {Status.CONFLICT, Status.MISSING, Status.DIFFERENT, Status.EXTRA, Status.NEEDS_SYNC}
)
_TO_FIX = frozenset({Status.FAILED, Status.INVALID})  # these go to the failed-rows file too
_NOTED = _TO_FIX | _LOOK_AT  # the summary lists the first of these


class Sink:
    """Where outcomes go: the report, the failed-rows file, the tally, the log, the bar."""

    def __init__(
        self,
        report: ReportWriter,
        failed: FailedRowsWriter,
        tally: Tally,
        progress: RunProgress,
        stats: Callable[[], RequestStats | None],
        on_broken: Callable[[OutputError], None] = lambda error: None,
    ) -> None:
        self.report = report
        self.failed = failed
        self.tally = tally
        self.progress = progress
        self.stats = stats
        self.problems: list[dict[str, str]] = []
        self.log = get_logger()
        self.per_row = self.log.is_enabled_for(logging.DEBUG)
        # A person watching the bar sees the rows to fix in the summary; a warning above the
        # bar would show each of them twice. Logs for later readers keep every row event.
        self.row_warnings = not isinstance(progress, TerminalProgress)
        self._advance = None if isinstance(progress, NoProgress) else progress.advance
        self.broken: OutputError | None = None
        self._on_broken = on_broken

    def _break(self, error: OutputError) -> None:
        if self.broken is None:
            self.broken = error
            self.log.error("output_failed", reason=str(error))
            self._on_broken(error)

    def check_log(self) -> None:
        """Stop the run if the log file could not be written."""
        if self.broken is None and (failure := log_file_failure()):
            self._break(OutputError(failure))

    def flush(self) -> None:
        """Put finished lines on disk (every second, and at the end)."""
        if self.broken is None:
            try:
                self.report.flush()
                self.failed.flush()
            except OutputError as error:
                self._break(error)
        self.check_log()

    def close(self) -> None:
        for writer in (self.report, self.failed):
            try:
                writer.close()
            except OutputError as error:
                self._break(error)
        self.check_log()

    def __call__(self, outcome: Outcome) -> None:
        if outcome.members:  # a merged worklog: a line for each of its rows, as it booked
            group = members_label([source for source, _ in outcome.members])
            for source, worklog in outcome.members:
                self._row(
                    dataclasses.replace(
                        outcome, source=source, worklog=worklog, members=(), group=group
                    )
                )
            return
        self._row(outcome)

    def _row(self, outcome: Outcome) -> None:
        if self.broken is None:
            try:
                self.report.write(outcome)
                if outcome.status in _TO_FIX:
                    self.failed.write(outcome)
            except OutputError as error:
                self._break(error)
        self.tally.add(outcome)
        if self._advance is not None:  # a bar to move (most runs have none: no call per row)
            self._advance(outcome, self.stats())
        if outcome.status in _NOTED:
            self._noted(outcome)
        elif self.per_row:
            source = outcome.source
            self.log.debug(
                "row_" + outcome.status,
                file=source.file,
                row=source.row,
                worklog_id=outcome.worklog_id or None,
                note=outcome.error or None,
            )

    def _noted(self, outcome: Outcome) -> None:
        """A row to fix or to look at: logged, and among the summary's first few."""
        source = outcome.source
        if self.row_warnings:
            self.log.warning(
                "row_" + outcome.status, file=source.file, row=source.row, reason=outcome.error
            )
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(
                {
                    "file": source.file,
                    "row": str(source.row),
                    "status": outcome.status,
                    "error": outcome.error,
                }
            )


def make_sink(
    report_path: Path,
    columns: list[str],
    tally: Tally,
    stats: Callable[[], RequestStats | None],
    stop: Callable[[ImporterError], None],
    stack: contextlib.AsyncExitStack,
    *,
    summary_path: Path,
    progress: RunProgress | None = None,
) -> Sink:
    """The report (created now), the failed-rows file, closed with ``stack``; before anything
    is sent, so a folder that cannot be written is an :class:`OutputError` (exit 2) with
    nothing booked, the summary's folder too. A write failing later calls ``stop``."""
    report = ReportWriter(report_path, columns)
    try:
        failed = FailedRowsWriter(report_path, columns)
        check_writable(summary_path, "summary")
    except OutputError:
        with contextlib.suppress(OutputError):
            report.close()
        raise
    sink = Sink(report, failed, tally, progress or NoProgress(), stats, on_broken=stop)
    stack.callback(sink.close)
    return sink


@contextlib.asynccontextmanager
async def flushing(sink: Sink) -> AsyncIterator[None]:
    """Flush the report every second while the block runs (rows may settle slowly: a
    crash must not take the last finished lines with it), and once more at its end."""

    async def every_second() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            sink.flush()

    task = asyncio.create_task(every_second())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sink.flush()
