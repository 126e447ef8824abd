"""The run's stop policy: which failures end the whole run, and what a stopped row says.

One place decides it for every request of a run (and for ``worklog-import whoami``):

* a 401, or a refusal of ``GET /v2/myself`` (a wrong organisation is a 403 there), means no
  row can succeed: stop, exit 3;
* three 403s before any worklog was booked mean the token cannot book at all: stop, exit 3;
  a 403 after a success is that issue's problem and fails only its row;
* in import mode, a 403 on the first import means the token is not an administrator's;
* Tracker is unavailable (exit 4) when no request succeeded for ``give_up_after`` seconds,
  or a row ran out of attempts while nothing else succeeded;
* the journal cannot be written: stop before anything more is sent;
* SIGHUP/SIGINT/SIGTERM: stop taking rows.

Rows left by a stop are ``pending``; the next run finishes them.
"""

from __future__ import annotations

import asyncio

from importer.errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    ImporterError,
    JournalError,
    Rejected,
    Retryable,
    TrackerUnavailable,
)
from importer.log import get_logger

log = get_logger()
SYSTEMIC_FORBIDDEN = 3  # 403s with no worklog booked yet: the token cannot book anything


class Stopped(Exception):
    """The run is stopping; this row is left for the next run."""


def identity_refused(exc: DeliveryError, base_url: str, organisation: str) -> ImporterError:
    """What a failed ``GET /v2/myself`` means: nothing can be booked with these credentials
    (or, redirected elsewhere, at this address: a configuration to fix, exit 2)."""
    if exc.status is not None and 300 <= exc.status < 400:
        return ConfigError(f"{base_url}/v2/myself answered {exc.message}")
    if isinstance(exc, AuthError):
        return AuthError(f"{base_url} rejected the token: {exc.message}", exc.status)
    if isinstance(exc, Rejected):
        hint = ""
        if exc.status == 403:
            hint = (
                " (check the organisation id and its kind: X-Org-ID for Yandex 360, "
                "X-Cloud-Org-ID for a Cloud organization)"
            )
        return AuthError(f"{base_url} refused {organisation}: {exc.message}{hint}", exc.status)
    if isinstance(exc, TrackerUnavailable):
        return exc
    return TrackerUnavailable(f"Tracker is not answering at {base_url}: {exc.message}", exc.status)


class RunStop:
    """Why the run stops, once decided; the first reason wins."""

    def __init__(self) -> None:
        self.reason: ImporterError | None = None
        self.stopping = asyncio.Event()
        self.booked = 0  # worklogs created or adopted by this run
        self.sent = 0  # worklog POSTs sent (answered or not) by this run
        self._forbidden = 0

    def stop(self, reason: ImporterError) -> None:
        """Stop taking rows: rows not yet settled are left for the next run."""
        if self.reason is None:
            self.reason = reason
            self.stopping.set()
            log.warning("run_stopping", reason=str(reason))

    def check(self) -> None:
        """Raise :class:`Stopped` once the run is stopping."""
        if self.reason is not None:
            raise Stopped

    def after_row_error(
        self, error: BaseException, *, importing: bool, nothing_succeeded: bool
    ) -> bool:
        """Take the run-level decision a row's failure calls for; True when the row is left
        ``pending`` because the run stops (rather than failing on its own).

        ``importing``: the error answered an import POST. ``nothing_succeeded``: no request
        of the run succeeded since this row started.
        """
        if isinstance(error, Stopped):
            return True
        if isinstance(error, Rejected):
            return self._forbidden_import(error) if importing else self._count_forbidden(error)
        if isinstance(error, (AuthError, TrackerUnavailable, JournalError)):
            self.stop(error)
            return True
        if isinstance(error, Retryable) and nothing_succeeded:
            # Out of attempts while nothing at all succeeded: Tracker is down, not this row.
            self.stop(TrackerUnavailable(f"Tracker is not answering: {error.message}"))
            return True
        return False

    def _forbidden_import(self, error: Rejected) -> bool:
        if error.status == 403 and self.booked == 0:
            # Only administrators may import; the first refusal says it for every row.
            self.stop(
                AuthError(
                    "mode 'import' needs an administrator's token, and Tracker refused this one "
                    f"({error.message})",
                    403,
                )
            )
            return True
        return self._count_forbidden(error)

    def _count_forbidden(self, error: Rejected) -> bool:
        if error.status == 403:
            self._forbidden += 1
            if self._forbidden >= SYSTEMIC_FORBIDDEN and self.booked == 0:
                self.stop(AuthError(f"every worklog so far was refused: {error.message}", 403))
        return False  # this row fails with Tracker's message either way
