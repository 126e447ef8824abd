"""Pacing: requests evenly spaced at the rate, never more than the rate in any one-second
window; slow down when Tracker says so.

Tracker limits requests per second and does not document how it counts (a token bucket, a
calendar second, a sliding second). What passes all of them is an even pace: request n is
due at t0 + n·interval (a virtual schedule, as GCRA keeps it). A wake-up that comes late is
caught up by the next requests within ``CATCH_UP`` rather than lost for good; an idle pacer
saves up no burst. On top, a log of the last R *real* send times (:class:`Ticket`: when each
request went on the wire, not when the pacer let it go — a busy event loop may write it tens
of milliseconds later) holds the (k+R)-th request until one second (plus a margin for network
jitter) after the k-th, so no window of real sends ever holds more than R.

Measured on this machine (issue 22): the window log alone released each second's R at its
start, about 100 requests within 200 ms and then nothing for 800 ms — a strict sliding
second refused 2–3 % of them. aiolimiter was tried first and dropped: a bucket of 1 spaces
each request from the previous one's *release*, so every late wake-up is lost (0.924 of a
200/s limit), and a bucket of R lets 2R through in the first second (see
``docs/benchmarks.md`` for the measurements).

Requests wait in one queue served by one timer: rows already under way (retries, reads,
edits) before rows sending their first POST, FIFO within each, so a retried write never
waits behind a queue of fresh rows.

429s are read two ways. A sporadic one (a busy Tracker node) only delays its own request,
which waits for ``Retry-After``; if they keep coming at the configured rate, the ceiling is
trimmed a percent at a time, to at most 2 % below the configured rate, and given back a
percent per 30 quiet seconds. Each step is a trial: when five seconds later 429s still make
at least half the share of answers they made before it, they do not follow the pace (a
Tracker shedding load at random), so the whole trim is given back and none is tried for a
minute — P5's random 5 % of 429s had kept every run 2 % below the limit. When they are
systemic — at least a fifth of the last five seconds' answers, i.e. the run is over the
limit — every request pauses for ``Retry-After`` and the rate drops by a fifth; five
seconds after the last systemic episode it climbs back, a twentieth of the configured rate
at a time (additive increase, multiplicative decrease). Sporadic 429s do not hold the
recovery back: they come at any rate.

The same five seconds of answers say how Tracker is doing (:meth:`Pacer.steady`): a failure
while most answers succeed is sporadic (a busy node, a random 503), and waiting longer with
every attempt would only stretch the run's tail, so its retry waits a short step.
When failures are the majority (or nothing succeeded lately), retries back off
exponentially.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import math

from importer.clock import Clock

JITTER_MARGIN = 0.010  # seconds per window; arrivals at Tracker wobble by about this much
# How far behind its schedule the pacer may fall and still catch up (late wake-ups): the
# next requests then leave back to back until it is on time again.
CATCH_UP = 0.010
EVIDENCE_WINDOW = 5.0  # seconds of answers that judge whether 429s are systemic:
SYSTEMIC_COUNT = 3  # at least this many 429s …
SYSTEMIC_SHARE = 0.20  # … making at least this share of the window's answers …
SYSTEMIC_SAMPLE = 20  # … of at least this many answers (or half of any number of answers).
# A Tracker shedding 5 % at random almost never shows 20 % over five seconds; a run 50 %
# over the limit shows a third.
DECREASE = 0.8
INCREASE = 0.05  # of the configured rate
QUIET = 5.0  # seconds without a 429 before the rate climbs back
MIN_RATE = 0.5
# Sporadic 429s that keep coming at the configured rate (a gateway counting a strict sliding
# second, arrivals jittering across its edges): trim the ceiling a little, never below
# TRIM_FLOOR of the configured rate, and give it back slowly once they stop.
TRIM_STEP = 0.01  # of the configured rate
TRIM_FLOOR = 0.98
TRIM_EVIDENCE = 2  # sporadic 429s within TRIM_WINDOW seconds
TRIM_WINDOW = 10.0
TRIM_QUIET = 30.0  # seconds without any 429 before a step is given back
TRIM_HELPS = 0.5  # a step must at least halve the share of 429s to be kept
TRIM_HOLD = 60.0  # seconds without trials after a step that did not help


class Ticket:
    """One request's place in the send log: when it was let go, until it is really sent.

    Measured: at 200/s the client's event loop, busy with answers, the journal and the
    report, wrote requests up to ~70 ms after the pacer let them go, so a second of real
    sends held 270 requests while the pacer's log held 200 — and a gateway counting a
    sliding second of arrivals refused 2 % of them. The client marks each request when its
    headers are on the wire (:meth:`sent`), and the pacer spaces requests by those times.
    """

    __slots__ = ("_clock", "at")

    def __init__(self, clock: Clock, at: float) -> None:
        self._clock = clock
        self.at = at

    def sent(self) -> None:
        """The request is on the wire now."""
        self.at = max(self.at, self._clock.monotonic())


class Pacer:
    """One rate limit and one 429 policy, shared by every request of a run."""

    def __init__(self, rate_per_second: float, clock: Clock, margin: float = JITTER_MARGIN) -> None:
        self.configured = rate_per_second
        self._clock = clock
        self._margin = margin
        self._sent: collections.deque[Ticket] = collections.deque()
        # The last EVIDENCE_WINDOW seconds of answers: (when, refused with 429, failed).
        self._answers: collections.deque[tuple[float, bool, bool]] = collections.deque()
        self._refused = self._failed = 0
        self._resume_at = 0.0
        self._last_systemic = self._last_change = -math.inf
        self.trim = 1.0  # the ceiling, as a share of the configured rate
        self._sporadic: collections.deque[float] = collections.deque()
        self._last_trim = self._last_429 = -math.inf
        self._trial: tuple[float, float] | None = None  # a step's (verdict due, share before)
        self._no_trim_until = -math.inf
        self._due = -math.inf  # when the next request is due on the even schedule
        # Waiting requests: (0 under way | 1 fresh, arrival, future), served by one timer.
        self._queue: list[tuple[int, int, asyncio.Future[Ticket]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self._set_rate(rate_per_second)

    def _set_rate(self, rate: float) -> None:
        # R requests per window; a fractional rate (0.5/s) becomes 1 request per 2 seconds.
        self.rate = rate
        self.burst = max(1, math.floor(rate))
        self.span = self.burst / rate + self._margin
        self.interval = self.span / self.burst  # the even schedule fills the window exactly
        self._sent = collections.deque(self._sent, maxlen=self.burst)

    def cool_down(self, seconds: float) -> None:
        """Hold every request for ``seconds``."""
        self._resume_at = max(self._resume_at, self._clock.monotonic() + seconds)

    def _forget(self, now: float) -> None:
        while self._answers and now - self._answers[0][0] >= EVIDENCE_WINDOW:
            _, refused, failed = self._answers.popleft()
            self._refused -= refused
            self._failed -= failed

    def steady(self) -> bool:
        """Whether most answers of the last five seconds succeeded (a failure is sporadic)."""
        self._forget(self._clock.monotonic())
        return self._failed * 2 < len(self._answers)

    def answered(
        self, limited: bool, retry_after: float | None = None, *, ok: bool | None = None
    ) -> bool:
        """Note one answer (``ok``: it succeeded, by default unless ``limited``); True when
        a 429 paused every request (it was systemic)."""
        now = self._clock.monotonic()
        failed = limited if ok is None else not ok
        self._answers.append((now, limited, failed))
        self._refused += limited
        self._failed += failed
        self._forget(now)
        if limited:
            self._last_429 = now
            refused, answers = self._refused, len(self._answers)
            enough = answers >= SYSTEMIC_SAMPLE or refused * 2 >= answers
            if refused < SYSTEMIC_COUNT or refused < SYSTEMIC_SHARE * answers or not enough:
                self._sporadic_429(now)
                return False
            self._last_systemic = now
            pause = retry_after or 1.0
            self.cool_down(pause)
            if now - self._last_change >= pause:
                self._set_rate(max(MIN_RATE, self.rate * DECREASE))
                self._last_change = now
            return True
        self._judge_trim(now)
        ceiling = self.configured * self.trim
        if self.trim < 1.0 and now - max(self._last_429, self._last_trim) >= TRIM_QUIET:
            self.trim = min(1.0, self.trim + TRIM_STEP)
            self._last_trim = now
            if self.rate >= ceiling:
                self._set_rate(self.configured * self.trim)
            ceiling = self.configured * self.trim
        quiet_since = max(self._last_systemic, self._last_change)
        if self.rate < ceiling and now - quiet_since >= QUIET:
            self._set_rate(min(ceiling, self.rate + INCREASE * self.configured))
            self._last_change = now
        return False

    def _sporadic_429(self, now: float) -> None:
        """A 429 that is not systemic: if they keep coming, trim the ceiling a step."""
        self._sporadic.append(now)
        while self._sporadic and now - self._sporadic[0] >= TRIM_WINDOW:
            self._sporadic.popleft()
        self._judge_trim(now)
        # Spread over a second at least: a burst of them is the start of a systemic episode.
        if (
            len(self._sporadic) >= TRIM_EVIDENCE
            and now - self._sporadic[0] >= 1.0
            and now - self._last_trim >= 1.0
            and self.trim > TRIM_FLOOR
            and self._trial is None
            and now >= self._no_trim_until
        ):
            self.trim = max(TRIM_FLOOR, self.trim - TRIM_STEP)
            self._last_trim = now
            self._sporadic.clear()
            self._trial = (now + EVIDENCE_WINDOW, self._share_429())
            if self.rate > self.configured * self.trim:
                self._set_rate(self.configured * self.trim)

    def _share_429(self) -> float:
        return self._refused / len(self._answers) if self._answers else 0.0

    def _judge_trim(self, now: float) -> None:
        """A trim step's verdict, once the evidence window holds only answers after it."""
        if self._trial is None or now < self._trial[0]:
            return
        _, before = self._trial
        self._trial = None
        if self._share_429() < before * TRIM_HELPS:
            return  # fewer 429s at the slower pace: they were ours, keep it
        ceiling = self.configured * self.trim
        self.trim = 1.0
        self._no_trim_until = now + TRIM_HOLD
        if self.rate >= ceiling:  # not below the old ceiling for a systemic episode
            self._set_rate(self.configured)

    async def wait_turn(self, *, fresh: bool = False) -> Ticket:
        """Wait until one more request fits; the caller sends it right away and marks the
        ticket :meth:`Ticket.sent` when it is on the wire. ``fresh``: a row's first POST,
        which lets requests of rows under way go first."""
        now = self._clock.monotonic()
        if not self._queue and self._ready_at(now) <= now:
            return self._release(now)
        future: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (int(fresh), next(self._arrivals), future))
        if self._timer is None or self._timer.done():
            self._timer = asyncio.ensure_future(self._serve())
        return await future

    def _ready_at(self, now: float) -> float:
        """When the next request may leave: its place on the even schedule, the window of
        real send times, and any pause."""
        ready = max(self._resume_at, self._due)
        if len(self._sent) == self.burst:
            ready = max(ready, self._sent[0].at + self.span)
        return ready

    def _release(self, now: float) -> Ticket:
        # Late by at most CATCH_UP: the schedule stays where it was, so the next requests
        # make up for it; later than that, the pacer was idle, and the schedule starts anew.
        base = self._due if now - self._due <= CATCH_UP else now
        self._due = base + self.interval
        ticket = Ticket(self._clock, now)
        self._sent.append(ticket)
        return ticket

    async def _serve(self) -> None:
        """The one timer: hands each turn to the first waiting request, in order."""
        while True:
            while self._queue and self._queue[0][2].done():
                heapq.heappop(self._queue)  # its caller was cancelled while it waited
            if not self._queue:
                return
            now = self._clock.monotonic()
            ready = self._ready_at(now)
            if ready > now:
                await self._clock.sleep(ready - now)
                continue  # a pause or a new rate may have come meanwhile: look again
            heapq.heappop(self._queue)[2].set_result(self._release(now))
