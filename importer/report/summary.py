"""The run's summary: counts and hours as outcomes arrive, and the JSON written at the end."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from importer.errors import ExitCode, ImporterError, OutputError, exit_code_for
from importer.log import get_logger
from importer.models import Outcome, RequestStats, Status
from importer.report.files import write_whole


def summary_path_for(report: Path) -> Path:
    """``report.csv`` → ``report.summary.json``."""
    return report.with_name(report.stem + ".summary.json")


@dataclasses.dataclass
class Tally:
    """Counts and totals for the summary, updated as outcomes arrive.

    Hours per author and per issue count what was created — or, in a dry run, what would be.
    """

    dry_run: bool = False
    counts: dict[str, int] = dataclasses.field(
        default_factory=lambda: {status.value: 0 for status in Status}
    )
    seconds_created: int = 0
    corrections_booked: int = 0  # created beside an earlier booking of the same row (no --sync)
    started: float = dataclasses.field(default_factory=time.monotonic)
    _seconds_by: dict[str, dict[str, int]] = dataclasses.field(
        default_factory=lambda: {"author": {}, "issue": {}}
    )

    def add(self, outcome: Outcome) -> None:
        status = outcome.status
        self.counts[status] += 1  # a StrEnum: the same key as its value
        worklog = outcome.worklog
        # An edit of an earlier booking (``previous``) creates no hours of its own.
        if status is self._booked and worklog is not None and outcome.previous is None:
            seconds = int(worklog.duration.total_seconds())
            by_author, by_issue = self._seconds_by["author"], self._seconds_by["issue"]
            by_author[worklog.author] = by_author.get(worklog.author, 0) + seconds
            by_issue[worklog.issue] = by_issue.get(worklog.issue, 0) + seconds
            if not self.dry_run:
                self.seconds_created += seconds
                if "--sync to replace it" in outcome.warning:
                    self.corrections_booked += 1

    @property
    def _booked(self) -> Status:
        """The status of a row that books hours: created, or in a dry run, to create."""
        return Status.PENDING if self.dry_run else Status.CREATED

    def hours_by(self, field: str) -> dict[str, float]:
        """Hours per author or per issue, largest first."""
        totals = sorted(self._seconds_by[field].items(), key=lambda kv: (-kv[1], kv[0]))
        return {key: round(seconds / 3600, 4) for key, seconds in totals}

    def in_trouble(self) -> bool:
        """Whether a row needs a person (invalid, failed, conflict), another run (pending)
        or a sync (needs_sync)."""
        c = self.counts
        pending = 0 if self.dry_run else c[Status.PENDING]
        differ = c[Status.MISSING] + c[Status.DIFFERENT] + c[Status.EXTRA]
        held = c[Status.NEEDS_SYNC]  # a correction not booked: the batch needs --sync
        return bool(
            c[Status.INVALID] + c[Status.FAILED] + c[Status.CONFLICT] + pending + differ + held
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """The summary JSON, renamed into place once complete; :class:`OutputError` if not."""
    write_whole(path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "summary")


@dataclasses.dataclass
class RunSummary:
    """How a run ended: what the summary JSON holds and what decides the exit code."""

    counts: dict[str, int]
    hours_created: float
    elapsed_seconds: float
    requests: int
    retries: int
    responses_429: int
    report_path: Path
    summary_path: Path
    failed_rows_path: Path | None
    state_path: str
    hours_by_author: dict[str, float] = dataclasses.field(default_factory=dict)
    hours_by_issue: dict[str, float] = dataclasses.field(default_factory=dict)
    problems: list[dict[str, str]] = dataclasses.field(default_factory=list)  # the first few
    notes: list[str] = dataclasses.field(default_factory=list)  # about whole files (sheets)
    dry_run: bool = False
    stopped: str = ""
    exit_code: ExitCode = ExitCode.OK
    corrections_booked: int = 0  # rows booked beside an earlier version of themselves
    # a plain run: earlier bookings of the batch with no row in the files (left in Tracker)
    removed_from_files: int | None = None
    command: str = "run"  # run, sync or undo
    batch: str = ""
    run_id: int | None = None
    sync: dict[str, Any] | None = None  # --sync: the plan (counts, hours before → after)
    verify: dict[str, Any] | None = None  # verify: hours per person and issue, file vs Tracker
    timezone: str = ""  # input.timezone the times were read in ("": they carried offsets)
    presets: dict[str, str] = dataclasses.field(default_factory=dict)  # file → preset ("": none)
    submitted_by: str | None = None  # the service's job: who submitted it
    month: dict[str, Any] | None = None  # the month's findings and its person × day grid
    tracker_checks: dict[str, Any] | None = None  # issues and authors Tracker would refuse
    merge: dict[str, Any] | None = None  # merged per day: rows, groups, requests saved
    rebook: dict[str, Any] | None = None  # --rebook: the earlier worklogs taken back
    recheck: dict[str, Any] | None = None  # --recheck: the batch's worklogs looked for

    @classmethod
    def of(
        cls,
        tally: Tally,
        stats: RequestStats | None,
        *,
        report_path: Path,
        summary_path: Path,
        failed_rows_path: Path | None,
        state_path: str,
        problems: list[dict[str, str]],
        stopped: ImporterError | None,
        sent: bool = False,
    ) -> RunSummary:
        """The summary of a finished run: the tally, the request counters, the stop reason."""
        return cls(
            counts=dict(tally.counts),
            hours_created=round(tally.seconds_created / 3600, 4),
            elapsed_seconds=round(tally.elapsed(), 3),
            requests=stats.requests if stats else 0,
            retries=stats.retries if stats else 0,
            responses_429=stats.responses_429 if stats else 0,
            report_path=report_path,
            summary_path=summary_path,
            failed_rows_path=failed_rows_path,
            state_path=state_path,
            corrections_booked=tally.corrections_booked,
            hours_by_author=tally.hours_by("author"),
            hours_by_issue=tally.hours_by("issue"),
            problems=problems,
            dry_run=tally.dry_run,
            stopped=str(stopped) if stopped else "",
            exit_code=exit_code_for(
                stopped, rows_in_trouble=tally.in_trouble(), dry_run=tally.dry_run, sent=sent
            ),
        )

    def publish(self, event: str, **fields: Any) -> None:
        """Write the summary JSON and log ``event`` with the counts, exit code and
        ``fields`` — how every run, sync, undo and verify ends."""
        try:
            write_summary(self.summary_path, self.as_json())
        except OutputError as error:
            # The run is over; say so, and let the exit code say the summary is missing.
            self.stopped = f"{self.stopped}; {error}" if self.stopped else str(error)
            if self.exit_code in (ExitCode.OK, ExitCode.ROWS_FAILED):
                changed = any(self.counts.get(s, 0) for s in ("created", "updated", "deleted"))
                self.exit_code = exit_code_for(error, sent=changed)
            get_logger().error("summary_not_written", reason=str(error))
        get_logger().info(event, **self.counts, exit_code=int(self.exit_code), **fields)

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("report_path", "summary_path", "failed_rows_path"):
            data[key] = str(data[key]) if data[key] is not None else None
        data["exit_code"] = int(self.exit_code)
        data["rows"] = sum(self.counts.values())
        return data
