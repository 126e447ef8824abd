"""Pacing: never more than the rate in any one-second window; slow down when Tracker says so.

Tracker limits requests per second. A leaky bucket (aiolimiter) cannot match that exactly: a
bucket of R lets 2R through in the first second, and a bucket of 1 spaces each request from
the previous one's release, so every late wake-up is lost for good (about 8 % at 200/s).
This keeps a log of the last R send times instead — what a per-second limit counts — and
sends the (k+R)-th request one second (plus a small margin for network jitter) after the k-th.
Send times are when each request really went on the wire (:class:`Ticket`), not when the
pacer let it go: a busy event loop may write a request tens of milliseconds later.

429s are read two ways. A sporadic one (a busy Tracker node) only delays its own request,
which waits for ``Retry-After``; if they keep coming at the configured rate (a gateway
counting a strict sliding second sees arrivals jitter across its edges), the ceiling is
trimmed a percent at a time, to at most 2 % below the configured rate, and given back a
percent per 30 quiet seconds. When they are systemic — at least a fifth of the last five
seconds' answers, i.e. the run is over the limit — every request pauses for
``Retry-After`` and the rate drops by a fifth; five seconds after the last systemic episode
it climbs back, a twentieth of the configured rate at a time (additive increase,
multiplicative decrease). Sporadic 429s do not hold the recovery back: they come at any rate.

The same five seconds of answers say how Tracker is doing (:meth:`Pacer.steady`): a failure
while most answers succeed is sporadic (a busy node, a random 503), and waiting longer with
every attempt would only stretch the run's tail, so its retry waits the first backoff step.
When failures are the majority (or nothing succeeded lately), retries back off
exponentially.
"""

from __future__ import annotations

import collections
import math

from importer.clock import Clock

JITTER_MARGIN = 0.010  # seconds; arrivals at Tracker wobble by about this much
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
        self._set_rate(rate_per_second)

    def _set_rate(self, rate: float) -> None:
        # R requests per window; a fractional rate (0.5/s) becomes 1 request per 2 seconds.
        self.rate = rate
        self.burst = max(1, math.floor(rate))
        self.span = self.burst / rate + self._margin
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
        # Spread over a second at least: a burst of them is the start of a systemic episode.
        if (
            len(self._sporadic) >= TRIM_EVIDENCE
            and now - self._sporadic[0] >= 1.0
            and now - self._last_trim >= 1.0
            and self.trim > TRIM_FLOOR
        ):
            self.trim = max(TRIM_FLOOR, self.trim - TRIM_STEP)
            self._last_trim = now
            self._sporadic.clear()
            if self.rate > self.configured * self.trim:
                self._set_rate(self.configured * self.trim)

    async def wait_turn(self) -> Ticket:
        """Wait until one more request fits; the caller sends it right away and marks the
        ticket :meth:`Ticket.sent` when it is on the wire."""
        while True:
            now = self._clock.monotonic()
            ready = self._resume_at
            if len(self._sent) == self.burst:
                ready = max(ready, self._sent[0].at + self.span)
            if ready <= now:
                ticket = Ticket(self._clock, now)
                self._sent.append(ticket)
                return ticket
            await self._clock.sleep(ready - now)
