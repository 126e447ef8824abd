"""Editing and deleting worklogs in the sandbox, the way Tracker does it."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN, SandboxSettings, create_app

AUTH = {"Authorization": f"OAuth {DEFAULT_TOKEN}", "X-Org-ID": DEFAULT_ORG_ID}
PETROV = {"Authorization": "OAuth i.petrov-token", "X-Org-ID": DEFAULT_ORG_ID}
GOOD = {"start": "2026-10-01T09:00:00.000+0300", "duration": "PT2H", "comment": "SSO"}


async def _client(aiohttp_client: Any, **knobs: Any) -> TestClient:
    return await aiohttp_client(create_app(SandboxSettings(**knobs)))  # type: ignore[no-any-return]


async def _booked(client: TestClient, headers: dict[str, str] = AUTH) -> dict[str, Any]:
    response = await client.post("/v2/issues/PORT-1/worklog", json=GOOD, headers=headers)
    assert response.status == 201
    return await response.json()  # type: ignore[no-any-return]


async def test_an_edit_changes_the_values_raises_the_version_and_says_who(
    aiohttp_client: Any,
) -> None:
    client = await _client(aiohttp_client)
    booked = await _booked(client, PETROV)
    for version in ("v2", "v3"):
        response = await client.patch(
            f"/{version}/issues/PORT-1/worklog/{booked['id']}",
            json={"duration": "PT8H", "comment": f"SSO, {version}"},
            headers=AUTH,  # an administrator may edit anyone's worklog
        )
        assert response.status == 200, version
    edited = await response.json()
    assert (edited["duration"], edited["comment"]) == ("P1D", "SSO, v3")
    assert edited["start"] == booked["start"]  # untouched
    assert edited["version"] == booked["version"] + 2
    assert edited["updatedBy"]["id"] == "1120000000000001"
    assert edited["createdBy"] == booked["createdBy"]
    assert edited["updatedAt"] >= booked["updatedAt"]
    [listed] = await (await client.get("/v2/issues/PORT-1/worklog", headers=AUTH)).json()
    assert listed == edited


async def test_an_edit_is_validated_like_a_create(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    booked = await _booked(client)
    path = f"/v2/issues/PORT-1/worklog/{booked['id']}"
    for body, field in (
        ({"duration": "PT0M"}, "duration"),
        ({"duration": "PT20S"}, "duration"),
        ({"start": "2026-10-01 09:00"}, "start"),
        ({"comment": 5}, "comment"),
        ({}, "body"),
    ):
        response = await client.patch(path, json=body, headers=AUTH)
        assert response.status == 400, body
        assert field in (await response.json())["errors"]


async def test_a_delete_answers_204_and_the_worklog_is_gone(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client)
    booked = await _booked(client)
    path = f"/v2/issues/PORT-1/worklog/{booked['id']}"
    assert (await client.delete(path, headers=AUTH)).status == 204
    assert await (await client.get("/v2/issues/PORT-1/worklog", headers=AUTH)).json() == []
    assert (await client.delete(path, headers=AUTH)).status == 404
    assert (await client.patch(path, json={"comment": "x"}, headers=AUTH)).status == 404
    wrong_issue = f"/v2/issues/PORT-2/worklog/{booked['id']}"
    assert (await client.delete(wrong_issue, headers=AUTH)).status == 404


async def test_only_the_author_or_an_administrator_may_change_a_worklog(
    aiohttp_client: Any,
) -> None:
    client = await _client(aiohttp_client)
    robots = await _booked(client)
    path = f"/v2/issues/PORT-1/worklog/{robots['id']}"
    assert (await client.patch(path, json={"comment": "x"}, headers=PETROV)).status == 403
    assert (await client.delete(path, headers=PETROV)).status == 403
    petrovs = await _booked(client, PETROV)
    own = f"/v2/issues/PORT-1/worklog/{petrovs['id']}"
    assert (await client.delete(own, headers=PETROV)).status == 204


async def test_an_edit_or_delete_may_be_applied_and_still_lose_its_answer(
    aiohttp_client: Any,
) -> None:
    knobs = SandboxSettings()
    client: TestClient = await aiohttp_client(create_app(knobs))
    booked = await _booked(client)
    path = f"/v2/issues/PORT-1/worklog/{booked['id']}"
    knobs.p_created_then_500 = 1.0  # every write from now on: applied, then a 500
    assert (await client.patch(path, json={"comment": "late"}, headers=AUTH)).status == 500
    [stored] = await (await client.get("/_sandbox/worklogs")).json()
    assert stored["comment"] == "late"  # applied, though the answer was a 500
    assert (await client.delete(path, headers=AUTH)).status == 500
    assert await (await client.get("/_sandbox/worklogs")).json() == []
