"""Worklog search by author and creation time: ``GET /v2/worklog``, ``POST .../_search``."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from importer.sandbox._http import base_url, json_body
from importer.sandbox._settings import STORE, tracker_error
from importer.sandbox._store import SandboxUser


def _matches_user(user: SandboxUser, wanted: str | None) -> bool:
    return wanted is None or wanted in (user.login, str(user.uid))


def _search(
    request: web.Request,
    created_by: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> web.Response:
    found = [
        w.record(base_url(request))
        for w in request.app[STORE].worklogs.values()
        if _matches_user(w.author, created_by)
        and (since is None or w.created_at >= since)
        and (until is None or w.created_at <= until)
    ]
    return web.json_response(found)


def _parse_bound(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def search_worklogs_get(request: web.Request) -> web.Response:
    """``GET /v2/worklog?createdBy=<login>&createdAt=from:<ts>&createdAt=to:<ts>``."""
    since = until = None
    try:
        for value in request.query.getall("createdAt", []):
            bound, _, text = value.partition(":")
            if bound == "from":
                since = _parse_bound(text)
            elif bound == "to":
                until = _parse_bound(text)
    except ValueError:
        return tracker_error(400, "Parameter createdAt must be from:<datetime> or to:<datetime>")
    return _search(request, request.query.get("createdBy"), since, until)


async def search_worklogs_post(request: web.Request) -> web.Response:
    """``POST /v2/worklog/_search`` with ``{"createdBy": ..., "createdAt": {"from", "to"}}``."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    created_at = body.get("createdAt") or {}
    try:
        since = _parse_bound(created_at["from"]) if created_at.get("from") else None
        until = _parse_bound(created_at["to"]) if created_at.get("to") else None
    except (ValueError, TypeError, AttributeError):
        return tracker_error(400, 'createdAt must be {"from": ..., "to": ...}')
    return _search(request, body.get("createdBy"), since, until)
