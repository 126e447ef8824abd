"""The delivery core assembled for one run: a client, its calls, holdings and deliverer."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

from importer.clock import Clock
from importer.config import Credentials, DeliverySection
from importer.deliver import (
    Calls,
    Deliverer,
    Holdings,
    ListingGate,
    RunStop,
    Stopped,
    identity_refused,
)
from importer.errors import DeliveryError
from importer.journal import Journal
from importer.models import Mode
from importer.pipeline.pool import WorkerPool
from importer.sync import Editor, Looks
from importer.tracker import TrackerClient


def target_of(credentials: Credentials) -> str:
    """Which Tracker organisation a booking lives in: part of every fingerprint."""
    org = credentials.org_id or f"cloud:{credentials.cloud_org_id}"
    return f"{credentials.name or credentials.base_url}|{org}"


async def identify(holdings: Holdings, stops: RunStop, credentials: Credentials) -> None:
    """Learn whose token this is, or stop the run saying why no row could be booked."""
    try:
        await holdings.identify()
    except DeliveryError as exc:
        stops.stop(identity_refused(exc, credentials.base_url, credentials.organisation))
    except Stopped:
        pass


@dataclasses.dataclass
class Delivery:
    """What a run with credentials talks to Tracker through."""

    client: TrackerClient
    calls: Calls
    holdings: Holdings
    deliverer: Deliverer
    editor: Editor  # --sync and undo: edits and deletes of earlier bookings


async def open_delivery(
    credentials: Credentials,
    policy: DeliverySection,
    journal: Journal,
    stops: RunStop,
    pool: WorkerPool,
    stack: contextlib.AsyncExitStack,
    *,
    mode: Mode,
    precheck: bool,
    clock: Clock | None,
    zone: dt.tzinfo | None = None,
) -> Delivery:
    """A client for ``credentials`` (closed with ``stack``) and the delivery core around it."""
    client = await stack.enter_async_context(
        TrackerClient.connect(
            credentials,
            rate_limit=policy.rate_limit,
            request_timeout=policy.request_timeout,
            clock=clock,
        )
    )
    calls = Calls(client, policy, stops)
    gate = ListingGate(calls.clock, stops, pool.parking, calls.sleep)
    target = target_of(credentials)
    holdings = Holdings(calls, mode, journal.claimed_ids(target), gate.hold_off)
    deliverer = Deliverer(
        calls,
        holdings,
        journal,
        target=target,
        mode=mode,
        precheck=precheck,
        parking=pool.parking,
        gate=gate,
    )
    editor = Editor(calls, journal, Looks(calls, holdings), deliverer, zone)
    return Delivery(client, calls, holdings, deliverer, editor)
