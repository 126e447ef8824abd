"""Spreadsheets (XLSX, XLSM, XLS, ODS) through pandas' calamine engine.

calamine reads a cell holding an error value (``#DIV/0!``, ``#N/A``) as empty, which would
make "the duration is empty" the reason for a formula that failed. For XLSX and XLSM the
sheet's XML is scanned for error cells (``<c t="e">``), and each becomes a
:class:`~importer.models.CellError` naming the error. XLS and ODS error cells read as
empty.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import zipfile
from collections.abc import Generator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from importer.models import Cell, CellError, SourceRow

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REF = re.compile(r"^([A-Z]+)([0-9]+)$")


def counts_from_1904(path: Path) -> bool:
    """Whether an XLSX/XLSM counts its dates from 1904 (old Mac workbooks): a plain serial
    in it is another day than in the 1900 system (calamine converts formatted date cells
    itself; numbers are read as ``input.date_system`` says)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with zipfile.ZipFile(path) as book:
            workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return False
    properties = workbook.find(f"{_MAIN}workbookPr")
    return properties is not None and properties.get("date1904") in ("1", "true")


def other_sheets(path: Path, sheet: str | int) -> dict[str, int]:
    """The workbook's other sheets that hold rows below a first row, with how many: a run
    reads one sheet, and a person with a sheet per employee must hear of the rest."""
    from python_calamine import CalamineError, CalamineWorkbook

    found: dict[str, int] = {}
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        chosen = names[sheet] if isinstance(sheet, int) and sheet < len(names) else sheet
        for name in names:
            if name == chosen:
                continue
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=True)
            filled = sum(1 for row in rows if any(cell not in ("", None) for cell in row))
            if filled > 1:  # a header and at least a row
                found[name] = filled - 1
    except (CalamineError, OSError, ValueError, IndexError):
        return {}  # the chosen sheet was read; this is only a note about the others
    return found


def read_sheet(path: Path, sheet: str | int) -> pd.DataFrame:
    """The whole sheet, anchored at A1, with error cells as :class:`CellError`."""
    frame = pd.read_excel(path, engine="calamine", sheet_name=sheet, header=None, dtype=object)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        for (row, column), error in _error_cells(path, sheet).items():
            if row < frame.shape[0] and column < frame.shape[1]:
                frame.iat[row, column] = CellError(error)  # type: ignore[assignment]  # object column
    return frame


def _sheet_part(book: zipfile.ZipFile, sheet: str | int) -> str:
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheets = workbook.findall(f"{_MAIN}sheets/{_MAIN}sheet")
    chosen = (
        sheets[sheet]
        if isinstance(sheet, int)
        else next(s for s in sheets if s.get("name") == sheet)
    )
    rel_id = chosen.get(f"{_REL}id")
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target", "") for r in rels if r.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)


def _error_cells(path: Path, sheet: str | int) -> dict[tuple[int, int], str]:
    """``(row, column)`` (0-based) → the error a cell holds, for one sheet of an XLSX."""
    found: dict[tuple[int, int], str] = {}
    try:
        with zipfile.ZipFile(path) as book:
            xml = book.read(_sheet_part(book, sheet))
            if b't="e"' not in xml:
                return found  # the common case: no error cell at all, nothing to parse
            for _, element in ElementTree.iterparse(io.BytesIO(xml)):
                if element.tag == f"{_MAIN}c":
                    if element.get("t") == "e" and (ref := _REF.match(element.get("r", ""))):
                        value = element.findtext(f"{_MAIN}v") or "#ERROR"
                        found[(int(ref[2]) - 1, _column_index(ref[1]))] = value
                    element.clear()
    except (KeyError, StopIteration, IndexError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}  # calamine read the sheet; without the scan its errors read as empty
    return found


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _cell(value: Any) -> Cell:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str) and not value.strip():
        return None
    return value  # type: ignore[no-any-return]


def excel_rows(
    file: str, columns: list[str], header_row: int, frame: pd.DataFrame | None
) -> Generator[SourceRow, None, None]:
    """The rows below the header, numbered as the sheet numbers them (``file``: as the
    report names the file)."""
    assert frame is not None
    width = len(columns)
    for offset, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = {name: _cell(v) for name, v in zip(columns, values[:width], strict=False)}
        yield SourceRow(file, header_row + 1 + offset, cells)
