"""A Tracker double: the application, its routes, users and issues, and its own endpoints.

The worklog endpoints live in :mod:`._worklogs`, the search in :mod:`._search`; faults are
injected by the middleware in :mod:`._faults`, so the handlers stay plain.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from aiohttp import web

from importer.formats import ISSUE_KEY
from importer.sandbox._faults import faults
from importer.sandbox._http import base_url, int_param, issue_key, json_body, visible
from importer.sandbox._search import search_worklogs_get, search_worklogs_post
from importer.sandbox._settings import (
    BUCKET,
    RNG,
    ROBOT,
    SETTINGS,
    STATS,
    STORE,
    USER,
    SandboxSettings,
    SandboxStats,
    tracker_error,
)
from importer.sandbox._store import SandboxUser, Store
from importer.sandbox._worklogs import (
    create_worklog,
    delete_worklog,
    import_worklog,
    list_worklogs,
    patch_worklog,
    worklog_fields,
)


def _issue_record(request: web.Request, key: str) -> dict[str, Any]:
    base = base_url(request)
    return {
        "self": f"{base}/v2/issues/{key}",
        "id": hashlib.sha1(key.encode()).hexdigest()[:24],
        "key": key,
        "version": 1,
        "summary": f"Issue {key}",
        "queue": {"self": f"{base}/v2/queues/{key.split('-')[0]}", "key": key.split("-")[0]},
    }


async def get_issue(request: web.Request) -> web.Response:
    """``GET /v2/issues/{key}``: enough of an issue for clients that look it up first."""
    key = issue_key(request)
    if isinstance(key, web.Response):
        return key
    return web.json_response(_issue_record(request, key))


async def search_issues(request: web.Request) -> web.Response:
    """``POST /v2/issues/_search`` with ``keys`` (a key or a list): the issues among them
    that exist and the token may see, in the order asked, paged by ``perPage`` (default 50)
    and ``page`` with ``X-Total-Count``/``X-Total-Pages`` as Tracker pages. Keys that do not
    exist or are hidden are simply absent, as in Tracker's search; ``keys`` with ``filter``
    or ``query`` is refused as Tracker refuses it. Other searches find nothing here."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    if ("keys" in body or "queue" in body) and ("filter" in body or "query" in body):
        return tracker_error(400, "You can only use keys, queue or search request")
    per_page = int_param(request, "perPage", 50)
    page = int_param(request, "page", 1)
    if isinstance(per_page, web.Response) or isinstance(page, web.Response):
        return per_page if isinstance(per_page, web.Response) else page  # type: ignore[return-value]
    keys = body.get("keys", [])
    keys = [keys] if isinstance(keys, str) else keys
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return tracker_error(422, "JSON validation error")
    settings = request.app[SETTINGS]
    found = [k for k in dict.fromkeys(keys) if visible(settings, k)]
    per_page = max(1, per_page)
    pages = max(1, -(-len(found) // per_page))
    chunk = found[(page - 1) * per_page : page * per_page]
    return web.json_response(
        [_issue_record(request, k) for k in chunk],
        headers={"X-Total-Count": str(len(found)), "X-Total-Pages": str(pages)},
    )


async def fields(request: web.Request) -> web.Response:
    """``GET /v2/fields``: the official client reads it to learn issue attributes."""
    return web.json_response([])


def _user_record(request: web.Request, user: SandboxUser) -> dict[str, Any]:
    first, _, last = user.display.partition(" ")
    return {
        "self": f"{base_url(request)}/v2/users/{user.uid}",
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
    """``GET /_sandbox/worklogs``: everything stored, with the author's login;
    ``?login=``: only that author's (a store seeded with big issues holds 200,000 others')."""
    base = base_url(request)
    chosen = request.app[STORE].by_author(request.query.get("login"))
    return web.json_response([w.record(base) | {"login": w.author.login} for w in chosen])


async def book_by_hand(request: web.Request) -> web.Response:
    """``POST /_sandbox/worklogs``: store a worklog as a person would, bypassing faults."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    key = str(body.get("issue", ""))
    fields = worklog_fields(body)
    if isinstance(fields, web.Response):
        return fields
    login = body.get("login", ROBOT.login)
    author = next((u for u in request.app[SETTINGS].users if u.login == login), None)
    if author is None or not ISSUE_KEY.match(key):
        return tracker_error(400, "need a known 'login' and an 'issue' key")
    stored = request.app[STORE].add(key, *fields, author)
    return web.json_response(stored.record(base_url(request)), status=201)


async def stats(request: web.Request) -> web.Response:
    """``GET /_sandbox/stats``: requests seen, answers served by status, faults injected."""
    return web.json_response(request.app[STATS].as_json())


def create_app(settings: SandboxSettings | None = None) -> web.Application:
    """The sandbox as an aiohttp application."""
    settings = settings or SandboxSettings()
    app = web.Application(middlewares=[faults])
    app[SETTINGS] = settings
    others = next((u for u in settings.users if not u.admin), None)  # someone, not the robot
    app[STORE] = Store(settings.others_per_issue, others)
    app[STATS] = SandboxStats()
    app[RNG] = random.Random(settings.seed)
    app[BUCKET] = []
    app.router.add_get("/v2/myself", myself)
    app.router.add_get("/v3/users/{id}", user)
    app.router.add_get("/v2/users/{id}", user)
    app.router.add_post("/v2/issues/_search", search_issues)
    app.router.add_get("/v2/issues/{key}", get_issue)
    app.router.add_get("/v2/fields", fields)
    app.router.add_get("/v2/fields/", fields)
    # Tracker answers with and without the trailing slash (the official client sends it).
    for path in ("/v2/issues/{key}/worklog", "/v2/issues/{key}/worklog/"):
        app.router.add_post(path, create_worklog)
        app.router.add_get(path, list_worklogs)
    app.router.add_post("/v3/issues/{key}/worklogs/_import", import_worklog)
    for version in ("v2", "v3"):
        one = f"/{version}/issues/{{key}}/worklog/{{id}}"
        app.router.add_patch(one, patch_worklog)
        app.router.add_delete(one, delete_worklog)
    app.router.add_get("/v2/worklog", search_worklogs_get)
    app.router.add_post("/v2/worklog/_search", search_worklogs_post)
    app.router.add_get("/_sandbox/worklogs", dump_worklogs)
    app.router.add_post("/_sandbox/worklogs", book_by_hand)
    app.router.add_get("/_sandbox/stats", stats)
    return app
