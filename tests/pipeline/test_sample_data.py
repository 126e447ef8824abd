"""The bundled sample: the CSV and the XLSX book exactly the same month."""

from __future__ import annotations

from importer.config import load_settings
from importer.models import Invalid, Worklog
from importer.normalize import Normalizer
from importer.read.tables import open_table
from tests.helpers import ROOT

SAMPLE = ROOT / "sample_data"


def _normalised(name: str) -> list[tuple[int, object]]:
    settings = load_settings(SAMPLE / "config.toml")
    normalizer = Normalizer(settings)
    table = open_table(SAMPLE / name, settings.input)
    return [(row.row, normalizer.normalize(row)) for row in table.rows()]


def test_csv_and_xlsx_samples_book_the_same_worklogs() -> None:
    from_csv = _normalised("timesheet-2026-10.csv")
    from_xlsx = _normalised("timesheet-2026-10.xlsx")
    assert len(from_csv) == len(from_xlsx) == 335
    csv_worklogs = [(row, result) for row, result in from_csv if isinstance(result, Worklog)]
    xlsx_worklogs = [(row, result) for row, result in from_xlsx if isinstance(result, Worklog)]
    assert len(csv_worklogs) == 328
    assert csv_worklogs == xlsx_worklogs


def test_the_sample_holds_seven_broken_rows_with_reasons() -> None:
    invalid = [
        (row, result)
        for row, result in _normalised("timesheet-2026-10.csv")
        if isinstance(result, Invalid)
    ]
    assert [(row, result.column) for row, result in invalid] == [
        (19, "Задача"),
        (47, "Часы"),
        (90, "Дата"),
        (132, "Часы"),
        (173, "Задача"),
        (224, "Часы"),
        (262, "Начало"),
    ]
