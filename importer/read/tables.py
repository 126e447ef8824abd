"""Read timesheet files into ``SourceRow`` values, keeping the row numbers people see.

CSV streams record by record (a million-row export never sits in memory whole; see
:mod:`importer.read.delimited` for rows that do not fit the header); spreadsheets go
through pandas' calamine engine. The header row is found even below title rows (or set with
``input.header_row``), and every row keeps its number as seen in the sheet: with the header
in row 1 the first data row is row 2. Blank rows are kept (and reported), never dropped.
"""

from __future__ import annotations

import csv
import math
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from importer.config import InputSection
from importer.errors import InputError
from importer.models import SourceRow
from importer.read.delimited import (
    HEADER_SCAN_ROWS,
    UNSCANNED,
    Scan,
    check_records,
    detect_encoding,
    head_records,
    records,
    row_problem,
    scan_bytes,
    sniff_delimiter,
)

if TYPE_CHECKING:
    import pandas as pd

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
_FORMULA_STARTS = frozenset("=+-@\t\r")

HeaderScore = Callable[[list[str]], int]
"""How much a row looks like the header we need (0: not at all)."""


@dataclass(frozen=True)
class Table:
    """One input file, opened: its header, where it is, and a way to stream its rows."""

    path: Path
    columns: list[str]
    kind: str  # "csv" or "excel"
    header_row: int = 1  # as seen in the sheet
    encoding: str = ""
    delimiter: str = ""
    sheet: str | int = 0
    # Header names that stand more than once → the names their columns were given.
    duplicated: dict[str, list[str]] = field(default_factory=dict)
    # CSV: what one pass over the bytes ruled out (rows are then not looked at one by one).
    scan: Scan = UNSCANNED
    name: str = ""  # what the person who gave the file calls it (an upload's own name)
    # A workbook's other sheets that hold rows (name → rows below their first): not read.
    other_sheets: dict[str, int] = field(default_factory=dict)
    date_system: int | None = None  # 1904: the workbook says its serials count from 1904
    _frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    _counted: list[int] = field(default_factory=list, repr=False, compare=False)  # by check()

    def other_sheets_note(self) -> str:
        """What a person must hear of the rows on sheets this run does not read."""
        if not self.other_sheets:
            return ""
        listed = ", ".join(f"{name!r} ({rows} rows)" for name, rows in self.other_sheets.items())
        sheet = self.sheet
        which = repr(sheet) if isinstance(sheet, str) else f"{sheet + 1} (input.sheet = {sheet})"
        return (
            f"{self.shown}: only sheet {which} is read; other sheets hold rows too, not booked: "
            f"{listed}. A run reads one sheet (input.sheet); book another with a run of its own "
            "and a --batch of its own"
        )

    @property
    def shown(self) -> str:
        """The file as reports and messages name it: its given name, else its path."""
        return self.name or str(self.path)

    def estimated_rows(self) -> int:
        """Rows below the header (for the progress bar and the ETA): exact for spreadsheets
        and for a CSV once :meth:`check` read it (a cell may span lines), else its lines."""
        if self._frame is not None:
            return len(self._frame)
        if self._counted:
            return self._counted[0]
        lines, last = 0, b"\n"
        with self.path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        if last != b"\n":
            lines += 1
        return max(0, lines - self.header_row)

    def check(self) -> None:
        """Read the whole file once: raise ``InputError`` now for what would stop it part-way."""
        if self.kind == "csv":
            counted = check_records(self.path, self.encoding, self.delimiter, self.header_row)
            self._counted[:] = [counted]

    def rows(self) -> Generator[SourceRow, None, None]:
        """Stream the rows below the header, in file order."""
        if self.kind == "csv":
            return _csv_rows(self)  # returned, not re-yielded: one hop less per row
        from importer.read.sheets import excel_rows

        return excel_rows(self.shown, self.columns, self.header_row, self._frame)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip().lstrip("\ufeff").strip()


def _header_index(rows: list[list[str]], options: InputSection, score: HeaderScore | None) -> int:
    """0-based index of the header among the first rows."""
    if options.header_row:
        if options.header_row > len(rows):
            raise ValueError(f"input.header_row = {options.header_row}, but the file is shorter")
        return options.header_row - 1
    if score is not None:
        scores = [score(row) for row in rows]
        if scores and max(scores) > 0:
            return scores.index(max(scores))
    for index, row in enumerate(rows):
        if sum(1 for cell in row if cell) >= 2 or (row and any(row) and index == len(rows) - 1):
            return index
    return 0


def _column_names(cells: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Header cells as column names, and the names that stand more than once.

    A blank header cell is named by its position. A name that stands twice is ambiguous:
    each of its columns is named by its occurrence (``Hours[1]``, ``Hours[2]``), and a
    column map that names plain ``Hours`` is refused (see ``read.columns``).
    """
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell] = counts.get(cell, 0) + 1
    names: list[str] = []
    taken: set[str] = set()
    duplicated: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = cell or f"Unnamed: {position}"
        if cell and counts[cell] > 1:
            seen[cell] = seen.get(cell, 0) + 1
            name = f"{cell}[{seen[cell]}]"
            duplicated.setdefault(cell, []).append(name)
        base, n = name, 1
        while name in taken:
            name, n = f"{base}.{n}", n + 1
        taken.add(name)
        names.append(name)
    return names, duplicated


def open_table(
    path: str | Path, options: InputSection, header_score: HeaderScore | None = None
) -> Table:
    """Open one input file and find its header; raise ``InputError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            return _open_sheet(path, options, header_score)
        if suffix in CSV_SUFFIXES or not suffix:
            return _open_delimited(path, options, header_score)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not readable as {options.encoding} ({exc.reason}); set input.encoding"
        ) from None
    except (ValueError, KeyError, OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    raise InputError(
        f"{path}: unsupported file type {suffix!r} "
        f"(use {', '.join(sorted(CSV_SUFFIXES | EXCEL_SUFFIXES))})"
    )


UNPACKED_MOST = 2 << 30  # bytes a workbook may unpack to: a million rows take about 0.5 GiB
SQUEEZED_MOST = 100  # and, past 200 MiB, how many times its own size (a sheet of XML: 5–15)


def _check_unpacked(path: Path) -> None:
    """Refuse a workbook that unpacks to far more than a timesheet could (a zip bomb: 1 MB
    of file holding gigabytes of spaces) before it is read into memory."""
    try:
        with zipfile.ZipFile(path) as book:
            unpacked = sum(info.file_size for info in book.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip (XLS), or unreadable: the reader says what is wrong
    size = max(path.stat().st_size, 1)
    if unpacked > UNPACKED_MOST or (unpacked > 200 << 20 and unpacked / size > SQUEEZED_MOST):
        raise InputError(
            f"{path}: unpacks to {unpacked / 2**20:,.0f} MiB, {unpacked / size:,.0f} times its "
            "size: more than any timesheet; refused unread"
        )


def _open_sheet(path: Path, options: InputSection, header_score: HeaderScore | None) -> Table:
    # pandas and calamine load only for a spreadsheet: a CSV run starts 0.2 s sooner.
    import pandas as pd
    from python_calamine import CalamineError

    from importer.read.sheets import counts_from_1904, other_sheets, read_sheet

    _check_unpacked(path)
    try:
        frame = read_sheet(path, options.sheet)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, CalamineError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    head = [[_text(v) for v in row] for row in frame.head(HEADER_SCAN_ROWS).itertuples(index=False)]
    index = _header_index(head, options, header_score)
    columns, duplicated = _checked_header(head, index, path)
    data = frame.iloc[index + 1 :]
    return Table(
        path,
        columns,
        "excel",
        index + 1,
        sheet=options.sheet,
        duplicated=duplicated,
        other_sheets=other_sheets(path, options.sheet),
        date_system=1904 if counts_from_1904(path) else None,
        _frame=data,
    )


def _open_delimited(path: Path, options: InputSection, header_score: HeaderScore | None) -> Table:
    encoding = detect_encoding(path, options.encoding)
    delimiter = sniff_delimiter(path, encoding, options.delimiter)
    head = [[_text(v) for v in row] for row in head_records(path, encoding, delimiter)]
    if not any(any(row) for row in head):
        raise InputError(f"{path}: the file is empty")
    index = _header_index(head, options, header_score)
    if undecodable := _undecodable(head[: index + 1]):
        raise InputError(
            f"{path}: not readable as {encoding} ({undecodable} in the header); "
            'set input.encoding (e.g. "cp1251"; "utf-16-le" for UTF-16 without a BOM)'
        )
    columns, duplicated = _checked_header(head, index, path)
    return Table(
        path,
        columns,
        "csv",
        index + 1,
        encoding,
        delimiter,
        duplicated=duplicated,
        scan=scan_bytes(path, encoding),
    )


def _undecodable(head: list[list[str]]) -> str:
    """What in the first rows shows the file is not in the encoding it is read with."""
    text = "".join("".join(row) for row in head)
    if "\x00" in text:
        return "NUL characters"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "bytes that do not decode"
    return ""


def _checked_header(
    head: list[list[str]], index: int, path: Path
) -> tuple[list[str], dict[str, list[str]]]:
    if not head or index >= len(head) or not any(head[index]):
        raise InputError(f"{path}: no header row found (row {index + 1} is empty)")
    cells = head[index]
    while cells and not cells[-1]:
        cells = cells[:-1]
    return _column_names(cells)


def _unneutralised(value: str) -> str:
    """A cell the report or failed-rows file neutralised (``'=x``) read back as written."""
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_STARTS:
        return value[1:]
    return value


def _displayable(field: str) -> str:
    if field.isascii():
        return field
    return field.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _csv_rows(table: Table) -> Generator[SourceRow, None, None]:
    file = table.shown
    names = table.columns
    width = len(names)
    blank = [""] * width
    clean = table.scan.clean_text
    for number, fields in records(table.path, table.encoding, table.delimiter, table.header_row):
        problem = ""
        joined = "".join(fields)
        # A file the byte scan found clean needs no per-row look at the encoding.
        if len(fields) != width or (not clean and not joined.isascii()):
            problem = row_problem(fields, width, table.encoding, names)
            fields = (fields + blank)[:width] if fields else blank
            if problem:  # undecodable bytes are shown as U+FFFD in the report
                fields = [_displayable(f) for f in fields]
        if "'" in joined:
            fields = [_unneutralised(f) for f in fields]
        yield SourceRow(file, number, dict(zip(names, fields, strict=True)), problem)
