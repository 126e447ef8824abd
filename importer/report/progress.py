"""Progress for a person at a terminal: rows done of the total, rate, ETA, retries, 429s.

Only drawn on a terminal; cron and pipes get nothing animated (their JSON logs say it all).
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from importer.models import Outcome, RequestStats


class RunProgress(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, outcome: Outcome, stats: RequestStats | None) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    """For cron, pipes and --quiet."""

    def start(self, total: int | None) -> None:
        pass

    def advance(self, outcome: Outcome, stats: RequestStats | None) -> None:
        pass

    def stop(self) -> None:
        pass


class TerminalProgress:
    """A rich progress bar on stderr; log lines print above it."""

    def __init__(self, console: Console | None = None) -> None:
        # Fits 80 columns with a 6-digit row count: the bar takes what the text leaves
        # (the elapsed time is in the summary).
        self._progress = Progress(
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TextColumn("rows  {task.fields[rate]:>5}/s"),
            TextColumn("retries {task.fields[retries]}  429s {task.fields[limited]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            redirect_stdout=False,
            refresh_per_second=4,
            expand=True,
        )
        self._task = self._progress.add_task("rows", total=None, rate="-", retries=0, limited=0)

    def start(self, total: int | None) -> None:
        self._progress.update(self._task, total=total)
        self._progress.start()

    def advance(self, outcome: Outcome, stats: RequestStats | None) -> None:
        task = self._progress.tasks[0]
        speed = task.speed
        self._progress.update(
            self._task,
            advance=1,
            rate=f"{speed:.0f}" if speed else "-",
            retries=stats.retries if stats else 0,
            limited=stats.responses_429 if stats else 0,
        )

    def stop(self) -> None:
        self._progress.stop()
