"""Read timesheet files into ``SourceRow`` values, keeping the row numbers people see.

CSV streams in chunks (a million-row export never sits in memory whole); spreadsheets go
through pandas' calamine engine. Every row keeps its number as seen in the sheet: the header
is row 1, so the first data row is row 2. Blank rows are kept (and reported), never dropped.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError

from .config import InputSection
from .errors import InputError
from .models import Cell, SourceRow

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CHUNK_ROWS = 50_000
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Table:
    """One input file, opened: its header and a way to stream its rows."""

    path: Path
    columns: list[str]
    kind: str
    encoding: str = ""
    delimiter: str = ""
    sheet: str | int = 0

    def rows(self) -> Iterator[SourceRow]:
        """Stream the rows in file order."""
        if self.kind == "csv":
            yield from _csv_rows(self)
        else:
            yield from _excel_rows(self)


def _detect_encoding(path: Path, configured: str) -> str:
    if configured != "auto":
        return configured
    with path.open("rb") as handle:
        head = handle.read(1024 * 1024)
    try:
        # Cut at a line end so a multi-byte character is never split by the sample's edge.
        head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1251"


def _sniff_delimiter(path: Path, encoding: str, configured: str) -> str:
    if configured:
        return "\t" if configured in ("\\t", "tab") else configured
    if path.suffix.lower() == ".tsv":
        return "\t"
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(_SNIFF_BYTES)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        # One column, or too little text to tell: count on the header line.
        header = sample.splitlines()[0] if sample else ""
        return max(",;\t|", key=header.count) if any(c in header for c in ",;\t|") else ","


def _clean_header(names: list[object], path: Path) -> list[str]:
    columns = [str(n).strip().lstrip("\ufeff") for n in names]
    if not columns or all(not c or c.startswith("Unnamed:") for c in columns):
        raise InputError(f"{path}: no header row found (row 1 is empty)")
    return columns


def open_table(path: str | Path, options: InputSection) -> Table:
    """Open one input file and read its header; raise ``InputError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            head = pd.read_excel(path, engine="calamine", sheet_name=options.sheet, nrows=0)
            columns = _clean_header(list(head.columns), path)
            return Table(path, columns, "excel", sheet=options.sheet)
        if suffix in CSV_SUFFIXES or not suffix:
            encoding = _detect_encoding(path, options.encoding)
            delimiter = _sniff_delimiter(path, encoding, options.delimiter)
            head = pd.read_csv(path, sep=delimiter, encoding=encoding, nrows=0, dtype=str)
            return Table(path, _clean_header(list(head.columns), path), "csv", encoding, delimiter)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (ValueError, KeyError, OSError, pd.errors.ParserError, CalamineError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    raise InputError(
        f"{path}: unsupported file type {suffix!r} "
        f"(use {', '.join(sorted(CSV_SUFFIXES | EXCEL_SUFFIXES))})"
    )


def _csv_rows(table: Table) -> Iterator[SourceRow]:
    file = str(table.path)
    row_number = 1
    try:
        chunks = pd.read_csv(
            table.path,
            sep=table.delimiter,
            encoding=table.encoding,
            dtype=str,
            header=0,
            names=table.columns,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=CHUNK_ROWS,
        )
        for chunk in chunks:
            for values in chunk.itertuples(index=False, name=None):
                row_number += 1
                yield SourceRow(file, row_number, dict(zip(table.columns, values, strict=True)))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{file}: not readable as {table.encoding} near row {row_number + 1} ({exc.reason}); "
            'set input.encoding (e.g. "cp1251")'
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{file}: cannot read after row {row_number}: {exc}") from None


def _cell(value: object) -> Cell:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value  # type: ignore[return-value]


def _excel_rows(table: Table) -> Iterator[SourceRow]:
    file = str(table.path)
    try:
        frame = pd.read_excel(
            table.path,
            engine="calamine",
            sheet_name=table.sheet,
            dtype=object,
            header=0,
            names=table.columns,
        )
    except (ValueError, KeyError, OSError, CalamineError) as exc:
        raise InputError(f"{file}: cannot read: {exc}") from None
    for offset, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = {name: _cell(v) for name, v in zip(table.columns, values, strict=True)}
        yield SourceRow(file, offset + 2, cells)
