"""The worklog endpoints: create, admin import, list, edit and delete, validated like Tracker.

Every change of a worklog raises its ``version`` and sets ``updatedAt``/``updatedBy``, as
Tracker does; an unknown or deleted worklog is 404, and only its author or an
administrator may change or delete it (403 otherwise).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from importer.formats import parse_business_iso, parse_tracker_start
from importer.sandbox._http import base_url, int_param, issue_key, json_body
from importer.sandbox._settings import SETTINGS, STORE, TRACKER_START, USER, tracker_error
from importer.sandbox._store import StoredWorklog


def _start(value: Any, errors: dict[str, str]) -> dt.datetime | None:
    if not isinstance(value, str) or not TRACKER_START.match(value):
        errors["start"] = "Expected format YYYY-MM-DDThh:mm:ss.sss±hhmm"
        return None
    try:
        return parse_tracker_start(value)
    except ValueError:
        errors["start"] = "Invalid date"
        return None


def _duration(value: Any, errors: dict[str, str]) -> dt.timedelta | None:
    if not isinstance(value, str):
        errors["duration"] = "Required ISO 8601 duration"
        return None
    try:
        duration = parse_business_iso(value)
    except ValueError:
        errors["duration"] = "Invalid ISO 8601 duration"
        return None
    if duration <= dt.timedelta(0):
        errors["duration"] = "Duration must be positive"
    elif duration.total_seconds() % 60:
        # Assumed: Tracker's documentation gives durations in minutes and larger units,
        # and a real Tracker was seen refusing PT29M31S and PT20S.
        errors["duration"] = "Duration must be a whole number of minutes"
    return None if "duration" in errors else duration


def _changes(body: dict[str, Any], *, partial: bool) -> dict[str, Any] | web.Response:
    """The checked fields of a create (all of start, duration) or an edit (any of them)."""
    errors: dict[str, str] = {}
    found: dict[str, Any] = {}
    if not partial or "start" in body:
        found["start"] = _start(body.get("start"), errors)
    if not partial or "duration" in body:
        found["duration"] = _duration(body.get("duration"), errors)
    if not partial or "comment" in body:
        comment = body.get("comment") or ""
        if not isinstance(comment, str):
            errors["comment"] = "Must be a string"
        found["comment"] = comment
    if partial and not found:
        errors["body"] = "Nothing to change: give start, duration or comment"
    if errors:
        return tracker_error(400, "Некорректные значения полей", errors=errors)
    return found


def worklog_fields(
    body: dict[str, Any],
) -> tuple[dt.datetime, dt.timedelta, str] | web.Response:
    """The start, duration and comment of a new worklog, or Tracker's 400."""
    found = _changes(body, partial=False)
    if isinstance(found, web.Response):
        return found
    return found["start"], found["duration"], found["comment"]


_Posted = tuple[str, dict[str, Any], tuple[dt.datetime, dt.timedelta, str]]


async def _posted_worklog(request: web.Request) -> _Posted | web.Response:
    """The issue, body and checked fields of a worklog POST, or Tracker's error answer."""
    key = issue_key(request)
    if isinstance(key, web.Response):
        return key
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    fields = worklog_fields(body)
    if isinstance(fields, web.Response):
        return fields
    delay = request.app[SETTINGS].commit_delay
    if delay:
        # A slow Tracker: the worklog is stored this late, whether the client still waits
        # for the answer or gave up (the handler goes on after a client disconnects).
        await asyncio.sleep(delay)
    return key, body, fields


async def create_worklog(request: web.Request) -> web.Response:
    """``POST /v2/issues/{key}/worklog``."""
    posted = await _posted_worklog(request)
    if isinstance(posted, web.Response):
        return posted
    key, _, (start, duration, comment) = posted
    stored = request.app[STORE].add(key, start, duration, comment, request[USER])
    return web.json_response(stored.record(base_url(request)), status=201)


async def import_worklog(request: web.Request) -> web.Response:
    """``POST /v3/issues/{key}/worklogs/_import``: admin only, keeps the real author."""
    user = request[USER]
    if not user.admin:
        return tracker_error(403, "Недостаточно прав: импорт доступен только администратору")
    posted = await _posted_worklog(request)
    if isinstance(posted, web.Response):
        return posted
    key, body, (start, duration, comment) = posted
    login = body.get("createdBy")
    author = next((u for u in request.app[SETTINGS].users if u.login == login), None)
    if author is None:
        return tracker_error(
            400, f"Пользователь не найден: {login!r}", errors={"createdBy": "Unknown user"}
        )
    created_at = start
    if isinstance(body.get("createdAt"), str):
        try:
            created_at = parse_tracker_start(body["createdAt"])
        except ValueError:
            return tracker_error(
                400, "Некорректные значения полей", errors={"createdAt": "Invalid date"}
            )
    stored = request.app[STORE].add(key, start, duration, comment, author, created_at)
    return web.json_response([stored.record(base_url(request))], status=201)


async def list_worklogs(request: web.Request) -> web.Response:
    """``GET /v2/issues/{key}/worklog?perPage=N&id=<last id>``: ascending ids, ≤ 500 a page."""
    key = issue_key(request)
    if isinstance(key, web.Response):
        return key
    per_page = int_param(request, "perPage", 50)
    after = int_param(request, "id", 0)
    if isinstance(per_page, web.Response):
        return per_page
    if isinstance(after, web.Response):
        return after
    page = request.app[STORE].of_issue(key, after, max(1, min(per_page, 500)))
    return web.json_response([w.record(base_url(request)) for w in page])


async def _own_worklog(request: web.Request) -> StoredWorklog | web.Response:
    """The worklog a PATCH or DELETE names, if it exists and this user may change it."""
    key = issue_key(request)
    if isinstance(key, web.Response):
        return key
    worklog = request.app[STORE].find(key, request.match_info["id"])
    if worklog is None:
        return tracker_error(404, "Запись о затраченном времени не найдена.")
    user = request[USER]
    if worklog.author.login != user.login and not user.admin:
        return tracker_error(403, "Недостаточно прав для изменения записи.")
    return worklog


async def patch_worklog(request: web.Request) -> web.Response:
    """``PATCH /v2|v3/issues/{key}/worklog/{id}`` with any of start, duration, comment."""
    worklog = await _own_worklog(request)
    if isinstance(worklog, web.Response):
        return worklog
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    changes = _changes(body, partial=True)
    if isinstance(changes, web.Response):
        return changes
    worklog.change(request[USER], **changes)
    return web.json_response(worklog.record(base_url(request)))


async def delete_worklog(request: web.Request) -> web.Response:
    """``DELETE /v2|v3/issues/{key}/worklog/{id}`` → 204."""
    worklog = await _own_worklog(request)
    if isinstance(worklog, web.Response):
        return worklog
    request.app[STORE].delete(worklog)
    return web.Response(status=204)
