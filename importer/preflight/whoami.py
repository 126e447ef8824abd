"""``worklog-import whoami``: whose token this is, in which organisation, or why not."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

from importer.config import DeliverySection, Settings, resolve_credentials
from importer.deliver.retry import retry_policy
from importer.deliver.stops import identity_refused
from importer.errors import DeliveryError
from importer.log import redacting
from importer.tracker import TrackerClient


@dataclasses.dataclass(frozen=True)
class Identity:
    """The token's owner as Tracker sees it."""

    login: str
    display: str
    uid: str
    base_url: str
    organisation: str  # "X-Org-ID 123" or "X-Cloud-Org-ID bpf..."


async def whoami_async(settings: Settings, environ: Mapping[str, str] | None = None) -> Identity:
    """Ask ``GET /v2/myself``; raise ``AuthError`` or ``TrackerUnavailable`` saying why not."""
    credentials = resolve_credentials(settings, environ)
    policy = DeliverySection(max_attempts=3, backoff_initial=0.2, backoff_max=1.0)
    with redacting(credentials.token):
        async with TrackerClient.connect(
            credentials, request_timeout=settings.delivery.request_timeout
        ) as client:
            try:
                async for attempt in retry_policy(policy, sleep=asyncio.sleep):
                    with attempt:
                        me = await client.myself()
            except DeliveryError as exc:
                raise identity_refused(
                    exc, credentials.base_url, credentials.organisation
                ) from None
    return Identity(
        login=str(me.get("login", "")),
        display=str(me.get("display", "")),
        uid=str(me.get("uid", "")),
        base_url=credentials.base_url,
        organisation=credentials.organisation,
    )
