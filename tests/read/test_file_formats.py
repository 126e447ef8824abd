"""Every format and encoding ops staff receive, read with the row numbers people see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import xlwt
from openpyxl import Workbook

from importer.config import InputSection
from importer.errors import InputError
from importer.models import Skipped
from importer.read.delimited import detect_encoding
from importer.read.tables import open_table
from tests.helpers import COLUMNS as HELPER_COLUMNS
from tests.helpers import read_bookings, sent

COLUMNS = {field: header for field, header in HELPER_COLUMNS.items() if field != "author"}
ROWS = [
    ["Issue", "Date", "Start", "Hours", "Comment"],
    ["PORT-1", "01.10.2026", "09:00", "1,5", "Задача: вход"],
    ["PORT-2", "02.10.2026", "10:30", "2", "José's review"],
]
EXPECTED = {
    2: ("PORT-1", "2026-10-01T09:00:00.000+0300", "PT1H30M", "Задача: вход"),
    3: ("PORT-2", "2026-10-02T10:30:00.000+0300", "PT2H", "José's review"),
}


def booked(path: Path, **input_options: object) -> dict[int, object]:
    return read_bookings(
        path, columns=COLUMNS, input={"timezone": "Europe/Moscow", **input_options}
    )


@pytest.mark.parametrize(
    ("encoding", "delimiter", "detected"),
    [
        ("utf-8", ",", "utf-8-sig"),
        ("utf-8-sig", ";", "utf-8-sig"),
        ("utf-16", "\t", "utf-16"),
    ],
)
def test_unicode_csv_in_any_delimiter(
    write_csv: Callable[..., Path], encoding: str, delimiter: str, detected: str
) -> None:
    path = write_csv(ROWS, delimiter=delimiter, encoding=encoding)
    assert detect_encoding(path, "auto") == detected
    assert {row: sent(r) for row, r in booked(path).items()} == EXPECTED


def test_cp1251_is_detected(write_csv: Callable[..., Path]) -> None:
    rows = [[*r[:4], r[4].replace("José", "Иосиф")] for r in ROWS]
    path = write_csv(rows, delimiter=";", encoding="cp1251")
    assert detect_encoding(path, "auto") == "cp1251"
    assert sent(booked(path)[2])[3] == "Задача: вход"


def test_latin1_is_detected(write_csv: Callable[..., Path]) -> None:
    rows = [[*r[:4], r[4].replace("Задача: вход", "Révision")] for r in ROWS]
    path = write_csv(rows, encoding="latin-1")
    assert detect_encoding(path, "auto") == "cp1252"
    assert sent(booked(path)[3])[3] == "José's review"


def test_a_wrong_encoding_setting_is_reported_with_the_setting_to_change(
    write_csv: Callable[..., Path],
) -> None:
    path = write_csv(ROWS, delimiter=";", encoding="utf-16")
    with pytest.raises(InputError, match=r"input\.encoding"):
        table = open_table(path, InputSection(encoding="utf-8"))
        list(table.rows())


def test_header_below_title_rows_is_found_and_row_numbers_follow_the_sheet(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Табель за октябрь 2026"
    sheet["A2"] = "Отдел разработки"
    sheet.append([])
    for row in ROWS:
        sheet.append(row)
    path = tmp_path / "titled.xlsx"
    book.save(path)
    table = open_table(path, InputSection())
    assert table.header_row == 4
    assert {row: sent(r) for row, r in booked(path).items()} == {5: EXPECTED[2], 6: EXPECTED[3]}


def test_header_below_title_rows_in_csv(write_csv: Callable[..., Path]) -> None:
    path = write_csv([["Report October"], [], *ROWS], delimiter=";")
    assert open_table(path, InputSection()).header_row == 3
    assert set(booked(path)) == {4, 5}


def test_header_row_can_be_set(write_csv: Callable[..., Path]) -> None:
    path = write_csv([["Issue", "x"], ["junk", "y"], *ROWS])
    assert set(booked(path, header_row=3)) == {4, 5}


def test_ods_xls_and_xlsm_are_read(tmp_path: Path) -> None:
    frame = pd.DataFrame(ROWS[1:], columns=ROWS[0])
    ods = tmp_path / "sheet.ods"
    frame.to_excel(ods, engine="odf", index=False)
    xls = tmp_path / "sheet.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("Октябрь")
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(xls))
    xlsm = tmp_path / "macros.xlsm"
    book_m = Workbook()
    sheet_m = book_m.active
    assert sheet_m is not None
    for row in ROWS:
        sheet_m.append(row)
    book_m.save(xlsm)
    for path in (ods, xls, xlsm):
        assert {row: sent(r) for row, r in booked(path).items()} == EXPECTED, path


def test_sheet_by_name(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(["nothing", "here"])
    second = book.create_sheet("Октябрь")
    for row in ROWS:
        second.append(row)
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert {row: sent(r) for row, r in booked(path, sheet="Октябрь").items()} == EXPECTED
    with pytest.raises(InputError, match=r"two\.xlsx: cannot read"):
        booked(path, sheet="Ноябрь")


def test_rows_on_other_sheets_are_named_not_silently_left(tmp_path: Path) -> None:
    """A workbook with a sheet per person: a run reads one sheet and says which others hold
    rows (a sheet with a header alone, or empty, is not worth a word)."""
    from importer.cli.render import inspection_lines
    from importer.preflight import inspect_file
    from tests.helpers import make_settings

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Смирнова"
    for row in ROWS:
        first.append(row)
    second = book.create_sheet("Петров")
    for row in [*ROWS, ROWS[1]]:
        second.append(row)
    book.create_sheet("Итоги").append(["Hours"])
    book.create_sheet("Пусто")
    path = tmp_path / "team.xlsx"
    book.save(path)
    table = open_table(path, InputSection(timezone="Europe/Moscow"))
    assert table.other_sheets == {"Петров": 3}
    assert table.other_sheets_note() == (
        f"{path}: only sheet 1 (input.sheet = 0) is read; other sheets hold rows too, not "
        "booked: 'Петров' (3 rows). A run reads one sheet (input.sheet); book another with a "
        "run of its own and a --batch of its own"
    )
    chosen = open_table(path, InputSection(timezone="Europe/Moscow", sheet="Петров"))
    assert chosen.other_sheets == {"Смирнова": 2}
    settings = make_settings(columns={**COLUMNS, "author": ""})
    assert any(
        "'Петров' (3 rows)" in line for line in inspection_lines(inspect_file(path, settings))
    )
    from importer.pipeline import RunOptions, run_import

    plan = run_import(
        RunOptions([path], settings, dry_run=True, report_path=tmp_path / "r.csv",
                   state_path=tmp_path / "j.sqlite", environ={})
    )  # fmt: skip
    assert plan.notes == [table.other_sheets_note()] and plan.counts["pending"] == 2


def test_excel_date_cells_serials_and_1904(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ROWS[0])
    sheet.append(["PORT-1", dt.datetime(2026, 10, 1), dt.time(9, 0), 1.5, "date cell"])
    sheet.append(["PORT-1", 46296, "09:00", 1.5, "1900 serial"])
    path = tmp_path / "dates.xlsx"
    book.save(path)
    rows = booked(path)
    assert sent(rows[2])[1] == sent(rows[3])[1] == "2026-10-01T09:00:00.000+0300"
    # The same serial in the 1904 system is four years and a day later.
    later = booked(path, date_system=1904, allow_future=True)
    assert sent(later[3])[1] == "2030-10-02T09:00:00.000+0300"


def test_a_workbook_counting_from_1904_reads_its_plain_serials_so(tmp_path: Path) -> None:
    """An old Mac workbook says so in its workbook part: a plain serial there is 1462 days
    later than in the 1900 system. Read as 1900 it was booked four years early, silently."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    assert sheet is not None
    sheet.append(ROWS[0])
    sheet.append(["PORT-1", 44834, "09:00", 1.5, "1904 serial"])  # 2026-10-01 from 1904
    sheet.append(["PORT-1", dt.datetime(2026, 10, 2), dt.time(9, 0), 1.5, "date cell"])
    path = tmp_path / "mac.xlsx"
    book.save(path)
    rows = booked(path)
    assert sent(rows[2])[1] == "2026-10-01T09:00:00.000+0300"
    assert sent(rows[3])[1] == "2026-10-02T09:00:00.000+0300"  # calamine's own conversion
    said = booked(path, date_system=1900)  # the config's word wins
    assert sent(said[2])[1] == "2022-09-30T09:00:00.000+0300"


def test_totals_rows_are_skipped_with_their_reason(write_csv: Callable[..., Path]) -> None:
    path = write_csv(
        [*ROWS, ["Итого", "", "", "3,5", ""], ["", "", "", "3,5", ""], ["", "", "", "", ""]]
    )
    rows = booked(path)
    assert rows[4] == Skipped("totals row ('Итого')")
    assert rows[5] == Skipped("totals row (no issue, date or text; only numbers)")
    assert rows[6] == Skipped("blank row")


def test_a_real_row_mentioning_totals_is_still_booked(write_csv: Callable[..., Path]) -> None:
    path = write_csv([ROWS[0], ["PORT-1", "01.10.2026", "09:00", "1", "Итого"]])
    assert sent(booked(path)[2])[0] == "PORT-1"
