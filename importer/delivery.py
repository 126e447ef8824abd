"""Deliver worklogs exactly once: journal, pre-check, retries, reconciliation, run stops.

Tracker has no idempotency key, so a POST whose answer was lost (timeout, dropped
connection, 5xx) is never simply sent again. The next attempt first lists the issue's
worklogs and adopts a match (see :mod:`importer.matching`); only when none exists is the
POST repeated. The journal carries this across runs: a row left ``sending`` by a crashed run
starts out uncertain. The pre-check makes Tracker the source of truth when the journal does
not know a row: each issue's worklogs are read once and matches are adopted, counting
multiplicities. Rows that would book the same thing are delivered one after another, so two
of them can never adopt each other's worklog.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState

from .config import DeliverySection, Mode
from .errors import (
    AuthError,
    ImporterError,
    JournalError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    TrackerUnavailable,
)
from .holdings import Holdings
from .journal import Entry, Journal
from .log import get_logger
from .matching import user_identities
from .models import Booking, Outcome, Status, Worklog
from .retry import retry_policy
from .slots import Slots
from .times import format_tracker_start
from .tracker import Record, TrackerClient

log = get_logger()
_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
SYSTEMIC_FORBIDDEN = 3  # 403s with no worklog booked yet: the token cannot book anything
# Longest a reconciliation listing waits for more of its issue's unanswered rows to join it
# while fresh rows keep the rate limit busy; once the input is exhausted, it starts at once.
GATHER_FOR = 30.0


@contextmanager
def _while_used(table: dict[_K, tuple[_V, int]], key: _K, make: Callable[[], _V]) -> Iterator[_V]:
    """A value shared by everyone using ``key`` at the moment, dropped after the last one."""
    value, users = table[key] if key in table else (make(), 0)
    table[key] = (value, users + 1)
    try:
        yield value
    finally:
        value, users = table[key]
        if users == 1:
            del table[key]
        else:
            table[key] = (value, users - 1)


def _discard(request: Awaitable[Any]) -> None:
    """Drop a request that will never be awaited (without a "never awaited" warning)."""
    if asyncio.iscoroutine(request):
        request.close()


class _Stopped(Exception):
    """The run is stopping; this row is left for the next run."""


@dataclasses.dataclass
class _RowState:
    successes_before: int  # the run's successful answers when this row started
    uncertain: bool = False  # a POST may have created the worklog; reconcile before resending
    from_earlier_run: bool = False  # the journal says an earlier run was sending this row
    marked: bool = False  # the journal holds this row as 'sending'
    adopted: bool = False
    posting: bool = False  # the request in flight is the POST itself (not a listing)
    failed_at: int = 0  # when the last unanswered POST ended, in the run's event order
    attempts: int = 0
    parked: bool = False  # its first attempt failed; it waits, lending its worker's place


class Deliverer:
    """Books worklogs through one client, sharing its rate limit, cooldown and patience."""

    def __init__(
        self,
        client: TrackerClient | None,
        policy: DeliverySection,
        *,
        journal: Journal,
        target: str,
        mode: Mode = "create",
        precheck: bool = True,
    ) -> None:
        self.client = client
        self.policy = policy
        self.journal = journal
        self.target = target
        self.mode = mode
        self.precheck = precheck
        self.holdings = Holdings(
            client, mode, journal.claimed_ids(target), self._fetch, self._hold_off
        )
        # Fingerprints are unique within an input, so only earlier runs' marks can match a
        # row: with none for this Tracker, no row needs a lookup (a first run, a dry run).
        self._earlier_marks = journal.knows(target)
        self.stop_reason: ImporterError | None = None
        self.booked = 0
        self.successes = 0
        self._forbidden = 0
        self._stopping = asyncio.Event()
        # Requests in flight at once. Only a request holds a slot: a row waiting for its
        # backoff or for a reconciliation listing leaves it to rows that can send.
        self._slots = Slots(policy.concurrency)
        # Rows whose first attempt failed: they wait (backoff, reconciliation) and the
        # worker pool lends their workers' places to other rows meanwhile (``on_park``).
        self.parked = 0
        self.on_park: Callable[[], None] = lambda: None
        # Set while no reconciliation listing should wait for more rows to join it: the
        # input is exhausted, or the pool cannot take more waiting rows.
        self.reconcile_now = asyncio.Event()
        self._posting: dict[str, tuple[asyncio.Event, int]] = {}  # POSTs in flight by issue
        self._last_success = client.clock.monotonic() if client else 0.0
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}
        # Import mode: the first POST goes alone, so a token that may not import is told
        # once, not by every worker at the same time.
        self._first_import = asyncio.Lock()
        self._import_allowed = mode != "import"

    # --- run-level -----------------------------------------------------------------------

    def stop(self, reason: ImporterError) -> None:
        """Stop taking rows: the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self._stopping.set()
            log.warning("run_stopping", reason=str(reason))

    async def identify(self) -> None:
        """Learn who the token belongs to (``GET /v2/myself``), or stop the run saying why."""
        assert self.client is not None
        try:
            me: Record = await self._fetch("whoami", self.client.myself)
        except Rejected as exc:
            # A wrong organisation header is a 403 here; no row could succeed either.
            self.stop(AuthError(f"Tracker refused the credentials: {exc.message}", exc.status))
        except (AuthError, TrackerUnavailable) as exc:
            self.stop(exc)
        except Retryable as exc:
            self.stop(TrackerUnavailable(f"Tracker is not answering: {exc.message}", exc.status))
        except _Stopped:
            pass
        else:
            self.holdings.owner = user_identities(me)
            log.info("authenticated", login=me.get("login"), display=me.get("display"))

    # --- one row -------------------------------------------------------------------------

    def tracker_key(self, worklog: Worklog) -> Hashable:
        """What Tracker can tell apart: the author counts only when it is sent (import mode)."""
        author = worklog.author if self.mode == "import" else ""
        return (
            worklog.issue,
            worklog.start.astimezone(dt.UTC),
            worklog.duration,
            worklog.comment.strip(),
            author,
        )

    def _lookup(self, booking: Booking) -> Entry | None:
        return self.journal.lookup(booking.fingerprint) if self._earlier_marks else None

    @staticmethod
    def _known(booking: Booking, entry: Entry | None) -> Outcome | None:
        """The journal's answer for a row it holds as created; ``None`` otherwise."""
        if entry is None or entry.state != "created":
            return None
        return Outcome(
            booking.source,
            Status.ALREADY_IMPORTED,
            booking.worklog,
            worklog_id=entry.worklog_id or "",
            error=f"already imported (journal, {entry.updated_at})",
        )

    @property
    def consults_tracker(self) -> bool:
        """Whether a dry run still asks Tracker (pre-check on, credentials, no stop yet)."""
        return self.client is not None and self.precheck and self.stop_reason is None

    async def plan(self, booking: Booking) -> Outcome:
        """What a real run would do with this row; sends nothing, writes nothing."""
        outcome = await self._plan(booking) if self.consults_tracker else self.plan_offline(booking)
        outcome.warning = booking.warning
        return outcome

    def plan_offline(self, booking: Booking) -> Outcome:
        """The plan from the journal alone."""
        known = self._known(booking, self._lookup(booking))
        if known is not None:
            known.warning = booking.warning
            return known
        return Outcome(
            booking.source,
            Status.PENDING,
            booking.worklog,
            error="dry run: would be created",
            warning=booking.warning,
        )

    async def deliver(self, booking: Booking) -> Outcome:
        """Book one row and say how it ended; never raises for a row-level problem."""
        outcome = await self._deliver(booking)
        outcome.warning = booking.warning
        return outcome

    async def _plan(self, booking: Booking) -> Outcome:
        known = self._known(booking, self._lookup(booking))
        if known is not None:
            return known
        try:
            match = await self.holdings.existing(booking.worklog)
        except (Retryable, Rejected, AuthError, TrackerUnavailable, _Stopped) as exc:
            match = None
            self.stop(TrackerUnavailable(f"Tracker not consulted: {exc}"))
        if match is not None:
            return self._already_in_tracker(booking, match, record_in_journal=False)
        return self.plan_offline(booking)

    async def _deliver(self, booking: Booking) -> Outcome:
        entry = self._lookup(booking)
        known = self._known(booking, entry)
        if known is not None:
            return known
        state = _RowState(successes_before=self.successes)
        state.uncertain = state.from_earlier_run = state.marked = entry is not None
        try:
            return await self._deliver_row(booking, state)
        finally:
            if state.parked:
                self.parked -= 1

    async def _deliver_row(self, booking: Booking, state: _RowState) -> Outcome:
        worklog = booking.worklog
        outcome = Outcome(booking.source, Status.PENDING, worklog)
        with _while_used(self._locks, self.tracker_key(worklog), asyncio.Lock) as lock:
            if lock.locked():
                self._park(state)  # its twin goes first
            async with lock:
                if self.stop_reason is not None:
                    outcome.error = self._stopped_message(state)
                    return outcome
                try:
                    if self.precheck and not state.uncertain:
                        match = await self.holdings.existing(worklog)
                        if match is not None:
                            return self._already_in_tracker(booking, match)
                    record = await self._with_retries(booking, state)
                except _Stopped:
                    outcome.error = self._stopped_message(state)
                except Rejected as exc:
                    outcome.status, outcome.error = Status.FAILED, exc.message
                    outcome.http_status = exc.status
                    if self._count_forbidden(
                        exc, importing=self.mode == "import" and state.posting
                    ):
                        # The token's fault, not the row's: leave it for a run that may import.
                        outcome.status, outcome.error = Status.PENDING, self._stopped_message(state)
                except (AuthError, TrackerUnavailable, JournalError) as exc:
                    self.stop(exc)
                    outcome.http_status = getattr(exc, "status", None)
                    outcome.error = self._stopped_message(state)
                except Retryable as exc:
                    # Out of attempts. If the last POST may have landed we cannot say "failed".
                    outcome.http_status = exc.status
                    tries = f"gave up after {state.attempts} attempts: {exc.message}"
                    if self.successes == state.successes_before:
                        # Nothing at all succeeded meanwhile: Tracker is down, not this row.
                        self.stop(TrackerUnavailable(f"Tracker is not answering: {exc.message}"))
                        outcome.error = self._stopped_message(state)
                    elif state.uncertain:
                        outcome.error = f"outcome unknown, {tries}"
                    else:
                        outcome.status, outcome.error = Status.FAILED, tries
                else:
                    self._settle(booking, outcome, record, state)
        outcome.attempts = state.attempts
        return outcome

    def _settle(self, booking: Booking, outcome: Outcome, record: Record, state: _RowState) -> None:
        outcome.worklog_id = str(record["id"])
        self.journal.mark_created(booking.fingerprint, outcome.worklog_id)
        if state.adopted and state.from_earlier_run:
            outcome.status, outcome.http_status = Status.ALREADY_IMPORTED, 200
            outcome.error = "found in Tracker: booked by an earlier run that was interrupted"
        elif state.adopted:
            outcome.status, outcome.http_status = Status.CREATED, 200
            outcome.error = "adopted the worklog an unanswered request had created"
        else:
            outcome.status, outcome.http_status = Status.CREATED, 201

    def _already_in_tracker(
        self, booking: Booking, record: Record, *, record_in_journal: bool = True
    ) -> Outcome:
        worklog_id = str(record["id"])
        self.holdings.claim(worklog_id)
        if record_in_journal:
            self.journal.mark_created(booking.fingerprint, worklog_id)
        return Outcome(
            booking.source,
            Status.ALREADY_IMPORTED,
            booking.worklog,
            worklog_id=worklog_id,
            http_status=200,
            error="found in Tracker: booked before this run",
        )

    def _count_forbidden(self, exc: Rejected, *, importing: bool) -> bool:
        """Count a 403; True when it shows the token may not import at all."""
        if exc.status != 403:
            return False
        if importing and self.booked == 0:
            # Only administrators may import; the first refusal says it for every row.
            self.stop(
                AuthError(
                    "mode 'import' needs an administrator's token, and Tracker refused this one "
                    f"({exc.message})",
                    403,
                )
            )
            return True
        self._forbidden += 1
        if self._forbidden >= SYSTEMIC_FORBIDDEN and self.booked == 0:
            self.stop(AuthError(f"every worklog so far was refused: {exc.message}", 403))
        return False

    def _stopped_message(self, state: _RowState) -> str:
        reason = str(self.stop_reason) if self.stop_reason else "run stopped"
        if state.uncertain:
            return f"outcome unknown, run stopped: {reason}; the next run checks Tracker first"
        return f"not sent, run stopped: {reason}"

    # --- retries ---------------------------------------------------------------------------

    async def _sleep(self, seconds: float, *, or_until: asyncio.Event | None = None) -> None:
        """Back off, but wake at once when the run is stopping (or ``or_until`` is set)."""
        assert self.client is not None
        waits = {
            asyncio.ensure_future(self.client.clock.sleep(seconds)),
            asyncio.ensure_future(self._stopping.wait()),
        }
        if or_until is not None:
            waits.add(asyncio.ensure_future(or_until.wait()))
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _hold_off(self, issue: str) -> None:
        """Let a reconciliation listing of ``issue`` wait, at most ``GATHER_FOR`` seconds,
        while fresh rows keep the rate limit busy (until ``reconcile_now``) or POSTs to the
        issue are in flight (any of them may go unanswered and need this very listing)."""
        assert self.client is not None
        clock = self.client.clock
        deadline = clock.monotonic() + GATHER_FOR
        while (left := deadline - clock.monotonic()) > 0 and self.stop_reason is None:
            if not self.reconcile_now.is_set():
                await self._sleep(left, or_until=self.reconcile_now)
            elif issue in self._posting:
                await self._sleep(left, or_until=self._posting[issue][0])
            else:
                return

    @contextmanager
    def _post_in_flight(self, issue: str) -> Iterator[None]:
        done: asyncio.Event | None = None
        try:
            with _while_used(self._posting, issue, asyncio.Event) as done:
                yield
        finally:
            if done is not None and issue not in self._posting:
                done.set()  # the issue's last POST in flight ended: a waiting listing may go

    def _retrying(self, what: str, row: _RowState | None = None) -> AsyncRetrying:
        def count_retry(state: RetryCallState) -> None:
            assert self.client is not None
            if row is not None:
                self._park(row)
            self.client.stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            log.info(
                "retry",
                what=what,
                attempt=state.attempt_number,
                wait=round(state.upcoming_sleep, 3),
                error=getattr(error, "message", str(error)),
            )

        assert self.client is not None
        return retry_policy(
            self.policy,
            sleep=self._sleep,
            before_sleep=count_retry,
            steady=self.client.pacer.steady,
        )

    def _park(self, row: _RowState) -> None:
        """The row waits now (backoff, reconciliation): lend its worker's place to others."""
        if not row.parked:
            row.parked = True
            self.parked += 1
            self.on_park()

    async def _fetch(self, what: str, request: Callable[[], Awaitable[_T]]) -> _T:
        """A read, retried on its own (safe to repeat) within the run's patience and stops."""
        return await self._first_then_retrying(lambda: self._patiently(request()), what)

    async def _patiently(self, request: Awaitable[_T], *, fresh: bool = False) -> _T:
        """Await a request; past the run's patience, a retryable failure stops the run.

        ``fresh``: a row's first POST, which waits behind requests of rows under way.
        """
        assert self.client is not None
        clock = self.client.clock
        try:
            await self._slots.acquire(fresh)
        except BaseException:
            _discard(request)
            raise
        try:
            if self.stop_reason is not None:
                _discard(request)
                raise _Stopped
            result = await request
        except Retryable:
            if clock.monotonic() - self._last_success > self.policy.give_up_after:
                raise TrackerUnavailable(
                    f"no successful answer from Tracker for {self.policy.give_up_after:g} s"
                ) from None
            raise
        finally:
            self._slots.release()
        self._last_success = clock.monotonic()
        self.successes += 1
        return result

    async def _with_retries(self, booking: Booking, state: _RowState) -> Record:
        return await self._first_then_retrying(
            lambda: self._attempt(booking, state), booking.worklog.issue, state
        )

    async def _first_then_retrying(
        self, attempt: Callable[[], Awaitable[_T]], what: str, row: _RowState | None = None
    ) -> _T:
        """The first attempt runs plainly; tenacity takes over only once it failed.

        Most requests succeed at once, and a retrying loop costs dozens of objects that
        only the garbage collector frees — per row, that is most of a fast run's overhead.
        """
        try:
            return await attempt()
        except Retryable as exc:
            first: Retryable | None = exc
        async for trying in self._retrying(what, row):
            with trying:
                if first is not None:
                    failed, first = first, None
                    raise failed  # tenacity counts it as attempt 1 and waits as it would
                return await attempt()
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(self, booking: Booking, state: _RowState) -> Record:
        if self.stop_reason is not None:
            raise _Stopped
        state.attempts += 1
        state.posting = False
        if state.uncertain:
            self._park(state)  # a reconciliation listing may wait for others to join it
            match = await self.holdings.reconcile(booking.worklog, state.failed_at)
            if match is not None:
                state.adopted = True
                self.booked += 1
                return match
            state.uncertain = False
        if not state.marked:
            await self.journal.mark_sending(
                booking.fingerprint,
                booking.worklog,
                target=self.target,
                mode=self.mode,
                file=booking.source.file,
                row=booking.source.row,
            )
            state.marked = True
        state.posting = True  # stays True if the POST raises, so the handler knows its source
        fresh = not state.parked and not state.from_earlier_run
        with self._post_in_flight(booking.worklog.issue):
            try:
                if self._import_allowed:
                    record = await self._patiently(self._send(booking.worklog), fresh=fresh)
                else:
                    async with self._first_import:
                        if self.stop_reason is not None:
                            raise _Stopped
                        record = await self._patiently(self._send(booking.worklog), fresh=fresh)
                        self._import_allowed = True
            except OutcomeUnknown:
                state.uncertain = True
                state.failed_at = self.holdings.note_unanswered()
                raise
        state.posting = False
        self.holdings.claim(str(record["id"]))
        self.booked += 1
        return record

    async def _send(self, worklog: Worklog) -> Record:
        assert self.client is not None
        payload: dict[str, Any] = worklog.payload()
        if self.mode == "import":
            payload["createdBy"] = worklog.author
            payload["createdAt"] = format_tracker_start(worklog.created_at or worklog.start)
            return await self.client.import_worklog(worklog.issue, payload)
        return await self.client.create_worklog(worklog.issue, payload)
