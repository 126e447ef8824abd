"""Toggl Track detailed report CSV (BOM, ISO dates, 24 h times, HH:MM:SS durations)."""

from __future__ import annotations

from importer.models import Invalid
from tests.helpers import PRESETS_DIR, read_bookings, sent

FILE = PRESETS_DIR / "toggl" / "toggl_detailed.csv"

EXPECTED = {
    2: ("PORT-412", "2026-10-05T09:14:27.000+0200", "PT1H30M", "PORT-412 fix SSO login"),
    3: ("BILL-77", "2026-10-05T13:02:10.000+0200", "PT45M", "BILL-77: reconcile invoices"),
    4: ("OPS-1210", "2026-10-06T16:20:00.000+0200", "PT30M", "review OPS-1210"),
    5: (
        "PORT-415",
        "2026-10-07T08:30:00.000+0200",
        "PT7H30M",
        "PORT-415 Исправить экспорт отчётов в PDF",
    ),
    6: ("PORT-418", "2026-10-14T23:30:00.000+0200", "PT1H15M", "Hotfix PORT-418, nightly deploy"),
    8: ("OPS-1211", "2026-10-20T14:05:00.000+0200", "PT2H30M", "OPS-1211 rotate TLS certificates"),
    9: ("BILL-80", "2026-10-22T08:45:00.000+0200", "PT20M", 'BILL-80 check "Storno" flag'),
    10: ("PORT-420", "2026-10-27T09:00:00.000+0100", "PT2H15M", "PORT-420 Обновить зависимости"),
    11: ("PORT-421", "2026-10-29T15:05:00.000+0100", "PT45M", "PORT-421 code review for Dmitry"),
}


def test_toggl_rows_book_the_exact_instants_and_durations() -> None:
    booked = read_bookings(FILE, input={"preset": "toggl", "timezone": "Europe/Berlin"})
    assert {row: sent(r) for row, r in booked.items() if row != 7} == EXPECTED


def test_toggl_row_without_a_key_in_the_description_is_invalid() -> None:
    booked = read_bookings(FILE, input={"preset": "toggl", "timezone": "Europe/Berlin"})
    assert booked[7] == Invalid(
        "column 'Description' value 'Weekly team sync' holds no issue key like QUEUE-123",
        "Description",
        "Weekly team sync",
    )


def test_toggl_is_recognised_by_its_header() -> None:
    booked = read_bookings(FILE, input={"preset": "auto", "timezone": "Europe/Berlin"})
    assert sent(booked[2]) == EXPECTED[2]
