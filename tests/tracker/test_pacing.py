"""The pacer (per-second windows; 429s sporadic or systemic) and Tracker's health."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pytest

from importer.config import DeliverySection
from importer.deliver.retry import retry_policy
from importer.errors import Retryable
from importer.testing import FakeClock
from importer.tracker.pacing import CATCH_UP, Pacer


class LateClock(FakeClock):
    """A fake clock whose every sleep wakes ``late`` seconds after it was due, as a busy
    event loop does."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + self.late)


def failing(times: int) -> Callable[[], Awaitable[str]]:
    """A request that Tracker answers with 503 ``times`` times, then answers."""
    left = [times]

    async def request() -> str:
        if left[0] > 0:
            left[0] -= 1
            raise Retryable("HTTP 503", 503)
        return "ok"

    return request


async def released(pacer: Pacer, clock: FakeClock, count: int, **how: bool) -> list[float]:
    """``count`` requests waiting at once; when each was let go, in order."""
    times: list[float] = []

    async def one() -> None:
        times.append((await pacer.wait_turn(**how)).at)

    await asyncio.gather(*(one() for _ in range(count)))
    return times


async def test_requests_leave_evenly_spaced_never_more_than_the_rate_in_any_second() -> None:
    clock = FakeClock()
    pacer = Pacer(5, clock, margin=0.0)
    sent = []
    for _ in range(23):
        await pacer.wait_turn()
        sent.append(clock.monotonic())
    windows = [sum(1 for t in sent if start <= t < start + 1) for start in sent]
    assert max(windows) == 5
    assert sent == pytest.approx([n * 0.2 for n in range(23)])  # one every 200 ms, no burst


async def test_many_waiting_requests_are_let_go_one_interval_apart() -> None:
    clock = FakeClock()
    times = await released(Pacer(10, clock, margin=0.0), clock, 40)
    assert times == pytest.approx([n * 0.1 for n in range(40)])


async def test_late_wake_ups_are_caught_up_not_lost() -> None:
    clock = LateClock(late=0.004)  # every sleep 4 ms late (less than CATCH_UP)
    times = await released(Pacer(100, clock, margin=0.0), clock, 500)
    # The schedule holds: 500 requests at 100/s take 4.99 s, plus a late wake-up or two per
    # second (the window of real send times counts from a late release a second before),
    # where a pacer spacing each request from the previous release would take 6.99 s.
    assert 4.99 < times[-1] <= 4.99 + 5 * 2 * 0.004 + 0.004 + 1e-9
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 0.01 + 0.004 + 1e-9  # never a stall: one interval plus a late wake-up
    windows = [sum(1 for t in times if start <= t < start + 1) for start in times]
    assert max(windows) <= 100


async def test_an_idle_pacer_saves_up_no_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock, margin=0.0)
    await pacer.wait_turn()
    clock.now += 5.0  # idle for five seconds
    times = await released(pacer, clock, 5)
    assert times == pytest.approx([5.0, 5.1, 5.2, 5.3, 5.4])
    assert CATCH_UP < 0.1  # the idle time was far past what may be caught up


async def test_requests_of_rows_under_way_go_before_fresh_rows() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock, margin=0.0)
    await pacer.wait_turn()  # the schedule is busy: the next turn is 100 ms away
    order: list[str] = []

    async def one(name: str, fresh: bool) -> None:
        await pacer.wait_turn(fresh=fresh)
        order.append(name)

    fresh = [asyncio.ensure_future(one(f"fresh {n}", True)) for n in range(3)]
    await asyncio.sleep(0)
    retry = asyncio.ensure_future(one("retry", False))
    await asyncio.gather(*fresh, retry)
    assert order == ["retry", "fresh 0", "fresh 1", "fresh 2"]


async def test_a_cancelled_waiter_gives_its_turn_to_the_next() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock, margin=0.0)
    await pacer.wait_turn()
    gone = asyncio.ensure_future(pacer.wait_turn())
    await asyncio.sleep(0)
    gone.cancel()
    await pacer.wait_turn()
    assert clock.monotonic() == pytest.approx(0.1)  # the cancelled request took no turn


async def test_after_a_pause_requests_resume_evenly_not_all_at_once() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock, margin=0.0)
    await pacer.wait_turn()
    pacer.cool_down(2.0)
    times = await released(pacer, clock, 4)
    assert times == pytest.approx([2.0, 2.1, 2.2, 2.3])


async def test_a_late_real_send_holds_the_window_of_real_send_times() -> None:
    clock = FakeClock()
    pacer = Pacer(5, clock, margin=0.0)
    first = await pacer.wait_turn()
    clock.now = 0.15
    first.sent()  # the event loop wrote it 150 ms after the pacer let it go
    for _ in range(4):
        await pacer.wait_turn()  # 0.2, 0.4, 0.6, 0.8 on the schedule
    await pacer.wait_turn()  # the 6th: due at 1.0, but the 1st really left at 0.15
    assert clock.monotonic() == pytest.approx(1.15)


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
    # A trim step was tried and given back: the 429s came as often at the slower pace.
    assert pacer.rate == 100 and pacer.trim == 1.0


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
    # Back up to the configured rate: a trim tried against the random 429s did not help.
    assert pacer.trim == 1.0
    assert pacer.rate == pytest.approx(100)


def test_sporadic_429s_that_keep_coming_trim_the_ceiling_while_trimming_helps() -> None:
    clock = FakeClock()
    pacer = Pacer(200, clock)

    def second_of_answers(at: float, refused: int) -> None:
        for n in range(200):
            clock.now = at + n / 200
            assert pacer.answered(n < refused, 1.0) is False  # sporadic, never systemic

    second_of_answers(0.0, 1)
    assert pacer.rate == 200  # one sporadic 429 is no evidence
    second_of_answers(1.5, 1)
    assert pacer.rate == pytest.approx(198)  # two, a second apart: a step down, on trial
    for second in range(3, 8):  # the slower pace draws no 429: the step is kept
        second_of_answers(float(second), 0)
    assert pacer.rate == pytest.approx(198)
    for second in range(8, 30):  # they come back at the new pace: another step, kept too
        second_of_answers(float(second), 1 if second < 10 else 0)
    assert pacer.rate == pytest.approx(196)  # never below 98 % of the configured rate
    for second in range(30, 40):
        second_of_answers(float(second), 1 if second < 32 else 0)
    assert pacer.rate == pytest.approx(196)
    clock.now = 62.0  # 30 quiet seconds: a step given back
    pacer.answered(False)
    assert pacer.rate == pytest.approx(198)
    clock.now = 93.0
    pacer.answered(False)
    assert pacer.rate == 200 and pacer.trim == 1.0


def test_a_trim_that_does_not_reduce_the_429s_is_given_back_and_not_tried_for_a_minute() -> None:
    clock = FakeClock()
    pacer = Pacer(200, clock)

    rates: list[float] = []

    def second_of_answers(at: float) -> None:
        for n in range(200):
            clock.now = at + n / 200
            pacer.answered(n % 50 == 0, 1.0)  # 2 % refused, whatever the pace
            rates.append(pacer.rate)

    second_of_answers(0.0)
    second_of_answers(1.0)
    assert pacer.rate == pytest.approx(198)  # a step down, on trial
    for second in range(2, 8):
        second_of_answers(float(second))
    assert pacer.rate == 200 and pacer.trim == 1.0  # as many 429s: not ours, given back
    rates.clear()
    for second in range(8, 60):
        second_of_answers(float(second))
    assert set(rates) == {200}  # no trial for a minute
    rates.clear()
    for second in range(60, 75):
        second_of_answers(float(second))
    assert min(rates) == pytest.approx(198) and rates[-1] == 200  # then one more trial


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
    retrying = retry_policy(policy, sleep=clock.sleep, steady=lambda: steady)
    assert await retrying(failing(5)) == "ok"
    assert len(clock.slept) == 5
    if steady:
        assert all(0.0 <= wait <= 0.5 for wait in clock.slept)
    else:
        assert clock.slept[4] >= 0.5 * 2**4


async def test_a_refused_connection_backs_off_however_well_the_last_seconds_went() -> None:
    """Tracker gone away mid-run: the last seconds' good answers must not let a row spend its
    attempts on refused connections within a second (it ended failed, the run exit 1)."""
    from importer.errors import Unreachable

    clock = FakeClock()
    policy = DeliverySection(max_attempts=6, backoff_initial=0.5, backoff_max=30.0)
    retrying = retry_policy(policy, sleep=clock.sleep, steady=lambda: True)
    left = [5]

    async def refused() -> str:
        if left[0] > 0:
            left[0] -= 1
            raise Unreachable("cannot connect to http://127.0.0.1:1: [Errno 111]")
        return "ok"

    assert await retrying(refused) == "ok"
    assert clock.slept[4] >= 0.5 * 2**4 and sum(clock.slept) >= 15


async def test_a_read_backs_off_at_most_a_few_seconds_for_rows_wait_on_it() -> None:
    from importer.deliver.retry import READ_BACKOFF_MAX

    clock = FakeClock()
    policy = DeliverySection(max_attempts=10, backoff_initial=0.5, backoff_max=30.0)
    reads = retry_policy(policy, sleep=clock.sleep, steady=lambda: False, read=True)
    assert await reads(failing(9)) == "ok"
    assert max(clock.slept) <= READ_BACKOFF_MAX + policy.backoff_initial  # its jitter
    slept = FakeClock()
    writes = retry_policy(policy, sleep=slept.sleep, steady=lambda: False)
    assert await writes(failing(9)) == "ok"
    assert max(slept.slept) >= 16  # a write still backs off in full


async def test_a_failed_read_is_asked_again_at_once_then_backs_off_by_health() -> None:
    clock = FakeClock()
    policy = DeliverySection(max_attempts=4, backoff_initial=0.5, backoff_max=30.0)
    retrying = retry_policy(policy, sleep=clock.sleep, steady=lambda: False, read=True)
    assert await retrying(failing(3)) == "ok"
    first, *escalating = clock.slept
    assert first <= 0.05  # the read's first retry: at once, though Tracker is not steady
    assert escalating[-1] >= 0.5 * 2**2  # then exponential, Tracker being in trouble


async def test_retry_after_still_holds_a_read_back() -> None:
    clock = FakeClock()
    policy = DeliverySection(max_attempts=3, backoff_initial=0.5, backoff_max=30.0)
    answers = iter([Retryable("HTTP 429", 429, retry_after=1.0), None])

    async def refused_once() -> str:
        error = next(answers)
        if error is not None:
            raise error
        return "ok"

    retrying = retry_policy(policy, sleep=clock.sleep, steady=lambda: True, read=True)
    assert await retrying(refused_once) == "ok"
    assert clock.slept == [1.0]
