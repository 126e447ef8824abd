"""Structured logging: readable on a terminal, JSON lines for cron and log collectors.

Secrets are scrubbed from every event logged inside a :func:`redacting` block (a run, a
``whoami``) before it is rendered, as a last line of defence: the token is never put into an
event on purpose. The secrets live in a context variable, so they are forgotten when the
block ends and the tasks a run starts inherit them.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["console", "json"]
_SECRETS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "importer_secrets", default=frozenset()
)
MASK = "***"


@contextlib.contextmanager
def redacting(*secrets: str) -> Iterator[None]:
    """Within this block, never let any of ``secrets`` reach a log line."""
    token = _SECRETS.set(_SECRETS.get() | {s for s in secrets if s})
    try:
        yield
    finally:
        _SECRETS.reset(token)


def secrets_redacted() -> frozenset[str]:
    """The secrets scrubbed here and now: a job's process is told them to scrub them too."""
    return _SECRETS.get()


def _scrub(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v, secrets) for v in value)
    return value


def _scrub_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    secrets = _SECRETS.get()
    if not secrets:
        return event
    return {key: _scrub(value, secrets) for key, value in event.items()}


class GuardedFile:
    """A log file whose write failure (disk full) is remembered instead of raised into
    whatever code happened to log: the run asks :func:`log_file_failure` and stops cleanly."""

    def __init__(self, handle: Any, name: str) -> None:
        self._handle = handle
        self.name = name
        self.failure = ""

    def write(self, text: str) -> int:
        if self.failure:
            return 0
        try:
            return int(self._handle.write(text))
        except OSError as error:
            self.failure = f"cannot write the log file {self.name}: {error.strerror or error}"
            return 0

    def flush(self) -> None:
        if self.failure:
            return
        try:
            self._handle.flush()
        except OSError as error:
            self.failure = f"cannot write the log file {self.name}: {error.strerror or error}"


_GUARDED: list[GuardedFile] = []


def log_file_failure() -> str:
    """Why the log file could not be written, or ``""``."""
    return next((f.failure for f in _GUARDED if f.failure), "")


@dataclasses.dataclass(frozen=True)
class LogSetup:
    """How this process logs, so a process it starts can log the same way."""

    fmt: LogFormat = "console"
    level: int = logging.INFO
    file: str | None = None  # a log file (appended to), or None: stderr

    def apply(self) -> None:
        """In the started process: the same format, level and destination."""
        stream = None
        if self.file is not None:
            try:
                stream = GuardedFile(open(self.file, "a", encoding="utf-8"), self.file)  # noqa: SIM115
            except OSError:
                stream = None  # the parent logs that its file fails; this one uses stderr
        configure_logging(self.fmt, level=self.level, stream=stream)


_SETUP = [LogSetup()]


def log_setup() -> LogSetup:
    return _SETUP[0]


def configure_logging(
    fmt: LogFormat = "console", *, level: int = logging.INFO, stream: Any = None
) -> None:
    """Send structlog events to ``stream`` (stderr by default) in the chosen format."""
    _GUARDED[:] = [stream] if isinstance(stream, GuardedFile) else []
    _SETUP[0] = LogSetup(fmt, level, stream.name if isinstance(stream, GuardedFile) else None)
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
