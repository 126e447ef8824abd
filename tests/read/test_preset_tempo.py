"""Tempo worklog export, English and Russian headers, CSV and XLSX."""

from __future__ import annotations

import pytest

from tests.helpers import PRESETS_DIR, read_bookings, sent

EXPECTED = {
    2: (
        "PORT-412",
        "2026-10-01T09:30:00.000+0300",
        "PT2H",
        "Разбор логов SAML, исправление проверки подписи",
    ),
    3: ("PORT-415", "2026-10-01T14:00:00.000+0300", "PT30M", "Code review of hotfix PR #188"),
    4: (
        "BILL-77",
        "2026-10-02T10:15:00.000+0300",
        "PT3H15M",
        "Сверка счетов за сентябрь: расхождения в 3 позициях",
    ),
    # Tempo writes 00:00 for a worklog logged without a time; it is booked as written.
    5: ("BILL-80", "2026-10-05T00:00:00.000+0300", "PT1H", "Weekly sync with Hartley & Sons"),
    6: (
        "INFRA-9",
        "2026-10-05T16:45:00.000+0300",
        "PT1H30M",
        "Обновление TLS-сертификатов на стенде",
    ),
    7: (
        "MOB-203",
        "2026-10-06T11:00:00.000+0300",
        "PT4H",
        "Экран онбординга:\n- вёрстка\n- анимации переходов",
    ),
    8: (
        "MOB-210",
        "2026-10-07T17:30:00.000+0300",
        "PT45M",
        'Regression pass on build "2.4.1", 2 bugs filed',
    ),
    9: (
        "INFRA-12",
        "2026-10-08T09:00:00.000+0300",
        "PT6H",
        "Настройка бэкапов PostgreSQL, проверка восстановления",
    ),
    10: ("BILL-81", "2026-10-09T13:20:00.000+0300", "PT2H30M", "VAT report export for Q3"),
    11: (
        "PORT-420",
        "2026-10-30T23:30:00.000+0300",
        "PT1H",
        "Ночной релиз 2.5: мониторинг после выкладки",
    ),
}


@pytest.mark.parametrize(
    "name", ["tempo_worklogs_en.csv", "tempo_worklogs_ru.csv", "tempo_worklogs_en.xlsx"]
)
def test_tempo_rows_book_the_exact_instants_and_durations(name: str) -> None:
    booked = read_bookings(
        PRESETS_DIR / "tempo" / name, input={"preset": "tempo", "timezone": "Europe/Moscow"}
    )
    assert {row: sent(r) for row, r in booked.items()} == EXPECTED


@pytest.mark.parametrize("name", ["tempo_worklogs_en.csv", "tempo_worklogs_ru.csv"])
def test_tempo_header_is_recognised_in_both_languages(name: str) -> None:
    booked = read_bookings(
        PRESETS_DIR / "tempo" / name, input={"preset": "auto", "timezone": "Europe/Moscow"}
    )
    assert sent(booked[2]) == EXPECTED[2]
    assert booked[2].author == "a.smirnova"  # type: ignore[union-attr]
