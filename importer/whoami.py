"""``worklog-import whoami``: whose token this is, in which organisation, or why not."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

import aiohttp

from .config import DeliverySection, Settings, resolve_credentials
from .errors import AuthError, Rejected, Retryable, TrackerUnavailable
from .log import redact
from .retry import retry_policy
from .tracker import TrackerClient


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
    redact(credentials.token)
    org = (
        f"X-Org-ID {credentials.org_id}"
        if credentials.org_id
        else f"X-Cloud-Org-ID {credentials.cloud_org_id}"
    )
    policy = DeliverySection(max_attempts=3, backoff_initial=0.2, backoff_max=1.0)
    async with aiohttp.ClientSession() as session:
        client = TrackerClient(
            session, credentials, request_timeout=settings.delivery.request_timeout
        )
        try:
            async for attempt in retry_policy(policy, sleep=asyncio.sleep):
                with attempt:
                    me = await client.myself()
        except AuthError as exc:
            raise AuthError(
                f"{credentials.base_url} rejected the token: {exc.message}", exc.status
            ) from None
        except Rejected as exc:
            hint = ""
            if exc.status == 403:
                hint = (
                    " (check the organisation id and its kind: X-Org-ID for Yandex 360, "
                    "X-Cloud-Org-ID for a Cloud organization)"
                )
            raise AuthError(
                f"{credentials.base_url} refused {org}: {exc.message}{hint}", exc.status
            ) from None
        except Retryable as exc:
            raise TrackerUnavailable(
                f"cannot reach {credentials.base_url}: {exc.message}", exc.status
            ) from None
    return Identity(
        login=str(me.get("login", "")),
        display=str(me.get("display", "")),
        uid=str(me.get("uid", "")),
        base_url=credentials.base_url,
        organisation=org,
    )
