"""The elastic worker pool: rows in input order, ``concurrency`` workers at a time.

A row whose first attempt failed waits (backoff, reconciliation, a twin) holding no
request slot; the pool lends its worker's place to a new worker meanwhile, so fresh rows
keep Tracker's rate limit busy. At most ``ROWS_PER_SLOT`` workers per slot keep memory flat
on a Tracker that fails a lot; a full pool, like the end of the input, tells waiting
reconciliations to go ahead. When a waiting row is done, a surplus worker retires, so a
healthy run has exactly ``concurrency`` workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from importer.deliver import Parking
from importer.models import Outcome

ROWS_PER_SLOT = 8
Work = Any  # what ``handle`` takes: a booking, or a sync's edit of an earlier booking
Handler = Callable[[Work], Awaitable[Outcome]]
Sink = Callable[[Outcome], None]


class WorkerPool:
    """Hands work (bookings, edits) to ``handle`` and every outcome to ``sink``."""

    def __init__(self, concurrency: int, sink: Sink) -> None:
        self.concurrency = concurrency
        self.most = concurrency * ROWS_PER_SLOT
        self.parking = Parking(on_park=self._spawn)
        self._sink = sink
        self._queue: asyncio.Queue[Work | None] = asyncio.Queue(concurrency)
        self._workers: set[asyncio.Task[None]] = set()
        self._handle: Handler | None = None
        self._read_all = False
        # A bug in handling a row (not a row's failure: those are outcomes) ends the run with
        # that error once the rows under way settle, instead of leaving a dead worker.
        self._crashed: BaseException | None = None

    async def run(
        self, items: Iterable[Work | Outcome], handle: Handler, *, pooled: Callable[[], bool]
    ) -> None:
        """Settle every item: an outcome goes to the sink as it is; a booking goes through
        ``handle`` — by the workers while ``pooled()`` holds, else at once, in order. A
        pool runs again once a run is over (a rebook: the earlier worklogs, then the rows)."""
        assert not self._workers, "one run at a time"
        self._handle = handle
        self._queue = asyncio.Queue(self.concurrency)  # the last run's end marker stays behind
        self._read_all = False
        if pooled():
            for _ in range(self.concurrency):
                self._spawn()
        try:
            for item in items:
                if self._crashed is not None:
                    break
                if isinstance(item, Outcome):
                    self._sink(item)
                elif pooled():
                    await self._queue.put(item)
                else:
                    self._sink(await handle(item))
        except asyncio.CancelledError:
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            raise
        except BaseException:
            await self._wind_down()  # rows under way finish and are reported, even so
            raise
        await self._wind_down()
        if self._crashed is not None:
            raise self._crashed

    def _signal(self) -> None:
        """Waiting reconciliations go ahead once no more rows are coming or can be taken."""
        if self._read_all or len(self._workers) >= self.most:
            self.parking.reconcile_now.set()
        else:
            self.parking.reconcile_now.clear()

    def _spawn(self) -> None:
        if self._handle is not None and len(self._workers) < self.most:
            task = asyncio.create_task(self._work(self._handle))
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)
        self._signal()

    async def _work(self, handle: Handler) -> None:
        # Retire when more workers are free to take rows than ``concurrency``.
        while len(self._workers) - self.parking.parked <= self.concurrency:
            booking = await self._queue.get()
            if booking is None:
                self._queue.put_nowait(None)  # pass the end on to the next worker
                return
            try:
                self._sink(await handle(booking))
            except Exception as error:
                if self._crashed is None:
                    self._crashed = error
            self._signal()

    async def _wind_down(self) -> None:
        """Tell the workers the input is over and wait for the rows under way."""
        self._read_all = True
        self._signal()
        await self._queue.put(None)
        while self._workers:
            await asyncio.gather(*self._workers)
