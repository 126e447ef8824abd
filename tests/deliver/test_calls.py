"""Executing a run's requests: slots, patience, stops — and nothing left un-awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from importer.config import Credentials, DeliverySection
from importer.deliver.calls import Calls
from importer.deliver.stops import RunStop, Stopped
from importer.errors import Retryable, TrackerUnavailable
from importer.testing import FakeClock
from importer.tracker import TrackerClient


@pytest.fixture
async def client() -> AsyncIterator[TrackerClient]:
    credentials = Credentials("http://127.0.0.1:9", "t", "oauth", org_id="1")
    async with TrackerClient.connect(credentials, clock=FakeClock()) as client:
        yield client


async def test_a_request_cancelled_while_waiting_for_a_slot_is_never_sent(
    client: TrackerClient,
) -> None:
    calls = Calls(client, DeliverySection(concurrency=1), RunStop())
    sent: list[str] = []

    async def request(name: str) -> str:
        sent.append(name)
        await asyncio.sleep(0)
        return name

    await calls.slots.acquire()  # the only slot is busy
    waiting = asyncio.create_task(calls.patiently(request("late")))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    calls.slots.release()
    assert await calls.patiently(request("next")) == "next"
    assert sent == ["next"] and waiting.cancelled()


async def test_no_request_starts_once_the_run_is_stopping(client: TrackerClient) -> None:
    stops = RunStop()
    calls = Calls(client, DeliverySection(), stops)
    stops.stop(TrackerUnavailable("down"))
    sent: list[str] = []

    async def request() -> None:
        sent.append("sent")

    with pytest.raises(Stopped):
        await calls.patiently(request())
    assert sent == [] and calls.successes == 0


async def test_past_the_patience_a_retryable_failure_means_tracker_is_unavailable(
    client: TrackerClient,
) -> None:
    clock = client.clock
    assert isinstance(clock, FakeClock)
    calls = Calls(client, DeliverySection(give_up_after=60.0), RunStop())

    async def busy() -> None:
        raise Retryable("HTTP 503", 503)

    async def fine() -> str:
        return "ok"

    with pytest.raises(Retryable):
        await calls.patiently(busy())  # within the patience: just retryable
    clock.now += 61
    with pytest.raises(TrackerUnavailable, match="no successful answer from Tracker for 60 s"):
        await calls.patiently(busy())
    assert await calls.patiently(fine()) == "ok"  # a success restarts the patience
    clock.now += 30
    with pytest.raises(Retryable) as error:
        await calls.patiently(busy())
    assert type(error.value) is Retryable


async def test_a_failed_first_attempt_is_tenacitys_attempt_one(client: TrackerClient) -> None:
    calls = Calls(client, DeliverySection(max_attempts=3, backoff_initial=0.01), RunStop())
    attempts = 0
    waited: list[str] = []

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise Retryable("HTTP 503", 503)
        return "booked"

    assert await calls.first_then_retrying(flaky, "PORT-1", lambda: waited.append("w")) == "booked"
    assert (attempts, waited, client.stats.retries) == (3, ["w", "w"], 2)

    attempts = -10  # fails every time from here: three attempts in all, then the error
    with pytest.raises(Retryable):
        await calls.first_then_retrying(flaky, "PORT-1")
    assert attempts == -7


async def test_a_failed_page_of_a_long_listing_is_asked_again_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A listing of an issue with 1,200 worklogs reads 3 pages and an empty one; a 503 on
    page 3 repeats page 3, not pages 1–3 (under 25 % faults a 20-page listing read from
    the start on each failure would hardly ever finish)."""
    from typing import Any

    from importer.sandbox import SandboxSettings, running_sandbox

    asked: list[str] = []
    original = TrackerClient._request

    async def flaky(self: TrackerClient, method: str, path: str, **kwargs: Any) -> Any:
        asked.append(str(kwargs.get("params", {}).get("id", "first")))
        if len(asked) == 3:
            raise Retryable("HTTP 503: Service temporarily unavailable", 503)
        return await original(self, method, path, **kwargs)

    monkeypatch.setattr(TrackerClient, "_request", flaky)
    async with (
        running_sandbox(SandboxSettings(others_per_issue=1200)) as sandbox,
        TrackerClient.connect(sandbox.credentials()) as client,
    ):
        calls = Calls(client, DeliverySection(backoff_initial=0.01), RunStop())
        records = await calls.pages(
            "PORT-1", lambda each: client.issue_worklogs("PORT-1", each_page=each)
        )
    assert len(records) == 1200
    assert len(asked) == 5  # pages 1, 2, 3 (refused), 3 again, and the empty one
    assert asked[2] == asked[3] != "first"


async def test_a_failed_read_is_asked_again_at_once_even_before_any_answer_succeeded(
    client: TrackerClient,
) -> None:
    """The run's first read (whoami, the pre-check) has no evidence that Tracker is well: a
    503 to it must not hold the run's first POST for a backoff of half a second or more."""
    clock = client.clock
    assert isinstance(clock, FakeClock)
    calls = Calls(client, DeliverySection(backoff_initial=0.5), RunStop())
    answers = iter([Retryable("HTTP 503", 503), Retryable("HTTP 503", 503), None])

    async def read() -> str:
        error = next(answers)
        if error is not None:
            raise error
        return "found"

    assert await calls.fetch("pre-check", read) == "found"
    first, second = clock.slept
    assert first <= 0.05  # at once
    assert second >= 0.5  # then by Tracker's health: two failures, no success yet
    assert not client.pacer.steady()
