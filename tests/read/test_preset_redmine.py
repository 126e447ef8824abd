"""Redmine spent time CSV: Latin-1 English and UTF-8 Russian, issue ids mapped to keys."""

from __future__ import annotations

import pytest

from importer.models import Invalid
from tests.helpers import PRESETS_DIR, read_bookings, sent

MAP = str(PRESETS_DIR / "redmine" / "id_map.csv")
ISSUES = {
    2: "BILL-81",
    3: "MOB-203",
    4: "MOB-203",
    6: "INFRA-9",
    8: "PORT-412",
    9: "BILL-77",
    10: "BILL-77",
    11: "PORT-415",
    12: "PORT-412",
}
DAYS = {2: "12", 3: "09", 4: "08", 6: "07", 8: "05", 9: "05", 10: "02", 11: "01", 12: "01"}
DURATIONS = {
    2: "PT2H15M",
    3: "PT6H",
    4: "PT30M",
    6: "PT1H15M",
    8: "PT6M",
    9: "PT54M",
    10: "PT3H",
    11: "PT45M",
    12: "PT2H30M",
}


def expected(comments: dict[int, str]) -> dict[int, tuple[str, str, str, str]]:
    return {
        row: (ISSUES[row], f"2026-10-{DAYS[row]}T09:00:00.000+0300", DURATIONS[row], comments[row])
        for row in ISSUES
    }


EN = {
    2: "VAT export for Q3",
    3: 'Regression pass on Android 15 build "2.4.1"',
    4: "Review fixes, round 2",
    6: "Nightly certificate renewal",
    8: "",
    9: "Weekly sync with client",
    10: "Reconcile invoices",
    11: "Review and deploy hotfix",
    12: "Fix SSO login",
}
RU = {
    2: "Выгрузка НДС за 3 квартал",
    3: 'Регресс на Android 15, сборка "2.4.1"',
    4: "Правки по ревью; второй круг",
    6: "Ночное обновление сертификатов",
    8: "",
    9: "Еженедельный созвон с клиентом",
    10: "Сверка счетов",
    11: "Ревью и выкладка хотфикса",
    12: "Исправление входа через SSO",
}


@pytest.mark.parametrize(("name", "comments"), [("redmine_en.csv", EN), ("redmine_ru.csv", RU)])
def test_redmine_rows_book_mapped_keys_days_and_hours(name: str, comments: dict[int, str]) -> None:
    booked = read_bookings(
        PRESETS_DIR / "redmine" / name,
        input={"preset": "redmine", "timezone": "Europe/Moscow"},
        issue={"map_file": MAP},
    )
    assert {row: sent(r) for row, r in booked.items() if row in ISSUES} == expected(comments)
    assert isinstance(booked[5], Invalid) and "id 431 is not in the issue map" in booked[5].reason
    assert isinstance(booked[7], Invalid) and booked[7].reason.endswith("is empty")


def test_latin1_english_export_keeps_accents() -> None:
    booked = read_bookings(
        PRESETS_DIR / "redmine" / "redmine_en.csv",
        input={"preset": "redmine", "timezone": "Europe/Moscow"},
        issue={"map_file": MAP},
    )
    assert booked[8].author == "José Álvarez"  # type: ignore[union-attr]


def test_without_a_map_the_reason_says_how_to_map_ids() -> None:
    booked = read_bookings(
        PRESETS_DIR / "redmine" / "redmine_ru.csv",
        input={"preset": "redmine", "timezone": "Europe/Moscow"},
    )
    assert booked[2] == Invalid(
        "column 'Задача' value 'Поддержка #420: Выгрузка отчёта по НДС за 3 квартал' holds no "
        "issue key like QUEUE-123 (set issue.map_file to map its ids to Tracker keys)",
        "Задача",
        "Поддержка #420: Выгрузка отчёта по НДС за 3 квартал",
    )
