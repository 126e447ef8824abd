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


async def test_a_timed_out_post_is_an_unknown_outcome_and_a_timed_out_read_is_not() -> None:
    from importer.sandbox import SandboxSettings, running_sandbox
    from importer.tracker import TrackerClient

    async with (
        running_sandbox(SandboxSettings(latency=0.5)) as sandbox,
        TrackerClient.connect(sandbox.credentials(), request_timeout=0.05) as client,
    ):
        with pytest.raises(OutcomeUnknown, match=r"no answer within 0\.05 s"):
            await client.create_worklog(
                "PORT-1", {"start": "2026-10-01T09:00:00.000+0300", "duration": "PT1H"}
            )
        with pytest.raises(Retryable, match=r"no answer within 0\.05 s") as read:
            await client.issue_worklogs("PORT-1")
        assert type(read.value) is Retryable


async def test_edits_and_deletes_are_sent_and_their_lost_answers_are_unknown() -> None:
    from importer.sandbox import SandboxSettings, running_sandbox
    from importer.tracker import TrackerClient

    knobs = SandboxSettings()
    start = "2026-10-01T09:00:00.000+0300"
    async with (
        running_sandbox(knobs) as sandbox,
        TrackerClient.connect(sandbox.credentials(), request_timeout=0.2) as client,
    ):
        booked = await client.create_worklog("PORT-1", {"start": start, "duration": "PT1H"})
        edited = await client.update_worklog("PORT-1", str(booked["id"]), {"duration": "PT2H"})
        assert (edited["duration"], edited["version"]) == ("PT2H", booked["version"] + 1)
        await client.delete_worklog("PORT-1", str(booked["id"]), v3=True)
        assert not sandbox.store.worklogs
        with pytest.raises(Rejected, match="HTTP 404"):
            await client.delete_worklog("PORT-1", str(booked["id"]))
        again = await client.create_worklog("PORT-1", {"start": start, "duration": "PT1H"})
        knobs.p_created_then_500 = 1.0  # applied, then the answer is lost
        with pytest.raises(OutcomeUnknown):
            await client.update_worklog("PORT-1", str(again["id"]), {"comment": "x"})
        with pytest.raises(OutcomeUnknown):
            await client.delete_worklog("PORT-1", str(again["id"]))
        assert not sandbox.store.worklogs  # the delete was applied all the same


async def test_a_delete_whose_connection_drops_is_not_sent_again_behind_our_back() -> None:
    """The HTTP library would resend a DELETE on a dropped keep-alive connection; the
    client must surface the lost answer instead, so it is checked in Tracker first."""
    from importer.sandbox import SandboxSettings, running_sandbox
    from importer.tracker import TrackerClient

    knobs = SandboxSettings()
    start = "2026-10-01T09:00:00.000+0300"
    async with (
        running_sandbox(knobs) as sandbox,
        TrackerClient.connect(sandbox.credentials()) as client,
    ):
        booked = await client.create_worklog("PORT-1", {"start": start, "duration": "PT1H"})
        await client.issue_worklogs("PORT-1")  # the connection is now a reused one
        knobs.p_created_then_drop = 1.0  # deleted, then the connection drops
        with pytest.raises(OutcomeUnknown, match="connection lost"):
            await client.delete_worklog("PORT-1", str(booked["id"]))
        assert not sandbox.store.worklogs
        assert sandbox.stats.edits == {"DELETE 201": 1}  # one DELETE, no silent second one
