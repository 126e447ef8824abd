"""Reconciling unanswered POSTs by one search across all issues, not a listing per issue.

An unanswered POST in create mode can only have created a worklog by the token's owner,
between the moment it was sent and the moment it was settled: when Tracker answered it
(500, 503), or when its commit horizon passed (no answer). ``POST /v2/worklog/_search`` for
what the owner created in that window answers with the run's own recent writes, whatever
the issues hold: its cost follows the writes in the window, not the size of the issues.

The pre-check asks the same way, once: what the owner created since a month before the
earliest start it was asked about (a worklog is booked after the work, rarely weeks before
it: assumed), instead of reading every issue whole.

Two things make the window safe:

* **Tracker's clock is not ours.** ``createdAt`` is Tracker's time. Every answered POST
  bounds the offset: Tracker stored it after we sent it and before we read the answer, so
  ``createdAt - received <= offset <= createdAt - sent``. The window is widened by those
  bounds and a margin; until one answer bounded the offset, reconciliation lists the issue.
* **An answer may be cut short.** The search is paged until an empty page; past Tracker's
  item limit (or when pages cannot be turned) the window is split in halves until each half
  reads whole (:class:`~importer.errors.SearchTooWide`).

One search runs at a time, and it starts as soon as a row asks (it does not wait for the
run to be idle): rows settled while it runs join the next one. At a high rate a window
holds many of the run's own writes, and a search per row would read them again and again
(P6 at 1000/s: 263 searches, 13 % overhead, before this rule; about 50, 2.5–3 %, after).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
from collections.abc import Iterator

from importer.deliver.calls import Calls
from importer.deliver.matching import RecordIndex
from importer.errors import SearchTooWide
from importer.formats import parse_tracker_start
from importer.log import get_logger
from importer.tracker import Record

log = get_logger()
MARGIN = 0.5  # seconds added on both sides of a search window (clock drift, rounding)
NARROWEST = 0.002  # seconds (createdAt is to the millisecond): narrower windows give up
PRECHECK_BEFORE = 31 * 86400.0  # seconds: the pre-check reads what was created since then


class ServerClock:
    """What Tracker's clock is, relative to ours, as far as answered POSTs bound it."""

    def __init__(self) -> None:
        self.low = -math.inf  # Tracker's time minus ours, at least …
        self.high = math.inf  # … and at most
        self.samples = 0

    @property
    def known(self) -> bool:
        return self.samples > 0

    def observe(self, record: Record, sent: float, received: float) -> None:
        """An answered POST: Tracker stored it between ``sent`` and ``received`` (our wall
        clock, seconds)."""
        try:
            created = parse_tracker_start(str(record["createdAt"])).timestamp()
        except (KeyError, ValueError):
            return
        low, high = created - received, created - sent
        if self.samples and (low > self.high or high < self.low):
            self.low, self.high, self.samples = low, high, 0  # a clock stepped: start over
        self.low, self.high = max(self.low, low), min(self.high, high)
        self.samples += 1


@dataclasses.dataclass
class _Search:
    event: int  # the run's event number when it started
    started: float  # the run's monotonic clock when it started
    since: float  # the window, on our wall clock
    until: float
    answer: asyncio.Future[RecordIndex]


class Searches:
    """Gathered searches for what the token's owner created lately."""

    def __init__(
        self,
        calls: Calls,
        events: Iterator[int],
    ) -> None:
        self._calls = calls
        self._events = events
        self.clock = ServerClock()
        self.owner = ""  # the login or uid to search by
        self.usable = True  # False once Tracker refused a search: listings from then on
        self._gathering: asyncio.Future[RecordIndex] | None = None
        self._gathering_since = math.inf
        self._last: _Search | None = None
        self._booked_since: float | None = None  # the pre-check's window starts here …
        self._booked: list[asyncio.Future[RecordIndex]] = []  # … and these searches cover it

    def ready(self) -> bool:
        return self.usable and bool(self.owner) and self.clock.known

    async def booked_since(self, moment: dt.datetime) -> list[RecordIndex]:
        """The pre-check's view: what the owner created from ``moment`` until now, read by
        as few searches as possible (a later row starting earlier widens it backwards)."""
        if any(part.done() and (part.cancelled() or part.exception()) for part in self._booked):
            self._booked, self._booked_since = [], None  # a failed search serves no one
        since = moment.timestamp() - PRECHECK_BEFORE
        if self._booked_since is None or since < self._booked_since:
            until = (
                self._booked_since
                if self._booked_since is not None
                else self._calls.clock.wall() + 60
            )
            self._booked_since = since
            self._booked.append(asyncio.ensure_future(self._search(since, until)))
        return [await asyncio.shield(part) for part in list(self._booked)]

    async def between(
        self, unanswered_at: int, not_before: float, sent: float, settled: float
    ) -> RecordIndex:
        """What the owner created between ``sent`` and ``settled`` (our wall clock: when the
        POST went out, and when Tracker answered it or its commit horizon passed), read by a
        search that began after the event ``unanswered_at`` and not before ``not_before``."""
        since = sent + self.clock.low - MARGIN
        until = settled + self.clock.high + MARGIN
        last = self._last
        if (
            last is not None
            and last.event > unanswered_at
            and last.started >= not_before
            and last.since <= since
            and last.until >= until
        ):
            return await asyncio.shield(last.answer)
        self._gathering_since = min(self._gathering_since, since)
        if self._gathering is None:
            self._gathering = asyncio.ensure_future(self._gathered())
        return await asyncio.shield(self._gathering)

    async def created_at(self, author: str, moment: dt.datetime) -> RecordIndex:
        """Import mode: what ``author`` holds with ``createdAt`` within a second of
        ``moment`` — the creation time an import POST sets itself, so the window needs
        neither Tracker's clock nor the run's pace. A fresh search every time: the caller
        asks only after the POST ended and its horizon passed."""
        since = moment.timestamp() - 1.0
        return await self._search(since, since + 2.0, author)

    async def _gathered(self) -> RecordIndex:
        try:
            if self._last is not None and not self._last.answer.done():
                # One search at a time: rows settled meanwhile join the next one, which
                # reads their windows once instead of one search per row re-reading them.
                await asyncio.wait([self._last.answer])
        finally:
            self._gathering = None
            since, self._gathering_since = self._gathering_since, math.inf
        # Up to now: every joiner was settled before it asked, and a later row whose POST was
        # settled before this search began can use it too.
        until = self._calls.clock.wall() + self.clock.high + MARGIN
        search = _Search(
            next(self._events),
            self._calls.clock.monotonic(),
            since,
            until,
            asyncio.ensure_future(self._search(since, until)),
        )
        self._last = search
        try:
            return await search.answer
        except BaseException:
            if self._last is search:
                self._last = None  # a failed search serves no one
            raise

    async def _search(self, since: float, until: float, author: str = "") -> RecordIndex:
        records = await self._window(since, until, author or self.owner)
        unique = {str(r.get("id")): r for r in records}
        log.info("reconcile_search", window_seconds=round(until - since, 1), found=len(unique))
        return RecordIndex(unique.values(), by_issue=True)

    async def _window(self, since: float, until: float, author: str) -> list[Record]:
        client = self._calls.client
        start = dt.datetime.fromtimestamp(since, dt.UTC)
        end = dt.datetime.fromtimestamp(until, dt.UTC)
        try:
            return await self._calls.pages(
                "search (reconcile)",
                lambda each: client.search_worklogs(author, start, end, each_page=each),
            )
        except SearchTooWide:
            if until - since <= NARROWEST:
                raise
            middle = (since + until) / 2
            return [
                *await self._window(since, middle, author),
                *await self._window(middle, until, author),
            ]
