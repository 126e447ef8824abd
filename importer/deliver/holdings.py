"""What Tracker already holds, as far as this run knows — read once, shared by all rows.

* the pre-check's snapshot of each issue's worklogs (one listing per issue per run);
* reconciliation: in create mode one search for what the owner created since the earliest
  waiting POST was sent (:mod:`importer.deliver.searching`), across all issues; in import
  mode a search for the author's worklogs created within a second of the ``createdAt`` the
  POST set; otherwise — no answered POST yet to bound Tracker's clock, or Tracker refusing
  the search — a listing of the issue. Either is used only when it started after a row's
  unanswered POST ended, so it shows what that POST did so far; only one that started after
  the POST's commit horizon can prove it did nothing (the row asks first at once, then, if
  nothing was found, after the horizon: see ``Deliverer._reconcile``);
* each author's identities (import mode), looked up once;
* the worklog ids already claimed by a row, so no worklog is ever adopted twice.

Requests go through the run's :class:`~importer.deliver.calls.Calls`, which adds retries,
patience and stops.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from importer.deliver.calls import Calls
from importer.deliver.matching import RecordIndex, created_by_one_of, user_identities
from importer.deliver.searching import Searches
from importer.errors import Rejected, SearchTooWide
from importer.log import get_logger
from importer.models import Mode, Worklog
from importer.tracker import Record

log = get_logger()
_V = TypeVar("_V")


async def shared(
    cache: dict[Hashable, asyncio.Future[_V]], key: Hashable, make: Callable[[], Awaitable[_V]]
) -> _V:
    """One request per key, awaited by everyone who asks for that key."""
    future = cache.get(key)
    if future is None:
        future = cache[key] = asyncio.ensure_future(make())
    try:
        return await asyncio.shield(future)
    except BaseException:
        if cache.get(key) is future and future.done():
            del cache[key]  # a failed request serves no one: the next asker tries again
        raise


async def _now(issue: str) -> None:
    return None


class Holdings:
    """The run's knowledge of Tracker's worklogs, authors and claimed ids."""

    def __init__(
        self,
        calls: Calls,
        mode: Mode,
        claimed: set[str],
        hold_off: Callable[[str], Awaitable[None]] = _now,
    ):
        self._calls = calls
        self.mode = mode
        self.claimed = claimed
        self.owner: frozenset[str] = frozenset()
        self._hold_off = hold_off
        self._gathering: dict[str, asyncio.Future[RecordIndex]] = {}
        self._events = itertools.count(1)
        self._snapshots: dict[Hashable, asyncio.Future[RecordIndex]] = {}
        self._people: dict[Hashable, asyncio.Future[frozenset[str]]] = {}
        # Reconciliation listings by issue, stamped with the event number and the clock
        # time at which each one started.
        self._listings: dict[str, tuple[int, float, asyncio.Future[RecordIndex]]] = {}
        # Create mode: one search for what the owner created lately, instead of listings.
        self.searches = Searches(calls, self._events)

    async def identify(self) -> None:
        """Learn who the token belongs to (``GET /v2/myself``): the pre-check's author."""
        me: Record = await self._calls.fetch("whoami", self._calls.client.myself)
        self.owner = user_identities(me)
        self.searches.owner = str(me.get("login") or me.get("uid") or "")
        log.info("authenticated", login=me.get("login"), display=me.get("display"))

    def claim(self, worklog_id: str) -> None:
        self.claimed.add(worklog_id)

    def note_unanswered(self) -> int:
        """Mark the moment a POST ended without an answer (for sharing listings)."""
        return next(self._events)

    async def authors(self, worklog: Worklog) -> frozenset[str]:
        """Every id Tracker may show as ``createdBy`` for whoever this row is booked for."""
        if self.mode is not Mode.IMPORT:
            return self.owner
        return await self.identities(worklog.author)

    async def identities(self, login: str) -> frozenset[str]:
        """A person's ids, looked up once per run (``Rejected`` 404: no such user)."""
        return await shared(self._people, login, lambda: self._identities(login))

    async def existing(self, worklog: Worklog) -> Record | None:
        """An unclaimed worklog booked before this run that matches (the pre-check)."""
        if self.mode is Mode.CREATE and self.searches.usable and self.searches.owner:
            try:
                for found in await self.searches.booked_since(worklog.start):
                    match = await self._adopt(found, worklog)
                    if match is not None:
                        return match
                return None
            except (SearchTooWide, Rejected) as exc:
                self.searches.usable = False
                log.warning("precheck_by_listing", reason=str(exc))
        records = await shared(
            self._snapshots, worklog.issue, lambda: self._snapshot(worklog.issue)
        )
        return await self._adopt(records, worklog)

    def observe_answer(self, record: Record, sent: float, received: float) -> None:
        """An answered POST bounds how Tracker's clock differs from ours (for searches)."""
        self.searches.clock.observe(record, sent, received)

    def may_search(self) -> bool:
        """Whether reconciliation can be a search, now or once an answer bounded Tracker's
        clock (create mode needs the owner; nothing refused a search so far)."""
        return self.searches.usable and (self.mode is Mode.IMPORT or bool(self.searches.owner))

    def searchable(self, window: tuple[float, float] | None) -> bool:
        """Whether a reconciliation of a POST sent and settled in ``window`` is a search
        (cheap, whatever the issue holds) rather than a listing of the issue."""
        return self.searches.usable and (
            self.mode is Mode.IMPORT or (window is not None and self.searches.ready())
        )

    async def reconcile(
        self,
        worklog: Worklog,
        unanswered_at: int,
        not_before: float = 0.0,
        window: tuple[float, float] | None = None,
    ) -> Record | None:
        """The worklog an unanswered POST created, from a listing that began after it —
        and not before ``not_before`` (the POST's commit horizon, on the run's clock).
        ``window``: when the POST was sent and settled (answered, or its horizon passed) on
        the wall clock; with it, create mode searches instead of listing the issue.

        A new listing waits (``hold_off``) while the run is busy: every row of the issue
        whose POST goes unanswered meanwhile joins it, so one listing serves many rows
        instead of each row paying for its own.
        """
        clock = self._calls.clock
        if (wait := not_before - clock.monotonic()) > 0:
            log.info("waiting_for_commit_horizon", issue=worklog.issue, seconds=round(wait, 1))
            await self._calls.sleep(wait)
            self._calls.stops.check()
        if self.searchable(window):
            try:
                if self.mode is Mode.IMPORT:
                    found = await self.searches.created_at(
                        worklog.author, worklog.created_at or worklog.start
                    )
                else:
                    assert window is not None
                    found = await self.searches.between(unanswered_at, not_before, *window)
                return await self._adopt(found, worklog)
            except (SearchTooWide, Rejected) as exc:
                # Tracker would not answer the search whole: listings from now on.
                self.searches.usable = False
                log.warning("reconcile_by_listing", reason=str(exc))
        issue = worklog.issue
        entry = self._listings.get(issue)
        if entry is not None and entry[0] > unanswered_at and entry[1] >= not_before:
            records = await asyncio.shield(entry[2])
        else:
            gathering = self._gathering.get(issue)
            if gathering is None:
                gathering = asyncio.ensure_future(self._gathered(issue))
                self._gathering[issue] = gathering
            records = await asyncio.shield(gathering)
        return await self._adopt(records, worklog)

    async def _gathered(self, issue: str) -> RecordIndex:
        """A listing for every row that asks before it starts."""
        try:
            await self._hold_off(issue)
        finally:
            del self._gathering[issue]
        started = self._calls.clock.monotonic()
        listing = asyncio.ensure_future(self._indexed(issue, "reconcile"))
        entry = (next(self._events), started, listing)
        self._listings[issue] = entry
        try:
            return await entry[2]
        except BaseException:
            if self._listings.get(issue) is entry:
                del self._listings[issue]  # a failed listing serves no one
            raise

    async def _adopt(self, records: RecordIndex, worklog: Worklog) -> Record | None:
        match = records.match(worklog, await self.authors(worklog), self.claimed)
        if match is None:
            return None
        record = dict(match)
        self.claim(str(record["id"]))
        return record

    async def _list(self, issue: str, why: str) -> list[Record]:
        client = self._calls.client
        return await self._calls.pages(
            f"{issue} ({why})", lambda each: client.issue_worklogs(issue, each_page=each)
        )

    async def _indexed(self, issue: str, why: str) -> RecordIndex:
        return RecordIndex(await self._list(issue, why))

    async def _snapshot(self, issue: str) -> RecordIndex:
        records = await self._list(issue, "pre-check")
        # Keep only what could ever match, so a long-lived issue costs little memory.
        kept = [r for r in records if self.mode is Mode.IMPORT or created_by_one_of(r, self.owner)]
        log.info("pre-check", issue=issue, worklogs=len(records), by_owner=len(kept))
        return RecordIndex(kept)

    async def _identities(self, login: str) -> frozenset[str]:
        client = self._calls.client
        record = await self._calls.fetch(f"user {login}", lambda: client.user(login))
        return user_identities(record) | {login}
