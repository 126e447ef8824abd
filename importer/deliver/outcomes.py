"""How a row ended, as the report says it. Pure: every run-level decision was taken already.

A row is ``created`` (or ``already_imported``) only with a worklog id in hand; ``failed`` only
when Tracker refused it or it ran out of attempts with every attempt certainly not applied;
otherwise — the run stopped, or the last POST may have landed — it is ``pending``, and the
message says whether the next run checks Tracker first.
"""

from __future__ import annotations

from importer.errors import DeliveryError, Rejected, Retryable
from importer.journal.schema import Entry
from importer.models import Booking, Outcome, Status


def stopped_message(reason: str, *, uncertain: bool) -> str:
    """Why a row is left for the next run, and what that run will do first."""
    if uncertain:
        return f"outcome unknown, run stopped: {reason}; the next run checks Tracker first"
    return f"not sent, run stopped: {reason}"


def known_from_journal(booking: Booking, entry: Entry | None) -> Outcome | None:
    """The journal's answer for a row it holds as booked; ``None`` otherwise.

    A booking a ``--sync`` was editing when it stopped is still booked (its worklog exists);
    the warning says that the edit is left for the next ``--sync``.
    """
    if entry is None or entry.state not in ("created", "updating", "deleting"):
        return None
    warning = booking.warning
    if entry.state != "created":
        unfinished = f"a --sync stopped while {entry.state} worklog {entry.worklog_id}; " + (
            "run --sync again to finish it"
        )
        warning = f"{warning}; {unfinished}" if warning else unfinished
    note = f"already imported (journal, {entry.updated_at})"
    if entry.run_interrupted:
        # That run was killed: its own report may lack this line; this report says it.
        note = (
            f"already imported by run {entry.run_id}, which was interrupted before it "
            f"finished (journal, {entry.updated_at})"
        )
    return Outcome(
        booking.source,
        Status.ALREADY_IMPORTED,
        booking.worklog,
        worklog_id=entry.worklog_id or "",
        error=note,
        warning=warning,
        members=booking.members,
    )


def found_before(booking: Booking, worklog_id: str) -> Outcome:
    """The pre-check found this row's worklog in Tracker, booked before this run."""
    return Outcome(
        booking.source,
        Status.ALREADY_IMPORTED,
        booking.worklog,
        worklog_id=worklog_id,
        http_status=200,
        error="found in Tracker: booked before this run",
        warning=booking.warning,
        members=booking.members,
    )


def would_create(booking: Booking) -> Outcome:
    """A dry run's plan for a row nothing knows of."""
    return Outcome(
        booking.source,
        Status.PENDING,
        booking.worklog,
        error="dry run: would be created",
        warning=booking.warning,
        members=booking.members,
    )


def booked(
    booking: Booking, worklog_id: str, *, adopted: bool, from_earlier_run: bool, attempts: int
) -> Outcome:
    """A row whose worklog Tracker holds now: created by this run's POST, or adopted."""
    outcome = Outcome(
        booking.source,
        Status.CREATED,
        booking.worklog,
        worklog_id=worklog_id,
        http_status=201,
        attempts=attempts,
        warning=booking.warning,
        members=booking.members,
    )
    if adopted and from_earlier_run:
        outcome.status, outcome.http_status = Status.ALREADY_IMPORTED, 200
        outcome.error = "found in Tracker: booked by an earlier run that was interrupted"
    elif adopted:
        outcome.http_status = 200
        outcome.error = "adopted the worklog an unanswered request had created"
    return outcome


def unbooked(
    booking: Booking,
    error: BaseException,
    *,
    uncertain: bool,
    attempts: int,
    stopped: str | None = None,
) -> Outcome:
    """A row that ended without a worklog id.

    ``stopped``: the run's stop reason, when the row is left because the run stops.
    ``uncertain``: its last POST went unanswered and may have created the worklog.
    """
    outcome = Outcome(
        booking.source,
        Status.PENDING,
        booking.worklog,
        http_status=error.status if isinstance(error, DeliveryError) else None,
        attempts=attempts,
        warning=booking.warning,
        members=booking.members,
    )
    if stopped is not None:
        outcome.error = stopped_message(stopped, uncertain=uncertain)
    elif isinstance(error, Rejected):
        outcome.status, outcome.error = Status.FAILED, error.message
    elif isinstance(error, Retryable):
        tries = f"gave up after {attempts} attempts: {error.message}"
        if uncertain:
            outcome.error = f"outcome unknown, {tries}"  # the last POST may have landed
        else:
            outcome.status, outcome.error = Status.FAILED, tries
    else:
        raise TypeError(f"not a row's failure: {error!r}")
    return outcome
