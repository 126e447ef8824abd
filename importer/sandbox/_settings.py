"""The sandbox's knobs, what it counts, and the keys under which its app keeps them."""

from __future__ import annotations

import collections
import dataclasses
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from importer.config import SandboxSection
from importer.sandbox._store import SandboxUser, Store

TRACKER_START = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
DEFAULT_TOKEN = "sandbox-token"
DEFAULT_ORG_ID = "sandbox-org"
ROBOT = SandboxUser("robot-importer", 1120000000000001, "Робот Импорта", DEFAULT_TOKEN, True)
TEAM = (
    # Team members can log in too (token "<login>-token"), but are not administrators.
    SandboxUser("a.smirnova", 1120000000000002, "Анна Смирнова", "a.smirnova-token"),
    SandboxUser("i.petrov", 1120000000000003, "Иван Петров", "i.petrov-token"),
    SandboxUser("m.kuznetsova", 1120000000000004, "Мария Кузнецова", "m.kuznetsova-token"),
    SandboxUser("d.volkov", 1120000000000005, "Дмитрий Волков", "d.volkov-token"),
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclasses.dataclass
class SandboxSettings(SandboxSection):
    """How the sandbox behaves: the fault knobs of ``[sandbox]`` (declared once, in
    :class:`importer.config.SandboxSection`), plus who and what it knows."""

    users: tuple[SandboxUser, ...] = (ROBOT, *TEAM)
    org_id: str = DEFAULT_ORG_ID
    cloud_org_id: str = ""
    known_issues: frozenset[str] | None = None  # None: every well-formed key exists
    forbidden_queues: frozenset[str] = frozenset()  # the token may not touch these queues
    retry_after: int = 1  # seconds, in the random 429s' Retry-After


def busiest_second(times: list[float]) -> int:
    """The most of ``times`` (seconds) that fall within any one-second window."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@dataclasses.dataclass
class SandboxStats:
    """What the sandbox saw: for tests and benchmarks."""

    arrivals: list[float] = dataclasses.field(default_factory=list)
    served: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    faults: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    # Edits and deletions answered, as "METHOD status" ("DELETE 404": one deleted already).
    edits: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    # Requests by route ("POST /v2/issues/{key}/worklog"): what a run spent its requests on.
    routes: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def busiest_second(self) -> int:
        """The most requests that arrived within any one-second window."""
        return busiest_second(self.arrivals)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": len(self.arrivals),
            "served": {str(k): v for k, v in sorted(self.served.items())},
            "served_429": self.served[429],
            "faults": dict(self.faults),
            "edits": dict(self.edits),
            "routes": dict(self.routes),
            "busiest_second": self.busiest_second(),
        }


SETTINGS = web.AppKey("settings", SandboxSettings)
STORE = web.AppKey("store", Store)
STATS = web.AppKey("stats", SandboxStats)
RNG = web.AppKey("rng", random.Random)
BUCKET = web.AppKey("bucket", list)  # [(tokens left, when counted)]
USER = web.RequestKey("user", SandboxUser)
CREATE_FAULT = web.RequestKey("create_fault", str)


def tracker_error(
    status: int, *messages: str, errors: dict[str, str] | None = None
) -> web.Response:
    """Tracker's error body: ``{"errors": {...}, "errorMessages": [...], "statusCode": N}``."""
    body = {"errors": errors or {}, "errorMessages": list(messages), "statusCode": status}
    return web.json_response(body, status=status)
