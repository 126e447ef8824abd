"""The run's stop policy: which failures end the whole run, and which only their row."""

from __future__ import annotations

import pytest

from importer.deliver.stops import RunStop, Stopped, identity_refused
from importer.errors import (
    AuthError,
    JournalError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    TrackerUnavailable,
)

URL, ORG = "https://tracker.example", "X-Org-ID 42"


def test_the_first_reason_wins_and_check_raises_from_then_on() -> None:
    stops = RunStop()
    stops.check()  # nothing yet
    first, second = TrackerUnavailable("down"), AuthError("HTTP 401", 401)
    stops.stop(first)
    stops.stop(second)
    assert stops.reason is first and stops.stopping.is_set()
    with pytest.raises(Stopped):
        stops.check()


@pytest.mark.parametrize(
    "error", [AuthError("HTTP 401", 401), TrackerUnavailable("gone"), JournalError("disk full")]
)
def test_run_level_errors_stop_the_run_and_leave_the_row(error: Exception) -> None:
    stops = RunStop()
    assert stops.after_row_error(error, importing=False, nothing_succeeded=False)
    assert stops.reason is error


def test_attempts_exhausted_while_others_succeed_fails_only_the_row() -> None:
    stops = RunStop()
    left = stops.after_row_error(
        OutcomeUnknown("no answer"), importing=False, nothing_succeeded=False
    )
    assert (left, stops.reason) == (False, None)


def test_attempts_exhausted_while_nothing_succeeds_means_tracker_is_down() -> None:
    stops = RunStop()
    assert stops.after_row_error(
        Retryable("HTTP 503: busy", 503), importing=False, nothing_succeeded=True
    )
    assert isinstance(stops.reason, TrackerUnavailable)
    assert str(stops.reason) == "Tracker is not answering: HTTP 503: busy"


def test_three_403s_before_any_booking_stop_the_run_but_not_after_one() -> None:
    refused = Rejected("HTTP 403: no access", 403)
    stops = RunStop()
    for _ in range(2):
        assert not stops.after_row_error(refused, importing=False, nothing_succeeded=False)
    assert stops.reason is None
    stops.after_row_error(refused, importing=False, nothing_succeeded=False)
    assert str(stops.reason) == "every worklog so far was refused: HTTP 403: no access"

    booked_once = RunStop()
    booked_once.booked = 1
    for _ in range(5):
        booked_once.after_row_error(refused, importing=False, nothing_succeeded=False)
    assert booked_once.reason is None  # that problem, not the token's


def test_a_refused_first_import_means_the_token_is_not_an_administrators() -> None:
    stops = RunStop()
    left = stops.after_row_error(
        Rejected("HTTP 403: forbidden", 403), importing=True, nothing_succeeded=False
    )
    assert left and isinstance(stops.reason, AuthError)
    assert str(stops.reason) == (
        "mode 'import' needs an administrator's token, and Tracker refused this one "
        "(HTTP 403: forbidden)"
    )


def test_a_refused_row_that_is_not_a_403_never_stops_the_run() -> None:
    stops = RunStop()
    for _ in range(5):
        assert not stops.after_row_error(
            Rejected("HTTP 404", 404), importing=True, nothing_succeeded=True
        )
    assert stops.reason is None


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (AuthError("HTTP 401: bad", 401), AuthError, f"{URL} rejected the token: HTTP 401: bad"),
        (
            Rejected("HTTP 403: nope", 403),
            AuthError,
            f"{URL} refused {ORG}: HTTP 403: nope (check the organisation id and its kind: "
            "X-Org-ID for Yandex 360, X-Cloud-Org-ID for a Cloud organization)",
        ),
        (
            Retryable("cannot connect", None),
            TrackerUnavailable,
            f"Tracker is not answering at {URL}: cannot connect",
        ),
    ],
)
def test_a_refused_whoami_says_why_nothing_can_be_booked(
    error: Exception, kind: type[Exception], message: str
) -> None:
    refused = identity_refused(error, URL, ORG)  # type: ignore[arg-type]
    assert type(refused) is kind and str(refused) == message
