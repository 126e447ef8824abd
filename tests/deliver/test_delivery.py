"""Delivery against the sandbox: exactly once through faults, the rate limit, run stops."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from importer.deliver.retry import wait_retry_after
from importer.errors import ExitCode, OutcomeUnknown, Retryable
from importer.formats import parse_business_iso, parse_tracker_start
from importer.normalize.durations import parse_duration
from importer.sandbox import SandboxSettings, busiest_second, running_sandbox
from importer.testing import FakeClock
from importer.tracker import Pacer, Record, TrackerClient
from importer.tracker.pacing import Ticket
from tests.helpers import HEADER, import_into, make_settings, month_rows, read_report


def assert_report_matches_store(
    report: list[dict[str, str]], stored: list[dict[str, object]]
) -> None:
    """Every created line names a distinct stored worklog that books exactly that row."""
    by_id = {str(w["id"]): w for w in stored}
    created = [line for line in report if line["status"] == "created"]
    ids = [line["worklog_id"] for line in created]
    assert len(ids) == len(set(ids)), "two rows claim the same worklog"
    assert sorted(ids, key=int) == sorted(by_id, key=int), "store and report disagree"
    for line in created:
        record = by_id[line["worklog_id"]]
        assert record["issue"]["key"] == line["Issue"].upper()  # type: ignore[index]
        assert record["comment"] == line["Comment"]
        assert parse_business_iso(str(record["duration"])) == parse_duration(line["Hours"])
        assert parse_tracker_start(str(record["start"])) == dt.datetime.fromisoformat(line["start"])


async def test_every_row_is_stored_exactly_once_through_faults(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    broken = [
        ["PORT412", "02.10.2026", "10:00", "1", "broken key", "a"],
        ["PORT-1", "31.09.2026", "10:00", "1", "broken date", "a"],
        ["PORT-1", "02.10.2026", "10:00", "полтора", "broken duration", "a"],
    ]
    path = write_csv([*month_rows(300, identical_pairs=10), *broken])
    knobs = SandboxSettings(
        p_503=0.20, p_429=0.05, p_created_then_500=0.03, p_created_then_drop=0.03, seed=11
    )
    async with running_sandbox(knobs) as sandbox:
        # A server failing a third of all requests needs more attempts than the default.
        settings = make_settings(delivery={"max_attempts": 25})
        summary = await import_into(
            sandbox, [path], settings, tmp_path / "report.csv", clock=FakeClock()
        )
        faults = sandbox.stats.faults
        stored = [w.record(sandbox.base_url) for w in sandbox.store.worklogs.values()]
    report = read_report(tmp_path / "report.csv")
    assert summary.exit_code == ExitCode.ROWS_FAILED
    assert summary.counts["created"] == 310 and summary.counts["invalid"] == 3
    assert len(report) == 313
    assert len(stored) == 310
    assert_report_matches_store(report, stored)
    invalid = {line["Comment"]: line["error"] for line in report if line["status"] == "invalid"}
    assert invalid == {
        "broken key": "column 'Issue' value 'PORT412' holds no issue key like QUEUE-123",
        "broken date": "column 'Date' value '31.09.2026': not a date: '31.09.2026' "
        "(day is out of range for month)",
        "broken duration": "column 'Hours' value 'полтора': not a duration: 'полтора'",
    }
    assert not {w["comment"] for w in stored} & set(invalid), "an invalid row reached Tracker"
    # The faults really happened, and some answers were lost after the worklog was stored.
    assert faults["random_503"] > 0 and faults["random_429"] > 0
    assert faults["created_then_500"] > 0 and faults["created_then_drop"] > 0
    assert summary.responses_429 == faults["random_429"]
    adopted = [line for line in report if line["error"].startswith("adopted")]
    assert len(adopted) == faults["created_then_500"] + faults["created_then_drop"]


@pytest.mark.parametrize("fault", ["p_created_then_500", "p_created_then_drop"])
async def test_lost_answers_are_adopted_not_resent(
    fault: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    twin = ["PORT-1", "01.10.2026", "09:00", "1,5", "same", "a"]
    rows = [HEADER, twin, twin]  # two genuinely identical entries stay two worklogs
    path = write_csv(rows)
    async with running_sandbox(SandboxSettings(**{fault: 1.0})) as sandbox:
        summary = await import_into(
            sandbox, [path], make_settings(), tmp_path / "r.csv", clock=FakeClock()
        )
        stored = sorted(sandbox.store.worklogs)
    report = read_report(tmp_path / "r.csv")
    assert stored == [1, 2]
    assert sorted(line["worklog_id"] for line in report) == ["1", "2"]
    assert [line["status"] for line in report] == ["created", "created"]
    assert all(line["attempts"] == "2" and line["http_status"] == "200" for line in report)
    assert summary.exit_code == ExitCode.OK


@pytest.mark.slow
async def test_configured_rate_at_the_server_limit_never_draws_a_429(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 20
    path = write_csv(month_rows(60))
    settings = make_settings(delivery={"rate_limit": limit, "concurrency": 8})
    sent: list[float] = []  # the client's own send log: when each request left
    wait_turn = Pacer.wait_turn

    async def recording(pacer: Pacer, **how: bool) -> Ticket:
        ticket = await wait_turn(pacer, **how)
        sent.append(time.monotonic())
        return ticket

    monkeypatch.setattr(Pacer, "wait_turn", recording)
    async with running_sandbox(SandboxSettings(rate_limit=limit)) as sandbox:
        summary = await import_into(sandbox, [path], settings, tmp_path / "r.csv")
        stats = sandbox.stats
    assert summary.counts["created"] == 60
    assert stats.served[429] == 0
    # Judged by the client's log, not the server's arrival stamps: a busy single-process
    # server stamps arrivals late and in bunches.
    assert busiest_second(sent) <= limit
    # who-am-I, the pre-check's one search (the owner booked nothing yet), one POST a row
    assert len(sent) == len(stats.arrivals) == 1 + 1 + 60


async def test_retry_waits_at_least_what_retry_after_asks() -> None:
    clock = FakeClock()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Retryable("HTTP 429", 429, retry_after=7.0)
        return "ok"

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Retryable),
        stop=stop_after_attempt(3),
        wait=wait_retry_after(wait_fixed(0.5)),
        sleep=clock.sleep,
    )
    assert await retrying(flaky) == "ok"
    assert clock.slept == [7.0]


async def test_unknown_issue_fails_that_row_with_trackers_message(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [
        HEADER,
        ["PORT-1", "01.10.2026", "09:00", "1", "ok", "a"],
        ["GONE-9", "01.10.2026", "10:00", "1", "missing issue", "a"],
    ]
    path = write_csv(rows)
    async with running_sandbox(SandboxSettings(known_issues=frozenset({"PORT-1"}))) as sandbox:
        summary = await import_into(sandbox, [path], make_settings(), tmp_path / "r.csv")
    report = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert summary.exit_code == ExitCode.ROWS_FAILED
    assert report["2"]["status"] == "created"
    assert report["3"]["status"] == "failed"
    assert report["3"]["http_status"] == "404"
    assert report["3"]["error"] == "HTTP 404: Задача не существует."
    assert report["3"]["attempts"] == "1"  # the POST got the 404 (the pre-check searches)


async def test_tracker_down_stops_the_run_leaving_rows_pending(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(5))
    settings = make_settings(delivery={"max_attempts": 3})
    async with running_sandbox(SandboxSettings(p_503=1.0)) as sandbox:
        summary = await import_into(
            sandbox, [path], settings, tmp_path / "r.csv", clock=FakeClock()
        )
        stored = len(sandbox.store.worklogs)
    report = read_report(tmp_path / "r.csv")
    assert summary.exit_code == ExitCode.UNAVAILABLE
    assert stored == 0
    assert [line["status"] for line in report] == ["pending"] * 5
    assert all("not sent, run stopped" in line["error"] for line in report)
    assert "not answering" in summary.stopped


async def test_an_outage_mid_run_stops_after_the_patience_runs_out(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(40))
    settings = make_settings(
        delivery={"max_attempts": 1000, "give_up_after": 60.0, "concurrency": 2}
    )
    clock = FakeClock()
    knobs = SandboxSettings()
    async with running_sandbox(knobs) as sandbox:

        async def outage_after_ten() -> None:
            while len(sandbox.store.worklogs) < 10:
                await asyncio.sleep(0)
            knobs.p_503 = 1.0

        trigger = asyncio.create_task(outage_after_ten())
        summary = await import_into(sandbox, [path], settings, tmp_path / "r.csv", clock=clock)
        await trigger
        stored = len(sandbox.store.worklogs)
    statuses = collections.Counter(line["status"] for line in read_report(tmp_path / "r.csv"))
    assert summary.exit_code == ExitCode.UNAVAILABLE
    assert statuses["created"] == stored >= 10
    assert statuses["created"] + statuses["pending"] == 40
    assert "no successful answer from Tracker for 60 s" in summary.stopped


async def test_rejected_token_stops_at_once_with_exit_3_and_never_leaks(
    write_csv: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importer.log import configure_logging

    configure_logging("json")
    path = write_csv(month_rows(3))
    secret = "y0_not-the-right-token-1234567890"
    async with running_sandbox() as sandbox:
        summary = await import_into(
            sandbox, [path], make_settings(), tmp_path / "r.csv", token=secret
        )
        requests = len(sandbox.stats.arrivals)
    report_text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    summary_text = (tmp_path / "r.summary.json").read_text(encoding="utf-8")
    logs = capsys.readouterr()
    assert summary.exit_code == ExitCode.AUTH
    assert requests == 1  # who-am-I only: nothing was posted
    assert [line["status"] for line in read_report(tmp_path / "r.csv")] == ["pending"] * 3
    for text in (report_text, summary_text, logs.out, logs.err, str(summary)):
        assert secret not in text
    assert "HTTP 401" in summary.stopped


async def test_dry_run_sends_nothing(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    path = write_csv([*month_rows(4), ["BAD", "01.10.2026", "09:00", "1", "x", "a"]])
    async with running_sandbox() as sandbox:
        summary = await import_into(
            sandbox, [path], make_settings(), tmp_path / "r.csv", dry_run=True
        )
        stored = len(sandbox.store.worklogs)
        served = dict(sandbox.stats.served)
    assert stored == 0
    # Who-am-I and the pre-check's one search for what the owner booked lately: reads only.
    assert served == {200: 1 + 1}
    assert set(sandbox.stats.routes) == {"GET /v2/myself", "POST /v2/worklog/_search"}
    assert summary.counts["pending"] == 4 and summary.counts["invalid"] == 1
    assert summary.exit_code == ExitCode.ROWS_FAILED


async def test_systemic_429s_pause_everyone_and_log_a_rate_limited_event() -> None:
    import aiohttp
    from structlog.testing import capture_logs

    from importer.config import Credentials
    from importer.errors import Retryable as Refused
    from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN
    from importer.tracker import TrackerClient

    async with running_sandbox(SandboxSettings(rate_limit=3)) as sandbox:
        credentials = Credentials(sandbox.base_url, DEFAULT_TOKEN, "oauth", org_id=DEFAULT_ORG_ID)
        async with aiohttp.ClientSession() as session:
            client = TrackerClient(session, credentials, rate_limit=1000, clock=FakeClock())
            with capture_logs() as logs:
                answers = await asyncio.gather(
                    *(client.myself() for _ in range(30)), return_exceptions=True
                )
    refused = [a for a in answers if isinstance(a, Refused)]
    assert len(refused) == 27 and client.stats.responses_429 == 27
    paused = [e for e in logs if e["event"] == "rate_limited"]
    assert paused and paused[0]["pause_seconds"] == 1.0
    assert paused[0]["rate"] == 800.0  # cut by a fifth
    # Requests still waiting were held for the pause, then refused again: at most one cut
    # per pause, each by a fifth.
    rates = [e["rate"] for e in paused]
    assert all(b == a or abs(b - a * 0.8) < 0.2 for a, b in itertools.pairwise(rates))
    assert client.pacer.rate == pytest.approx(rates[-1], abs=0.05)


class GatedClock(FakeClock):
    """Sleeps are instant, except the first long one: it lasts until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()
        self.gate = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds >= 5 and not self.held.is_set():
            self.held.set()
            await self.gate.wait()
        await super().sleep(seconds)


async def test_a_row_waiting_out_retry_after_leaves_its_request_slot_to_the_others(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(12))
    settings = make_settings(delivery={"concurrency": 1})
    clock = GatedClock()
    knobs = SandboxSettings(retry_after=5)
    async with running_sandbox(knobs) as sandbox:
        stored = sandbox.store.worklogs

        async def one_429_then_the_rest() -> None:
            while not stored:
                await asyncio.sleep(0)
            knobs.p_429 = 1.0  # the next request is refused with "Retry-After: 5"
            while not sandbox.stats.served[429]:
                await asyncio.sleep(0)
            knobs.p_429 = 0.0
            await asyncio.wait_for(clock.held.wait(), 10)
            while len(stored) < 11:  # everyone else books while that row waits
                await asyncio.sleep(0.01)
            clock.gate.set()

        helper = asyncio.create_task(asyncio.wait_for(one_429_then_the_rest(), 30))
        summary = await asyncio.wait_for(
            import_into(sandbox, [path], settings, tmp_path / "r.csv", clock=clock, precheck=False),
            30,
        )
        await helper
        count = len(stored)
    report = read_report(tmp_path / "r.csv")
    assert summary.counts["created"] == 12 and count == 12
    # The refused row finished last, on its second attempt; nobody else had to retry.
    assert [line["attempts"] for line in report] == ["1"] * 11 + ["2"]


async def test_unanswered_rows_of_an_issue_share_reconciliation_listings(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [HEADER] + [
        [f"PORT-{1 + n % 2}", f"{1 + n % 28:02d}.10.2026", "09:00", "1", f"row {n}", "a"]
        for n in range(120)
    ]
    listings = unanswered = 0
    list_worklogs, create = TrackerClient.issue_worklogs, TrackerClient.create_worklog
    search = TrackerClient.search_worklogs

    async def counted_listing(self: TrackerClient, issue: str, **paging: Any) -> list[Record]:
        nonlocal listings
        listings += 1
        return await list_worklogs(self, issue, **paging)

    async def counted_search(self: TrackerClient, *window: Any, **paging: Any) -> list[Record]:
        nonlocal listings
        listings += 1  # a reconciliation search (create mode) instead of a listing
        return await search(self, *window, **paging)

    async def counted_create(
        self: TrackerClient, issue: str, payload: Any, *sent: Any, **how: Any
    ) -> Record:
        nonlocal unanswered
        try:
            return await create(self, issue, payload, *sent, **how)
        except OutcomeUnknown:
            unanswered += 1
            raise

    monkeypatch.setattr(TrackerClient, "issue_worklogs", counted_listing)
    monkeypatch.setattr(TrackerClient, "search_worklogs", counted_search)
    monkeypatch.setattr(TrackerClient, "create_worklog", counted_create)
    async with running_sandbox(SandboxSettings(p_503=0.3, seed=7)) as sandbox:
        summary = await import_into(
            sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv", precheck=False
        )
        stored = [w.record(sandbox.base_url) for w in sandbox.store.worklogs.values()]
    report = read_report(tmp_path / "r.csv")
    assert summary.counts["created"] == 120
    assert_report_matches_store(report, stored)
    assert unanswered >= 30
    # Each listing (or search) serves every row that went unanswered before it began (one
    # per unanswered POST would make them exceed those rows).
    assert listings * 2 <= unanswered
