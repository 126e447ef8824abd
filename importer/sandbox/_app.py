"""A Tracker double: the worklog endpoints, validated and answered the way Tracker does.

Faults (latency, a server-side rate limit, random 429/500/503, "created then 500" and
"created then connection dropped") are injected by middleware, so the handlers stay plain.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import json
import math
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..durations import parse_business_iso
from ..times import parse_tracker_start
from ._store import SandboxUser, Store

ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9]*-[1-9][0-9]*$")
TRACKER_START = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
DEFAULT_TOKEN = "sandbox-token"
DEFAULT_ORG_ID = "sandbox-org"
ROBOT = SandboxUser("robot-importer", 1120000000000001, "Робот Импорта", DEFAULT_TOKEN, True)
TEAM = (
    SandboxUser("a.smirnova", 1120000000000002, "Анна Смирнова", email="a.smirnova@example.ru"),
    SandboxUser("i.petrov", 1120000000000003, "Иван Петров", email="i.petrov@example.ru"),
    SandboxUser(
        "m.kuznetsova", 1120000000000004, "Мария Кузнецова", email="m.kuznetsova@example.ru"
    ),
    SandboxUser("d.volkov", 1120000000000005, "Дмитрий Волков", email="d.volkov@example.ru"),
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclasses.dataclass
class SandboxSettings:
    """How the sandbox behaves. Probabilities are per request, in 0..1."""

    users: tuple[SandboxUser, ...] = (ROBOT, *TEAM)
    org_id: str = DEFAULT_ORG_ID
    cloud_org_id: str = ""
    known_issues: frozenset[str] | None = None  # None: every well-formed key exists
    forbidden_queues: frozenset[str] = frozenset()  # the token may not touch these queues
    latency: float = 0.0
    rate_limit: float = 0.0  # requests per second; 0 = unlimited
    p_500: float = 0.0
    p_503: float = 0.0
    p_429: float = 0.0
    p_created_then_500: float = 0.0
    p_created_then_drop: float = 0.0
    retry_after: int = 1
    seed: int | None = None


@dataclasses.dataclass
class SandboxStats:
    """What the sandbox saw: for tests and benchmarks."""

    arrivals: list[float] = dataclasses.field(default_factory=list)
    served: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    faults: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def busiest_second(self) -> int:
        """The most requests that arrived within any one-second window."""
        times = sorted(self.arrivals)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": len(self.arrivals),
            "served": {str(k): v for k, v in sorted(self.served.items())},
            "served_429": self.served[429],
            "faults": dict(self.faults),
            "busiest_second": self.busiest_second(),
        }


SETTINGS = web.AppKey("settings", SandboxSettings)
STORE = web.AppKey("store", Store)
STATS = web.AppKey("stats", SandboxStats)
RNG = web.AppKey("rng", random.Random)
WINDOW = web.AppKey("window", collections.deque)
USER = web.RequestKey("user", SandboxUser)
CREATE_FAULT = web.RequestKey("create_fault", str)


def tracker_error(
    status: int, *messages: str, errors: dict[str, str] | None = None
) -> web.Response:
    """Tracker's error body: ``{"errors": {...}, "errorMessages": [...], "statusCode": N}``."""
    body = {"errors": errors or {}, "errorMessages": list(messages), "statusCode": status}
    return web.json_response(body, status=status)


def _authenticate(request: web.Request) -> SandboxUser | web.Response:
    settings = request.app[SETTINGS]
    header = request.headers.get("Authorization", "")
    if not header:
        return web.Response(status=401, text="Authorization required")
    scheme, _, token = header.partition(" ")
    if scheme not in ("OAuth", "Bearer") or not token.strip():
        return tracker_error(
            401, "Authorization header must be 'OAuth <token>' or 'Bearer <token>'"
        )
    user = next((u for u in settings.users if u.token and u.token == token.strip()), None)
    if user is None:
        return tracker_error(401, "Not authorized")
    orgs = [(n, request.headers[n]) for n in ("X-Org-ID", "X-Cloud-Org-ID") if n in request.headers]
    if len(orgs) != 1:
        return tracker_error(
            400, "Exactly one of the headers X-Org-ID and X-Cloud-Org-ID is required"
        )
    name, value = orgs[0]
    expected = settings.org_id if name == "X-Org-ID" else settings.cloud_org_id
    if not expected or value != expected:
        return tracker_error(403, "Organization is not available, not ready or not found")
    return user


@web.middleware
async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record, pace, authenticate and break requests the way a busy Tracker would."""
    app = request.app
    settings, stats, rng = app[SETTINGS], app[STATS], app[RNG]
    if request.path.startswith("/_sandbox/"):
        return await handler(request)
    now = asyncio.get_running_loop().time()
    stats.arrivals.append(now)
    response = await _faulty(request, handler, settings, rng, now)
    stats.served[response.status] += 1
    return response


async def _faulty(
    request: web.Request,
    handler: Handler,
    settings: SandboxSettings,
    rng: random.Random,
    now: float,
) -> web.StreamResponse:
    stats = request.app[STATS]
    if settings.rate_limit > 0:
        window = request.app[WINDOW]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= settings.rate_limit:
            wait = max(1, math.ceil(1.0 - (now - window[0])))
            stats.faults["rate_limited"] += 1
            return _too_many(wait)
        window.append(now)
    if settings.latency:
        await asyncio.sleep(settings.latency)
    user = _authenticate(request)
    if isinstance(user, web.Response):
        return user
    request[USER] = user
    roll = rng.random()
    for name, p, status in (
        ("random_429", settings.p_429, 429),
        ("random_500", settings.p_500, 500),
        ("random_503", settings.p_503, 503),
    ):
        if roll < p:
            stats.faults[name] += 1
            return _too_many(settings.retry_after) if status == 429 else _server_error(status)
        roll -= p
    if request.method == "POST" and request.match_info.get("key"):
        roll = rng.random()
        if roll < settings.p_created_then_500:
            request[CREATE_FAULT] = "created_then_500"
        elif roll < settings.p_created_then_500 + settings.p_created_then_drop:
            request[CREATE_FAULT] = "created_then_drop"
    response = await handler(request)
    fault = request.get(CREATE_FAULT)
    if fault and response.status in (200, 201):
        stats.faults[fault] += 1
        if fault == "created_then_drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=201)  # never reaches the client
        return _server_error(500)
    return response


def _too_many(wait: int) -> web.Response:
    response = tracker_error(429, "Too many requests")
    response.headers["Retry-After"] = str(wait)
    return response


def _server_error(status: int) -> web.Response:
    text = "Internal server error" if status == 500 else "Service temporarily unavailable"
    return tracker_error(status, text)


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


async def myself(request: web.Request) -> web.Response:
    """``GET /v2/myself``."""
    user = request[USER]
    first, _, last = user.display.partition(" ")
    return web.json_response(
        {
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
    )


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
    app[WINDOW] = collections.deque()
    app.router.add_get("/v2/myself", myself)
    app.router.add_post("/v2/issues/{key}/worklog", create_worklog)
    app.router.add_get("/v2/issues/{key}/worklog", list_worklogs)
    app.router.add_post("/v3/issues/{key}/worklogs/_import", import_worklog)
    app.router.add_get("/v2/worklog", search_worklogs_get)
    app.router.add_post("/v2/worklog/_search", search_worklogs_post)
    app.router.add_get("/_sandbox/worklogs", dump_worklogs)
    app.router.add_post("/_sandbox/worklogs", book_by_hand)
    app.router.add_get("/_sandbox/stats", stats)
    return app
