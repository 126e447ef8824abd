"""Where and as whom to talk to Tracker: the config's ``[tracker]`` plus ``TRACKER_*``."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from importer.config.sections import Settings
from importer.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Where and as whom to talk to Tracker. The token never appears in ``repr``."""

    base_url: str
    token: str = dataclasses.field(repr=False)
    auth: Literal["oauth", "iam"]
    org_id: str = ""
    cloud_org_id: str = ""
    # What bookings are journaled under instead of ``base_url``: the embedded sandbox listens
    # on a new port every run, yet a rehearsal's second run must know its first one's rows.
    name: str = ""

    @property
    def organisation(self) -> str:
        """The organisation as the header that names it: ``X-Org-ID 123``."""
        if self.org_id:
            return f"X-Org-ID {self.org_id}"
        return f"X-Cloud-Org-ID {self.cloud_org_id}"

    def headers(self) -> dict[str, str]:
        scheme = "OAuth" if self.auth == "oauth" else "Bearer"
        headers = {"Authorization": f"{scheme} {self.token}"}
        if self.org_id:
            headers["X-Org-ID"] = self.org_id
        else:
            headers["X-Cloud-Org-ID"] = self.cloud_org_id
        return headers


def check_base_url(url: str) -> str:
    """Refuse anything but https, except plain http to this machine (sandbox, tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base URL must be an http(s) URL, got {url!r}")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConfigError(
                f"refusing plain http:// to {host}: the token would travel unencrypted; "
                "use https:// (http is allowed only to 127.0.0.1/localhost)"
            )
    return url.rstrip("/")


def _refuse_controls(value: str, where: str) -> None:
    """A header value with a control character (a line break pasted with a token) would be
    refused by the HTTP library with a traceback, or split a header: say which variable —
    never its value — before anything is sent."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(
            f"{where} holds a control character (a line break or tab pasted with it?); "
            "set it again without one"
        )


def resolve_credentials(
    settings: Settings, environ: Mapping[str, str] | None = None, *, require_token: bool = True
) -> Credentials:
    """Combine the config with ``TRACKER_*`` variables; the environment wins."""
    env = os.environ if environ is None else environ
    t = settings.tracker
    token = env.get(t.token_env, "").strip()
    if not token and require_token:
        raise ConfigError(
            f"no token: set the environment variable {t.token_env} "
            '(an OAuth token, or an IAM token with tracker.auth = "iam")'
        )
    org_id = env.get("TRACKER_ORG_ID", "").strip() or t.org_id
    cloud_org_id = env.get("TRACKER_CLOUD_ORG_ID", "").strip() or t.cloud_org_id
    if env.get("TRACKER_ORG_ID", "").strip() and not env.get("TRACKER_CLOUD_ORG_ID", "").strip():
        cloud_org_id = ""
    elif env.get("TRACKER_CLOUD_ORG_ID", "").strip() and not env.get("TRACKER_ORG_ID", "").strip():
        org_id = ""
    if bool(org_id) == bool(cloud_org_id):
        raise ConfigError(
            "set exactly one organisation: TRACKER_ORG_ID (Yandex 360) or "
            "TRACKER_CLOUD_ORG_ID (Cloud organization)"
            + (" — both are set" if org_id else " — neither is set")
        )
    base_url = check_base_url(env.get("TRACKER_BASE_URL", "").strip() or t.base_url)
    for value, where in (
        (token, t.token_env),
        (org_id, "TRACKER_ORG_ID (or tracker.org_id)"),
        (cloud_org_id, "TRACKER_CLOUD_ORG_ID (or tracker.cloud_org_id)"),
    ):
        _refuse_controls(value, where)
    return Credentials(
        base_url=base_url, token=token, auth=t.auth, org_id=org_id, cloud_org_id=cloud_org_id
    )
