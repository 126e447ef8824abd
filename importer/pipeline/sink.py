"""Where outcomes go: the report, the failed-rows file, the tally, the log, the bar."""

from __future__ import annotations

import logging
from collections.abc import Callable

from importer.log import get_logger
from importer.models import Outcome, Status
from importer.report import FailedRowsWriter, ReportWriter, Tally
from importer.report.progress import RunProgress
from importer.tracker import RequestStats

PROBLEMS_KEPT = 10
# Not a row to fix in the file, but something a person should look at in Tracker.
_LOOK_AT = (Status.CONFLICT, Status.MISSING, Status.DIFFERENT, Status.EXTRA)


class Sink:
    """Where outcomes go: the report, the failed-rows file, the tally, the log, the bar."""

    def __init__(
        self,
        report: ReportWriter,
        failed: FailedRowsWriter,
        tally: Tally,
        progress: RunProgress,
        stats: Callable[[], RequestStats | None],
    ) -> None:
        self.report = report
        self.failed = failed
        self.tally = tally
        self.progress = progress
        self.stats = stats
        self.problems: list[dict[str, str]] = []
        self.log = get_logger()
        self.per_row = self.log.is_enabled_for(logging.DEBUG)

    def __call__(self, outcome: Outcome) -> None:
        self.report.write(outcome)
        self.tally.add(outcome)
        self.progress.advance(outcome, self.stats())
        source = outcome.source
        if outcome.status in (Status.FAILED, Status.INVALID):
            self.failed.write(outcome)
            self.log.warning(
                "row_" + outcome.status, file=source.file, row=source.row, reason=outcome.error
            )
        elif outcome.status in _LOOK_AT:
            self.log.warning(
                "row_" + outcome.status, file=source.file, row=source.row, reason=outcome.error
            )
        elif self.per_row:
            self.log.debug(
                "row_" + outcome.status,
                file=source.file,
                row=source.row,
                worklog_id=outcome.worklog_id or None,
                note=outcome.error or None,
            )
        if (
            outcome.status in (Status.FAILED, Status.INVALID, *_LOOK_AT)
            and len(self.problems) < PROBLEMS_KEPT
        ):
            self.problems.append(
                {
                    "file": source.file,
                    "row": str(source.row),
                    "status": outcome.status,
                    "error": outcome.error,
                }
            )
