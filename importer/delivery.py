"""Deliver worklogs: retries with backoff, reconciliation of unknown outcomes, run stops.

Tracker has no idempotency key, so a POST whose answer was lost (timeout, dropped
connection, 5xx) is never simply sent again. The next attempt first lists the issue's
worklogs and adopts a match (see :mod:`importer.matching`); only when none exists is the
POST repeated. Rows that would book the same thing are delivered one after another, so two
of them can never adopt each other's worklog.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Collection, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from .config import DeliverySection, Mode
from .errors import (
    AuthError,
    DeliveryError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    TrackerUnavailable,
)
from .log import get_logger
from .matching import find_match, user_identities
from .models import Outcome, SourceRow, Status, Worklog
from .times import format_tracker_start
from .tracker import Record, TrackerClient

log = get_logger()
_T = TypeVar("_T")


class wait_retry_after(wait_base):
    """Back off exponentially, but never less than the server's ``Retry-After``."""

    def __init__(self, backoff: wait_base) -> None:
        self.backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = float(self.backoff(retry_state))
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        retry_after = getattr(error, "retry_after", None)
        return max(delay, retry_after) if retry_after else delay


class _Stopped(Exception):
    """The run is stopping; this row is left for the next run."""


@dataclasses.dataclass
class _RowState:
    successes_before: int = 0  # the run's successful answers when this row started
    attempts: int = 0
    uncertain: bool = False  # a POST may have created the worklog; reconcile before resending
    adopted: bool = False


class Deliverer:
    """Books worklogs through one client, sharing its rate limit, cooldown and patience."""

    def __init__(
        self,
        client: TrackerClient,
        policy: DeliverySection,
        *,
        mode: Mode = "create",
        owner: Collection[str] = (),
    ) -> None:
        self.client = client
        self.policy = policy
        self.mode = mode
        self.owner = frozenset(owner)
        self.claimed: set[str] = set()
        self.stop_reason: DeliveryError | None = None
        self._last_success = client.clock.monotonic()
        self.successes = 0
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def stop(self, reason: DeliveryError) -> None:
        """Stop taking rows: the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason

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

    @contextmanager
    def _counted(self, key: Hashable) -> Iterator[asyncio.Lock]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            yield lock
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def deliver(self, source: SourceRow, worklog: Worklog) -> Outcome:
        """Book one row and say how it ended; never raises for a row-level problem."""
        state = _RowState(successes_before=self.successes)
        outcome = Outcome(source, Status.PENDING, worklog)
        with self._counted(self.tracker_key(worklog)) as lock:
            async with lock:
                try:
                    record = await self._with_retries(worklog, state)
                except _Stopped:
                    outcome.error = self._stopped_message(state)
                except Rejected as exc:
                    outcome.status, outcome.error, outcome.http_status = (
                        Status.FAILED,
                        exc.message,
                        exc.status,
                    )
                except (AuthError, TrackerUnavailable) as exc:
                    self.stop(exc)
                    outcome.http_status = exc.status
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
                    outcome.status = Status.CREATED
                    outcome.worklog_id = str(record["id"])
                    outcome.http_status = 200 if state.adopted else 201
                    if state.adopted:
                        outcome.error = "adopted the worklog an unanswered request had created"
        outcome.attempts = state.attempts
        return outcome

    def _stopped_message(self, state: _RowState) -> str:
        reason = self.stop_reason.message if self.stop_reason else "run stopped"
        prefix = "outcome unknown, run stopped" if state.uncertain else "not sent, run stopped"
        return f"{prefix}: {reason}"

    async def identify(self) -> None:
        """Learn who the token belongs to (``GET /v2/myself``), or stop the run saying why."""
        try:
            async for attempt in self._retrying("whoami"):
                with attempt:
                    me = await self._patiently(self.client.myself())
        except Rejected as exc:
            # A wrong organisation header is a 403 here; no row could succeed either.
            self.stop(AuthError(f"Tracker refused the credentials: {exc.message}", exc.status))
        except (AuthError, TrackerUnavailable) as exc:
            self.stop(exc)
        except Retryable as exc:
            self.stop(TrackerUnavailable(f"Tracker is not answering: {exc.message}", exc.status))
        else:
            self.owner = user_identities(me)
            log.info("authenticated", login=me.get("login"), display=me.get("display"))

    async def _patiently(self, request: Awaitable[_T]) -> _T:
        """Await a request; past the run's patience, a retryable failure stops the run."""
        try:
            result = await request
        except Retryable:
            if self.client.clock.monotonic() - self._last_success > self.policy.give_up_after:
                raise TrackerUnavailable(
                    f"no successful answer from Tracker for {self.policy.give_up_after:g} s"
                ) from None
            raise
        self._last_success = self.client.clock.monotonic()
        self.successes += 1
        return result

    def _retrying(self, what: str) -> AsyncRetrying:
        p = self.policy

        def count_retry(state: RetryCallState) -> None:
            self.client.stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            log.info(
                "retry",
                what=what,
                attempt=state.attempt_number,
                wait=round(state.upcoming_sleep, 3),
                error=getattr(error, "message", str(error)),
            )

        return AsyncRetrying(
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(p.max_attempts),
            wait=wait_retry_after(
                wait_exponential_jitter(
                    multiplier=p.backoff_initial, max=p.backoff_max, jitter=p.backoff_initial
                )
            ),
            sleep=self.client.clock.sleep,
            before_sleep=count_retry,
            reraise=True,
        )

    async def _with_retries(self, worklog: Worklog, state: _RowState) -> Record:
        async for attempt in self._retrying(worklog.issue):
            with attempt:
                return await self._attempt(worklog, state)
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(self, worklog: Worklog, state: _RowState) -> Record:
        if self.stop_reason is not None:
            raise _Stopped
        state.attempts += 1
        if state.uncertain:
            match = await self._reconcile(worklog)
            if match is not None:
                state.adopted = True
                return match
            state.uncertain = False
        try:
            record = await self._patiently(self._send(worklog))
        except OutcomeUnknown:
            state.uncertain = True
            raise
        self.claimed.add(str(record["id"]))
        return record

    async def _send(self, worklog: Worklog) -> Record:
        payload: dict[str, Any] = worklog.payload()
        if self.mode == "import":
            payload["createdBy"] = worklog.author
            payload["createdAt"] = format_tracker_start(worklog.start)
            return await self.client.import_worklog(worklog.issue, payload)
        return await self.client.create_worklog(worklog.issue, payload)

    async def _reconcile(self, worklog: Worklog) -> Record | None:
        # Reading is safe to repeat, so the listing retries on its own and a flaky GET does
        # not use up the row's attempts at the POST.
        records: list[Record] = []
        async for attempt in self._retrying(f"{worklog.issue} (reconcile)"):
            with attempt:
                records = await self._patiently(self.client.issue_worklogs(worklog.issue))
        authors = {worklog.author} if self.mode == "import" else self.owner
        match = find_match(records, worklog, authors, self.claimed)
        if match is None:
            return None
        record = dict(match)
        self.claimed.add(str(record["id"]))
        return record
