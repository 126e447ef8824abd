"""Rate-bound import: how close does a run get to the server's limit, and does it draw 429s?

Starts `worklog-import sandbox` in its own process with a rate limit and latency, imports N
generated rows at the configured rate, and prints one JSON line of measurements.

    .venv/bin/python bench/rate_bound.py --rows 2000 --limit 100 --latency 0.05
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from importer.config import parse_settings
from importer.log import configure_logging
from importer.run import RunOptions, run_import
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN


def write_rows(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Issue", "Date", "Start", "Hours", "Comment"])
        day = dt.date(2026, 10, 1)
        for n in range(count):
            date = day + dt.timedelta(days=n % 28)
            writer.writerow([f"BENCH-{1 + n % 50}", date.isoformat(), "09:00", "1,5", f"row {n}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--limit", type=float, default=100.0, help="server limit, requests/s")
    parser.add_argument("--rate", type=float, default=0.0, help="configured rate (default: limit)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    rate = args.rate or args.limit
    configure_logging("console")  # logs to stderr; stdout carries only the result line
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "importer",
            "sandbox",
            "--port",
            "0",
            "--rate-limit",
            str(args.limit),
            "--latency",
            str(args.latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = json.loads(server.stdout.readline())["base_url"]
        with tempfile.TemporaryDirectory() as tmp:
            rows = Path(tmp) / "rows.csv"
            write_rows(rows, args.rows)
            settings = parse_settings(
                {
                    "columns": {
                        "issue": "Issue",
                        "date": "Date",
                        "time": "Start",
                        "duration": "Hours",
                        "comment": "Comment",
                    },
                    "delivery": {"rate_limit": rate, "concurrency": args.concurrency},
                }
            )
            env = {
                "TRACKER_TOKEN": DEFAULT_TOKEN,
                "TRACKER_ORG_ID": DEFAULT_ORG_ID,
                "TRACKER_BASE_URL": base_url,
            }
            started = time.perf_counter()
            summary = run_import(
                RunOptions([rows], settings, report_path=Path(tmp) / "report.csv", environ=env)
            )
            wall = time.perf_counter() - started
        with urllib.request.urlopen(f"{base_url}/_sandbox/stats") as answer:
            stats = json.load(answer)
    finally:
        server.terminate()
        server.wait(timeout=10)
    floor = summary.requests / args.limit
    print(
        json.dumps(
            {
                "rows": args.rows,
                "server_limit": args.limit,
                "configured_rate": rate,
                "latency": args.latency,
                "concurrency": args.concurrency,
                "created": summary.counts["created"],
                "requests": summary.requests,
                "wall_seconds": round(wall, 2),
                "floor_seconds": round(floor, 2),
                "fraction_of_limit": round(floor / wall, 3),
                "served_429": stats["served_429"],
                "busiest_second": stats["busiest_second"],
            }
        )
    )


if __name__ == "__main__":
    main()
