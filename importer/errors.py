"""One exception tree, grouped by what the caller does next.

::

    ImporterError
    ├── ConfigError            bad config or flags            → exit 2
    ├── InputError             unreadable file / no header    → exit 2 (6 once sent)
    │   └── SyncRefused        a --sync would delete too much → exit 2
    ├── StateLocked            another run holds the journal  → exit 5
    ├── JournalError           the journal cannot be written  → exit 2 (6 once sent)
    ├── OutputError            a report, failed-rows file,    → exit 2 (6 once sent)
    │                          summary or log cannot be written
    ├── RowInvalid             one row; reported, not sent
    ├── Interrupted            SIGHUP / SIGINT / SIGTERM      → exit 129 / 130 / 143
    └── DeliveryError
        ├── Retryable          429, 5xx, network, timeout
        │   └── OutcomeUnknown the request may have been applied (timeout,
        │                      dropped connection, 5xx after sending)
        ├── SearchTooWide      a search answer cannot be read whole: ask narrower
        ├── Rejected           other 4xx; the row fails
        ├── AuthError          401 / systemic 403             → exit 3
        └── TrackerUnavailable gave up                        → exit 4

Exit 6 (stopped part-way): an input, the journal or an output failed after worklogs were
sent, so "nothing was sent" (2) would be a lie.

Only :mod:`importer.tracker.client` translates aiohttp's exceptions into this tree, and
:func:`exit_code_for` is the one place an error (or a run's end) becomes an exit code.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What the process tells cron."""

    OK = 0
    ROWS_FAILED = 1
    BAD_INPUT = 2
    AUTH = 3
    UNAVAILABLE = 4
    LOCKED = 5
    STOPPED_PART_WAY = 6  # an input, the journal or an output failed after worklogs were sent
    HUNG_UP = 129  # SIGHUP: the terminal or SSH session went away
    INTERRUPTED = 130  # SIGINT
    TERMINATED = 143  # SIGTERM


class ImporterError(Exception):
    """Base of every error the importer raises on purpose."""


class ConfigError(ImporterError):
    """The configuration, the environment or the command line is wrong."""


class SwitchRefused(ConfigError):
    """The batch was booked the other way (per row / merged per day): nothing was sent;
    ``run --rebook`` (the service: the job option ``rebook``) would take it back first.
    ``offer`` says so to a program: the batch, how it was booked and how it would be."""

    def __init__(self, message: str, offer: dict[str, str]) -> None:
        super().__init__(message)
        self.offer = {"offer": "rebook", **offer}


class InputError(ImporterError):
    """An input file cannot be read at all (missing, unreadable, no header)."""


class SyncRefused(InputError):
    """The sync would delete too much of its batch (a truncated export?): nothing was sent.
    ``plan`` is the :class:`~importer.sync.SyncPlan` it refused."""

    def __init__(self, message: str, plan: object) -> None:
        super().__init__(message)
        self.plan = plan


class StateLocked(ImporterError):
    """Another run is using the same journal; this one must not overlap it."""


class JournalError(ImporterError):
    """The journal cannot be read or written (disk full, permissions, corrupt file)."""


class OutputError(ImporterError):
    """A report, failed-rows file, summary or log file cannot be written (read-only folder,
    disk full). Before anything was sent: exit 2; after: the run stops part-way (exit 6)."""


class RowInvalid(ImporterError):
    """One row cannot become a worklog; the reason names its column and value."""

    def __init__(self, reason: str, column: str | None = None, value: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.value = value


class Interrupted(ImporterError):
    """The run was asked to stop (SIGHUP/SIGINT/SIGTERM); unsettled rows are left for the
    next run."""

    def __init__(self, signal_name: str, exit_code: int) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.message = f"interrupted by {signal_name}"
        self.exit_code = exit_code


class DeliveryError(ImporterError):
    """Talking to Tracker went wrong."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Retryable(DeliveryError):
    """Worth another attempt: 429, 5xx, network trouble, timeout."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class Unreachable(Retryable):
    """No connection could be made (refused, no route): nothing was sent. Not a sporadic
    failure like a 503 among good answers: Tracker (or the way to it) is gone, and a retry
    backs off however well the last seconds went."""


class OutcomeUnknown(Retryable):
    """The request was sent and may have taken effect; reconcile before resending.

    ``unanswered``: nothing (or only a gateway, 502/504) answered — Tracker may still be
    working on it, so only a read started after the commit horizon can prove it absent.
    A 500/503 from Tracker itself ended the request: a read started after it decides.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        *,
        unanswered: bool = True,
    ) -> None:
        super().__init__(message, status, retry_after)
        self.unanswered = unanswered


class SearchTooWide(DeliveryError):
    """A worklog search whose answer cannot be read whole (it passes Tracker's item limit,
    or pages cannot be turned): ask again for a narrower window."""


class Rejected(DeliveryError):
    """Tracker refused this request (4xx other than 401/429); retrying will not help."""


class AuthError(DeliveryError):
    """Tracker rejected the credentials; nothing else can succeed."""


class TrackerUnavailable(DeliveryError):
    """Tracker kept failing for longer than the configured patience."""


def exit_code_for(
    error: ImporterError | None,
    *,
    rows_in_trouble: bool = False,
    dry_run: bool = False,
    sent: bool = False,
) -> ExitCode:
    """The exit code for a run that ended with ``error`` (``None``: it ran to the end).

    ``rows_in_trouble``: some row is invalid, failed or (in a real run) still pending. A dry
    run that could not consult Tracker still planned every row, so its rows decide.
    ``sent``: worklogs were sent before ``error``: an input, the journal or an output file
    failing then is no longer "nothing was sent" (2) but "stopped part-way" (6).
    """
    if error is None or (dry_run and isinstance(error, TrackerUnavailable)):
        return ExitCode.ROWS_FAILED if rows_in_trouble else ExitCode.OK
    if isinstance(error, Interrupted):
        return ExitCode(error.exit_code)
    if isinstance(error, StateLocked):
        return ExitCode.LOCKED
    if isinstance(error, AuthError):
        return ExitCode.AUTH
    if isinstance(error, DeliveryError):
        return ExitCode.UNAVAILABLE
    if sent and isinstance(error, (InputError, JournalError, OutputError)):
        return ExitCode.STOPPED_PART_WAY
    return ExitCode.BAD_INPUT  # ConfigError, InputError, JournalError: fix and run again
