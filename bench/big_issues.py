"""P6: big issues — what the requests that are not worklog writes cost, whatever issues hold.

2,000 rows over 20 issues, each issue already holding N worklogs other people booked long
ago; 3 % of POSTs are stored and then lose their answer. Paced at a configured rate, with
the stock commit horizon (60 s) unless told otherwise. Counts the requests by route (from
the sandbox), the overhead share (requests that are not worklog POSTs, per POST), the wall
time, when the first POST left the client, and how often the sandbox stores each row.

    .venv/bin/python bench/big_issues.py [--rows 2000] [--others 10000] [--rate 1000]
                                         [--drop 0.03] [--horizon 60] [--no-precheck]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from observe import departures, stored_rows

from importer.config import DeliverySection, parse_settings
from importer.log import configure_logging
from importer.pipeline import RunOptions, run_import
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN
from importer.testing import sandbox_process

POST = "POST /v2/issues/{key}/worklog"


def rows_file(folder: Path, count: int) -> Path:
    path = folder / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Issue", "Date", "Start", "Hours", "Comment"])
        for n in range(count):
            day = dt.date(2026, 10, 1) + dt.timedelta(days=n % 28)
            writer.writerow([f"BIG-{1 + n % 20}", day.isoformat(), "09:00", "1", f"row {n}"])
    return path


def once(
    rows: int,
    others: int,
    rate: float,
    precheck: bool,
    folder: Path,
    drop: float = 0.03,
    horizon: float = DeliverySection.commit_horizon,
) -> dict[str, Any]:
    settings = parse_settings({
        "columns": {"issue": "Issue", "date": "Date", "time": "Start", "duration": "Hours",
                    "comment": "Comment"},
        "input": {"max_day_hours": 100000, "timezone": "Europe/Moscow"},
        "delivery": {"rate_limit": rate, "concurrency": 64, "commit_horizon": horizon,
                     "precheck": precheck},
    })  # fmt: skip
    flags = ("--others-per-issue", str(others), "--p-created-then-drop", str(drop), "--seed", "6")
    with sandbox_process(*flags) as url, departures() as left:
        env = {"TRACKER_TOKEN": DEFAULT_TOKEN, "TRACKER_ORG_ID": DEFAULT_ORG_ID,
               "TRACKER_BASE_URL": url}  # fmt: skip
        started = time.monotonic()
        summary = run_import(RunOptions(
            [rows_file(folder, rows)], settings, report_path=folder / "report.csv",
            state_path=folder / f"j{time.monotonic_ns()}.sqlite", environ=env))  # fmt: skip
        wall = time.monotonic() - started
        with urllib.request.urlopen(f"{url}/_sandbox/stats") as answer:
            stats = json.load(answer)
        stored = stored_rows(url)
    routes = stats["routes"]
    posts = routes.get(POST, 0)
    return {
        "others_per_issue": others,
        "rate": rate,
        "commit_horizon": horizon,
        "precheck": precheck,
        "created": summary.counts["created"],
        "exit_code": int(summary.exit_code),
        "requests": stats["requests"],
        "by_route": routes,
        "overhead": round((stats["requests"] - posts) / max(1, posts), 4),
        "dropped": stats["faults"].get("created_then_drop", 0),
        "dropped_share": drop,
        "wall_seconds": round(wall, 2),
        "first_post_after_s": left.first_post_after(started),
        "stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--others", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--drop", type=float, default=0.03, help="share of answers dropped")
    parser.add_argument("--horizon", type=float, default=DeliverySection.commit_horizon,
                        help="delivery.commit_horizon, seconds")  # fmt: skip
    parser.add_argument("--no-precheck", action="store_true")
    args = parser.parse_args()
    level = int(os.environ.get("LOGLEVEL", "40"))  # 20: see the searches and waits
    configure_logging("json", level=level, stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        found = once(args.rows, args.others, args.rate, not args.no_precheck, Path(tmp),
                     args.drop, args.horizon)  # fmt: skip
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
