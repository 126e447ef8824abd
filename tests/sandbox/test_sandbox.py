"""The sandbox must validate and answer like Tracker, or the tests prove nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, SandboxSettings, create_app

AUTH = {"Authorization": f"OAuth {DEFAULT_TOKEN}", "X-Org-ID": DEFAULT_ORG_ID}
GOOD = {"start": "2026-10-01T09:00:00.000+0300", "duration": "PT9H", "comment": "SSO"}


async def _client(aiohttp_client: Any, **knobs: Any) -> TestClient:
    return await aiohttp_client(create_app(SandboxSettings(**knobs)))  # type: ignore[no-any-return]


async def test_create_answers_in_utc_and_business_time(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    response = await client.post("/v2/issues/PORT-1/worklog", json=GOOD, headers=AUTH)
    assert response.status == 201
    record = await response.json()
    assert record["start"] == "2026-10-01T06:00:00.000+0000"
    assert record["duration"] == "P1DT1H"
    assert record["issue"]["key"] == "PORT-1"
    assert record["comment"] == "SSO"
    assert record["createdBy"]["id"] == "1120000000000001"


async def test_start_must_have_milliseconds_and_an_offset_without_colon(
    aiohttp_client: Any,
) -> None:
    client = await _client(aiohttp_client)
    for start in ("2026-10-01T09:00:00+03:00", "2026-10-01T09:00:00.000", "2026-10-01 09:00"):
        response = await client.post(
            "/v2/issues/PORT-1/worklog", json={**GOOD, "start": start}, headers=AUTH
        )
        assert response.status == 400, start
        body = await response.json()
        assert body["statusCode"] == 400 and "start" in body["errors"]


async def test_duration_must_be_a_positive_iso_duration(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    for duration in ("1.5", "PT0M", "P1M", "", None):
        response = await client.post(
            "/v2/issues/PORT-1/worklog", json={**GOOD, "duration": duration}, headers=AUTH
        )
        assert response.status == 400, duration
        assert "duration" in (await response.json())["errors"]


async def test_unparsable_body_is_422(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    response = await client.post("/v2/issues/PORT-1/worklog", data=b"{start", headers=AUTH)
    assert response.status == 422
    assert (await response.json())["errorMessages"] == ["JSON validation error"]


async def test_unknown_issue_is_404(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, known_issues=frozenset({"PORT-1"}))
    response = await client.post("/v2/issues/PORT-2/worklog", json=GOOD, headers=AUTH)
    assert response.status == 404
    assert await response.json() == {
        "errors": {},
        "errorMessages": ["Задача не существует."],
        "statusCode": 404,
    }


async def test_authentication_and_organisation_are_checked(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    no_auth = await client.get("/v2/myself", headers={"X-Org-ID": DEFAULT_ORG_ID})
    assert (no_auth.status, await no_auth.text()) == (401, "Authorization required")
    bad_token = await client.get("/v2/myself", headers={**AUTH, "Authorization": "OAuth nope"})
    assert bad_token.status == 401
    bearer = await client.get(
        "/v2/myself", headers={**AUTH, "Authorization": f"Bearer {DEFAULT_TOKEN}"}
    )
    assert bearer.status == 200
    wrong_org = await client.get("/v2/myself", headers={**AUTH, "X-Org-ID": "other"})
    assert wrong_org.status == 403
    both = await client.get("/v2/myself", headers={**AUTH, "X-Cloud-Org-ID": "c"})
    assert both.status == 400
    neither = await client.get("/v2/myself", headers={"Authorization": AUTH["Authorization"]})
    assert neither.status == 400


async def test_myself_describes_the_token_owner(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    me = await (await client.get("/v2/myself", headers=AUTH)).json()
    assert (me["login"], me["uid"]) == ("robot-importer", 1120000000000001)
    assert me["self"].endswith("/v2/users/1120000000000001")


async def test_issue_worklogs_page_by_id(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    for _ in range(5):
        await client.post("/v2/issues/PORT-1/worklog", json=GOOD, headers=AUTH)
    await client.post("/v2/issues/PORT-2/worklog", json=GOOD, headers=AUTH)
    first = await (await client.get("/v2/issues/PORT-1/worklog?perPage=2", headers=AUTH)).json()
    assert [w["id"] for w in first] == [1, 2]
    rest = await (
        await client.get("/v2/issues/PORT-1/worklog?perPage=10&id=2", headers=AUTH)
    ).json()
    assert [w["id"] for w in rest] == [3, 4, 5]
    empty = await (
        await client.get("/v2/issues/PORT-1/worklog?perPage=10&id=5", headers=AUTH)
    ).json()
    assert empty == []


async def test_search_by_author_and_creation_time(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    await client.post("/v2/issues/PORT-1/worklog", json=GOOD, headers=AUTH)
    by_login = await client.get(
        "/v2/worklog?createdBy=robot-importer&createdAt=from:2020-01-01T00:00:00", headers=AUTH
    )
    assert len(await by_login.json()) == 1
    other = await client.get("/v2/worklog?createdBy=i.petrov", headers=AUTH)
    assert await other.json() == []
    future = await client.post(
        "/v2/worklog/_search",
        json={"createdBy": "robot-importer", "createdAt": {"from": "2999-01-01T00:00:00"}},
        headers=AUTH,
    )
    assert await future.json() == []


async def test_admin_import_keeps_the_author_and_answers_an_array(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    body = {**GOOD, "createdBy": "a.smirnova", "createdAt": "2026-10-01T18:00:00.000+0300"}
    response = await client.post("/v3/issues/PORT-1/worklogs/_import", json=body, headers=AUTH)
    assert response.status == 201
    [record] = await response.json()
    assert record["createdBy"]["display"] == "Анна Смирнова"
    assert record["createdAt"] == "2026-10-01T15:00:00.000+0000"
    unknown = await client.post(
        "/v3/issues/PORT-1/worklogs/_import", json={**body, "createdBy": "ghost"}, headers=AUTH
    )
    assert unknown.status == 400


async def test_server_rate_limit_answers_429_with_retry_after(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, rate_limit=3)
    statuses = [(await client.get("/v2/myself", headers=AUTH)).status for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = await client.get("/v2/myself", headers=AUTH)
    assert limited.headers["Retry-After"] == "1"
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["served_429"] == 3
    assert stats["requests"] == 6


async def test_a_small_bucket_refuses_a_burst_that_the_default_bucket_takes(
    aiohttp_client: Any,
) -> None:
    """10 requests at once against 100/s: a bucket of 2 lets about 2 through (a token comes
    back every 10 ms, so a slow machine may let a few more), a bucket of 100 all 10."""
    refused = {}
    for bucket_size in (2, 0):
        client = await _client(aiohttp_client, rate_limit=100, bucket_size=bucket_size)
        burst = [client.get("/v2/myself", headers=AUTH) for _ in range(10)]
        statuses = [answer.status for answer in await asyncio.gather(*burst)]
        stats = await (await client.get("/_sandbox/stats")).json()
        assert stats["served_429"] == statuses.count(429)
        refused[bucket_size] = stats["served_429"]
    assert 5 <= refused[2] <= 8
    assert refused[0] == 0


def test_the_bucket_holds_bucket_size_tokens() -> None:
    from importer.sandbox._faults import _over_the_limit

    for bucket_size, let_through in ((2, 2), (0, 10)):
        settings = SandboxSettings(rate_limit=100, bucket_size=bucket_size)
        state: list[object] = []
        verdicts = [_over_the_limit(state, settings, 0.0) for _ in range(10)]
        assert verdicts.count(0) == let_through


async def test_the_store_can_be_read_for_one_author(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, others_per_issue=3)
    await client.post("/v2/issues/PORT-1/worklog", json=GOOD, headers=AUTH)
    everything = await (await client.get("/_sandbox/worklogs")).json()
    robots = await (await client.get("/_sandbox/worklogs?login=robot-importer")).json()
    assert len(everything) == 4
    assert [(w["login"], w["comment"]) for w in robots] == [("robot-importer", "SSO")]


async def test_created_then_500_stores_the_worklog(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, p_created_then_500=1.0)
    response = await client.post("/v2/issues/PORT-1/worklog", json=GOOD, headers=AUTH)
    assert response.status == 500
    stored = await (await client.get("/_sandbox/worklogs")).json()
    assert len(stored) == 1 and stored[0]["login"] == "robot-importer"


async def test_faults_do_not_apply_to_reads_of_the_store(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, p_503=1.0)
    assert (await client.get("/v2/myself", headers=AUTH)).status == 503
    assert (await client.get("/_sandbox/worklogs")).status == 200


async def test_booking_by_hand_bypasses_faults(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, p_503=1.0)
    response = await client.post(
        "/_sandbox/worklogs", json={**GOOD, "issue": "PORT-9", "login": "i.petrov"}
    )
    assert response.status == 201
    assert (await response.json())["createdBy"]["display"] == "Иван Петров"


@pytest.mark.parametrize(
    ("shape", "refused_at"),
    [
        # 3 a second: the 4th request within 0.9 s is refused by every shape...
        ("bucket", [0.3]),
        ("fixed", [0.3]),
        ("sliding", [0.3]),
    ],
)
def test_every_limiter_shape_refuses_more_than_the_rate(
    shape: str, refused_at: list[float]
) -> None:
    from importer.sandbox._faults import _over_the_limit
    from importer.sandbox._settings import SandboxSettings

    settings = SandboxSettings(rate_limit=3, limiter=shape)
    state: list[object] = []
    times = [0.0, 0.1, 0.2, 0.3]  # 3 a second allowed: the 4th within 0.3 s is one too many
    refused = [t for t in times if _over_the_limit(state, settings, t)]
    assert refused == [0.3]


def test_the_shapes_differ_at_a_window_edge() -> None:
    """Three requests late in second 0 and three early in second 1: a fixed window lets all
    six through, a sliding second of arrivals refuses the second three."""
    from importer.sandbox._faults import _over_the_limit
    from importer.sandbox._settings import SandboxSettings

    times = [0.90, 0.95, 0.99, 1.01, 1.05, 1.09]
    verdicts = {}
    for shape in ("fixed", "sliding"):
        settings = SandboxSettings(rate_limit=3, limiter=shape)
        state: list[object] = []
        verdicts[shape] = [bool(_over_the_limit(state, settings, t)) for t in times]
    assert verdicts["fixed"] == [False] * 6
    assert verdicts["sliding"] == [False, False, False, True, True, True]


async def test_a_kept_store_comes_back_with_its_ids_versions_and_authors(tmp_path: Path) -> None:
    import datetime as dt

    from importer.sandbox import TEAM, running_sandbox

    kept = tmp_path / "store.json"
    start = dt.datetime(2026, 10, 1, 6, tzinfo=dt.UTC)
    async with running_sandbox(kept=kept) as sandbox:
        first = sandbox.store.add("PORT-1", start, dt.timedelta(hours=1), "a", TEAM[0])
        second = sandbox.store.add("PORT-2", start, dt.timedelta(hours=2), "b", TEAM[1])
        second.change(TEAM[0], comment="b, edited")
        sandbox.store.delete(first)
        version = second.version
    async with running_sandbox(kept=kept) as again:
        [back] = again.store.worklogs.values()
        fresh = again.store.add("PORT-2", start, dt.timedelta(hours=3), "c", TEAM[1])
    assert (back.id, back.issue, back.comment, back.version) == (2, "PORT-2", "b, edited", version)
    assert back.author == TEAM[1] and back.updated_by == TEAM[0]
    assert back.duration == dt.timedelta(hours=2) and back.start == start
    assert fresh.id == 3  # new ids follow the kept ones
