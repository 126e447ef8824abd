"""The pacer: per-second windows, and how it reads 429s (sporadic vs systemic)."""

from __future__ import annotations

import pytest

from importer.clock import FakeClock
from importer.pacing import Pacer


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
    for _ in range(50):
        pacer.answered(False)
    assert pacer.answered(True, 1.0) is False
    assert pacer.answered(True, 1.0) is False
    assert pacer.rate == 100 and pacer._resume_at == 0.0


async def test_systemic_429s_pause_everyone_and_cut_the_rate_then_it_recovers() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    for _ in range(10):
        pacer.answered(False)
    pacer.answered(True, 2.0)
    pacer.answered(True, 2.0)
    assert pacer.answered(True, 2.0) is True  # 3 of 13 answers in the last second
    assert pacer.rate == pytest.approx(80)
    await pacer.wait_turn()
    assert clock.monotonic() == pytest.approx(2.0)  # everyone waited for Retry-After
    # A lone 429 after the pause is sporadic again: no second cut.
    assert pacer.answered(True, 2.0) is False
    assert pacer.rate == pytest.approx(80)
    clock.now += 10  # quiet seconds
    pacer.answered(False)
    assert pacer.rate == pytest.approx(85)
    for _ in range(10):
        clock.now += 6
        pacer.answered(False)
    assert pacer.rate == pytest.approx(100)  # never above the configured rate
