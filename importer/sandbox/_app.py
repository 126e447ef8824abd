"""A Tracker double: the worklog endpoints, validated and answered the way Tracker does.

Faults are injected by the middleware in :mod:`._faults`, so the handlers here stay plain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from typing import Any

from aiohttp import web

from importer.formats import parse_business_iso, parse_tracker_start
from importer.sandbox._faults import faults
from importer.sandbox._settings import (
    BUCKET,
    ISSUE_KEY,
    RNG,
    ROBOT,
    SETTINGS,
    STATS,
    STORE,
    TRACKER_START,
    USER,
    SandboxSettings,
    SandboxStats,
    tracker_error,
)
from importer.sandbox._store import SandboxUser, Store


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _issue(request: web.Request) -> str | web.Response:
    key = request.match_info["key"]
    settings = request.app[SETTINGS]
    known = settings.known_issues
    if not ISSUE_KEY.match(key) or (known is not None and key not in known):
        return tracker_error(404, "Задача не существует.")
    if key.split("-")[0] in settings.forbidden_queues:
        return tracker_error(403, "У вас нет доступа к этой задаче.")
    return key


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return tracker_error(422, "JSON validation error")
    if not isinstance(body, dict):
        return tracker_error(422, "JSON validation error")
    return body


def _worklog_fields(
    body: dict[str, Any],
) -> tuple[dt.datetime, dt.timedelta, str] | web.Response:
    errors: dict[str, str] = {}
    start_text, duration_text = body.get("start"), body.get("duration")
    comment = body.get("comment", "")
    start: dt.datetime | None = None
    duration: dt.timedelta | None = None
    if not isinstance(start_text, str) or not TRACKER_START.match(start_text):
        errors["start"] = "Expected format YYYY-MM-DDThh:mm:ss.sss±hhmm"
    else:
        try:
            start = parse_tracker_start(start_text)
        except ValueError:
            errors["start"] = "Invalid date"
    if not isinstance(duration_text, str):
        errors["duration"] = "Required ISO 8601 duration"
    else:
        try:
            duration = parse_business_iso(duration_text)
        except ValueError:
            errors["duration"] = "Invalid ISO 8601 duration"
        else:
            if duration <= dt.timedelta(0):
                errors["duration"] = "Duration must be positive"
            elif duration.total_seconds() % 60:
                # Assumed: Tracker's documentation gives durations in minutes and larger
                # units, and a real Tracker was seen refusing PT29M31S and PT20S.
                errors["duration"] = "Duration must be a whole number of minutes"
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        errors["comment"] = "Must be a string"
    if errors or start is None or duration is None:
        return tracker_error(400, "Некорректные значения полей", errors=errors)
    return start, duration, comment


_Posted = tuple[str, dict[str, Any], tuple[dt.datetime, dt.timedelta, str]]


async def _posted_worklog(request: web.Request) -> _Posted | web.Response:
    """The issue, body and checked fields of a worklog POST, or Tracker's error answer."""
    key = _issue(request)
    if isinstance(key, web.Response):
        return key
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    fields = _worklog_fields(body)
    if isinstance(fields, web.Response):
        return fields
    return key, body, fields


async def create_worklog(request: web.Request) -> web.Response:
    """``POST /v2/issues/{key}/worklog``."""
    posted = await _posted_worklog(request)
    if isinstance(posted, web.Response):
        return posted
    key, _, (start, duration, comment) = posted
    stored = request.app[STORE].add(key, start, duration, comment, request[USER])
    return web.json_response(stored.record(_base(request)), status=201)


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
    return web.json_response([stored.record(_base(request))], status=201)


def _int_param(request: web.Request, name: str, default: int) -> int | web.Response:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return tracker_error(400, f"Parameter {name} must be an integer")


async def get_issue(request: web.Request) -> web.Response:
    """``GET /v2/issues/{key}``: enough of an issue for clients that look it up first."""
    key = _issue(request)
    if isinstance(key, web.Response):
        return key
    base = _base(request)
    return web.json_response(
        {
            "self": f"{base}/v2/issues/{key}",
            "id": hashlib.sha1(key.encode()).hexdigest()[:24],
            "key": key,
            "version": 1,
            "summary": f"Issue {key}",
            "queue": {"self": f"{base}/v2/queues/{key.split('-')[0]}", "key": key.split("-")[0]},
        }
    )


async def fields(request: web.Request) -> web.Response:
    """``GET /v2/fields``: the official client reads it to learn issue attributes."""
    return web.json_response([])


async def list_worklogs(request: web.Request) -> web.Response:
    """``GET /v2/issues/{key}/worklog?perPage=N&id=<last id>``: ascending ids, ≤ 500 a page."""
    key = _issue(request)
    if isinstance(key, web.Response):
        return key
    per_page = _int_param(request, "perPage", 50)
    after = _int_param(request, "id", 0)
    if isinstance(per_page, web.Response):
        return per_page
    if isinstance(after, web.Response):
        return after
    page = request.app[STORE].of_issue(key, after)[: max(1, min(per_page, 500))]
    return web.json_response([w.record(_base(request)) for w in page])


def _matches_user(user: SandboxUser, wanted: str | None) -> bool:
    return wanted is None or wanted in (user.login, str(user.uid))


def _search(
    request: web.Request,
    created_by: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> web.Response:
    found = [
        w.record(_base(request))
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
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    created_at = body.get("createdAt") or {}
    try:
        since = _parse_bound(created_at["from"]) if created_at.get("from") else None
        until = _parse_bound(created_at["to"]) if created_at.get("to") else None
    except (ValueError, TypeError, AttributeError):
        return tracker_error(400, 'createdAt must be {"from": ..., "to": ...}')
    return _search(request, body.get("createdBy"), since, until)


def _user_record(request: web.Request, user: SandboxUser) -> dict[str, Any]:
    first, _, last = user.display.partition(" ")
    return {
        "self": f"{_base(request)}/v2/users/{user.uid}",
        "uid": user.uid,
        "login": user.login,
        "trackerUid": user.uid,
        "passportUid": user.uid - 1120000000000000 + 1000000000,
        "firstName": first,
        "lastName": last,
        "display": user.display,
        "email": user.email or f"{user.login}@example.ru",
        "external": False,
        "hasLicense": True,
        "dismissed": False,
    }


async def myself(request: web.Request) -> web.Response:
    """``GET /v2/myself``."""
    return web.json_response(_user_record(request, request[USER]))


async def user(request: web.Request) -> web.Response:
    """``GET /v3/users/<login or uid>`` (``login:12345`` for an all-digit login)."""
    wanted = request.match_info["id"]
    by_login = wanted.removeprefix("login:")
    found = next(
        (
            u
            for u in request.app[SETTINGS].users
            if u.login == by_login or (not wanted.startswith("login:") and str(u.uid) == wanted)
        ),
        None,
    )
    if found is None:
        return tracker_error(404, "Пользователь не существует.")
    return web.json_response(_user_record(request, found))


# --- the sandbox's own endpoints, for tests, demos and rehearsals -------------------------


async def dump_worklogs(request: web.Request) -> web.Response:
    """``GET /_sandbox/worklogs``: everything stored, with the author's login."""
    base = _base(request)
    return web.json_response(
        [w.record(base) | {"login": w.author.login} for w in request.app[STORE].worklogs.values()]
    )


async def book_by_hand(request: web.Request) -> web.Response:
    """``POST /_sandbox/worklogs``: store a worklog as a person would, bypassing faults."""
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    key = str(body.get("issue", ""))
    fields = _worklog_fields(body)
    if isinstance(fields, web.Response):
        return fields
    login = body.get("login", ROBOT.login)
    author = next((u for u in request.app[SETTINGS].users if u.login == login), None)
    if author is None or not ISSUE_KEY.match(key):
        return tracker_error(400, "need a known 'login' and an 'issue' key")
    stored = request.app[STORE].add(key, *fields, author)
    return web.json_response(stored.record(_base(request)), status=201)


async def stats(request: web.Request) -> web.Response:
    """``GET /_sandbox/stats``: requests seen, answers served by status, faults injected."""
    return web.json_response(request.app[STATS].as_json())


def create_app(settings: SandboxSettings | None = None) -> web.Application:
    """The sandbox as an aiohttp application."""
    settings = settings or SandboxSettings()
    app = web.Application(middlewares=[faults])
    app[SETTINGS] = settings
    app[STORE] = Store()
    app[STATS] = SandboxStats()
    app[RNG] = random.Random(settings.seed)
    app[BUCKET] = []
    app.router.add_get("/v2/myself", myself)
    app.router.add_get("/v3/users/{id}", user)
    app.router.add_get("/v2/users/{id}", user)
    app.router.add_get("/v2/issues/{key}", get_issue)
    app.router.add_get("/v2/fields", fields)
    app.router.add_get("/v2/fields/", fields)
    # Tracker answers with and without the trailing slash (the official client sends it).
    for path in ("/v2/issues/{key}/worklog", "/v2/issues/{key}/worklog/"):
        app.router.add_post(path, create_worklog)
        app.router.add_get(path, list_worklogs)
    app.router.add_post("/v3/issues/{key}/worklogs/_import", import_worklog)
    app.router.add_get("/v2/worklog", search_worklogs_get)
    app.router.add_post("/v2/worklog/_search", search_worklogs_post)
    app.router.add_get("/_sandbox/worklogs", dump_worklogs)
    app.router.add_post("/_sandbox/worklogs", book_by_hand)
    app.router.add_get("/_sandbox/stats", stats)
    return app
