"""Test helpers that ship with the package, for this project's tests and for anyone who
drives the importer from their own: a clock that never waits, and the sandbox Tracker in a
process of its own. Production code never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator

__all__ = ["FakeClock", "sandbox_process"]


class FakeClock:
    """A clock that moves only when someone sleeps on it: sleeping is instant.

    Its wall clock is the real one, shifted by ``skew`` seconds: a test against a real
    sandbox must compare times with the sandbox's ``createdAt``, which fake sleeps do not
    move; ``skew`` makes this machine's clock disagree with Tracker's.
    """

    def __init__(self, start: float = 0.0, *, skew: float = 0.0) -> None:
        self.now = start
        self.skew = skew
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return time.time() + self.skew

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@contextlib.contextmanager
def sandbox_process(*flags: str) -> Iterator[str]:
    """``worklog-import sandbox FLAGS...`` in its own process; yields its base URL.

    It outlives an importer that is killed, and it does not share the importer's CPU time
    slices — what crash tests, benchmarks and rehearsals need.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "sandbox", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield str(json.loads(process.stdout.readline())["base_url"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
