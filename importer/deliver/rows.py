"""Deliver one row exactly once: journal, pre-check, POST, retries, reconciliation.

Tracker has no idempotency key, so a POST whose answer was lost (timeout, dropped
connection, 5xx) is never simply sent again. The next attempt first lists the issue's
worklogs and adopts a match (see :mod:`importer.deliver.matching`); only when none exists is
the POST repeated. The journal carries this across runs: a row left ``sending`` by a crashed
run starts out uncertain. The pre-check makes Tracker the source of truth when the journal
does not know a row: each issue's worklogs are read once and matches are adopted, counting
multiplicities. Rows that would book the same thing are delivered one after another, so two
of them can never adopt each other's worklog.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

from importer.deliver import outcomes
from importer.deliver.calls import Calls
from importer.deliver.holdings import Holdings
from importer.deliver.identity import twin_key
from importer.deliver.stops import Stopped
from importer.deliver.waiting import ListingGate, Parking, while_used
from importer.errors import (
    AuthError,
    JournalError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    TrackerUnavailable,
)
from importer.formats import format_tracker_start
from importer.journal.store import Journal
from importer.models import Booking, Mode, Outcome, Worklog
from importer.tracker import Record, SentAt

_ROW_ERRORS = (Stopped, Rejected, AuthError, TrackerUnavailable, JournalError, Retryable)
# Rows whose answers were lost within this many seconds of each other look them up in one
# search, while fresh rows keep the rate limit busy; once the input is exhausted, at once.
# At 10/s a search per lost answer made 3 % of dropped answers cost 4 % of the run.
EARLY_GATHER = 10.0


@dataclasses.dataclass
class RowState:
    """One row's way through delivery."""

    successes_before: int  # the run's successful answers when this row started
    uncertain: bool = False  # a POST may have created the worklog; reconcile before resending
    from_earlier_run: bool = False  # the journal says an earlier run was sending this row
    marked: bool = False  # the journal holds this row as 'sending'
    adopted: bool = False
    posted_here: bool = False  # this run sent a POST for it (what it adopts then is its own)
    posting: bool = False  # the request in flight is the POST itself (not a listing)
    failed_at: int = 0  # when the last unanswered POST ended, in the run's event order
    attempts: int = 0
    parked: bool = False  # it waits, lending its worker's place to another row
    sent_at: float = 0.0  # when its last POST went out (the run's monotonic clock)
    sent_wall: float | None = None  # the same moment on the wall clock (for searches)
    settled_wall: float = 0.0  # on the wall clock: when it was answered or its horizon ends
    # Only a read that starts at or after this moment can prove an unanswered POST absent:
    # Tracker may still store a write it has not answered until the commit horizon passes.
    decisive_after: float = 0.0
    # Its reconciliation, started as soon as the POST failed: the read runs while the row
    # waits out its backoff, not after it.
    reconciling: asyncio.Future[Record | None] | None = None


def _retrieved(future: asyncio.Future[Any]) -> None:
    """An early reconciliation's failure is raised where the row awaits it; if the row ended
    before that, the failure is dropped here rather than reported as never retrieved."""
    if not future.cancelled():
        future.exception()


def _wall_of(marked_at: str) -> float | None:
    """A journal mark's time on the wall clock, a second early (marks are to the second)."""
    try:
        marked = dt.datetime.fromisoformat(marked_at)
    except ValueError:
        return None
    if marked.tzinfo is None:
        marked = marked.replace(tzinfo=dt.UTC)
    return marked.timestamp() - 1.0


class Deliverer:
    """Books rows through one run's calls, journal and knowledge of Tracker."""

    def __init__(
        self,
        calls: Calls,
        holdings: Holdings,
        journal: Journal,
        *,
        target: str,
        mode: Mode,
        precheck: bool,
        parking: Parking,
        gate: ListingGate,
    ) -> None:
        self.calls = calls
        self.stops = calls.stops
        self.holdings = holdings
        self.journal = journal
        self.target = target
        self.mode = mode
        self.precheck = precheck
        self._recall = journal.recall(target)
        self._parking = parking
        self._gate = gate
        self._twins: dict[str, tuple[asyncio.Lock, int]] = {}
        # Import mode: the first POST goes alone, so a token that may not import is told
        # once, not by every worker at the same time.
        self._first_import = asyncio.Lock()
        self._import_allowed = mode is not Mode.IMPORT
        self._horizon = calls.policy.commit_horizon
        self._gathering: asyncio.Future[None] | None = None  # the next early look's moment

    async def deliver(self, booking: Booking) -> Outcome:
        """Book one row and say how it ended; never raises for a row-level problem."""
        entry = self._recall(booking.fingerprint)
        known = outcomes.known_from_journal(booking, entry)
        if known is not None:
            return known
        row = RowState(successes_before=self.calls.successes)
        row.uncertain = row.from_earlier_run = row.marked = (
            entry is not None and entry.state == "sending"
        )
        if row.from_earlier_run and entry is not None:
            # An earlier run marked it, then sent it: its horizon counts from the mark (to
            # the second, so one second either side).
            now = self.calls.clock.monotonic()
            row.sent_wall = _wall_of(entry.updated_at)
            if row.sent_wall is None:
                row.decisive_after = now + self._horizon
            else:
                row.settled_wall = row.sent_wall + 2.0 + self._horizon
                row.decisive_after = now + max(0.0, row.settled_wall - self.calls.clock.wall())
        try:
            return await self._deliver_row(booking, row)
        finally:
            if row.reconciling is not None:
                row.reconciling.cancel()  # the row ended (stopped) before it was needed
            if row.parked:
                self._parking.unpark()

    async def _deliver_row(self, booking: Booking, row: RowState) -> Outcome:
        worklog = booking.worklog
        with while_used(self._twins, twin_key(worklog, self.mode), asyncio.Lock) as twin:
            if twin.locked():
                self._park(row)  # its twin goes first
            async with twin:
                try:
                    self.stops.check()
                    if self.precheck and not row.uncertain:
                        match = await self.holdings.existing(worklog)
                        if match is not None:
                            self.journal.mark_adopted(
                                booking.fingerprint,
                                worklog,
                                match,
                                target=self.target,
                                mode=self.mode,
                                file=booking.source.file,
                                row=booking.source.row,
                            )
                            return outcomes.found_before(booking, str(match["id"]))
                    record = await self.calls.first_then_retrying(
                        lambda: self._attempt(booking, row), worklog.issue, lambda: self._park(row)
                    )
                except _ROW_ERRORS as error:
                    return self._unbooked(booking, row, error)
        worklog_id = str(record["id"])
        self.journal.mark_created(booking.fingerprint, worklog_id, record)
        return outcomes.booked(
            booking,
            worklog_id,
            adopted=row.adopted,
            # Resumed from an earlier run, but this run's own POST created it: created here.
            from_earlier_run=row.from_earlier_run and not row.posted_here,
            attempts=row.attempts,
        )

    def _unbooked(self, booking: Booking, row: RowState, error: BaseException) -> Outcome:
        stops = self.stops.after_row_error(
            error,
            importing=self.mode is Mode.IMPORT and row.posting,
            nothing_succeeded=self.calls.successes == row.successes_before,
        )
        reason = str(self.stops.reason) if self.stops.reason else "run stopped"
        return outcomes.unbooked(
            booking,
            error,
            uncertain=row.uncertain,
            attempts=row.attempts,
            stopped=reason if stops else None,
        )

    def _park(self, row: RowState) -> None:
        """The row waits now (backoff, reconciliation, a twin): lend its worker's place."""
        if not row.parked:
            row.parked = True
            self._parking.park()

    async def _attempt(self, booking: Booking, row: RowState) -> Record:
        self.stops.check()
        row.attempts += 1
        row.posting = False
        if row.uncertain:
            self._park(row)  # a reconciliation listing may wait for others to join it
            reconciling, row.reconciling = row.reconciling, None
            match = await (reconciling or self._reconcile(booking.worklog, row))
            if match is not None:
                row.adopted = True
                self.stops.booked += 1
                return match
            row.uncertain = False
        if not row.marked:
            await self.journal.mark_sending(
                booking.fingerprint,
                booking.worklog,
                target=self.target,
                mode=self.mode,
                file=booking.source.file,
                row=booking.source.row,
            )
            row.marked = True
        row.posting = row.posted_here = True  # posting stays True if the POST raises
        with self._gate.posting(booking.worklog.issue):
            try:
                record = await self._post(booking.worklog, row)
            except OutcomeUnknown as unknown:
                row.uncertain = True
                row.failed_at = self.holdings.note_unanswered()
                clock = self.calls.clock
                # Nobody answered: Tracker may store it up to the horizon after it was sent.
                # Tracker answered (500, 503): a read from now on shows what it did.
                after = row.sent_at + self._horizon if unknown.unanswered else clock.monotonic()
                row.decisive_after = max(row.decisive_after, after)
                sent = row.sent_wall or clock.wall()
                settled = sent + self._horizon if unknown.unanswered else clock.wall()
                row.settled_wall = max(row.settled_wall, settled)
                row.reconciling = asyncio.ensure_future(self._reconcile(booking.worklog, row))
                row.reconciling.add_done_callback(_retrieved)
                raise
        row.posting = False
        if row.sent_wall is not None:
            self.holdings.observe_answer(record, row.sent_wall, self.calls.clock.wall())
        self.holdings.claim(str(record["id"]))
        self.stops.booked += 1
        return record

    async def _reconcile(self, worklog: Worklog, row: RowState) -> Record | None:
        """What an unanswered POST created, if anything. A write Tracker stored is found by
        the first read after the POST ended and settled at once; only one not found waits
        for its commit horizon, after which a read can prove it absent (a lost answer cost a
        minute per run when every row waited for the horizon first)."""
        holdings, failed_at, clock = self.holdings, row.failed_at, self.calls.clock
        window = (row.sent_wall, row.settled_wall) if row.sent_wall is not None else None
        early = row.sent_wall is not None and row.decisive_after > clock.monotonic()
        # A listing of a big issue is no quick look: only a search is made early. A POST
        # whose answer was lost before any answer bounded Tracker's clock waits for the
        # shared early look too: by then other answers have bounded it, and the search can
        # be made (else it waited its whole commit horizon).
        if early and holdings.may_search():
            await self._gathered()
            so_far = (row.sent_wall or 0.0, clock.wall())
            if holdings.searchable(so_far):
                found = await holdings.reconcile(worklog, failed_at, clock.monotonic(), so_far)
                if found is not None:
                    return found
        return await holdings.reconcile(worklog, failed_at, row.decisive_after, window)

    async def _gathered(self) -> None:
        """Wait for the early look that rows losing their answers meanwhile share."""
        if self._gathering is None or self._gathering.done():
            reconcile_now = self._parking.reconcile_now
            moment = self.calls.sleep(EARLY_GATHER, or_until=reconcile_now)
            self._gathering = asyncio.ensure_future(moment)
        await asyncio.shield(self._gathering)
        self.stops.check()

    async def _post(self, worklog: Worklog, row: RowState) -> Record:
        fresh = not row.parked and not row.from_earlier_run
        self.stops.sent += 1
        if self._import_allowed:
            return await self.calls.patiently(self._send(worklog, row, fresh), fresh=fresh)
        async with self._first_import:
            self.stops.check()
            record = await self.calls.patiently(self._send(worklog, row, fresh), fresh=fresh)
            self._import_allowed = True
            return record

    async def _send(self, worklog: Worklog, row: RowState, fresh: bool) -> Record:
        client = self.calls.client
        clock = self.calls.clock
        sent = SentAt(clock.monotonic(), clock.wall())  # until the pacer lets it go
        payload: dict[str, Any] = worklog.payload()
        try:
            if self.mode is Mode.IMPORT:
                payload["createdBy"] = worklog.author
                payload["createdAt"] = format_tracker_start(worklog.created_at or worklog.start)
                return await client.import_worklog(worklog.issue, payload, sent, fresh=fresh)
            return await client.create_worklog(worklog.issue, payload, sent, fresh=fresh)
        finally:
            row.sent_at, row.sent_wall = sent.monotonic, sent.wall
