"""Read timesheet files into ``SourceRow`` values, keeping the row numbers people see.

CSV streams in chunks (a million-row export never sits in memory whole); spreadsheets go
through pandas' calamine engine. The header row is found even below title rows (or set with
``input.header_row``), and every row keeps its number as seen in the sheet: with the header
in row 1 the first data row is row 2. Blank rows are kept (and reported), never dropped.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd
from python_calamine import CalamineError

from importer.config import InputSection
from importer.errors import InputError
from importer.models import Cell, SourceRow

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CHUNK_ROWS = 50_000
HEADER_SCAN_ROWS = 30
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"

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
    _frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def estimated_rows(self) -> int:
        """Rows below the header: exact for spreadsheets, lines for CSV (for the ETA)."""
        if self._frame is not None:
            return len(self._frame)
        lines, last = 0, b"\n"
        with self.path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        if last != b"\n":
            lines += 1
        return max(0, lines - self.header_row)

    def rows(self) -> Generator[SourceRow, None, None]:
        """Stream the rows below the header, in file order."""
        if self.kind == "csv":
            yield from _csv_rows(self)
        else:
            yield from _excel_rows(self)


def detect_encoding(path: Path, configured: str) -> str:
    """``auto``: UTF-8 (with or without BOM) when the start of the file reads as UTF-8;
    otherwise cp1251 (Russian Excel's "CSV (разделители — точка с запятой)") or cp1252
    (Latin-1: e.g. Redmine's English export), whichever charset-normalizer finds coherent."""
    if configured != "auto":
        return configured
    with path.open("rb") as handle:
        head = handle.read(1024 * 1024)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text"
    # Cut at a line end so a multi-byte character is never split by the sample's edge.
    sample = head[: head.rfind(b"\n") + 1 or len(head)]
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(sample, cp_isolation=["cp1251", "cp1252"]).best()
        return best.encoding if best is not None else "cp1251"


def _sniff_delimiter(path: Path, encoding: str, configured: str) -> str:
    if configured:
        return "\t" if configured in ("\\t", "tab") else configured
    if path.suffix.lower() == ".tsv":
        return "\t"
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(_SNIFF_BYTES)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # Title rows or too little text confuse the sniffer: take the delimiter that splits
        # the most lines into the same number of fields.
        lines = [line for line in sample.splitlines()[:HEADER_SCAN_ROWS] if line.strip()]

        def steadiness(d: str) -> tuple[int, int]:
            counts = [line.count(d) for line in lines]
            common = max(set(counts), key=counts.count) if counts else 0
            return (counts.count(common) if common else 0, common)

        return max(_DELIMITERS, key=steadiness)


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


def _column_names(cells: list[str]) -> list[str]:
    """Header cells as column names: blanks named by position, repeats made unique."""
    names: list[str] = []
    for position, cell in enumerate(cells):
        name = cell or f"Unnamed: {position}"
        base, n = name, 1
        while name in names:
            name, n = f"{base}.{n}", n + 1
        names.append(name)
    return names


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
            frame = pd.read_excel(
                path, engine="calamine", sheet_name=options.sheet, header=None, dtype=object
            )
            head = [
                [_text(v) for v in row]
                for row in frame.head(HEADER_SCAN_ROWS).itertuples(index=False)
            ]
            index = _header_index(head, options, header_score)
            columns = _checked_header(head, index, path)
            data = frame.iloc[index + 1 :]
            return Table(path, columns, "excel", index + 1, sheet=options.sheet, _frame=data)
        if suffix in CSV_SUFFIXES or not suffix:
            encoding = detect_encoding(path, options.encoding)
            delimiter = _sniff_delimiter(path, encoding, options.delimiter)
            # The csv module, not pandas, for the first records: title rows above the header
            # have fewer fields, and pandas would size the table by them.
            with path.open(encoding=encoding, newline="") as handle:
                records = csv.reader(handle, delimiter=delimiter)
                head = [[_text(v) for v in row] for row in islice(records, HEADER_SCAN_ROWS)]
            if not any(any(row) for row in head):
                raise InputError(f"{path}: the file is empty")
            index = _header_index(head, options, header_score)
            columns = _checked_header(head, index, path)
            return Table(path, columns, "csv", index + 1, encoding, delimiter)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not readable as {options.encoding} ({exc.reason}); set input.encoding"
        ) from None
    except (ValueError, KeyError, OSError, pd.errors.ParserError, CalamineError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    raise InputError(
        f"{path}: unsupported file type {suffix!r} "
        f"(use {', '.join(sorted(CSV_SUFFIXES | EXCEL_SUFFIXES))})"
    )


def _checked_header(head: list[list[str]], index: int, path: Path) -> list[str]:
    if not head or index >= len(head) or not any(head[index]):
        raise InputError(f"{path}: no header row found (row {index + 1} is empty)")
    cells = head[index]
    while cells and not cells[-1]:
        cells = cells[:-1]
    return _column_names(cells)


def _csv_rows(table: Table) -> Iterator[SourceRow]:
    file = str(table.path)
    row_number = table.header_row
    width = len(table.columns)
    try:
        with pd.read_csv(
            table.path,
            sep=table.delimiter,
            encoding=table.encoding,
            dtype=object,
            header=None,
            skiprows=table.header_row,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=CHUNK_ROWS,
            usecols=range(width),
            names=range(width),
        ) as chunks:  # closed even when the reader stops early (inspect, a stopped run)
            names = table.columns
            for chunk in chunks:
                # Column lists zipped into rows: far faster than iterating a frame by row.
                for values in zip(*(chunk[c].tolist() for c in chunk.columns), strict=True):
                    row_number += 1
                    yield SourceRow(file, row_number, dict(zip(names, values, strict=True)))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{file}: not readable as {table.encoding} near row {row_number + 1} ({exc.reason}); "
            'set input.encoding (e.g. "cp1251")'
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{file}: cannot read after row {row_number}: {exc}") from None


def _cell(value: Any) -> Cell:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str) and not value.strip():
        return None
    return value  # type: ignore[no-any-return]


def _excel_rows(table: Table) -> Iterator[SourceRow]:
    file = str(table.path)
    assert table._frame is not None
    width = len(table.columns)
    for offset, values in enumerate(table._frame.itertuples(index=False, name=None)):
        cells = {name: _cell(v) for name, v in zip(table.columns, values[:width], strict=False)}
        yield SourceRow(file, table.header_row + 1 + offset, cells)
