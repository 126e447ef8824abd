"""Structured logging: readable on a terminal, JSON lines for cron and log collectors.

Secrets registered with :func:`redact` are scrubbed from every event before it is rendered,
as a last line of defence: the token is never put into an event on purpose.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["console", "json"]
_SECRETS: set[str] = set()
MASK = "***"


def redact(secret: str) -> None:
    """Never let ``secret`` reach a log line."""
    if secret:
        _SECRETS.add(secret)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _SECRETS:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def _scrub_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return {key: _scrub(value) for key, value in event.items()}


def configure_logging(
    fmt: LogFormat = "console", *, level: int = logging.INFO, stream: Any = None
) -> None:
    """Send structlog events to ``stream`` (stderr by default) in the chosen format."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _scrub_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Look stderr up at each event, so a replaced stream (tests, daemons) is honoured.
        logger_factory=(
            structlog.PrintLoggerFactory(stream)
            if stream is not None
            else lambda *_: structlog.PrintLogger(sys.stderr)
        ),
        cache_logger_on_first_use=False,
    )


def get_logger(**context: Any) -> Any:
    return structlog.get_logger("importer", **context)
