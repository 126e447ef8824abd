"""``worklog-import sandbox``: the embedded Tracker double, served for rehearsals and tests.

Its fault options are derived from :class:`importer.config.SandboxSection`, the one
declaration of the knobs that ``[sandbox]`` in a config sets for ``run --sandbox``, and are
checked by the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from importer.cli._common import echo, fail
from importer.config import SandboxSection, parse_settings
from importer.errors import ImporterError


def _knob_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for field in reversed(dataclasses.fields(SandboxSection)):
        choices = field.metadata.get("choices")
        named = str(getattr(field.type, "__name__", field.type))
        kind: Any = {"int": int, "str": str}.get(named, float)
        command = click.option(
            "--" + field.name.replace("_", "-"),
            field.name,
            type=click.Choice(choices) if choices else kind,
            default=field.default,
            show_default=True,
            help=field.metadata["help"],
        )(command)
    return command


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on (0: any free).")
@_knob_options
def sandbox(host: str, port: int, **knobs: Any) -> None:
    """Serve a Tracker double on HOST:PORT for rehearsals and tests.

    \b
    Example:
      worklog-import sandbox --port 8080 --p-503 0.2
      TRACKER_BASE_URL=http://127.0.0.1:8080 TRACKER_TOKEN=sandbox-token \\
        TRACKER_ORG_ID=sandbox-org worklog-import run october.csv -c config.toml
    """
    from importer.sandbox import SandboxSettings, running_sandbox  # brings aiohttp's server

    try:
        checked = parse_settings({"sandbox": knobs}).sandbox
    except ImporterError as error:
        fail(error)
    settings = SandboxSettings(**dataclasses.asdict(checked))

    async def serve() -> None:
        async with running_sandbox(settings, host, port) as running:
            credentials = running.credentials()
            echo(
                json.dumps(
                    {
                        "base_url": running.base_url,
                        "token": credentials.token,
                        "org_id": credentials.org_id,
                    }
                )
            )
            sys.stdout.flush()
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
