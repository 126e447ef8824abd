"""Request slots: how many requests are in flight at once, and who gets the next one.

A row holds a slot only while its request is out. Rows already under way — a resend after
reconciliation, a listing, a retry — go before rows sending their first POST, so a run's
retries keep pace with its fresh rows instead of queueing behind all of them, and the run
does not end with a long tail of retries.
"""

from __future__ import annotations

import asyncio
import collections


class Slots:
    """A semaphore with two queues: rows under way first, fresh rows second (FIFO in each)."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._under_way: collections.deque[asyncio.Future[None]] = collections.deque()
        self._fresh: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self, fresh: bool = False) -> None:
        """Take a slot, waiting for one if need be; ``release`` it when the request is done."""
        if self._free > 0 and not self._under_way and not self._fresh:
            self._free -= 1
            return
        queue = self._fresh if fresh else self._under_way
        waiter = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot, then cancelled before taking it: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def release(self) -> None:
        """Hand the slot to the longest-waiting row under way, else fresh row, else free it."""
        for queue in (self._under_way, self._fresh):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1
