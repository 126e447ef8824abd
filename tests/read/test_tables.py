from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from importer.config import InputSection
from importer.errors import InputError
from importer.read.tables import open_table

HEADER = ["Issue", "Date", "Hours"]


def test_semicolon_csv_with_bom_keeps_its_first_header(write_csv: Callable[..., Path]) -> None:
    path = write_csv([HEADER, ["PORT-1", "01.10.2026", "1,5"]], delimiter=";", encoding="utf-8-sig")
    table = open_table(path, InputSection())
    assert table.columns == HEADER
    assert table.delimiter == ";"
    rows = list(table.rows())
    assert [(r.row, dict(r.values)) for r in rows] == [
        (2, {"Issue": "PORT-1", "Date": "01.10.2026", "Hours": "1,5"})
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(write_csv: Callable[..., Path], delimiter: str) -> None:
    path = write_csv(
        [HEADER, ["PORT-1", "2026-10-01", "1.5"], ["PORT-2", "2026-10-02", "2"]],
        delimiter=delimiter,
    )
    table = open_table(path, InputSection())
    assert table.delimiter == delimiter
    assert [r.values["Issue"] for r in table.rows()] == ["PORT-1", "PORT-2"]


def test_blank_lines_are_kept_so_row_numbers_match_the_sheet(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "Issue,Date,Hours\nPORT-1,2026-10-01,1\n\n,,\nPORT-2,2026-10-02,2\n", encoding="utf-8"
    )
    rows = list(open_table(path, InputSection()).rows())
    assert [(r.row, r.values["Issue"]) for r in rows] == [
        (2, "PORT-1"),
        (3, ""),
        (4, ""),
        (5, "PORT-2"),
    ]


def test_multiline_cells_count_as_one_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('Issue,Comment,Hours\nPORT-1,"two\nlines",1\nPORT-2,x,2\n', encoding="utf-8")
    rows = list(open_table(path, InputSection()).rows())
    assert [(r.row, r.values["Comment"]) for r in rows] == [(2, "two\nlines"), (3, "x")]


def test_cp1251_is_read_when_configured_or_detected(write_csv: Callable[..., Path]) -> None:
    path = write_csv([["Задача", "Часы"], ["PORT-1", "1,5"]], delimiter=";", encoding="cp1251")
    for encoding in ("cp1251", "auto"):
        table = open_table(path, InputSection(encoding=encoding))
        assert table.columns == ["Задача", "Часы"]
        assert [dict(r.values) for r in table.rows()] == [{"Задача": "PORT-1", "Часы": "1,5"}]


def test_undecodable_csv_names_the_file_and_the_setting(write_csv: Callable[..., Path]) -> None:
    path = write_csv([["Задача", "Часы"], ["PORT-1", "1,5"]], delimiter=";", encoding="cp1251")
    with pytest.raises(
        InputError, match=r"timesheet\.csv: not readable as utf-8 .*; set input\.encoding"
    ):
        table = open_table(path, InputSection(encoding="utf-8"))
        list(table.rows())


def test_xlsx_cells_keep_their_types_and_row_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["PORT-1", dt.datetime(2026, 10, 1), 1.5])
    sheet.append([])
    sheet.append(["PORT-2", dt.datetime(2026, 10, 2), 2])
    path = tmp_path / "t.xlsx"
    book.save(path)
    table = open_table(path, InputSection())
    rows = list(table.rows())
    assert table.kind == "excel"
    assert [(r.row, r.values["Issue"], r.values["Hours"]) for r in rows] == [
        (2, "PORT-1", 1.5),
        (3, None, None),
        (4, "PORT-2", 2),
    ]
    assert rows[0].values["Date"] == dt.datetime(2026, 10, 1)


def test_unreadable_inputs_are_input_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_table(tmp_path / "missing.csv", InputSection())
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        open_table(empty, InputSection())
    odd = tmp_path / "notes.pdf"
    odd.write_bytes(b"%PDF")
    with pytest.raises(InputError, match=r"notes\.pdf: unsupported file type '\.pdf'"):
        open_table(odd, InputSection())
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputError, match=r"fake\.xlsx: cannot read"):
        open_table(fake, InputSection())
