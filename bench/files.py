"""Reading at scale: `run --dry-run` on a 1,000,000-row CSV and a 100,000-row XLSX.

Generates the files once (cached under out/bench/), runs the real command in a child
process and reports wall time and peak RSS (from the child's rusage).

    .venv/bin/python bench/files.py --csv-rows 1000000 --xlsx-rows 100000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

OUT = Path("out/bench")
HEADER = ["Сотрудник", "Задача", "Дата", "Начало", "Часы", "Комментарий"]
CONFIG = """
[input]
timezone = "Europe/Moscow"
max_day_hours = 1000

[columns]
issue = "Задача"
date = "Дата"
time = "Начало"
duration = "Часы"
comment = "Комментарий"
author = "Сотрудник"
"""


def rows(count: int) -> list[object]:
    day = dt.date(2026, 10, 1)
    people = ["a.smirnova", "i.petrov", "m.kuznetsova", "d.volkov", "o.sokolova"]
    for n in range(count):
        date = day + dt.timedelta(days=n % 28)
        yield [
            people[n % 5],
            f"PORT-{1 + n % 400}",
            date.strftime("%d.%m.%Y"),
            f"{8 + n % 10:02d}:{(n * 7) % 60:02d}",
            ["0,5", "1", "1,25", "2", "7,5", "0:45"][n % 6],
            f"Задача {n}: разработка",
        ]


def make_csv(count: int) -> Path:
    path = OUT / f"rows-{count}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(HEADER)
            writer.writerows(rows(count))
    return path


def make_xlsx(count: int) -> Path:
    path = OUT / f"rows-{count}.xlsx"
    if not path.exists():
        from openpyxl import Workbook

        OUT.mkdir(parents=True, exist_ok=True)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Октябрь")
        sheet.append(HEADER)
        for row in rows(count):
            day = dt.datetime.strptime(str(row[2]), "%d.%m.%Y")
            hours = float(str(row[4]).replace(",", ".")) if ":" not in str(row[4]) else 0.75
            sheet.append([row[0], row[1], day, row[3], hours, row[5]])
        book.save(path)
    return path


def csv_module_read(path: Path) -> float:
    """Seconds Python's csv module takes to read the file (the floor a CSV reader shares),
    in a child process like the dry run's, best of three."""
    code = (
        "import csv, sys, time\n"
        "t = time.perf_counter()\n"
        "with open(sys.argv[1], encoding='utf-8-sig', newline='') as h:\n"
        "    for _ in csv.reader(h, delimiter=';'): pass\n"
        "print(time.perf_counter() - t)\n"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                             capture_output=True, text=True).stdout)
        for _ in range(3)
    ]  # fmt: skip
    return min(runs)


def dry_run(path: Path) -> dict[str, object]:
    config = OUT / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["XDG_STATE_HOME"] = str(OUT / "state")
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "importer", "run", str(path), "-c", str(config), "--dry-run",
         "--quiet", "--report", str(OUT / f"{path.stem}-plan.csv")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert child.stdout is not None
    output = child.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    if child.returncode not in (0, 1):
        raise SystemExit(f"{path}: exit {child.returncode}\n{output}")
    peak_kib = usage.ru_maxrss
    found: dict[str, object] = {
        "file": path.name,
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(peak_kib / 1024, 1),
    }
    if path.suffix == ".csv":  # the same file read by the csv module, in the same run
        floor = csv_module_read(path)
        found["csv_module_seconds"] = round(floor, 2)
        found["of_csv_module"] = round(wall / floor, 1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    args = parser.parse_args()
    results = []
    if args.csv_rows:
        results.append(dry_run(make_csv(args.csv_rows)))
    if args.xlsx_rows:
        results.append(dry_run(make_xlsx(args.xlsx_rows)))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
