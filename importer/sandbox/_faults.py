"""Middleware that authenticates, paces and breaks requests the way a busy Tracker would.

Latency, a server-side rate limit (a token bucket of R tokens, or ``bucket_size``, refilled
at R per second, answering 429 with ``Retry-After``), random 429/500/503, and for worklog
POSTs "created, then 500" and "created, then connection dropped". The endpoint handlers
stay plain.
"""

from __future__ import annotations

import asyncio
import collections
import math
import random
from typing import Any

from aiohttp import web

from importer.sandbox._settings import (
    BUCKET,
    CREATE_FAULT,
    RNG,
    SETTINGS,
    STATS,
    USER,
    Handler,
    SandboxSettings,
    tracker_error,
)
from importer.sandbox._store import SandboxUser


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
    route = request.match_info.route.resource
    stats.routes[f"{request.method} {route.canonical if route else request.path}"] += 1
    response = await _faulty(request, handler, settings, rng, now)
    stats.served[response.status] += 1
    if request.method in ("PATCH", "DELETE"):
        stats.edits[f"{request.method} {response.status}"] += 1
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
        wait = _over_the_limit(request.app[BUCKET], settings, now)
        if wait:
            stats.faults["rate_limited"] += 1
            return _too_many(wait)
    if settings.latency:
        # Tracker works on a request it has received whether or not the client still waits
        # for the answer: read the body now, so a POST the client gave up on is still stored.
        if request.can_read_body:
            await request.read()
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
    # "Applied, then 500 / connection dropped": any write to a worklog (create, import,
    # edit, delete) may take effect and still lose its answer.
    if request.method in ("POST", "PATCH", "DELETE") and request.match_info.get("key"):
        roll = rng.random()
        if roll < settings.p_created_then_500:
            request[CREATE_FAULT] = "created_then_500"
        elif roll < settings.p_created_then_500 + settings.p_created_then_drop:
            request[CREATE_FAULT] = "created_then_drop"
    response = await handler(request)
    fault = request.get(CREATE_FAULT)
    if fault and response.status in (200, 201, 204):
        stats.faults[fault] += 1
        if fault == "created_then_drop":
            if request.transport is not None:  # None: the client is gone already
                request.transport.abort()
            return web.Response(status=201)  # never reaches the client
        return _server_error(500)
    return response


def _over_the_limit(state: list[Any], settings: SandboxSettings, now: float) -> int:
    """0 when this request is within the rate limit (and counts against it), else the
    ``Retry-After`` seconds to answer its 429 with. Three shapes a gateway may use:

    * ``bucket``: a token bucket of R tokens refilled at R per second. The long-run rate
      never exceeds R, while the few milliseconds by which this busy process stamps
      arrivals late or early are not held against a well-paced client. With
      ``bucket_size`` tokens instead of R, a gateway's small bucket: it refuses bursts
      that a bucket of R lets through;
    * ``fixed``: at most R requests in each calendar second;
    * ``sliding``: at most R requests in any one second of arrival times — the strictest:
      every millisecond of jitter in arrivals counts.

    Only requests let through count; a refused one takes no place in the window.
    """
    rate = settings.rate_limit
    if settings.limiter == "fixed":
        second = math.floor(now)
        window, count = state[0] if state else (second, 0)
        if window != second:
            window, count = second, 0
        if count >= rate:
            state[:] = [(window, count)]
            return 1
        state[:] = [(window, count + 1)]
        return 0
    if settings.limiter == "sliding":
        if not state:
            state.append(collections.deque())
        arrivals: collections.deque[float] = state[0]
        while arrivals and now - arrivals[0] >= 1.0:
            arrivals.popleft()
        if len(arrivals) >= rate:
            return 1
        arrivals.append(now)
        return 0
    capacity = settings.bucket_size or rate
    tokens, last = state[0] if state else (capacity, now)
    tokens = min(capacity, tokens + (now - last) * rate)
    if tokens < 1:
        state[:] = [(tokens, now)]
        return max(1, math.ceil((1 - tokens) / rate))
    state[:] = [(tokens - 1, now)]
    return 0


def _too_many(wait: int) -> web.Response:
    response = tracker_error(429, "Too many requests")
    response.headers["Retry-After"] = str(wait)
    return response


def _server_error(status: int) -> web.Response:
    text = "Internal server error" if status == 500 else "Service temporarily unavailable"
    return tracker_error(status, text)
