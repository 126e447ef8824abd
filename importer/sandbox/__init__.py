"""The embedded Tracker double: for tests, the demo, and rehearsing a migration.

Production code imports this package only when asked to (``worklog-import sandbox``,
``run --sandbox``): it brings aiohttp's server along.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from importer.config import Credentials
from importer.errors import ConfigError
from importer.report.files import write_whole
from importer.sandbox._app import create_app
from importer.sandbox._settings import (
    DEFAULT_ORG_ID,
    DEFAULT_TOKEN,
    ROBOT,
    STATS,
    STORE,
    TEAM,
    SandboxSettings,
    SandboxStats,
    busiest_second,
)
from importer.sandbox._store import (
    SandboxUser,
    Store,
    StoredWorklog,
    dump_worklogs,
    load_worklogs,
)

__all__ = [
    "DEFAULT_ORG_ID",
    "DEFAULT_TOKEN",
    "ROBOT",
    "TEAM",
    "RunningSandbox",
    "SandboxSettings",
    "SandboxStats",
    "SandboxUser",
    "Store",
    "StoredWorklog",
    "busiest_second",
    "create_app",
    "running_sandbox",
]


@dataclasses.dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on loopback: where it is and what it holds."""

    base_url: str
    app: web.Application

    @property
    def store(self) -> Store:
        return self.app[STORE]

    @property
    def stats(self) -> SandboxStats:
        return self.app[STATS]

    def credentials(self) -> Credentials:
        """The robot's credentials for this sandbox (an administrator, in its organisation)."""
        return Credentials(self.base_url, DEFAULT_TOKEN, "oauth", org_id=DEFAULT_ORG_ID)


@contextlib.asynccontextmanager
async def running_sandbox(
    settings: SandboxSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    kept: Path | None = None,
    keep: bool = True,
) -> AsyncIterator[RunningSandbox]:
    """Serve the sandbox on ``host:port`` (port 0: any free port) until the block ends.

    ``kept``: a JSON file the store is read from (if it exists) and written back to at the
    end (unless ``keep`` is False: a dry run changes nothing) — a rehearsal's Tracker that
    remembers its worklogs from one run to the next."""
    app = create_app(settings)
    if kept is not None and kept.exists():
        users = {user.login: user for user in (settings or SandboxSettings()).users}
        try:
            records = json.loads(kept.read_text(encoding="utf-8"))
            load_worklogs(app[STORE], records, users)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigError(f"{kept}: cannot read the rehearsal's worklogs: {error}") from None
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        bound_port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        yield RunningSandbox(f"http://{host}:{bound_port}", app)
    finally:
        await runner.cleanup()
        if kept is not None and keep:
            text = json.dumps(dump_worklogs(app[STORE]), ensure_ascii=False)
            write_whole(kept, text, "rehearsal's worklogs")
