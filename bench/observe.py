"""What the benchmarks see of a run beyond its summary: when its requests left the client
(on the client's own clock, not the sandbox's) and how often each row is stored.

Both wrap or read from outside; nothing in the importer knows it is being watched.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import dataclasses
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from importer.sandbox import ROBOT
from importer.tracker import Pacer, TrackerClient
from importer.tracker.pacing import Ticket

# Set while a worklog write is under way in this task: its pacer release is a POST's.
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar("writing", default=False)


@dataclasses.dataclass
class Departures:
    """When the pacer let requests go (``time.monotonic()``), and the first worklog write."""

    sent: list[float] = dataclasses.field(default_factory=list)
    first_post: float | None = None

    def first_post_after(self, started: float) -> float | None:
        """Seconds from ``started`` (monotonic) to the first worklog POST leaving the client."""
        return None if self.first_post is None else round(self.first_post - started, 2)


def _as_write(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def writing(self: TrackerClient, *args: Any, **kwargs: Any) -> Any:
        token = _writing.set(True)
        try:
            return await method(self, *args, **kwargs)
        finally:
            _writing.reset(token)

    return writing


@contextlib.contextmanager
def departures() -> Iterator[Departures]:
    """Record, while the block runs, every request the pacer lets go, and which was the first
    worklog POST (create or admin import): the moment it leaves the client, not the moment a
    row asks to be sent — the pacer may hold it back."""
    seen = Departures()
    wait_turn = Pacer.wait_turn
    create, import_ = TrackerClient.create_worklog, TrackerClient.import_worklog

    async def recording(self: Pacer, *args: Any, **kwargs: Any) -> Ticket:
        ticket = await wait_turn(self, *args, **kwargs)
        now = time.monotonic()
        seen.sent.append(now)
        if seen.first_post is None and _writing.get():
            seen.first_post = now
        return ticket

    Pacer.wait_turn = recording  # type: ignore[method-assign]
    TrackerClient.create_worklog = _as_write(create)  # type: ignore[method-assign,assignment]
    TrackerClient.import_worklog = _as_write(import_)  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        Pacer.wait_turn = wait_turn  # type: ignore[method-assign]
        TrackerClient.create_worklog = create  # type: ignore[method-assign]
        TrackerClient.import_worklog = import_  # type: ignore[method-assign]


def stored_rows(url: str) -> dict[str, int]:
    """How many of the run's rows the sandbox stores once, and how many more than once —
    counted in the store by comment ("row N"), not taken from the run's own report. Only the
    importer's worklogs are read: a store with big issues holds 200,000 others'."""
    with urllib.request.urlopen(f"{url}/_sandbox/worklogs?login={ROBOT.login}") as answer:
        times = collections.Counter(worklog["comment"] for worklog in json.load(answer))
    return {
        "once": sum(1 for n in times.values() if n == 1),
        "more_than_once": sum(1 for n in times.values() if n > 1),
    }
