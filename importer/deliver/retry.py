"""The retry policy, built from tenacity's parts.

Retry what :func:`importer.tracker.client.error_for_status` calls
:class:`~importer.errors.Retryable` (429, 5xx, network trouble, timeouts), at most
``max_attempts`` times, waiting an exponentially growing, jittered time while Tracker is in
trouble and a short step while failures are sporadic (an answer that failed while most
succeed; never a refused connection) — but never less than Tracker's
``Retry-After``. A read (a lookup, a search, a listing page) is asked again at once the
first time: repeating it costs one request, never a duplicate, and a run's first POST waits
for its pre-check read (P5: a 503 to the pre-check held the whole run for a second).
``sleep`` is injected so that tests never wait on the wall clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
    wait_random,
)
from tenacity.wait import wait_base

from importer.config import DeliverySection
from importer.errors import Retryable, Unreachable

STEADY_STEP = 0.1  # seconds: the most a retry waits while most answers succeed
READ_STEP = 0.05  # seconds: the most a read's first retry waits
# seconds: the longest a read backs off. A read is one request, safe to repeat, and rows wait
# on it (a reconciling search): at half the answers failing, a read backing off to 30 s held
# every waiting row for half a minute at a time (211 s for 37 s of requests). A Tracker that
# stays down is the run's patience's to judge (delivery.give_up_after), not the read's.
READ_BACKOFF_MAX = 4.0


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


class wait_by_health(wait_base):
    """The first step while Tracker is ``steady`` (sporadic failures), else ``escalating``;
    ``at_once`` attempts (a read's first) wait the first step whatever Tracker's health."""

    def __init__(
        self,
        first: wait_base,
        escalating: wait_base,
        steady: Callable[[], bool],
        at_once: int = 0,
    ):
        self.first, self.escalating, self.steady = first, escalating, steady
        self.at_once = at_once

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        gone = outcome is not None and isinstance(outcome.exception(), Unreachable)
        # Tracker gone away mid-run is not sporadic, however well the last seconds went: a
        # row would otherwise spend every attempt on a refused connection within a second.
        quick = retry_state.attempt_number <= self.at_once or (self.steady() and not gone)
        return float((self.first if quick else self.escalating)(retry_state))


def retry_policy(
    policy: DeliverySection,
    *,
    sleep: Callable[[float], Awaitable[None]],
    before_sleep: Callable[[RetryCallState], None] | None = None,
    steady: Callable[[], bool] = lambda: False,
    read: bool = False,
) -> AsyncRetrying:
    """A fresh retrying loop for one request (or one row's attempts).

    ``steady`` says whether Tracker's recent answers mostly succeed (see
    :meth:`importer.tracker.pacing.Pacer.steady`); by default every retry backs off
    exponentially. ``read``: the request is a read, safe to repeat at once.
    """
    first = min(policy.backoff_initial, policy.backoff_max, READ_STEP if read else STEADY_STEP)
    return AsyncRetrying(
        retry=retry_if_exception_type(Retryable),
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait_retry_after(
            wait_by_health(
                wait_random(0, first),
                wait_exponential_jitter(
                    multiplier=policy.backoff_initial,
                    max=min(policy.backoff_max, READ_BACKOFF_MAX) if read else policy.backoff_max,
                    jitter=policy.backoff_initial,
                ),
                steady,
                at_once=1 if read else 0,
            )
        ),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
