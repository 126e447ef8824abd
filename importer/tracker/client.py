"""Tracker's HTTP API, one request at a time, paced and counted.

This is the only module that uses aiohttp's client: :class:`TrackerClient` owns its session,
and aiohttp's exceptions (and Tracker's status codes) become :mod:`importer.errors` here,
in one function for the statuses. Every request waits for the shared pacer and for any
pause that systemic 429s imposed on the whole run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDict

from importer.clock import Clock, SystemClock
from importer.config import Credentials
from importer.errors import (
    AuthError,
    DeliveryError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    Unreachable,
)
from importer.log import get_logger
from importer.models import RequestStats
from importer.tracker.pacing import Pacer, Ticket
from importer.tracker.paged import PagedReads, Record

log = get_logger()
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

MAX_RETRY_AFTER = 300.0


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None  # an HTTP date: rare; the backoff takes over


def _message(status: int, body: str) -> str:
    """Tracker's ``errorMessages`` (and field ``errors``) as one line, or the raw body."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parts = [str(m) for m in parsed.get("errorMessages") or []]
        errors = parsed.get("errors") or {}
        if isinstance(errors, dict):
            parts += [f"{field}: {text}" for field, text in errors.items()]
        if parts:
            return f"HTTP {status}: " + "; ".join(parts)
    text = " ".join(body.split())[:200]
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def error_for_status(
    status: int, body: str, headers: Mapping[str, str], *, changes_state: bool
) -> DeliveryError:
    """What a non-2xx answer means for the caller: the one place this is decided."""
    if 300 <= status < 400:
        # Never followed: the token and the organisation go only to the configured Tracker.
        where = headers.get("Location", "(no Location)")
        return Rejected(
            f"HTTP {status}: a redirect to {where}; the importer follows no redirect, so the "
            "token and organisation go nowhere else — set TRACKER_BASE_URL (tracker.base_url) "
            "to the address Tracker really answers at",
            status,
        )
    message = _message(status, body)
    if status == 401:
        return AuthError(message, status)
    if status == 429:
        return Retryable(message, status, _retry_after(headers))
    if status in RETRYABLE_STATUSES:
        # A 5xx after a POST arrived may still have created the worklog; after a gateway's
        # 502/504 Tracker itself may still be working on it.
        if changes_state:
            return OutcomeUnknown(
                message, status, _retry_after(headers), unanswered=status in (502, 504)
            )
        return Retryable(message, status, _retry_after(headers))
    return Rejected(message, status)


@dataclasses.dataclass
class SentAt:
    """When a write really left — after the pacer let it go, not when it was asked for: at
    10/s with 64 rows under way a request waits seconds for its turn, and a commit horizon
    or a search window counted from the asking would end before Tracker even saw it."""

    monotonic: float = 0.0
    wall: float = 0.0

    def mark(self, monotonic: float, wall: float) -> None:
        self.monotonic, self.wall = monotonic, wall


# Up to this rate (requests a second) the pacer spaces requests by when their headers were
# really written (aiohttp's trace hook). Tracing fires all of aiohttp's eight signals per
# request, each building its parameters whether anyone listens or not; past this rate a run
# is bound by CPU, not by a limiter, and the pacer's own release times are close enough.
TRACED_UP_TO = 1000.0


async def _on_the_wire(
    session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestHeadersSentParams
) -> None:
    """aiohttp's trace hook: the request's headers are written — tell the pacer."""
    ticket = context.trace_request_ctx
    if isinstance(ticket, Ticket):
        ticket.sent()


class TrackerClient(PagedReads):
    """Worklog calls against one Tracker organisation (open one with :meth:`connect`)."""

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        credentials: Credentials,
        *,
        rate_limit: float = 10.0,
        request_timeout: float = 30.0,
        clock: Clock | None = None,
    ) -> AsyncIterator[TrackerClient]:
        """A client with a session of its own, closed when the block ends."""
        traces = []
        if rate_limit <= TRACED_UP_TO:
            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(_on_the_wire)
            traces.append(trace)
        async with aiohttp.ClientSession(trace_configs=traces) as session:
            # aiohttp silently sends a DELETE (and a GET) again when a reused connection drops
            # before the answer — measured against the sandbox: every "deleted, then connection
            # dropped" became a second DELETE. A lost answer to a write must be checked in
            # Tracker first, never resent blindly; reads are retried by our own policy anyway.
            # aiohttp 3.14 has no public switch for it, only this attribute.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            yield cls(
                session,
                credentials,
                rate_limit=rate_limit,
                request_timeout=request_timeout,
                clock=clock,
            )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: Credentials,
        *,
        rate_limit: float = 10.0,
        request_timeout: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._session = session
        self._base = credentials.base_url
        self._headers = credentials.headers()
        self._token = credentials.token  # never repeated: an answer that echoes it is scrubbed
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self.clock = clock or SystemClock()
        self.pacer = Pacer(rate_limit, self.clock)
        self.stats = RequestStats()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        sent: SentAt | None = None,
        fresh: bool = False,
    ) -> Any:
        # A write whose answer is lost may have been applied: POST (but a search), PATCH, DELETE.
        changes_state = method in ("PATCH", "DELETE") or (
            method == "POST" and "_search" not in path
        )
        ticket = await self.pacer.wait_turn(fresh=fresh)
        if sent is not None:
            sent.mark(self.clock.monotonic(), self.clock.wall())
        self.stats.requests += 1
        try:
            status, headers, answer = await self._exchange(method, path, body, params, ticket)
        except aiohttp.ClientConnectorError as exc:
            # Never connected: nothing was sent, so a resend is safe.
            raise Unreachable(f"cannot connect to {self._base}: {exc.os_error}") from None
        except TimeoutError:
            kind = OutcomeUnknown if changes_state else Retryable
            raise kind(f"no answer within {self._timeout.total:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            kind = OutcomeUnknown if changes_state else Retryable
            raise kind(f"connection lost: {type(exc).__name__}: {exc}") from None
        if 200 <= status < 300:
            self.pacer.answered(False)
            try:
                return json.loads(answer) if answer else None
            except ValueError:
                raise Retryable(f"HTTP {status} with a body that is not JSON") from None
        text = answer.decode("utf-8", errors="replace")
        if self._token:  # a Tracker (or a proxy) that echoes the request must not pass it on
            text = text.replace(self._token, "***")
            headers = CIMultiDict((k, v.replace(self._token, "***")) for k, v in headers.items())
        error = error_for_status(status, text, headers, changes_state=changes_state)
        if status == 429:
            self.stats.responses_429 += 1
            pause = getattr(error, "retry_after", None) or 1.0
            if self.pacer.answered(True, pause):
                log.info(
                    "rate_limited", path=path, pause_seconds=pause, rate=round(self.pacer.rate, 1)
                )
        else:
            self.pacer.answered(False, ok=status not in RETRYABLE_STATUSES)
        raise error

    async def _exchange(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, str] | None,
        ticket: Ticket | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One HTTP exchange; a network failure is noted by the pacer as a failed answer."""
        try:
            async with self._session.request(
                method,
                self._base + path,
                json=body,
                params=params,
                headers=self._headers,
                timeout=self._timeout,
                trace_request_ctx=ticket,
                allow_redirects=False,
            ) as response:
                answer = await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError):
            self.pacer.answered(False, ok=False)
            raise
        return response.status, response.headers, answer

    async def myself(self) -> Record:
        """``GET /v2/myself``: who the token belongs to."""
        record = await self._request("GET", "/v2/myself")
        if isinstance(record, list) and record:
            record = record[0]
        if not isinstance(record, dict):
            raise Rejected("GET /v2/myself answered with something that is not a user")
        return record

    async def user(self, login: str) -> Record:
        """``GET /v3/users/<login>``: a user's ids (``login:`` before an all-digit login)."""
        wanted = f"login:{login}" if login.isdigit() else login
        record = await self._request("GET", f"/v3/users/{quote(wanted, safe=':')}")
        if not isinstance(record, dict):
            raise Rejected(f"GET /v3/users/{wanted} answered with something that is not a user")
        return record

    async def issue(self, key: str) -> Record:
        """``GET /v2/issues/<key>``: an issue (404: no such issue, 403: not for this token)."""
        record = await self._request("GET", f"/v2/issues/{quote(key, safe='')}")
        if not isinstance(record, dict):
            raise Rejected(f"GET /v2/issues/{key} answered with something that is not an issue")
        return record

    async def create_worklog(
        self, issue: str, payload: Mapping[str, str], sent: SentAt | None = None, **how: bool
    ) -> Record:
        """``POST /v2/issues/<key>/worklog``; ``sent`` is told when it leaves the pacer;
        ``fresh=True``: a row's first POST, which lets requests of rows under way go first."""
        return await self._write_worklog(f"/v2/issues/{issue}/worklog", payload, sent, **how)

    async def import_worklog(
        self, issue: str, payload: Mapping[str, str], sent: SentAt | None = None, **how: bool
    ) -> Record:
        """``POST /v3/issues/<key>/worklogs/_import`` (administrators; keeps the author)."""
        path = f"/v3/issues/{issue}/worklogs/_import"
        return await self._write_worklog(path, payload, sent, **how)

    async def _write_worklog(
        self, path: str, payload: Mapping[str, str], sent: SentAt | None, fresh: bool = False
    ) -> Record:
        answer = await self._request("POST", path, body=dict(payload), sent=sent, fresh=fresh)
        record = answer[0] if isinstance(answer, list) and answer else answer  # _import: a list
        if not isinstance(record, dict) or "id" not in record:
            raise OutcomeUnknown(f"Tracker answered POST {path} without a worklog id")
        return record

    async def update_worklog(
        self, issue: str, worklog_id: str, changes: Mapping[str, str], *, v3: bool = False
    ) -> Record:
        """``PATCH /v2|v3/issues/<key>/worklog/<id>`` with any of start, duration, comment
        (v3 for worklogs booked by admin import). Tracker raises the record's version."""
        path = f"/{'v3' if v3 else 'v2'}/issues/{issue}/worklog/{quote(str(worklog_id))}"
        record = await self._request("PATCH", path, body=dict(changes))
        if not isinstance(record, dict) or "id" not in record:
            raise OutcomeUnknown("Tracker answered the edit without the worklog")
        return record

    async def delete_worklog(self, issue: str, worklog_id: str, *, v3: bool = False) -> None:
        """``DELETE /v2|v3/issues/<key>/worklog/<id>`` (Tracker answers 204)."""
        path = f"/{'v3' if v3 else 'v2'}/issues/{issue}/worklog/{quote(str(worklog_id))}"
        await self._request("DELETE", path)
