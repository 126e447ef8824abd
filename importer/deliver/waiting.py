"""Rows that wait, and when a waiting reconciliation listing may start.

A row whose first attempt failed waits — for its backoff, for a reconciliation listing, for
its twin — holding no request slot. :class:`Parking` counts such rows and tells the worker
pool (which lends the waiting row's place to a new worker, see
:mod:`importer.pipeline.pool`). :class:`ListingGate` holds a reconciliation listing back while
more of its issue's unanswered rows may still join it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from importer.clock import Clock
from importer.deliver.stops import RunStop

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
# Longest a reconciliation listing waits for more of its issue's unanswered rows to join it
# while fresh rows keep the rate limit busy; once the input is exhausted, it starts at once.
GATHER_FOR = 30.0


@contextmanager
def while_used(table: dict[_K, tuple[_V, int]], key: _K, make: Callable[[], _V]) -> Iterator[_V]:
    """A value shared by everyone using ``key`` at the moment, dropped after the last one."""
    value, users = table[key] if key in table else (make(), 0)
    table[key] = (value, users + 1)
    try:
        yield value
    finally:
        value, users = table[key]
        if users == 1:
            del table[key]
        else:
            table[key] = (value, users - 1)


class Sleep(Protocol):
    """A sleep that also wakes when the run stops or ``or_until`` is set."""

    def __call__(
        self, seconds: float, *, or_until: asyncio.Event | None = None
    ) -> Awaitable[None]: ...


def _nobody() -> None:
    return None


class Parking:
    """How many rows wait now; the pool is told of each, and says when listings may go."""

    def __init__(self, on_park: Callable[[], None] = _nobody) -> None:
        self.parked = 0
        self._on_park = on_park
        # Set while no reconciliation listing should wait for more rows to join it: the
        # input is exhausted, or the pool cannot take more waiting rows.
        self.reconcile_now = asyncio.Event()

    def park(self) -> None:
        """One more row waits: the pool may start a worker in its place."""
        self.parked += 1
        self._on_park()

    def unpark(self) -> None:
        self.parked -= 1


class ListingGate:
    """When a reconciliation listing of an issue may start."""

    def __init__(
        self,
        clock: Clock,
        stops: RunStop,
        parking: Parking,
        sleep: Sleep,
    ) -> None:
        self._clock = clock
        self._stops = stops
        self._parking = parking
        self._sleep = sleep
        self._posting: dict[str, tuple[asyncio.Event, int]] = {}  # POSTs in flight by issue

    @contextmanager
    def posting(self, issue: str) -> Iterator[None]:
        """Mark a POST to ``issue`` in flight for the duration of the block."""
        done: asyncio.Event | None = None
        try:
            with while_used(self._posting, issue, asyncio.Event) as done:
                yield
        finally:
            if done is not None and issue not in self._posting:
                done.set()  # the issue's last POST in flight ended: a waiting listing may go

    async def hold_off(self, issue: str) -> None:
        """Let a listing of ``issue`` wait, at most ``GATHER_FOR`` seconds, while fresh rows
        keep the rate limit busy (until ``reconcile_now``) or POSTs to the issue are in
        flight (any of them may go unanswered and need this very listing)."""
        deadline = self._clock.monotonic() + GATHER_FOR
        now = self._parking.reconcile_now
        while (left := deadline - self._clock.monotonic()) > 0 and self._stops.reason is None:
            if not now.is_set():
                await self._sleep(left, or_until=now)
            elif issue in self._posting:
                await self._sleep(left, or_until=self._posting[issue][0])
            else:
                return
