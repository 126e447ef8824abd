"""Reconciling by search: one search across issues instead of a listing per issue."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.deliver.searching import ServerClock
from importer.sandbox import SandboxSettings, running_sandbox
from importer.testing import FakeClock
from tests.helpers import import_into, make_settings, month_rows, read_report

DROPS = {"p_created_then_drop": 0.15, "seed": 3}


def routes(stats: object) -> collections.Counter[str]:
    return collections.Counter(stats.routes)  # type: ignore[attr-defined]


async def test_unanswered_posts_are_reconciled_by_search_not_by_listing_issues(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(120)
    async with running_sandbox(SandboxSettings(**DROPS)) as sandbox:  # type: ignore[arg-type]
        summary = await import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv")
        seen = routes(sandbox.stats)
        stored = collections.Counter(w.comment for w in sandbox.store.worklogs.values())
    assert summary.exit_code == 0
    assert stored == collections.Counter(r[4] for r in rows[1:])  # each row once
    assert sandbox.stats.faults["created_then_drop"] > 5
    assert seen["POST /v2/worklog/_search"] >= 1
    # Listings: only the pre-check's, one per issue (7 issues, 2 pages each at most).
    assert seen["GET /v2/issues/{key}/worklog"] <= 14
    report = read_report(tmp_path / "r.csv")
    assert (
        sum("adopted" in line["error"] for line in report)
        == sandbox.stats.faults["created_then_drop"]
    )


async def test_a_search_past_the_item_limit_is_split_until_each_half_reads_whole(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importer.tracker import paged

    monkeypatch.setattr(paged, "SEARCH_PAGE", 5)  # small pages, so 20 items is the limit
    rows = month_rows(150)
    knobs = SandboxSettings(search_cap=20, **DROPS)  # type: ignore[arg-type]
    async with running_sandbox(knobs) as sandbox:
        summary = await import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv")
        stored = collections.Counter(w.comment for w in sandbox.store.worklogs.values())
        refused = sandbox.stats.served[400]
        seen = routes(sandbox.stats)
    assert summary.exit_code == 0
    assert stored == collections.Counter(r[4] for r in rows[1:])
    assert refused >= 1  # some window held more than 20 …
    assert seen["POST /v2/worklog/_search"] > refused  # … and was split, not given up on
    assert seen["GET /v2/issues/{key}/worklog"] <= 14  # no listing took over


def test_tracker_clock_bounds_narrow_with_each_answer() -> None:
    clock = ServerClock()
    assert not clock.known
    created = dt.datetime(2026, 11, 28, 12, 0, 10, tzinfo=dt.UTC)
    record = {"createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.000+0000")}
    ours = created.timestamp() - 3.0  # Tracker's clock runs 3 s ahead of ours
    clock.observe(record, sent=ours - 0.2, received=ours + 0.3)
    assert clock.known and (clock.low, clock.high) == pytest.approx((2.7, 3.2))
    clock.observe(record, sent=ours - 0.05, received=ours + 0.1)
    assert (clock.low, clock.high) == pytest.approx((2.9, 3.05))


async def test_a_post_waiting_its_turn_is_timed_from_when_it_left_not_when_it_was_asked_for(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """At 20 requests a second with 16 rows under way, a POST waits ~0.8 s for its turn —
    longer than the 0.5 s horizon. Timed from the asking, its search window (and horizon)
    ended before Tracker stored it, and the row was booked twice."""
    rows = month_rows(80)
    settings = make_settings(delivery={"rate_limit": 20.0, "concurrency": 16})
    knobs = SandboxSettings(p_created_then_drop=0.1, seed=4)
    async with running_sandbox(knobs) as sandbox:
        summary = await import_into(sandbox, [write_csv(rows)], settings, tmp_path / "r.csv")
        stored = collections.Counter(w.comment for w in sandbox.store.worklogs.values())
        dropped = sandbox.stats.faults["created_then_drop"]
        seen = routes(sandbox.stats)
    assert summary.exit_code == 0 and dropped >= 3
    assert stored == collections.Counter(r[4] for r in rows[1:])  # each row exactly once
    assert seen["POST /v2/issues/{key}/worklog"] == 80  # no POST sent twice
    assert seen["POST /v2/worklog/_search"] >= 1


async def test_a_failed_pre_check_search_is_asked_again_not_remembered() -> None:
    """One search that ran out of attempts must not fail every later row's pre-check."""
    import itertools

    from importer.deliver.searching import Searches
    from importer.errors import Retryable

    answers = iter([Retryable("HTTP 503"), []])

    class Calls:
        clock = FakeClock()

        async def pages(self, what: str, read: object) -> object:
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer

        client = None

    searches = Searches(Calls(), itertools.count(1))  # type: ignore[arg-type]
    searches.owner = "robot"
    moment = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    with pytest.raises(Retryable):
        await searches.booked_since(moment)
    [index] = await searches.booked_since(moment)  # asked again, and this time answered
    assert index.size == 0


async def test_rows_settled_while_a_search_is_under_way_share_the_next_one() -> None:
    """At a high rate each unanswered POST's window holds thousands of the run's own writes;
    a search per row re-reads them (P6 at 1000/s: 263 searches, 13 % overhead). One search
    at a time: whoever settles meanwhile joins the next."""
    import asyncio
    import itertools

    from importer.deliver.searching import Searches

    started: list[asyncio.Event] = []

    class Clock:
        def monotonic(self) -> float:
            return 100.0

        def wall(self) -> float:
            return 1_800_000_000.0

    class Calls:
        clock = Clock()
        client = None

        async def pages(self, what: str, read: object) -> object:
            release = asyncio.Event()
            started.append(release)
            await release.wait()
            return []

    events = itertools.count(1)
    searches = Searches(Calls(), events)  # type: ignore[arg-type]
    searches.owner = "robot"
    searches.clock.low = searches.clock.high = 0.0
    wall = 1_790_000_000.0
    first = asyncio.ensure_future(searches.between(next(events), 0.0, wall, wall + 1))
    while not started:
        await asyncio.sleep(0)
    later = []
    for n in range(10):  # each settles after the first search began, so cannot use it
        later.append(asyncio.ensure_future(searches.between(next(events), 0.0, wall + n, wall + n)))
        for _ in range(5):
            await asyncio.sleep(0)
    started[0].set()
    await first
    while len(started) < 2:
        await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(started) == 2  # the ten share one search, started after the first ended
    started[1].set()
    assert all(index.size == 0 for index in await asyncio.gather(*later))


async def test_import_mode_reconciles_by_the_authors_search_around_the_creation_time_it_set(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """An import POST sets ``createdAt`` itself, so what it may have created is found by a
    search for its author within a second of that moment — not by listing the issue."""
    rows = month_rows(120)
    settings = make_settings(tracker={"mode": "import"})
    async with running_sandbox(SandboxSettings(**DROPS)) as sandbox:  # type: ignore[arg-type]
        summary = await import_into(
            sandbox, [write_csv(rows)], settings, tmp_path / "r.csv", precheck=False
        )
        seen = routes(sandbox.stats)
        stored = collections.Counter(
            (w.comment, w.author.login) for w in sandbox.store.worklogs.values()
        )
        dropped = sandbox.stats.faults["created_then_drop"]
    assert summary.exit_code == 0 and dropped > 5
    assert stored == collections.Counter((r[4], r[5]) for r in rows[1:])  # each row once
    assert seen["POST /v3/issues/{key}/worklogs/_import"] == 120  # none sent twice
    assert seen["GET /v2/issues/{key}/worklog"] == 0  # no issue was listed
    assert seen["POST /v2/worklog/_search"] == dropped  # one narrow search per dropped answer
