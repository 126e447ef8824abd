"""What Tracker already holds, as far as this run knows — read once, shared by all rows.

* the pre-check's snapshot of each issue's worklogs (one listing per issue per run);
* reconciliation listings: a listing that started after a row's unanswered POST ended shows
  whatever that POST did, so every row of that issue that failed earlier can use it;
* each author's identities (import mode), looked up once;
* the worklog ids already claimed by a row, so no worklog is ever adopted twice.

Requests go through the deliverer's ``fetch``, which adds its retries, patience and stops.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from .config import Mode
from .log import get_logger
from .matching import created_by_one_of, find_match, user_identities
from .models import Worklog
from .tracker import Record, TrackerClient

log = get_logger()
_V = TypeVar("_V")
Fetch = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


async def _shared(
    cache: dict[Hashable, tuple[int, asyncio.Future[_V]]],
    key: Hashable,
    make: Callable[[], Awaitable[_V]],
    *,
    newer_than: int = -1,
    stamp: Callable[[], int] = lambda: 0,
) -> _V:
    """One request per key, awaited by everyone who asks while it is fresh enough."""
    entry = cache.get(key)
    if entry is None or entry[0] <= newer_than:
        entry = (stamp(), asyncio.ensure_future(make()))
        cache[key] = entry
    try:
        return await asyncio.shield(entry[1])
    except BaseException:
        if cache.get(key) is entry and entry[1].done():
            del cache[key]  # a failed request serves no one: the next asker tries again
        raise


class Holdings:
    """The run's knowledge of Tracker's worklogs, authors and claimed ids."""

    def __init__(self, client: TrackerClient | None, mode: Mode, claimed: set[str], fetch: Fetch):
        self.client = client
        self.mode = mode
        self.claimed = claimed
        self.owner: frozenset[str] = frozenset()
        self._fetch = fetch
        self._events = itertools.count(1)
        self._snapshots: dict[Hashable, tuple[int, asyncio.Future[list[Record]]]] = {}
        self._listings: dict[Hashable, tuple[int, asyncio.Future[list[Record]]]] = {}
        self._people: dict[Hashable, tuple[int, asyncio.Future[frozenset[str]]]] = {}

    def claim(self, worklog_id: str) -> None:
        self.claimed.add(worklog_id)

    def note_unanswered(self) -> int:
        """Mark the moment a POST ended without an answer (for sharing listings)."""
        return next(self._events)

    async def authors(self, worklog: Worklog) -> frozenset[str]:
        """Every id Tracker may show as ``createdBy`` for whoever this row is booked for."""
        if self.mode != "import":
            return self.owner
        return await _shared(self._people, worklog.author, lambda: self._identities(worklog.author))

    async def existing(self, worklog: Worklog) -> Record | None:
        """An unclaimed worklog booked before this run that matches (the pre-check)."""
        records = await _shared(
            self._snapshots, worklog.issue, lambda: self._snapshot(worklog.issue)
        )
        return await self._adopt(records, worklog)

    async def reconcile(self, worklog: Worklog, unanswered_at: int) -> Record | None:
        """The worklog an unanswered POST created, from a listing that began after it."""
        records = await _shared(
            self._listings,
            worklog.issue,
            lambda: self._list(worklog.issue, "reconcile"),
            newer_than=unanswered_at,
            stamp=lambda: next(self._events),
        )
        return await self._adopt(records, worklog)

    async def _adopt(self, records: list[Record], worklog: Worklog) -> Record | None:
        match = find_match(records, worklog, await self.authors(worklog), self.claimed)
        if match is None:
            return None
        record = dict(match)
        self.claim(str(record["id"]))
        return record

    async def _list(self, issue: str, why: str) -> list[Record]:
        assert self.client is not None
        client = self.client
        records: list[Record] = await self._fetch(
            f"{issue} ({why})", lambda: client.issue_worklogs(issue)
        )
        return records

    async def _snapshot(self, issue: str) -> list[Record]:
        records = await self._list(issue, "pre-check")
        # Keep only what could ever match, so a long-lived issue costs little memory.
        kept = [r for r in records if self.mode == "import" or created_by_one_of(r, self.owner)]
        log.info("pre-check", issue=issue, worklogs=len(records), by_owner=len(kept))
        return kept

    async def _identities(self, login: str) -> frozenset[str]:
        assert self.client is not None
        client = self.client
        record: Record = await self._fetch(f"user {login}", lambda: client.user(login))
        return user_identities(record) | {login}
