"""Clockify detailed report, CSV and XLSX (mm/dd/yyyy dates, 12 h clock, quoted fields)."""

from __future__ import annotations

import pytest

from importer.models import Invalid
from tests.helpers import PRESETS_DIR, read_bookings, sent

EXPECTED = {
    2: ("PORT-412", "2026-10-05T09:15:00.000+0200", "PT1H30M", "PORT-412 fix SSO login"),
    3: ("BILL-77", "2026-10-05T13:02:10.000+0200", "PT45M", "BILL-77: reconcile invoices"),
    4: ("OPS-1210", "2026-10-06T16:20:00.000+0200", "PT30M", "review OPS-1210"),
    5: (
        "PORT-415",
        "2026-10-07T08:30:00.000+0200",
        "PT7H30M",
        "PORT-415 Исправить экспорт отчётов в PDF",
    ),
    6: ("PORT-418", "2026-10-14T23:30:00.000+0200", "PT1H15M", "Hotfix PORT-418, nightly deploy"),
    8: ("OPS-1211", "2026-10-20T12:10:00.000+0200", "PT2H30M", "OPS-1211 rotate TLS certificates"),
    9: ("BILL-80", "2026-10-22T08:45:00.000+0200", "PT20M", 'BILL-80 check "Storno" flag'),
    10: ("PORT-420", "2026-10-27T09:00:00.000+0100", "PT2H15M", "PORT-420 Обновить зависимости"),
    11: ("PORT-421", "2026-10-29T15:05:00.000+0100", "PT45M", "PORT-421 code review for Dmitry"),
    12: ("BILL-82", "2026-10-30T00:20:00.000+0100", "PT45M", "BILL-82 Проверка ночного пакета"),
}


@pytest.mark.parametrize("name", ["clockify_detailed.csv", "clockify_detailed.xlsx"])
def test_clockify_rows_book_the_exact_instants_and_durations(name: str) -> None:
    booked = read_bookings(
        PRESETS_DIR / "clockify" / name, input={"preset": "clockify", "timezone": "Europe/Berlin"}
    )
    assert {row: sent(r) for row, r in booked.items() if row != 7} == EXPECTED
    assert isinstance(booked[7], Invalid)


def test_clockify_pm_times_and_midnight_am() -> None:
    booked = read_bookings(
        PRESETS_DIR / "clockify" / "clockify_detailed.csv",
        input={"preset": "clockify", "timezone": "Europe/Berlin"},
    )
    assert sent(booked[3])[1] == "2026-10-05T13:02:10.000+0200"  # 01:02:10 PM
    assert sent(booked[8])[1] == "2026-10-20T12:10:00.000+0200"  # 12:10:00 PM is noon
    assert sent(booked[12])[1] == "2026-10-30T00:20:00.000+0100"  # 12:20:00 AM
