"""Merged per day: a timer export booked one worklog per row, and one per person, issue and day.

A Toggl-like month: 100,000 start/stop entries, 12 a person a working day, over three issues,
a few seconds to an hour each. Booked twice against the sandbox (its own process) at the
same rate limit, once as it is and once with ``merge.per = "day"``: POSTs, wall time, and
whether the hours per person are the same.

    .venv/bin/python bench/merge.py [--rows 100000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from importer.config import parse_settings
from importer.log import configure_logging
from importer.pipeline import RunOptions, run_import
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN
from importer.testing import sandbox_process

PER_DAY = 12  # timer entries a person a working day
ISSUES = ("PORT-1", "PORT-2", "OPS-3")


def timer_month(path: Path, rows: int) -> Path:
    days = [dt.date(2026, 10, d) for d in range(1, 32) if dt.date(2026, 10, d).weekday() < 5]
    people = -(-rows // (PER_DAY * len(days)))
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Issue", "Date", "Start", "Duration", "Comment", "Author"])
        for person in range(people):
            for day in days:
                clock = 8 * 3600 + (person % 60) * 30
                for n in range(PER_DAY):
                    if written == rows:
                        return path
                    seconds = [40, 300, 900, 1800, 3600, 45][(person + n) % 6]  # none under 30 s
                    start = f"{clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d}"
                    length = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
                    issue = ISSUES[(n // 4 + person) % len(ISSUES)]
                    out.writerow([issue, day.strftime("%d.%m.%Y"), start, length,
                                  f"task {n % 5}", f"user{person}"])  # fmt: skip
                    clock += seconds + 30
                    written += 1
    return path


def file_hours(path: Path) -> dict[str, float]:
    seconds: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            h, m, s = map(int, row["Duration"].split(":"))
            seconds[row["Author"]] = seconds.get(row["Author"], 0) + h * 3600 + m * 60 + s
    return {person: total / 3600 for person, total in seconds.items()}


def book(path: Path, rate: float, merged: bool, folder: Path) -> dict[str, Any]:
    settings = parse_settings({
        "columns": {"issue": "Issue", "date": "Date", "time": "Start", "duration": "Duration",
                    "comment": "Comment", "author": "Author"},
        "input": {"timezone": "Europe/Moscow", "max_day_hours": 24},
        "delivery": {"rate_limit": rate, "concurrency": 64},
        "merge": {"per": "day" if merged else "off"},
        "month": {"empty_days": "off"},
    })  # fmt: skip
    with sandbox_process("--rate-limit", str(rate)) as url:
        env = {"TRACKER_TOKEN": DEFAULT_TOKEN, "TRACKER_ORG_ID": DEFAULT_ORG_ID,
               "TRACKER_BASE_URL": url}  # fmt: skip
        started = time.monotonic()
        summary = run_import(RunOptions(
            [path], settings, report_path=folder / f"report-{merged}.csv",
            state_path=folder / f"journal-{merged}.sqlite", environ=env))  # fmt: skip
        wall = time.monotonic() - started
        with urllib.request.urlopen(f"{url}/_sandbox/stats") as answer:
            routes = json.load(answer)["routes"]
    return {
        "merged": merged,
        "rows_created": summary.counts["created"],
        "posts": routes.get("POST /v2/issues/{key}/worklog", 0),
        "wall_seconds": round(wall, 1),
        "exit_code": int(summary.exit_code),
        "hours_by_person": summary.hours_by_author,
        "groups": (summary.merge or {}).get("groups"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    configure_logging("console", level=40)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = timer_month(folder / "toggl-2026-10.csv", args.rows)
        plain = book(path, args.rate, False, folder)
        merged = book(path, args.rate, True, folder)
        in_file = file_hours(path)
    merged_hours, plain_hours = merged.pop("hours_by_person"), plain.pop("hours_by_person")
    same = all(abs(merged_hours.get(p, 0) - h) < 1e-3 for p, h in in_file.items())
    plain_off = round(sum(plain_hours.values()) - sum(in_file.values()), 2)
    found = {
        "rows": args.rows,
        "rate": args.rate,
        "plain": plain,
        "merged": merged,
        "merged_hours_equal_the_files": same,
        "plain_hours_off_by_rounding_each_row": plain_off,
        "posts_ratio": round(plain["posts"] / max(1, merged["posts"]), 2),
        "wall_ratio": round(plain["wall_seconds"] / merged["wall_seconds"], 2),
    }
    print(json.dumps(found))


if __name__ == "__main__":
    main()
