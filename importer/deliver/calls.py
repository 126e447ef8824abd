"""Executing a run's requests: a request slot, the run's patience, then retries.

Every request of a run goes through :meth:`Calls.patiently`: it takes a request slot (see
:mod:`importer.deliver.slots`), refuses to start once the run is stopping, and turns a
retryable failure into :class:`~importer.errors.TrackerUnavailable` when nothing has
succeeded for ``delivery.give_up_after`` seconds. :meth:`Calls.first_then_retrying` runs a
first attempt plainly and hands a failure to the tenacity policy of
:mod:`importer.deliver.retry`; its sleeps wake at once when the run is stopping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState

from importer.config import DeliverySection
from importer.deliver.retry import retry_policy
from importer.deliver.slots import Slots
from importer.deliver.stops import RunStop, Stopped
from importer.errors import Retryable, TrackerUnavailable
from importer.log import get_logger
from importer.tracker import TrackerClient
from importer.tracker.paged import PageFetch

log = get_logger()
_T = TypeVar("_T")


def _discard(request: Awaitable[Any]) -> None:
    """Drop a request that will never be awaited (without a "never awaited" warning)."""
    if asyncio.iscoroutine(request):
        request.close()


class Calls:
    """One run's way of making requests: slots, patience, retries, stop-aware sleeps."""

    def __init__(self, client: TrackerClient, policy: DeliverySection, stops: RunStop) -> None:
        self.client = client
        self.clock = client.clock
        self.policy = policy
        self.stops = stops
        # Requests in flight at once. Only a request holds a slot: a row waiting for its
        # backoff or for a reconciliation listing leaves it to rows that can send.
        self.slots = Slots(policy.concurrency)
        self.successes = 0  # answers that succeeded, this run
        self._last_success = self.clock.monotonic()

    async def sleep(self, seconds: float, *, or_until: asyncio.Event | None = None) -> None:
        """Wait ``seconds``, but wake at once when the run is stopping (or ``or_until`` is set)."""
        waits = {
            asyncio.ensure_future(self.clock.sleep(seconds)),
            asyncio.ensure_future(self.stops.stopping.wait()),
        }
        if or_until is not None:
            waits.add(asyncio.ensure_future(or_until.wait()))
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def patiently(self, request: Awaitable[_T], *, fresh: bool = False) -> _T:
        """Await a request in a slot; past the run's patience, a retryable failure stops it.

        ``fresh``: a row's first POST, which waits behind requests of rows under way.
        """
        try:
            await self.slots.acquire(fresh)
        except BaseException:
            _discard(request)
            raise
        try:
            if self.stops.reason is not None:
                _discard(request)
                raise Stopped
            result = await request
        except Retryable:
            if self.clock.monotonic() - self._last_success > self.policy.give_up_after:
                raise TrackerUnavailable(
                    f"no successful answer from Tracker for {self.policy.give_up_after:g} s"
                ) from None
            raise
        finally:
            self.slots.release()
        self._last_success = self.clock.monotonic()
        self.successes += 1
        return result

    async def fetch(self, what: str, request: Callable[[], Awaitable[_T]]) -> _T:
        """A read, retried on its own (safe to repeat: its first retry goes at once) within the
        run's patience and stops."""
        return await self.first_then_retrying(lambda: self.patiently(request()), what, read=True)

    async def pages(self, what: str, read: Callable[[PageFetch], Awaitable[_T]]) -> _T:
        """A paged read whose every page is retried on its own (see :meth:`fetch`): a page
        that failed is asked again, not the read from its first page."""
        return await read(lambda page: self.fetch(what, page))

    async def first_then_retrying(
        self,
        attempt: Callable[[], Awaitable[_T]],
        what: str,
        on_retry: Callable[[], None] | None = None,
        *,
        read: bool = False,
    ) -> _T:
        """The first attempt runs plainly; tenacity takes over only once it failed.

        Most requests succeed at once, and a retrying loop costs dozens of objects that
        only the garbage collector frees — per row, that is most of a fast run's overhead.
        ``on_retry`` is told before each wait (the row waits: its worker may be lent out).
        """
        try:
            return await attempt()
        except Retryable as exc:
            first: Retryable | None = exc
        async for trying in self._retrying(what, on_retry, read):
            with trying:
                if first is not None:
                    failed, first = first, None
                    raise failed  # tenacity counts it as attempt 1 and waits as it would
                return await attempt()
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _retrying(
        self, what: str, on_retry: Callable[[], None] | None, read: bool
    ) -> AsyncRetrying:
        def count_retry(state: RetryCallState) -> None:
            if on_retry is not None:
                on_retry()
            self.client.stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            log.info(
                "retry",
                what=what,
                attempt=state.attempt_number,
                wait=round(state.upcoming_sleep, 3),
                error=getattr(error, "message", str(error)),
            )

        return retry_policy(
            self.policy,
            sleep=self.sleep,
            before_sleep=count_retry,
            steady=self.client.pacer.steady,
            read=read,
        )
