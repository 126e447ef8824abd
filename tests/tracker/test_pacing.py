"""The pacer (per-second windows; 429s sporadic or systemic) and Tracker's health."""

from __future__ import annotations

import pytest

from importer.clock import FakeClock
from importer.config import DeliverySection
from importer.deliver.retry import retry_policy
from importer.errors import Retryable
from importer.tracker.pacing import Pacer


async def test_never_more_than_the_rate_in_any_second() -> None:
    clock = FakeClock()
    pacer = Pacer(5, clock, margin=0.0)
    sent = []
    for _ in range(23):
        await pacer.wait_turn()
        sent.append(clock.monotonic())
    windows = [sum(1 for t in sent if start <= t < start + 1) for start in sent]
    assert max(windows) == 5
    assert sent[-1] == pytest.approx(4.0)  # 23 requests at 5/s: the 21st-23rd in second 4


async def test_a_fractional_rate_spaces_single_requests() -> None:
    clock = FakeClock()
    pacer = Pacer(0.5, clock, margin=0.0)
    for _ in range(3):
        await pacer.wait_turn()
    assert clock.monotonic() == pytest.approx(4.0)


def test_a_sporadic_429_delays_only_its_own_request() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    for second in range(30):  # 100 answers a second, 5 of them 429s: a shedding Tracker
        clock.now = float(second)
        for n in range(100):
            assert pacer.answered(n % 20 == 0, 1.0) is False
    assert pacer._resume_at == 0.0  # nobody else waited
    assert pacer.rate == pytest.approx(98)  # the ceiling trimmed 2 %, and no further


async def test_systemic_429s_pause_everyone_and_cut_the_rate_then_it_recovers() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    for _ in range(20):
        pacer.answered(False)
    results = [pacer.answered(True, 2.0) for _ in range(5)]  # 5 of 25 answers: a fifth
    assert results == [False, False, False, False, True]
    assert pacer.rate == pytest.approx(80)
    clock.now = 1.0  # a request that was in flight is refused during the pause:
    assert pacer.answered(True, 2.0) is True  # still systemic, but one cut per pause
    assert pacer.rate == pytest.approx(80)
    await pacer.wait_turn()
    assert clock.monotonic() == pytest.approx(3.0)  # everyone waited for Retry-After
    clock.now += 10  # quiet seconds
    pacer.answered(False)
    assert pacer.rate == pytest.approx(85)
    for _ in range(10):
        clock.now += 6
        pacer.answered(False)
    assert pacer.rate == pytest.approx(100)  # never above the configured rate


def test_sporadic_429s_do_not_hold_back_the_recovery() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    for _ in range(20):
        pacer.answered(False)
    for _ in range(5):
        pacer.answered(True, 1.0)
    assert pacer.rate == pytest.approx(80)
    for second in range(1, 30):  # then 1 in 20 answers is a 429: sporadic
        clock.now = float(second * 2)
        for n in range(40):
            pacer.answered(n % 20 == 0, 1.0)
    # Back up to the ceiling, which the sporadic 429s trimmed a little (never more than 2 %).
    assert pacer.trim == pytest.approx(0.98)
    assert pacer.rate == pytest.approx(98)


def test_sporadic_429s_that_keep_coming_trim_the_ceiling_until_they_stop() -> None:
    clock = FakeClock()
    pacer = Pacer(200, clock)

    def second_of_answers(at: float, refused: int) -> None:
        clock.now = at
        for n in range(200):
            assert pacer.answered(n < refused, 1.0) is False  # sporadic, never systemic

    second_of_answers(0.0, 1)
    assert pacer.rate == 200  # one sporadic 429 is no evidence
    second_of_answers(1.5, 1)
    assert pacer.rate == pytest.approx(198)  # two, a second apart: a step down
    for second in range(2, 20):
        second_of_answers(float(second), 1)
    assert pacer.rate == pytest.approx(196)  # never below 98 % of the configured rate
    for second in range(20, 49):  # quiet
        clock.now = float(second)
        pacer.answered(False)
    assert pacer.rate == pytest.approx(196)  # not yet 30 quiet seconds
    clock.now = 50.0
    pacer.answered(False)
    assert pacer.rate == pytest.approx(198)  # a step given back
    clock.now = 81.0
    pacer.answered(False)
    assert pacer.rate == 200 and pacer.trim == 1.0


def test_a_handful_of_answers_is_not_evidence_unless_most_are_refused() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    for _ in range(4):
        pacer.answered(False)
    for _ in range(3):
        assert pacer.answered(True) is False  # 3 of 7: too few answers to tell
    assert pacer.answered(True) is True  # 4 of 8: half refused


def test_tracker_is_steady_while_most_answers_succeed() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    assert not pacer.steady()  # nothing answered yet: no evidence that Tracker is well
    for ok in (True, True, True, False):
        pacer.answered(False, ok=ok)
    assert pacer.steady()
    pacer.answered(True, 1.0)  # a 429 is a failed answer too
    pacer.answered(False, ok=False)
    assert not pacer.steady()  # three failures of six: no longer a minority


def test_steadiness_forgets_answers_older_than_the_evidence_window() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    for _ in range(10):
        pacer.answered(False, ok=False)
    clock.now += 5.0
    pacer.answered(False)
    assert pacer.steady()
    clock.now += 5.0
    assert not pacer.steady()


@pytest.mark.parametrize("steady", [True, False])
async def test_retries_back_off_exponentially_only_when_tracker_is_in_trouble(
    steady: bool,
) -> None:
    clock = FakeClock()
    policy = DeliverySection(max_attempts=6, backoff_initial=0.5, backoff_max=30.0)
    failures = 0

    async def flaky() -> str:
        nonlocal failures
        failures += 1
        if failures <= 5:
            raise Retryable("HTTP 503", 503)
        return "ok"

    retrying = retry_policy(policy, sleep=clock.sleep, steady=lambda: steady)
    assert await retrying(flaky) == "ok"
    assert len(clock.slept) == 5
    if steady:
        assert all(0.0 <= wait <= 0.5 for wait in clock.slept)
    else:
        assert clock.slept[4] >= 0.5 * 2**4
