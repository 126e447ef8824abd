"""Kimai timesheet export: CSV and XLSX, English and Russian headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from importer.models import Invalid, Skipped
from tests.helpers import PRESETS_DIR, read_bookings, sent

EXPECTED = {
    2: ("PORT-412", "2026-10-01T09:00:00.000+0300", "PT2H30M", "PORT-412 fix SSO login"),
    3: (
        "PORT-415",
        "2026-10-01T14:00:00.000+0300",
        "PT45M",
        "PORT-415: review, merge and deploy hotfix",
    ),
    4: ("BILL-77", "2026-10-02T10:00:00.000+0300", "PT3H", "BILL-77: сверка счетов за сентябрь"),
    5: ("BILL-80", "2026-10-05T11:00:00.000+0300", "PT50M", "Weekly sync with client (BILL-80)"),
    6: (
        "INFRA-9",
        "2026-10-05T23:30:00.000+0300",
        "PT1H15M",
        "INFRA-9 ночное обновление сертификатов",
    ),
    8: (
        "INFRA-12",
        "2026-10-07T09:15:00.000+0300",
        "PT4H",
        "INFRA-12: настройка бэкапов PostgreSQL, проверка восстановления",
    ),
    9: (
        "MOB-203",
        "2026-10-08T16:40:00.000+0300",
        "PT30M",
        "MOB-203 экран онбординга — правки по ревью",
    ),
    10: (
        "MOB-210",
        "2026-10-09T10:00:00.000+0300",
        "PT6H",
        'MOB-210 regression pass on Android 15 build "2.4.1"',
    ),
    11: ("BILL-81", "2026-10-12T08:05:00.000+0300", "PT2H15M", "BILL-81 export VAT report for Q3"),
}


@pytest.mark.parametrize("name", ["kimai_en.csv", "kimai_ru.csv", "kimai_en.xlsx", "kimai_ru.xlsx"])
def test_kimai_rows_book_the_exact_instants_and_durations(name: str) -> None:
    booked = read_bookings(
        PRESETS_DIR / "kimai" / name, input={"preset": "kimai", "timezone": "Europe/Moscow"}
    )
    assert {row: sent(r) for row, r in booked.items() if row in EXPECTED} == EXPECTED
    assert isinstance(booked[7], Invalid) and booked[7].column in ("Description", "Описание")
    assert booked[2].author == "a.smirnova"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["kimai_en.xlsx", "kimai_ru.xlsx"])
def test_kimai_xlsx_totals_row_is_skipped_once_excel_has_computed_it(
    name: str, tmp_path: Path
) -> None:
    # Kimai writes =SUBTOTAL(...) without a cached value: until Excel saves the file, row 12
    # holds nothing a reader can see. Once saved, it holds the totals, and is skipped.
    options = {"preset": "kimai", "timezone": "Europe/Moscow"}
    assert sorted(read_bookings(PRESETS_DIR / "kimai" / name, input=options)) == list(range(2, 12))
    book = load_workbook(PRESETS_DIR / "kimai" / name)
    sheet = book.active
    assert sheet is not None and str(sheet["D12"].value).startswith("=SUBTOTAL(9,")
    sheet["D12"] = sum((sheet.cell(r, 4).value for r in range(2, 12)), dt.timedelta())
    sheet["F12"], sheet["G12"] = 1234.5, 99.0
    book.save(tmp_path / name)
    booked = read_bookings(tmp_path / name, input=options)
    assert sorted(booked) == list(range(2, 13))
    assert booked[12] == Skipped("totals row (no issue, date or text; only numbers)")


def test_kimai_end_time_books_the_span_across_midnight() -> None:
    # Without the Duration column, From 23:30 → To 00:45 is 75 minutes, not minus 22 h 45 min.
    booked = read_bookings(
        PRESETS_DIR / "kimai" / "kimai_en.csv",
        input={"preset": "kimai", "timezone": "Europe/Moscow"},
        columns={"duration": "", "end": "To"},
    )
    assert sent(booked[6])[2] == "PT1H15M"
