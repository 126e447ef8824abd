"""Worklog search by author and creation time: ``GET /v2/worklog``, ``POST .../_search``."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from importer.sandbox._http import base_url, json_body
from importer.sandbox._settings import SETTINGS, STORE, tracker_error

DEFAULT_PER_PAGE = 50
MOST_PER_PAGE = 1000


def _search(
    request: web.Request,
    created_by: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> web.Response:
    """One page of the matching worklogs, in id order (``page``, ``perPage``; assumed: 50 a
    page, at most 1,000). Like Tracker, nothing past the ``search_cap``-th item (10,000 by
    default) can be read: a page starting past it is refused with "Request exceeds 10000
    items limit" (as users of Tracker's client report) — narrow the window instead."""
    try:
        page = int(request.query.get("page", "1"))
        per_page = min(MOST_PER_PAGE, int(request.query.get("perPage", DEFAULT_PER_PAGE)))
    except ValueError:
        return tracker_error(400, "page and perPage must be whole numbers")
    if page < 1 or per_page < 1:
        return tracker_error(400, "page and perPage must be positive")
    cap = request.app[SETTINGS].search_cap
    if cap and (page - 1) * per_page >= cap:
        return tracker_error(400, f"Request exceeds {cap} items limit")
    found = [
        w
        for w in request.app[STORE].by_author(created_by)
        if (since is None or w.created_at >= since) and (until is None or w.created_at <= until)
    ]
    last = min(page * per_page, cap) if cap else page * per_page
    chosen = found[(page - 1) * per_page : last]
    return web.json_response([w.record(base_url(request)) for w in chosen])


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
