"""How a row ended: the report's status and message, decided from the row's end alone."""

from __future__ import annotations

import datetime as dt

import pytest

from importer.deliver.outcomes import (
    booked,
    found_before,
    known_from_journal,
    unbooked,
    would_create,
)
from importer.deliver.stops import Stopped
from importer.errors import AuthError, OutcomeUnknown, Rejected, Retryable
from importer.journal.store import Entry
from importer.models import Booking, SourceRow, Status, Worklog

WORKLOG = Worklog(
    "PORT-1", dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC), dt.timedelta(hours=1), "review"
)
BOOKING = Booking(SourceRow("t.csv", 7, {}), WORKLOG, "fp", warning="long day")


def test_out_of_attempts_with_every_post_certainly_unapplied_is_failed() -> None:
    outcome = unbooked(BOOKING, Retryable("HTTP 503: busy", 503), uncertain=False, attempts=10)
    assert (outcome.status, outcome.error) == (
        Status.FAILED,
        "gave up after 10 attempts: HTTP 503: busy",
    )
    assert (outcome.http_status, outcome.attempts, outcome.warning) == (503, 10, "long day")


def test_out_of_attempts_after_an_unanswered_post_is_pending_not_failed() -> None:
    outcome = unbooked(
        BOOKING, OutcomeUnknown("no answer within 30 s"), uncertain=True, attempts=10
    )
    assert (outcome.status, outcome.error) == (
        Status.PENDING,
        "outcome unknown, gave up after 10 attempts: no answer within 30 s",
    )


@pytest.mark.parametrize(
    ("uncertain", "message"),
    [
        (False, "not sent, run stopped: Tracker is not answering: HTTP 503"),
        (
            True,
            "outcome unknown, run stopped: Tracker is not answering: HTTP 503; "
            "the next run checks Tracker first",
        ),
    ],
)
def test_a_row_left_by_a_stop_is_pending_and_says_what_the_next_run_does(
    uncertain: bool, message: str
) -> None:
    outcome = unbooked(
        BOOKING,
        Retryable("HTTP 503", 503),
        uncertain=uncertain,
        attempts=3,
        stopped="Tracker is not answering: HTTP 503",
    )
    assert (outcome.status, outcome.error, outcome.http_status) == (Status.PENDING, message, 503)


def test_a_refused_row_fails_with_trackers_message() -> None:
    outcome = unbooked(
        BOOKING, Rejected("HTTP 404: no such issue", 404), uncertain=False, attempts=1
    )
    assert (outcome.status, outcome.error, outcome.http_status) == (
        Status.FAILED,
        "HTTP 404: no such issue",
        404,
    )


def test_a_stop_before_the_row_started_has_no_status_code() -> None:
    outcome = unbooked(BOOKING, Stopped(), uncertain=False, attempts=0, stopped="interrupted")
    assert (outcome.status, outcome.error, outcome.http_status, outcome.attempts) == (
        Status.PENDING,
        "not sent, run stopped: interrupted",
        None,
        0,
    )


def test_an_error_that_is_no_rows_failure_is_refused_loudly() -> None:
    with pytest.raises(TypeError):
        unbooked(BOOKING, AuthError("HTTP 401", 401), uncertain=False, attempts=1)


@pytest.mark.parametrize(
    ("adopted", "earlier", "status", "code", "message"),
    [
        (False, False, Status.CREATED, 201, ""),
        (True, False, Status.CREATED, 200, "adopted the worklog an unanswered request had created"),
        (
            True,
            True,
            Status.ALREADY_IMPORTED,
            200,
            "found in Tracker: booked by an earlier run that was interrupted",
        ),
    ],
)
def test_a_booked_row_says_whether_this_run_created_or_adopted_it(
    adopted: bool, earlier: bool, status: Status, code: int, message: str
) -> None:
    outcome = booked(BOOKING, "42", adopted=adopted, from_earlier_run=earlier, attempts=2)
    assert (outcome.status, outcome.http_status, outcome.error) == (status, code, message)
    assert (outcome.worklog_id, outcome.attempts, outcome.warning) == ("42", 2, "long day")


def test_the_journal_answers_only_for_rows_it_holds_as_created() -> None:
    created = Entry("created", "42", "2026-10-02T10:00:00+00:00")
    outcome = known_from_journal(BOOKING, created)
    assert outcome is not None
    assert (outcome.status, outcome.worklog_id, outcome.error) == (
        Status.ALREADY_IMPORTED,
        "42",
        "already imported (journal, 2026-10-02T10:00:00+00:00)",
    )
    assert known_from_journal(BOOKING, Entry("sending", None, "x")) is None
    assert known_from_journal(BOOKING, None) is None


def test_precheck_and_dry_run_outcomes() -> None:
    found = found_before(BOOKING, "7")
    assert (found.status, found.worklog_id, found.error) == (
        Status.ALREADY_IMPORTED,
        "7",
        "found in Tracker: booked before this run",
    )
    plan = would_create(BOOKING)
    assert (plan.status, plan.error, plan.warning) == (
        Status.PENDING,
        "dry run: would be created",
        "long day",
    )
