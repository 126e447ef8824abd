"""What Tracker will refuse, found before the first POST: every distinct issue (and, in import
mode, author) asked about once; their rows reported invalid, never sent."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from importer.config import AuthorsSection, DeliverySection, Settings, load_settings
from importer.errors import ExitCode, Rejected
from importer.sandbox import SandboxSettings, running_sandbox
from importer.tracker import TrackerClient
from tests.helpers import import_into, make_settings, month_rows, read_report

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def checking(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, check_issues=True)
    )


def month_with(unknown: list[str]) -> list[list[str]]:
    """``month_rows(70)`` (PORT-400…406) with the unknown keys on a few rows each."""
    rows = month_rows(70)
    for n, key in enumerate(unknown):
        for row in rows[1 + n :: 17]:
            row[0] = key
    return rows


@pytest.mark.parametrize("dry_run", [True, False])
async def test_rows_of_issues_tracker_would_refuse_are_invalid_and_never_sent(
    dry_run: bool, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    unknown = ["PORT-900", "PORT-901", "SECRET-1"]
    path = write_csv(month_with(unknown))
    knobs = SandboxSettings(missing_issues="PORT-900,PORT-901", hidden_issues="SECRET-1")
    async with running_sandbox(knobs) as sandbox:
        summary = await import_into(
            sandbox, [path], checking(make_settings()), tmp_path / "r.csv", dry_run=dry_run
        )
        routes = dict(sandbox.stats.routes)
        stored = {w.issue for w in sandbox.store.worklogs.values()}
    lines = read_report(tmp_path / "r.csv")
    refused = [line for line in lines if line["status"] == "invalid"]
    assert {line["Issue"] for line in refused} == set(unknown)
    assert len(refused) == sum(1 for row in month_with(unknown)[1:] if row[0] in unknown)
    for line in refused:
        key = line["Issue"]
        why = (
            "may not see it (HTTP 403"
            if key == "SECRET-1"
            else "does not exist in Tracker (HTTP 404"
        )
        assert line["error"].startswith(f"issue {key} ") and why in line["error"]
    assert summary.counts["invalid"] == len(refused)
    assert not stored & set(unknown)  # nothing was sent for them
    if not dry_run:
        assert summary.counts["created"] == len(lines) - len(refused)
        assert summary.exit_code == ExitCode.ROWS_FAILED
    # 10 distinct issues: one search, then one GET for each of the 3 it did not show.
    assert routes["POST /v2/issues/_search"] == 1 and routes["GET /v2/issues/{key}"] == 3
    checks = summary.tracker_checks
    assert checks is not None and checks["requests"] == 4 <= checks["looked_up"] == 10
    assert sorted(checks["unknown_issues"]) == sorted(unknown)


async def test_in_import_mode_unknown_authors_are_invalid_too_and_never_sent(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [
        ["Сотрудник", "Задача", "Дата", "Начало", "Часы", "Комментарий"],
        ["a.smirnova", "PORT-1", "01.10.2026", "09:00", "1", "ok"],
        ["p.novikov", "PORT-1", "01.10.2026", "11:00", "1", "who?"],
        ["p.novikov", "PORT-2", "02.10.2026", "11:00", "1", "who?"],
        ["z.unknown", "PORT-404", "02.10.2026", "12:00", "1", "both"],
        ["i.petrov", "PORT-2", "02.10.2026", "09:00", "1", "ok"],
    ]
    path = write_csv(rows, delimiter=";")
    settings = checking(load_settings(SAMPLE / "config-import.toml"))
    settings = dataclasses.replace(settings, authors=AuthorsSection())
    async with running_sandbox(SandboxSettings(missing_issues="PORT-404")) as sandbox:
        dry = await import_into(sandbox, [path], settings, tmp_path / "plan.csv", dry_run=True)
        real = await import_into(sandbox, [path], settings, tmp_path / "r.csv")
        stored = sorted(w.author.login for w in sandbox.store.worklogs.values())
        users = sandbox.stats.routes["GET /v3/users/{id}"]
    for report in ("plan.csv", "r.csv"):
        lines = {line["row"]: line for line in read_report(tmp_path / report)}
        assert [r for r, line in lines.items() if line["status"] == "invalid"] == ["3", "4", "5"]
        assert "author 'p.novikov' does not exist in Tracker (HTTP 404" in lines["3"]["error"]
        assert lines["4"]["error"] == lines["3"]["error"]
        assert lines["5"]["error"].startswith("issue PORT-404 does not exist")
    assert stored == ["a.smirnova", "i.petrov"]
    assert dry.counts["invalid"] == 3 and dry.counts["pending"] == 2
    assert real.exit_code == ExitCode.ROWS_FAILED
    assert real.tracker_checks is not None
    assert sorted(real.tracker_checks["unknown_authors"]) == ["p.novikov", "z.unknown"]
    assert users == 2 * 4  # each run: 4 distinct authors, once each


async def test_a_refused_issue_search_falls_back_to_one_get_per_issue(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(self: Any, keys: Any, **_: Any) -> Any:
        raise Rejected("HTTP 400: You can only use keys, queue or search request", 400)

    monkeypatch.setattr(TrackerClient, "issues_by_keys", refused)
    path = write_csv(month_with(["PORT-900"]))
    async with running_sandbox(SandboxSettings(missing_issues="PORT-900")) as sandbox:
        summary = await import_into(
            sandbox, [path], checking(make_settings()), tmp_path / "r.csv", dry_run=True
        )
        routes = collections.Counter(sandbox.stats.routes)
    assert routes["GET /v2/issues/{key}"] == 8  # PORT-400…406 and PORT-900, once each
    assert summary.tracker_checks is not None
    assert list(summary.tracker_checks["unknown_issues"]) == ["PORT-900"]


async def test_the_search_pages_and_many_keys_cost_a_search_per_hundred(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(1)
    rows += [
        [f"PORT-{n}", "01.10.2026", "09:00", "0,5", f"r{n}", "a.smirnova"] for n in range(1, 251)
    ]
    path = write_csv(rows)
    async with running_sandbox() as sandbox:
        summary = await import_into(
            sandbox, [path], checking(make_settings()), tmp_path / "r.csv", dry_run=True
        )
        routes = collections.Counter(sandbox.stats.routes)
    assert summary.tracker_checks is not None and summary.tracker_checks["unknown_issues"] == {}
    assert routes["POST /v2/issues/_search"] == 3 and routes["GET /v2/issues/{key}"] == 0
    assert summary.tracker_checks["requests"] == 3


async def test_check_issues_off_asks_nothing(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(5))
    settings = make_settings()
    assert settings.delivery == dataclasses.replace(settings.delivery, check_issues=False)
    assert DeliverySection().check_issues  # on by default
    async with running_sandbox() as sandbox:
        summary = await import_into(sandbox, [path], settings, tmp_path / "r.csv", dry_run=True)
        routes = sandbox.stats.routes
    assert summary.tracker_checks is None and not routes["POST /v2/issues/_search"]


async def test_an_issue_lookup_refused_for_every_issue_stops_the_run_with_exit_3(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """As when every POST is refused: the token may see nothing, so nothing is booked and the
    run stops as an authorisation problem, not with every row "invalid"."""
    path = write_csv(month_rows(20))
    knobs = SandboxSettings(forbidden_queues=frozenset({"PORT"}))
    async with running_sandbox(knobs) as sandbox:
        summary = await import_into(sandbox, [path], checking(make_settings()), tmp_path / "r.csv")
        posts = sandbox.stats.routes["POST /v2/issues/{key}/worklog"]
    assert summary.exit_code == ExitCode.AUTH and posts == 0
    assert "may not see any of the files' 7 issues (403 on each)" in summary.stopped
    assert {line["status"] for line in read_report(tmp_path / "r.csv")} == {"pending"}
