"""How a run is stopped from outside: SIGHUP, SIGINT, SIGTERM, or a service's cancel."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

from importer.deliver import RunStop
from importer.errors import ExitCode, Interrupted


async def _stop_when(cancel: asyncio.Event, stops: RunStop) -> None:
    await cancel.wait()
    stops.stop(Interrupted("cancel", int(ExitCode.TERMINATED)))


@contextlib.contextmanager
def signals(stops: RunStop, enabled: bool, cancel: asyncio.Event | None = None) -> Iterator[None]:
    """SIGHUP/SIGINT/SIGTERM: stop taking rows, let in-flight ones settle, then finish the
    report. SIGHUP is a dropped SSH session or closed terminal: the run must not die half-way
    through writing, so it ends the way SIGTERM ends it."""
    watcher = (
        asyncio.get_running_loop().create_task(_stop_when(cancel, stops))
        if cancel is not None
        else None
    )
    try:
        if not enabled:
            yield
            return
        with _handled(stops):
            yield
    finally:
        if watcher is not None:
            watcher.cancel()


@contextlib.contextmanager
def _handled(stops: RunStop) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    codes = {
        signal.SIGHUP: ExitCode.HUNG_UP,
        signal.SIGINT: ExitCode.INTERRUPTED,
        signal.SIGTERM: ExitCode.TERMINATED,
    }
    for signum, code in codes.items():
        loop.add_signal_handler(
            signum, stops.stop, Interrupted(signal.Signals(signum).name, int(code))
        )
    try:
        yield
    finally:
        for signum in codes:
            loop.remove_signal_handler(signum)
