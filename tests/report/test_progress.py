"""The progress bar: it counts rows (not lines) and stays readable at 80 columns."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from importer.config import parse_settings
from importer.models import Outcome, SourceRow, Status
from importer.read import open_table
from importer.report.progress import TerminalProgress


def test_the_bar_fits_80_columns_with_every_number_whole() -> None:
    screen = io.StringIO()
    progress = TerminalProgress(Console(file=screen, width=80, force_terminal=True))
    progress.start(999_999)
    row = Outcome(SourceRow("f.csv", 2, {}, ""), Status.CREATED, None)
    for _ in range(123_456):
        progress.advance(row, None)
    progress.stop()
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue()).replace("\r", "\n")
    last = [line for line in drawn.splitlines() if line.strip()][-1]
    assert len(last) <= 80
    assert "123456/999999 rows" in last and "ETA" in last and "…" not in last


def test_the_total_counts_rows_not_lines_when_cells_span_lines(
    write_csv: Callable[..., Path],
) -> None:
    """Before: 3 rows with 2-line comments made a total of 6, and the bar ended at 50 %."""
    rows = [["Issue", "Date", "Hours", "Comment"]] + [
        ["PORT-1", "01.10.2026", "1", f"first line {n}\nsecond line"] for n in range(3)
    ]
    table = open_table(write_csv(rows), parse_settings({}).input)
    table.check()
    assert table.estimated_rows() == 3
