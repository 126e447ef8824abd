"""The per-row report (CSV) and the failed-rows file.

The report is written as outcomes arrive and reaches the disk at least every second (or
every 200 lines), so even a crashed run leaves the lines it finished. Both files are made
new beside their path and renamed into place (:mod:`importer.report.files`). They are
UTF-8 with a BOM so that Excel shows Cyrillic, and any cell that Excel would take for a
formula (``=``, ``+``, ``-``, ``@``, tab, CR) is neutralised with a leading ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import operator
import time
from pathlib import Path
from typing import Any, TextIO

from importer.formats import format_duration
from importer.models import Cell, Outcome, SourceRow
from importer.report.files import new_file, problem

REPORT_COLUMNS = (
    "file",
    "row",
    "status",
    "issue",
    "start",
    "duration",
    "worklog_id",
    "http_status",
    "attempts",
    "error",
    "warning",
    "previous_duration",  # --sync/undo: what the worklog held before it was edited or deleted
    "previous_comment",
    "group",  # [merge] per = "day": the rows that share this row's worklog
)
_FORMULA_STARTS = frozenset("=+-@\t\r")
_FLUSH_EVERY = 200  # lines …
FLUSH_SECONDS = 1.0  # … or seconds, whichever comes first (the sink flushes as often)


# A month repeats its few starts, durations and file names: each is formatted once.
_duration = functools.lru_cache(maxsize=4096)(format_duration)


@functools.lru_cache(maxsize=65536)
def _iso_in(start: dt.datetime, zone: dt.tzinfo | None) -> str:
    return start.isoformat()


def _iso(start: dt.datetime) -> str:
    """``start`` as written, in its own offset. Keyed by its zone too: aware datetimes are
    equal (and hash equal) when their instants are, so 09:00+05:00 would otherwise come out
    as the 07:00+03:00 formatted before it."""
    try:
        return _iso_in(start, start.tzinfo)
    except TypeError:  # a zone that cannot be hashed (dateutil's): formatted each time
        return start.isoformat()


def neutralised(text: str) -> str:
    """``=SUM(A1)`` → ``'=SUM(A1)``: Excel shows the text instead of running it."""
    return "'" + text if text and text[0] in _FORMULA_STARTS else text


@functools.lru_cache(maxsize=256)
def _neutral_file(name: str) -> str:
    return neutralised(name)


def cell_text(value: Cell) -> str:
    """A source cell as text, the way a person would type it back."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return str(value)


def _open_with_bom(path: Path, what: str) -> TextIO:
    """UTF-8 with a BOM, so Excel shows Cyrillic. Written once by hand: the ``utf-8-sig``
    codec would route every row through a Python-level encoder."""
    handle = new_file(path, what)
    handle.write("\ufeff")
    return handle


class ReportWriter:
    """Streams one CSV line per input row."""

    def __init__(self, path: Path, source_columns: list[str]) -> None:
        self.path = path
        self.source_columns = source_columns
        # One C-level lookup for all of a row's cells (a file lacking some column falls back).
        self._cells = operator.itemgetter(*source_columns) if len(source_columns) > 1 else None
        self._handle: TextIO = _open_with_bom(path, "report")
        self._csv = csv.writer(self._handle)
        self._unflushed = 0
        self._flushed_at = time.monotonic()
        try:
            self._csv.writerow([*REPORT_COLUMNS, *source_columns])
            self._handle.flush()
        except OSError as error:
            raise problem(path, "report", error) from None

    def write(self, outcome: Outcome) -> None:
        # Status, row, issue, start, duration, id, status code and attempts are ours and never
        # start like a formula; the file name, the messages and the source cells may. Inline,
        # not neutralised(): this runs for every cell of every row.
        source, worklog, previous = outcome.source, outcome.worklog, outcome.previous
        error, warning = outcome.error, outcome.warning
        line = [
            _neutral_file(source.file),
            str(source.row),
            outcome.status,
            worklog.issue if worklog else "",
            _iso(worklog.start) if worklog else "",
            _duration(worklog.duration) if worklog else "",
            outcome.worklog_id,
            "" if outcome.http_status is None else str(outcome.http_status),
            str(outcome.attempts),
            "'" + error if error and error[0] in _FORMULA_STARTS else error,
            "'" + warning if warning and warning[0] in _FORMULA_STARTS else warning,
            _duration(previous.duration) if previous else "",
            neutralised(previous.comment) if previous else "",
            _neutral_file(outcome.group) if outcome.group else "",
        ]
        texts = [v if type(v) is str else cell_text(v) for v in self._source_cells(source)]
        line += ["'" + t if t and t[0] in _FORMULA_STARTS else t for t in texts]
        try:
            self._csv.writerow(line)
        except OSError as error:
            raise problem(self.path, "report", error) from None
        self._unflushed += 1
        if self._unflushed >= _FLUSH_EVERY or time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def _source_cells(self, source: SourceRow) -> tuple[Cell, ...]:
        values = source.values
        if self._cells is not None:
            try:
                return self._cells(values)  # type: ignore[no-any-return]
            except KeyError:
                pass  # a file lacking some of the run's columns
        return tuple(values.get(name) for name in self.source_columns)

    def flush(self) -> None:
        """Put the lines written so far on disk (the run also calls this every second)."""
        if not self._unflushed:
            return
        try:
            self._handle.flush()
        except OSError as error:
            raise problem(self.path, "report", error) from None
        self._unflushed = 0
        self._flushed_at = time.monotonic()

    def close(self) -> None:
        if self._handle.closed:
            return
        try:
            self._handle.close()
        except OSError as error:
            raise problem(self.path, "report", error) from None

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def failed_rows_path_for(report: Path) -> Path:
    """``report.csv`` → ``report.failed.csv``."""
    return report.with_name(report.stem + ".failed.csv")


# Where a failed row came from, so a fixed and re-run failed-rows file traces back to it. A
# failed-rows file fed back already has them: they are then kept as read, not added again.
ORIGIN_COLUMNS = ("source_file", "source_row")


class FailedRowsWriter:
    """The failed and invalid rows in the input's own columns, then ``source_file`` and
    ``source_row`` (where each came from) and ``error`` at the end.

    Values are written as read, but a cell Excel would take for a formula gets a leading
    ``'`` like the report's (the file is opened in Excel too); reading it back drops that
    ``'`` again (:mod:`importer.read.tables`), so a person can fix the
    rows in place and feed this file back to ``worklog-import run`` unchanged. The file is
    created on the first such row; a stale one from an earlier run is removed.
    """

    def __init__(self, report: Path, source_columns: list[str]) -> None:
        self.path = failed_rows_path_for(report)
        # A failed-rows file fed back brings its own "error" column: the new reason replaces
        # it rather than standing beside it.
        self.source_columns = [c for c in source_columns if c != "error"]
        self.rows = 0
        self._handle: TextIO | None = None
        self._csv: Any = None
        self._origin = ORIGIN_COLUMNS if not set(ORIGIN_COLUMNS) <= set(source_columns) else ()
        try:
            self.path.unlink(missing_ok=True)  # a link is removed, not what it points to
        except OSError as error:
            raise problem(self.path, "failed-rows file", error) from None

    def write(self, outcome: Outcome) -> None:
        try:
            if self._handle is None:
                self._handle = _open_with_bom(self.path, "failed-rows file")
                self._csv = csv.writer(self._handle)
                self._csv.writerow([*self.source_columns, *self._origin, "error"])
            values = outcome.source.values
            cells = [cell_text(values.get(c)) for c in self.source_columns]
            origin = (outcome.source.file, str(outcome.source.row)) if self._origin else ()
            self._csv.writerow([neutralised(t) for t in (*cells, *origin, outcome.error)])
        except OSError as error:
            raise problem(self.path, "failed-rows file", error) from None
        self.rows += 1

    def flush(self) -> None:
        if self._handle is not None:
            try:
                self._handle.flush()
            except OSError as error:
                raise problem(self.path, "failed-rows file", error) from None

    def close(self) -> None:
        if self._handle is not None and not self._handle.closed:
            try:
                self._handle.close()
            except OSError as error:
                raise problem(self.path, "failed-rows file", error) from None

    def __enter__(self) -> FailedRowsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
