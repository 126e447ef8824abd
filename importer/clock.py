"""Time as the delivery pool sees it, injectable so tests never wait on the wall clock
(:class:`importer.testing.FakeClock`)."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never steps: pacing, horizons, backoff."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch: what Tracker's ``createdAt`` is compared with."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
