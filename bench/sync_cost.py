"""What a ``--sync`` of a corrected month costs: requests by kind, and wall time.

A 10,000-row month (50 issues) is imported into a sandbox in its own process; then a corrected
export in which 100 rows changed (50 hours, 20 comments, 20 removed, 10 added) is synced. The
sync should send writes only for the changed rows and read in proportion to the changes, not
to the month. Run twice: with the pre-check (the default) and without it.

    .venv/bin/python bench/sync_cost.py           # prints JSON
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from importer.config import parse_settings
from importer.log import configure_logging
from importer.pipeline import RunOptions, run_import
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN
from importer.testing import sandbox_process

COLUMNS = {"issue": "Issue", "date": "Date", "time": "Start", "duration": "Hours",
           "comment": "Comment", "author": "Author"}  # fmt: skip


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_sandbox/stats") as answer:
        return json.load(answer)  # type: ignore[no-any-return]


def month(count: int) -> list[list[str]]:
    rows = [list(COLUMNS.values())]
    for n in range(count):
        day = dt.date(2026, 10, 1) + dt.timedelta(days=n % 28)
        start = dt.datetime(2026, 1, 1, 0, 0) + dt.timedelta(minutes=5 * (n // 28))
        rows.append([f"SYNC-{1 + n % 50}", day.isoformat(), start.strftime("%H:%M"),
                     "1,5", f"row {n}", ["anna", "ivan", "maria"][n % 3]])  # fmt: skip
    return rows


def corrected(rows: list[list[str]]) -> list[list[str]]:
    body = [list(r) for r in rows[1:]]
    picked = random.Random(1).sample(range(len(body)), 90)
    for i in picked[:50]:
        body[i][3] = "2"
    for i in picked[50:70]:
        body[i][4] += " (fixed)"
    removed = set(picked[70:90])
    added = month(len(body) + 10)[1 + len(body) :]
    return [rows[0], *[r for i, r in enumerate(body) if i not in removed], *added]


def write(rows: list[list[str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def once(precheck: bool, folder: Path) -> dict[str, Any]:
    settings = parse_settings({
        "columns": COLUMNS,
        "input": {"max_day_hours": 100000, "allow_future": True, "timezone": "Europe/Moscow"},
        "delivery": {"rate_limit": 1000.0, "concurrency": 16},
    })  # fmt: skip
    with sandbox_process() as url:
        env = {"TRACKER_TOKEN": DEFAULT_TOKEN, "TRACKER_ORG_ID": DEFAULT_ORG_ID,
               "TRACKER_BASE_URL": url}  # fmt: skip
        common = {"settings": settings, "environ": env, "state_path": folder / f"j{precheck}",
                  "batch": "october", "precheck": precheck}  # fmt: skip
        rows = month(10_000)
        first = run_import(RunOptions(files=[write(rows, folder / "october.csv")],
                                      report_path=folder / "first.csv", **common))  # fmt: skip
        assert first.exit_code == 0, first.stopped
        before = Counter(stats(url)["routes"])
        path = write(corrected(rows), folder / "october.csv")
        started = time.perf_counter()
        summary = run_import(RunOptions(files=[path], report_path=folder / "sync.csv",
                                        sync=True, **common))  # fmt: skip
        wall = time.perf_counter() - started
        spent = Counter(stats(url)["routes"])
        spent.subtract(before)
    return {
        "precheck": precheck,
        "wall_s": round(wall, 2),
        "counts": {k: v for k, v in summary.counts.items() if v},
        "requests": summary.requests,
        "by_route": {k: v for k, v in sorted(spent.items()) if v},
    }


def main() -> None:
    configure_logging("json", level=40, stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        found = [once(precheck, Path(tmp)) for precheck in (True, False)]
    print(json.dumps(found, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
