"""The month through a real dry run: the summary JSON's grid is the file's hours per person
and day, and a crafted month's findings are where they were put and nowhere else."""

from __future__ import annotations

import collections
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.pipeline import RunOptions, run_import
from tests.helpers import HEADER, make_settings, read_report


def month(
    extra: list[list[str]] | None = None, skip: tuple[str, int] | None = None
) -> list[list[str]]:
    """Two people, every working day of October 2026, 4 + 4 hours that do not touch."""
    rows = [HEADER]
    day = dt.date(2026, 10, 1)
    while day.month == 10:
        for person in ("a.smirnova", "i.petrov"):
            if day.isoweekday() < 6 and (person, day.day) != skip:
                for start in ("09:00", "13:00"):
                    rows.append(["PORT-1", day.strftime("%d.%m.%Y"), start, "4", "work", person])
        day += dt.timedelta(days=1)
    return rows + (extra or [])


def dry_run(
    path: Path, tmp_path: Path, **month: object
) -> tuple[dict[str, object], list[dict[str, str]]]:
    settings = make_settings(month=month) if month else make_settings()
    options = RunOptions(
        [path], settings, dry_run=True, batch="2026-10", report_path=tmp_path / "plan.csv"
    )
    summary = run_import(options)
    written = json.loads((tmp_path / "plan.summary.json").read_text(encoding="utf-8"))
    assert written["month"] == summary.month
    return written, read_report(tmp_path / "plan.csv")


def test_a_clean_month_shows_nothing_and_its_grid_is_the_file(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month()
    summary, report = dry_run(write_csv(rows), tmp_path)
    found = summary["month"]
    assert isinstance(found, dict)
    assert found["marks"] == {"over": {}, "empty": {}}
    assert found["found"] == {"overlaps": 0, "over_day": 0, "outside_month": 0, "empty_days": 0}
    assert not any(line["warning"] for line in report)
    hours: collections.Counter[tuple[str, str]] = collections.Counter()
    for _, date, _, length, _, person in rows[1:]:
        day = dt.datetime.strptime(date, "%d.%m.%Y").date().isoformat()
        hours[person, day] += float(length)
    grid = {(p, d): h for p, days in found["grid"].items() for d, h in days.items()}
    assert grid == dict(hours)


def test_a_crafted_month_shows_its_faults_where_they_are_and_only_there(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    extra = [
        ["PORT-1", "05.10.2026", "13:30", "0,5", "overlaps the afternoon", "a.smirnova"],
        ["PORT-1", "06.10.2026", "18:00", "5", "a long day", "i.petrov"],
        ["PORT-1", "02.11.2026", "09:00", "1", "next month", "a.smirnova"],
    ]
    rows = month(extra, skip=("i.petrov", 14))
    path = write_csv(rows)
    summary, report = dry_run(path, tmp_path)
    found = summary["month"]
    assert isinstance(found, dict)
    assert found["marks"] == {
        "over": {"i.petrov": ["2026-10-06"]},
        "empty": {"i.petrov": ["2026-10-14"]},
    }
    warned = {line["row"]: line["warning"] for line in report if line["warning"]}
    afternoon = next(
        str(n + 2) for n, r in enumerate(rows[1:])
        if r[5] == "a.smirnova" and r[1] == "05.10.2026" and r[2] == "13:00"
    )  # fmt: skip
    long_day = [
        str(n + 2) for n, r in enumerate(rows[1:]) if r[5] == "i.petrov" and r[1] == "06.10.2026"
    ]
    overlap, outside = str(len(rows) - 2), str(len(rows))
    assert set(warned) == {afternoon, overlap, outside, *long_day}
    assert warned[overlap] == f"overlaps {path}:{afternoon} (13:00–17:00) of the same person"
    assert warned[afternoon] == f"overlaps {path}:{overlap} (13:30–14:00) of the same person"
    assert warned[outside] == "dated 2026-11-02, outside 2026-10, the month the batch names"
    assert all("i.petrov books 13 h on 2026-10-06" in warned[n] for n in long_day)
    assert found["found"] == {"overlaps": 2, "over_day": 3, "outside_month": 1, "empty_days": 1}


def test_a_check_made_invalid_keeps_its_rows_from_being_booked(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    extra = [["PORT-1", "05.10.2026", "13:30", "0,5", "overlaps the afternoon", "a.smirnova"]]
    summary, report = dry_run(write_csv(month(extra)), tmp_path, overlaps="invalid")
    refused = [line for line in report if line["status"] == "invalid"]
    assert len(refused) == 2 and all(line["error"].startswith("overlaps ") for line in refused)
    assert summary["counts"]["invalid"] == 2  # type: ignore[index]


def test_the_dry_run_prints_the_marked_days(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from importer.cli import main
    from tests.helpers import CONFIG_TOML

    for name in ("TRACKER_TOKEN", "TRACKER_ORG_ID", "TRACKER_CLOUD_ORG_ID"):
        monkeypatch.delenv(name, raising=False)
    extra = [
        ["PORT-1", "05.10.2026", "13:30", "0,5", "overlaps the afternoon", "a.smirnova"],
        ["PORT-1", "06.10.2026", "18:00", "5", "a long day", "i.petrov"],
    ]
    path = write_csv(month(extra, skip=("i.petrov", 14)), name="2026-10.csv")
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    report = tmp_path / "plan.csv"
    result = CliRunner().invoke(
        main, ["run", str(path), "-c", str(config), "--dry-run", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        "month 2026-10-01 … 2026-10-31 (the batch's month): 22 working days, 2 people, "
        "overlapping rows: 2, rows on days past 12 h: 3"
    ) in lines
    assert "  i.petrov: past 12 h on 10-06" in lines
    assert "  i.petrov: no hours on 10-14" in lines
    assert any(line.startswith("issues (and import-mode authors) not looked up") for line in lines)
