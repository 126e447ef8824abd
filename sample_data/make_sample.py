"""Regenerate the bundled sample month (deterministic): ``python sample_data/make_sample.py``.

A hand-made Russian timesheet for October 2026: five people, three queues, ``;``-separated
CSV with decimal commas, and the same rows as an XLSX with real date and number cells.
A few rows are broken on purpose, so the report has something to show.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).parent
HEADER = ["Сотрудник", "Задача", "Дата", "Начало", "Часы", "Комментарий"]
PEOPLE = ["a.smirnova", "i.petrov", "m.kuznetsova", "d.volkov", "o.sokolova"]
ISSUES = {
    "PORT-412": "Исправление входа по SSO",
    "PORT-415": "Экспорт отчётов в XLSX",
    "PORT-431": "Ревью платёжного модуля",
    "BILL-77": "Сверка счетов за сентябрь",
    "BILL-81": "Миграция тарифов",
    "OPS-1203": "Дежурство",
    "OPS-1210": "Обновление кластера PostgreSQL",
}
WORK = ["разработка", "ревью", "созвон с заказчиком", "тесты", "документация", "исправления"]
# (position in the row list, column, value): the rows a person would have to fix.
BROKEN = [
    (17, "Задача", "PORT412"),
    (45, "Часы", "полтора"),
    (88, "Дата", "31.09.2026"),
    (130, "Часы", "0"),
    (171, "Задача", ""),
    (222, "Часы", "30"),
    (260, "Начало", "25:10"),
]


def _hours_text(hours: float) -> str:
    return f"{hours:g}".replace(".", ",")


def build_rows() -> list[dict[str, object]]:
    rng = random.Random(2026)
    rows: list[dict[str, object]] = []
    day = dt.date(2026, 10, 1)
    while day.month == 10:
        if day.weekday() < 5:
            for person in PEOPLE:
                start = dt.datetime.combine(day, dt.time(9, rng.choice([0, 15, 30])))
                for _ in range(rng.choice([2, 3, 3, 4])):
                    issue = rng.choice(list(ISSUES))
                    hours = rng.choice([0.5, 1, 1.25, 1.5, 2, 2.5, 3])
                    rows.append(
                        {
                            "Сотрудник": person,
                            "Задача": issue,
                            "Дата": day,
                            "Начало": start.time(),
                            "Часы": hours,
                            "Комментарий": f"{ISSUES[issue]}: {rng.choice(WORK)}",
                        }
                    )
                    start += dt.timedelta(hours=hours, minutes=rng.choice([0, 15]))
        day += dt.timedelta(days=1)
    for position, column, value in BROKEN:
        rows[position][column] = value
    return rows


def write_csv(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for row in rows:
            cells = []
            for name in HEADER:
                value = row[name]
                if isinstance(value, dt.date):
                    value = value.strftime("%d.%m.%Y")
                elif isinstance(value, dt.time):
                    value = value.strftime("%H:%M")
                elif isinstance(value, float | int):
                    value = _hours_text(value)
                cells.append(value)
            writer.writerow(cells)


def write_xlsx(rows: list[dict[str, object]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Октябрь"
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row[name] for name in HEADER])
        sheet.cell(sheet.max_row, 3).number_format = "DD.MM.YYYY"
        sheet.cell(sheet.max_row, 4).number_format = "HH:MM"
    book.save(path)


if __name__ == "__main__":
    rows = build_rows()
    write_csv(rows, HERE / "timesheet-2026-10.csv")
    write_xlsx(rows, HERE / "timesheet-2026-10.xlsx")
    print(f"{len(rows)} rows, {len(BROKEN)} broken on purpose")
