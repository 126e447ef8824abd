from __future__ import annotations

import pytest

from importer.errors import AuthError, OutcomeUnknown, Rejected, Retryable
from importer.tracker import error_for_status


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_after_a_post_is_an_unknown_outcome_but_after_a_get_just_retryable(status: int) -> None:
    assert type(error_for_status(status, "", {}, changes_state=True)) is OutcomeUnknown
    assert type(error_for_status(status, "", {}, changes_state=False)) is Retryable


def test_429_is_retryable_and_carries_retry_after() -> None:
    error = error_for_status(429, "", {"Retry-After": "3"}, changes_state=True)
    assert type(error) is Retryable
    assert error.retry_after == 3.0  # type: ignore[attr-defined]


def test_401_is_an_auth_error() -> None:
    assert isinstance(
        error_for_status(401, "Authorization required", {}, changes_state=False), AuthError
    )


@pytest.mark.parametrize("status", [400, 403, 404, 409, 412, 422, 423])
def test_other_4xx_reject_the_row_with_trackers_messages(status: int) -> None:
    body = '{"errors": {"duration": "Invalid"}, "errorMessages": ["Ошибка"], "statusCode": 400}'
    error = error_for_status(status, body, {}, changes_state=True)
    assert type(error) is Rejected
    assert error.message == f"HTTP {status}: Ошибка; duration: Invalid"


def test_non_json_error_bodies_are_quoted_briefly() -> None:
    error = error_for_status(502, "<html>\n<b>Bad gateway</b>\n</html>", {}, changes_state=False)
    assert error.message == "HTTP 502: <html> <b>Bad gateway</b> </html>"
