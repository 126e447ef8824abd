"""What the journal costs per row: lookup, awaited 'sending' mark, 'created' mark.

Runs N rows through C concurrent workers doing exactly what delivery does around each POST
(with the POST replaced by a zero-time await), once against a journal file and once in
memory, and prints microseconds per row and how many transactions the group commit used.

    .venv/bin/python bench/journal_cost.py --rows 20000 --workers 16
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from importer.deliver import fingerprint
from importer.journal import Journal
from importer.models import Mode, Worklog

TARGET = "https://api.tracker.yandex.net|42"


def worklogs(count: int) -> list[Worklog]:
    start = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)
    return [
        Worklog(
            f"PORT-{n % 50 + 1}", start + dt.timedelta(minutes=n), dt.timedelta(hours=1), f"row {n}"
        )
        for n in range(count)
    ]


async def drive(journal: Journal, rows: list[Worklog], workers: int) -> float:
    queue: asyncio.Queue[Worklog | None] = asyncio.Queue()
    for row in rows:
        queue.put_nowait(row)
    for _ in range(workers):
        queue.put_nowait(None)

    async def worker() -> None:
        while (row := await queue.get()) is not None:
            fp = fingerprint(row, mode=Mode.CREATE, target=TARGET, occurrence=1)
            journal.lookup(fp)
            await journal.mark_sending(
                fp, row, target=TARGET, mode=Mode.CREATE, file="f.csv", row=2
            )
            await asyncio.sleep(0)  # the POST
            journal.mark_created(fp, "1")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    await journal.flush()
    return time.perf_counter() - started


def count_commits(journal: Journal) -> None:
    commits = {"n": 0}
    original = journal._commit

    def counting(batch: list) -> None:  # type: ignore[type-arg]
        commits["n"] += 1
        original(batch)

    journal._commit = counting  # type: ignore[method-assign]
    journal.commits = commits  # type: ignore[attr-defined]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    rows = worklogs(args.rows)
    results = {"rows": args.rows, "workers": args.workers, "sqlite": sqlite3.sqlite_version}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in (("file", Path(tmp) / "journal.sqlite"), ("memory", None)):
            journal = Journal.open(path)
            count_commits(journal)
            seconds = await drive(journal, rows, args.workers)
            results[f"{name}_us_per_row"] = round(seconds / args.rows * 1e6, 1)
            results[f"{name}_transactions"] = journal.commits["n"]  # type: ignore[attr-defined]
            journal.close()
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
