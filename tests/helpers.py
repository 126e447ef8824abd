"""Shared helpers: run an import against a sandbox and read its report back."""

from __future__ import annotations

import csv
import datetime as dt
import json
import urllib.request
from pathlib import Path
from typing import Any

from importer.clock import Clock
from importer.config import Settings, parse_settings
from importer.pipeline import RunOptions, run_import_async
from importer.report import RunSummary
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, RunningSandbox

# The one column set of the tests: the config's [columns] and the header of test files.
COLUMNS = {
    "issue": "Issue",
    "date": "Date",
    "time": "Start",
    "duration": "Hours",
    "comment": "Comment",
    "author": "Author",
}
HEADER = list(COLUMNS.values())

# A config file for the standard test columns, for tests that run the command line.
CONFIG_TOML = (
    "[columns]\n"
    + "".join(f'{field} = "{header}"\n' for field, header in COLUMNS.items())
    + """
[input]
timezone = "Europe/Moscow"

[delivery]
rate_limit = 2000
max_attempts = 10
backoff_initial = 0.01
backoff_max = 0.1
commit_horizon = 0.5
"""
)


def make_settings(**sections: dict[str, object]) -> Settings:
    """Settings for the standard test columns, with sections overridden."""
    raw: dict[str, dict[str, object]] = {
        "columns": dict(COLUMNS),
        "input": {"timezone": "Europe/Moscow"},
    }
    # The sandbox stores a write before it drops the answer: a short horizon is safe there.
    # Delivery's tests count and shape their requests: the issue lookups before the first
    # POST (on by default) are tested on their own, and turned on by the tests that want them.
    raw["delivery"] = {
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "rate_limit": 10_000.0,
        "commit_horizon": 0.5,
        "check_issues": False,
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return parse_settings(raw)


def tracker_env(
    base_url: str,
    token: str = DEFAULT_TOKEN,
    *,
    org_id: str = DEFAULT_ORG_ID,
    cloud_org_id: str = "",
) -> dict[str, str]:
    """The ``TRACKER_*`` environment for a Tracker at ``base_url`` (the sandbox's robot)."""
    return {
        "TRACKER_TOKEN": token,
        "TRACKER_ORG_ID": org_id,
        "TRACKER_CLOUD_ORG_ID": cloud_org_id,
        "TRACKER_BASE_URL": base_url,
    }


def sandbox_env(sandbox: RunningSandbox, token: str = DEFAULT_TOKEN) -> dict[str, str]:
    return tracker_env(sandbox.base_url, token)


async def import_into(
    sandbox: RunningSandbox,
    files: list[Path],
    settings: Settings,
    report: Path,
    *,
    clock: Clock | None = None,
    token: str = DEFAULT_TOKEN,
    dry_run: bool = False,
    state: Path | None = None,
    precheck: bool | None = None,
) -> RunSummary:
    """Import ``files`` into ``sandbox``; the journal sits beside the report unless given."""
    options = RunOptions(
        files=files,
        settings=settings,
        report_path=report,
        state_path=state or report.with_name("journal.sqlite"),
        precheck=precheck,
        dry_run=dry_run,
        environ=sandbox_env(sandbox, token),
    )
    return await run_import_async(options, clock=clock)


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def month_rows(count: int, *, identical_pairs: int = 0) -> list[list[str]]:
    """A header and ``count`` distinct valid rows, then copies of the first rows."""
    rows = [HEADER]
    day = dt.date(2026, 10, 1)
    for n in range(count):
        date = day + dt.timedelta(days=n % 28)
        rows.append(
            [
                f"PORT-{400 + n % 7}",
                date.strftime("%d.%m.%Y"),
                f"{9 + n % 8:02d}:{(n * 15) % 60:02d}",
                ["0,5", "1", "1,25", "2", "7,5", "0:45"][n % 6],
                f"row {n}",
                ["a.smirnova", "i.petrov", "m.kuznetsova"][n % 3],
            ]
        )
    rows.extend(rows[1 : 1 + identical_pairs])
    return rows


def sandbox_get(base_url: str, path: str) -> Any:
    with urllib.request.urlopen(base_url + path, timeout=10) as answer:
        return json.load(answer)


ROOT = Path(__file__).parent.parent  # the project
PRESETS_DIR = Path(__file__).parent / "fixtures" / "presets"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def read_bookings(path: Path, **sections: dict[str, object]) -> dict[int, object]:
    """Every row of ``path`` as the importer would book it, keyed by sheet row (times in
    Moscow unless ``input`` says otherwise)."""
    from importer.pipeline.inputs import open_inputs

    raw: dict[str, dict[str, object]] = {"input": {"timezone": "Europe/Moscow"}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    settings = parse_settings(raw)
    [opened] = open_inputs([path], settings, now=lambda: NOW)
    return {row.row: opened.normalizer.normalize(row) for row in opened.table.rows()}


def sent(result: object) -> tuple[str, str, str, str]:
    """What a worklog sends: issue, Tracker start, duration, comment."""
    from importer.models import Worklog

    assert isinstance(result, Worklog), result
    payload = result.payload()
    return (result.issue, payload["start"], payload["duration"], result.comment)
