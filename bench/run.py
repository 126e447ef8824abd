"""`make bench`: the importer against the physical limits and against the official client.

Each scenario starts `worklog-import sandbox` in its own process with the knobs it needs and
measures, side by side:

  P1 rate-bound     5,000 rows, server limit 200/s, 50 ms latency: at the limit and above it
  P2 latency-bound  2,000 rows, 100 ms latency: ours vs a loop over the official client
  P3 CPU-bound      20,000 rows, no latency: ours vs the official client, rows/s
  P4 files          --dry-run on a 1,000,000-row CSV and a 100,000-row XLSX (bench/files.py)
  P5 fault tax      P1's shape with 20 % 503 and 5 % 429, against P1 without faults and
                    against its floor (its requests at the limit); every row stored once
  P6 big issues     2,000 rows into 20 issues of 10,000 others' worklogs each, at 1000/s and
                    10/s: 3 % of answers dropped beside a clean run, with the stock 60 s
                    commit horizon (bench/big_issues.py)
  P7 limiter shapes P1 at the limit against a token bucket of R and of R/10, a fixed and a
                    sliding second; beside each, an even control sender (bench/control.py)
  P8 the service    `serve --sandbox` planning a 1,000,000-row CSV uploaded as a dry run,
                    /api/health polled every 50 ms meanwhile (bench/service.py)

    .venv/bin/python bench/run.py            # everything, writes docs/benchmarks.md
    .venv/bin/python bench/run.py --smoke    # tiny sizes, prints JSON, writes nothing
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

# Siblings in bench/: a script's own folder is on sys.path.
import big_issues
import control
import files
import service
from observe import departures, stored_rows

from importer.config import DeliverySection, parse_settings
from importer.log import configure_logging
from importer.pipeline import RunOptions, run_import
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, busiest_second
from importer.testing import sandbox_process

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_sandbox/stats") as answer:
        return json.load(answer)  # type: ignore[no-any-return]


def rows_file(folder: Path, count: int) -> Path:
    path = folder / f"rows-{count}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Issue", "Date", "Start", "Hours", "Comment"])
        day = dt.date(2026, 10, 1)
        for n in range(count):
            date = day + dt.timedelta(days=n % 28)
            writer.writerow([f"BENCH-{1 + n % 50}", date.isoformat(), "09:00", "1,5", f"row {n}"])
    return path


def ours(url: str, rows: Path, folder: Path, *, rate: float, concurrency: int) -> dict[str, Any]:
    """Import ``rows`` with this importer; wall time, requests, the client's own pace, when
    its first worklog POST left, and how often the sandbox stores each row."""
    settings = parse_settings(
        {
            "columns": {
                "issue": "Issue", "date": "Date", "time": "Start", "duration": "Hours",
                "comment": "Comment",
            },
            "input": {"max_day_hours": 100000, "timezone": "Europe/Moscow"},
            "delivery": {"rate_limit": rate, "concurrency": concurrency},
        }
    )  # fmt: skip
    env = {
        "TRACKER_TOKEN": DEFAULT_TOKEN,
        "TRACKER_ORG_ID": DEFAULT_ORG_ID,
        "TRACKER_BASE_URL": url,
    }
    with departures() as left:
        started = time.monotonic()
        summary = run_import(
            RunOptions(
                [rows],
                settings,
                report_path=folder / "report.csv",
                state_path=folder / f"journal-{time.monotonic_ns()}.sqlite",
                environ=env,
            )
        )
        wall = time.monotonic() - started
    served = stats(url)
    return {
        "wall_seconds": round(wall, 2),
        "created": summary.counts["created"],
        "requests": summary.requests,
        "retries": summary.retries,
        "served_429": served["served_429"],
        "busiest_second_sent": busiest_second(left.sent),
        "busiest_second_arrived": served["busiest_second"],
        "rows_per_second": round(summary.counts["created"] / wall, 1),
        "first_post_after_s": left.first_post_after(started),
        "stored": stored_rows(url),
    }


def official(url: str, count: int) -> dict[str, Any]:
    """What a user would otherwise run: one issue.worklog.create(...) after another."""
    from yandex_tracker_client import TrackerClient

    client = TrackerClient(token=DEFAULT_TOKEN, org_id=DEFAULT_ORG_ID, base_url=url)
    issues: dict[str, Any] = {}
    day = dt.date(2026, 10, 1)
    started = time.perf_counter()
    for n in range(count):
        key = f"BENCH-{1 + n % 50}"
        if key not in issues:  # generous: each issue is fetched once, not per row
            issues[key] = client.issues[key]
        date = day + dt.timedelta(days=n % 28)
        issues[key].worklog.create(
            start=f"{date.isoformat()}T09:00:00.000+0300", duration="PT1H30M", comment=f"row {n}"
        )
    wall = time.perf_counter() - started
    return {"wall_seconds": round(wall, 2), "rows_per_second": round(count / wall, 1)}


def has_official_client() -> bool:
    try:
        import yandex_tracker_client  # noqa: F401
    except ImportError:
        return False
    return True


SHAPES = ("bucket", "small-bucket", "fixed", "sliding")
# The importer's own headers: the control sender is refused or let through as it would be.
HEADERS = {"Authorization": f"OAuth {DEFAULT_TOKEN}", "X-Org-ID": DEFAULT_ORG_ID}


def shape_flags(shape: str, limit: int) -> tuple[str, ...]:
    """The sandbox's flags for a limiter shape; a small bucket holds a tenth of the limit."""
    if shape == "small-bucket":
        return ("--limiter", "bucket", "--bucket-size", str(limit // 10))
    return ("--limiter", shape)


def limiter_shapes(rows: Path, folder: Path, limit: int, latency: str) -> dict[str, Any]:
    """P7: P1 at the limit against each shape a gateway may count the limit in; beside each,
    the control sender against a fresh sandbox of the same shape."""
    found: dict[str, Any] = {}
    for shape in SHAPES:
        counting = shape_flags(shape, limit)
        flags = ("--rate-limit", str(limit), "--latency", latency, *counting)
        with sandbox_process(*flags) as url:
            run = ours(url, rows, folder, rate=limit, concurrency=128)
        floor = run["requests"] / limit
        run["fraction_of_limit"] = round(floor / run["wall_seconds"], 3)
        run["share_429"] = round(run["served_429"] / max(1, run["requests"]), 4)
        with sandbox_process(*flags) as url:
            run["control"] = control.send_evenly(url, run["requests"], limit, HEADERS)
        run["sandbox_flags"] = list(counting)
        found[shape] = run
    return found


def lost_answers(faults: dict[str, Any], clean: dict[str, Any]) -> dict[str, Any]:
    """A P6 run with dropped answers beside the same run clean: what the lost answers cost.
    Allowed: 3 s or 3 % of the clean run, whichever is more (3 s at 1000/s, 3 % at 10/s)."""
    dropped, whole = faults["wall_seconds"], clean["wall_seconds"]
    return {
        "rate": faults["rate"],
        "commit_horizon": faults["commit_horizon"],
        "faults": faults,
        "clean": clean,
        "extra_seconds": round(dropped - whole, 2),
        "wall_ratio": round(dropped / whole, 3),
        "allowed_seconds": round(max(whole + 3, whole * 1.03), 2),
    }


def big_issues_runs(sizes: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """P6: 20 issues that already hold many others' worklogs, at a high and at a real
    organisation's rate: 3 % of answers dropped beside a clean run."""
    rows, others, horizon = sizes["p6"], sizes["p6_others"], sizes["p6_horizon"]
    return [
        lost_answers(
            big_issues.once(rows, others, rate, True, folder, drop=0.03, horizon=horizon),
            big_issues.once(rows, others, rate, True, folder, drop=0.0, horizon=horizon),
        )
        for rate in (sizes["p6_fast"], sizes["p6_slow"])
    ]


def scenarios(sizes: dict[str, Any], folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    limit, latency = sizes["limit"], "0.05"
    p1_rows = rows_file(folder, sizes["p1"])
    with sandbox_process("--rate-limit", str(limit), "--latency", latency) as url:
        at = ours(url, p1_rows, folder, rate=limit, concurrency=128)
    at["floor_seconds"] = round(at["requests"] / limit, 2)
    at["fraction_of_limit"] = round(at["floor_seconds"] / at["wall_seconds"], 3)
    with sandbox_process("--rate-limit", str(limit), "--latency", latency) as url:
        above = ours(url, p1_rows, folder, rate=limit * 1.5, concurrency=128)
    above["floor_seconds"] = round(above["requests"] / limit, 2)
    above["fraction_of_limit"] = round(sizes["p1"] / limit / above["wall_seconds"], 3)
    results["P1"] = {"rows": sizes["p1"], "limit": limit, "at_limit": at, "above_limit": above}

    p2_rows = rows_file(folder, sizes["p2"])
    with sandbox_process("--latency", "0.1") as url:
        mine = ours(url, p2_rows, folder, rate=100000, concurrency=128)
    p2: dict[str, Any] = {"rows": sizes["p2"], "ours": mine}
    if has_official_client():
        with sandbox_process("--latency", "0.1") as url:
            p2["official"] = official(url, sizes["p2"])
        p2["speedup"] = round(p2["official"]["wall_seconds"] / mine["wall_seconds"], 1)
    results["P2"] = p2

    p3_rows = rows_file(folder, sizes["p3"])
    with sandbox_process() as url:
        mine = ours(url, p3_rows, folder, rate=100000, concurrency=32)
    p3: dict[str, Any] = {"rows": sizes["p3"], "ours": mine}
    if has_official_client():
        with sandbox_process() as url:
            p3["official"] = official(url, sizes["p3"])
        p3["speedup"] = round(mine["rows_per_second"] / p3["official"]["rows_per_second"], 1)
    results["P3"] = p3

    if sizes["p4_csv"]:
        results["P4"] = [
            files.dry_run(files.make_csv(sizes["p4_csv"])),
            files.dry_run(files.make_xlsx(sizes["p4_xlsx"])),
        ]

    if sizes["p4_csv"]:
        results["P8"] = service.measure(sizes["p4_csv"])

    results["P7"] = limiter_shapes(p1_rows, folder, limit, latency)
    results["P6"] = big_issues_runs(sizes, folder)

    with sandbox_process("--rate-limit", str(limit), "--latency", latency, "--p-503", "0.2",
                 "--p-429", "0.05", "--seed", "5") as url:  # fmt: skip
        faulty = ours(url, p1_rows, folder, rate=limit, concurrency=128)
    floor = faulty["requests"] / limit
    faulty["floor_seconds"] = round(floor, 2)
    results["P5"] = {
        "rows": sizes["p1"],
        "limit": limit,
        "faults": faulty,
        "clean": at,
        "tax": round(faulty["wall_seconds"] / at["wall_seconds"], 2),
        "of_floor": round(faulty["wall_seconds"] / floor, 3),
    }
    return results


def p8_line(entry: dict[str, Any]) -> str:
    """The service's health check while a job plans a big file, as the client measured it."""
    good = entry["health_p99_ms"] <= 100
    return (
        f"| P8 the service planning {entry['rows']} rows | job {entry['job_seconds']} s; "
        f"/api/health over {entry['polls']} polls: p50 {entry['health_p50_ms']} ms, "
        f"**p99 {entry['health_p99_ms']} ms**, max {entry['health_max_ms']} ms | p99 ≤ 100 ms "
        f"| {verdict(good)} |"
    )


def verdict(good: bool) -> str:
    return "met" if good else "missed"


def started_quickly(run: dict[str, Any], most: float) -> bool:
    """The run's first worklog POST left the client within ``most`` seconds of its start."""
    return run["first_post_after_s"] is not None and run["first_post_after_s"] <= most


def p1_lines(p1: dict[str, Any]) -> list[str]:
    at, above = p1["at_limit"], p1["above_limit"]
    good = at["fraction_of_limit"] >= 0.97 and at["served_429"] == 0 and started_quickly(at, 0.5)
    return [
        f"| P1 rate-bound, at the limit | {p1['rows']} rows at {p1['limit']}/s: "
        f"{at['wall_seconds']} s vs floor {at['floor_seconds']} s = "
        f"**{at['fraction_of_limit']}** of the limit; "
        f"429s {at['served_429']}; busiest second sent {at['busiest_second_sent']}, "
        f"arrived {at['busiest_second_arrived']}; first POST after {at['first_post_after_s']} s "
        f"| ≥ 0.97, 0 × 429, first POST ≤ 0.5 s | {verdict(good)} |",
        f"| P1 configured 1.5× above | {above['wall_seconds']} s ({above['fraction_of_limit']} "
        f"of the limit), 429s {above['served_429']}, retries {above['retries']} | adaptive | "
        "see below |",
    ]


def p4_line(entry: dict[str, Any]) -> str:
    """A dry run of a big file: its time, its memory, and (CSV) its multiple of what the
    csv module alone needs to read the same file, measured in the same run."""
    if "of_csv_module" not in entry:
        return (
            f"| P4 dry run, {entry['file']} | {entry['wall_seconds']} s, peak RSS "
            f"{entry['peak_rss_mb']} MB | ≤ 10 s | {verdict(entry['wall_seconds'] <= 10)} |"
        )
    good = entry["of_csv_module"] <= 25 and entry["peak_rss_mb"] <= 400
    return (
        f"| P4 dry run, {entry['file']} | {entry['wall_seconds']} s, peak RSS "
        f"{entry['peak_rss_mb']} MB; the csv module reads it in {entry['csv_module_seconds']} s: "
        f"**{entry['of_csv_module']}×** | ≤ 25× the csv module, ≤ 400 MB | {verdict(good)} |"
    )


def p5_lines(p5: dict[str, Any]) -> list[str]:
    faults, clean, stored = p5["faults"], p5["clean"], p5["faults"]["stored"]
    once = stored["once"] == p5["rows"] and stored["more_than_once"] == 0
    return [
        f"| P5 fault tax (20 % 503, 5 % 429) | {faults['wall_seconds']} s vs "
        f"{clean['wall_seconds']} s clean: **{p5['tax']}×**; retries {faults['retries']} "
        f"| ≤ 1.4× | {verdict(p5['tax'] <= 1.4)} |",
        f"| P5 against its floor | {faults['requests']} requests at {p5['limit']}/s: floor "
        f"{faults['floor_seconds']} s, run {faults['wall_seconds']} s: **{p5['of_floor']}×** "
        f"| ≤ 1.08× | {verdict(p5['of_floor'] <= 1.08)} |",
        f"| P5 first POST (the client's clock) | after {faults['first_post_after_s']} s "
        f"| ≤ 0.5 s | {verdict(started_quickly(faults, 0.5))} |",
        f"| P5 every row stored once (the sandbox's store) | {stored['once']} of {p5['rows']} "
        f"rows once, {stored['more_than_once']} more than once | each once | {verdict(once)} |",
    ]


def p6_line(pair: dict[str, Any]) -> str:
    faults, clean = pair["faults"], pair["clean"]
    twice = faults["stored"]["more_than_once"] + clean["stored"]["more_than_once"]
    good = (
        faults["wall_seconds"] <= pair["allowed_seconds"]
        and faults["overhead"] <= 0.06
        and clean["overhead"] <= 0.03
        and twice == 0
        and started_quickly(faults, 2)
        and started_quickly(clean, 2)
    )
    return (
        f"| P6 big issues ({faults['others_per_issue']} others' worklogs each), "
        f"{pair['rate']:g}/s, {faults['dropped_share']:.0%} of answers dropped vs clean, "
        f"commit horizon {pair['commit_horizon']:g} s | {faults['wall_seconds']} s vs "
        f"{clean['wall_seconds']} s clean (+{pair['extra_seconds']} s, "
        f"×{pair['wall_ratio']}); overhead **{faults['overhead']:.1%}** "
        f"({clean['overhead']:.1%} clean); {faults['dropped']} answers dropped, {twice} rows "
        f"stored more than once; first POST after {faults['first_post_after_s']} s "
        f"({clean['first_post_after_s']} s clean) | ≤ {pair['allowed_seconds']} s (clean + 3 s "
        "or × 1.03, the more), ≤ 6 % (3 % clean), no row twice, first POST ≤ 2 s | "
        f"{verdict(good)} |"
    )


def shape_verdict(run: dict[str, Any]) -> str:
    """Met, or missed — unless the even control sender drew 429s from the same shape too:
    then it is this machine's noise that shows, not the importer's pace."""
    if run["fraction_of_limit"] >= 0.97 and run["share_429"] <= 0.005:
        return "met"
    drawn = run["control"]["share_429"]
    if drawn > 0.005:
        return f"machine too noisy (control drew {drawn * 100:.2f} %)"
    return "missed"


def p7_line(shape: str, run: dict[str, Any]) -> str:
    control = run["control"]
    return (
        f"| P7 limiter shape `{shape}` at the limit (sandbox `{' '.join(run['sandbox_flags'])}`) "
        f"| importer {run['fraction_of_limit']} of the limit, {run['share_429']:.2%} answered "
        f"429; control sender {control['fraction_of_limit']}, {control['share_429']:.2%} "
        f"answered 429 | ≥ 0.97, ≤ 0.5 % | {shape_verdict(run)} |"
    )


def markdown(results: dict[str, Any], command: str) -> str:
    p2, p3 = results["P2"], results["P3"]
    lines = [
        START,
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; the sandbox runs in its "
        "own process. Reproduce with:",
        "",
        f"```sh\n{command}\n```",
        "",
        "| scenario | measured | target | |",
        "|---|---|---|---|",
        *p1_lines(results["P1"]),
    ]
    if "official" in p2:
        lines.append(
            f"| P2 latency-bound (100 ms) | ours {p2['ours']['wall_seconds']} s, official client "
            f"{p2['official']['wall_seconds']} s: **{p2['speedup']}×** | ≥ 10× | "
            f"{verdict(p2['speedup'] >= 10)} |"
        )
    if "official" in p3:
        lines.append(
            f"| P3 CPU-bound | ours {p3['ours']['rows_per_second']} rows/s, official client "
            f"{p3['official']['rows_per_second']} rows/s: **{p3['speedup']}×** | ≥ 3× | "
            f"{verdict(p3['speedup'] >= 3)} |"
        )
    for entry in results.get("P4", []):
        lines.append(p4_line(entry))
    if "P8" in results:
        lines.append(p8_line(results["P8"]))
    lines += p5_lines(results["P5"])
    lines += [p6_line(pair) for pair in results["P6"]]
    lines += [p7_line(shape, run) for shape, run in results["P7"].items()]
    lines += [
        "",
        "Raw results:",
        "",
        "```json",
        json.dumps(results, indent=1),
        "```",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; print JSON only")
    args = parser.parse_args()
    configure_logging("console", level=40)  # errors only: stdout carries the results
    # P6's horizon: the stock one, what a real run waits before it may conclude a write with
    # a lost answer absent; the smoke's short one keeps the code path and not the wait.
    sizes: dict[str, Any] = (
        {"p1": 60, "p2": 30, "p3": 60, "limit": 200, "p4_csv": 0, "p4_xlsx": 0, "p6": 60,
         "p6_others": 200, "p6_fast": 1000, "p6_slow": 200, "p6_horizon": 0.5}
        if args.smoke
        else {"p1": 5000, "p2": 2000, "p3": 20000, "limit": 200, "p4_csv": 1_000_000,
              "p4_xlsx": 100_000, "p6": 2000, "p6_others": 10000, "p6_fast": 1000, "p6_slow": 10,
              "p6_horizon": DeliverySection.commit_horizon}
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        results = scenarios(sizes, Path(tmp))
    print(json.dumps(results))
    if not args.smoke:
        section = markdown(results, ".venv/bin/python bench/run.py   # or: make bench")
        text = DOC.read_text(encoding="utf-8")
        if START in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip() + "\n\n## Latest `make bench`\n\n" + section + "\n"
        DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
