"""What every sandbox endpoint reads from a request the way Tracker does."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from importer.formats import ISSUE_KEY
from importer.sandbox._settings import SETTINGS, SandboxSettings, tracker_error


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def issue_key(request: web.Request) -> str | web.Response:
    key = request.match_info["key"]
    settings = request.app[SETTINGS]
    if not visible(settings, key):
        if not ISSUE_KEY.match(key) or not exists(settings, key):
            return tracker_error(404, "Задача не существует.")
        return tracker_error(403, "У вас нет доступа к этой задаче.")
    return key


def exists(settings: SandboxSettings, key: str) -> bool:
    known = settings.known_issues
    return (known is None or key in known) and key not in settings.keys("missing_issues")


def visible(settings: SandboxSettings, key: str) -> bool:
    """Whether the token may see the issue: it exists, and neither its queue nor it is hidden."""
    return (
        bool(ISSUE_KEY.match(key))
        and exists(settings, key)
        and key.split("-")[0] not in settings.forbidden_queues
        and key not in settings.keys("hidden_issues")
    )


async def json_body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return tracker_error(422, "JSON validation error")
    if not isinstance(body, dict):
        return tracker_error(422, "JSON validation error")
    return body


def int_param(request: web.Request, name: str, default: int) -> int | web.Response:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return tracker_error(400, f"Parameter {name} must be an integer")
