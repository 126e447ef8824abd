"""Harvest detailed time report CSV: no start time, decimal hours (comma in EU accounts)."""

from __future__ import annotations

import pytest

from importer.models import Invalid
from tests.helpers import PRESETS_DIR, read_bookings, sent

# Harvest has no time of day: rows start at input.default_start_time (09:00 here).
EXPECTED = {
    2: ("PORT-412", "2026-10-01T09:00:00.000+0300", "PT2H30M", "PORT-412 fix SSO login"),
    3: (
        "PORT-415",
        "2026-10-01T09:00:00.000+0300",
        "PT45M",
        "PORT-415: review, merge and deploy hotfix",
    ),
    4: ("BILL-77", "2026-10-02T09:00:00.000+0300", "PT3H", "BILL-77: reconcile invoices"),
    5: ("BILL-80", "2026-10-05T09:00:00.000+0300", "PT54M", "Weekly sync with client (BILL-80)"),
    6: (
        "INFRA-9",
        "2026-10-05T09:00:00.000+0300",
        "PT1H15M",
        "INFRA-9 обновление сертификатов на стенде",
    ),
    8: (
        "INFRA-12",
        "2026-10-07T09:00:00.000+0300",
        "PT4H",
        "INFRA-12: настройка бэкапов PostgreSQL, проверка восстановления",
    ),
    9: (
        "MOB-203",
        "2026-10-08T09:00:00.000+0300",
        "PT30M",
        "MOB-203 экран онбординга — правки по ревью",
    ),
    10: (
        "MOB-210",
        "2026-10-09T09:00:00.000+0300",
        "PT6H",
        'MOB-210 regression pass on Android 15 build "2.4.1"',
    ),
    11: ("BILL-81", "2026-10-12T09:00:00.000+0300", "PT2H15M", "BILL-81 export VAT report for Q3"),
}


@pytest.mark.parametrize("name", ["harvest_time_report.csv", "harvest_time_report_eu.csv"])
def test_harvest_rows_book_the_exact_days_and_hours(name: str) -> None:
    booked = read_bookings(
        PRESETS_DIR / "harvest" / name,
        input={"preset": "harvest", "timezone": "Europe/Moscow", "default_start_time": "09:00"},
    )
    assert {row: sent(r) for row, r in booked.items() if row != 7} == EXPECTED
    assert isinstance(booked[7], Invalid) and booked[7].column == "Notes"


def test_harvest_books_hours_not_hours_rounded() -> None:
    booked = read_bookings(
        PRESETS_DIR / "harvest" / "harvest_time_report_eu.csv",
        input={"preset": "harvest", "timezone": "Europe/Moscow"},
    )
    assert sent(booked[5])[2] == "PT54M"  # 0,9 h; "Hours Rounded" says 1,0


def test_harvest_authors_are_first_and_last_name_not_the_first_name_alone() -> None:
    """Harvest splits the person in two columns; "Oliver" alone would mix two Olivers' hours
    in the per-day totals and, in import mode, miss the user map's "Oliver Bennett"."""
    booked = read_bookings(
        PRESETS_DIR / "harvest" / "harvest_time_report.csv",
        input={"preset": "harvest", "timezone": "Europe/Moscow"},
    )
    assert booked[2].author == "Oliver Bennett"  # type: ignore[attr-defined]
    assert booked[3].author == "Priya Shah"  # type: ignore[attr-defined]
