"""Configuration: a TOML file plus the environment, checked before anything runs.

Every key is documented in ``config.example.toml``. Unknown keys and wrong types are refused
with a message naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DEFAULT_BASE_URL = "https://api.tracker.yandex.net"
Mode = Literal["create", "import"]


@dataclasses.dataclass(frozen=True)
class TrackerSection:
    base_url: str = DEFAULT_BASE_URL
    token_env: str = "TRACKER_TOKEN"
    auth: Literal["oauth", "iam"] = "oauth"
    org_id: str = ""
    cloud_org_id: str = ""
    mode: Mode = "create"


@dataclasses.dataclass(frozen=True)
class InputSection:
    preset: str = ""
    timezone: str = "Europe/Moscow"
    dayfirst: bool = True
    default_start_time: str = "09:00"
    duration_unit: Literal["hours", "minutes", "days"] = "hours"
    date_system: Literal[1900, 1904] = 1900
    max_duration_hours: float = 24.0
    max_day_hours: float = 12.0
    max_comment_length: int = 10_000
    allow_future: bool = False
    encoding: str = "auto"
    delimiter: str = ""
    sheet: str | int = 0
    header_row: int = 0


@dataclasses.dataclass(frozen=True)
class ColumnsSection:
    issue: str = ""
    date: str = ""
    time: str = ""
    start: str = ""
    end: str = ""
    end_date: str = ""
    duration: str = ""
    comment: str = ""
    author: str = ""
    created_at: str = ""


@dataclasses.dataclass(frozen=True)
class AuthorsSection:
    """Who the authors are in Tracker (import mode)."""

    map_file: str = ""


@dataclasses.dataclass(frozen=True)
class IssueSection:
    """How to find the Tracker key in the issue column."""

    pattern: str = r"\b[A-Z][A-Z0-9]*-[1-9][0-9]*\b"
    map_file: str = ""
    map_pattern: str = r"#(\d+)"


@dataclasses.dataclass(frozen=True)
class DeliverySection:
    concurrency: int = 8
    rate_limit: float = 10.0
    request_timeout: float = 30.0
    max_attempts: int = 10
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    give_up_after: float = 300.0
    precheck: bool = True


@dataclasses.dataclass(frozen=True)
class StateSection:
    path: str = ""


@dataclasses.dataclass(frozen=True)
class ReportSection:
    path: str = "worklog-report.csv"
    summary_path: str = ""


@dataclasses.dataclass(frozen=True)
class SandboxSection:
    """Knobs of the in-process sandbox used by ``run --sandbox``."""

    latency: float = 0.0
    rate_limit: float = 0.0
    p_500: float = 0.0
    p_503: float = 0.0
    p_429: float = 0.0
    p_created_then_500: float = 0.0
    p_created_then_drop: float = 0.0
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Settings:
    """The whole configuration, as read from a file (environment not yet applied)."""

    tracker: TrackerSection = TrackerSection()
    input: InputSection = InputSection()
    columns: ColumnsSection = ColumnsSection()
    issue: IssueSection = IssueSection()
    authors: AuthorsSection = AuthorsSection()
    delivery: DeliverySection = DeliverySection()
    report: ReportSection = ReportSection()
    state: StateSection = StateSection()
    sandbox: SandboxSection = SandboxSection()
    explicit: frozenset[str] = frozenset()  # "section.key" of every key the file set
    config_dir: str = ""  # relative paths in the config are relative to its folder

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.input.timezone)

    @property
    def default_start_time(self) -> dt.time:
        return dt.time.fromisoformat(self.input.default_start_time)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Where and as whom to talk to Tracker. The token never appears in ``repr``."""

    base_url: str
    token: str = dataclasses.field(repr=False)
    auth: Literal["oauth", "iam"]
    org_id: str = ""
    cloud_org_id: str = ""

    def headers(self) -> dict[str, str]:
        scheme = "OAuth" if self.auth == "oauth" else "Bearer"
        headers = {"Authorization": f"{scheme} {self.token}"}
        if self.org_id:
            headers["X-Org-ID"] = self.org_id
        else:
            headers["X-Cloud-Org-ID"] = self.cloud_org_id
        return headers


def _check_type(where: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{where} must be one of {choices}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _check_type(where, value, option)
            except ConfigError:
                continue
        names = " or ".join(getattr(a, "__name__", str(a)) for a in typing.get_args(hint))
        raise ConfigError(f"{where} must be {names}, got {value!r}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (hint is int and isinstance(value, bool)) or not isinstance(value, hint):
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def _section(name: str, cls: type[Any], raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[{name}] must be a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown key {name}.{key} (known keys: {known})")
        values[key] = _check_type(f"{name}.{key}", value, hints[key])
    return cls(**values)


def parse_settings(raw: Mapping[str, Any]) -> Settings:
    """Build and check settings from a parsed TOML document."""
    internal = {"explicit", "config_dir"}
    sections = {f.name: f.type for f in dataclasses.fields(Settings) if f.name not in internal}
    hints = typing.get_type_hints(Settings)
    values: dict[str, Any] = {}
    explicit: set[str] = set()
    for name, table in raw.items():
        if name not in sections:
            known = ", ".join(f"[{s}]" for s in sections)
            raise ConfigError(f"unknown section [{name}] (known sections: {known})")
        values[name] = _section(name, hints[name], table)
        explicit.update(f"{name}.{key}" for key in table)
    settings = Settings(**values, explicit=frozenset(explicit))
    _check_values(settings)
    return settings


def _positive(where: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"{where} must be greater than 0, got {value!r}")


def _check_values(settings: Settings) -> None:
    try:
        _ = settings.zone
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"input.timezone {settings.input.timezone!r} is not an IANA timezone "
            "(e.g. 'Europe/Moscow')"
        ) from None
    try:
        _ = settings.default_start_time
    except ValueError:
        raise ConfigError(
            f"input.default_start_time must be hh:mm, got {settings.input.default_start_time!r}"
        ) from None
    d = settings.delivery
    for key in ("concurrency", "rate_limit", "request_timeout", "max_attempts"):
        _positive(f"delivery.{key}", getattr(d, key))
    _positive("input.max_duration_hours", settings.input.max_duration_hours)
    _check_preset(settings)
    for key, pattern in (
        ("pattern", settings.issue.pattern),
        ("map_pattern", settings.issue.map_pattern),
    ):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"issue.{key} is not a valid regular expression: {exc}") from None
    if settings.input.header_row < 0:
        raise ConfigError(
            f"input.header_row must be 0 (find it) or a row number, got {settings.input.header_row}"
        )
    for key in ("p_500", "p_503", "p_429", "p_created_then_500", "p_created_then_drop"):
        p = getattr(settings.sandbox, key)
        if not 0 <= p <= 1:
            raise ConfigError(f"sandbox.{key} must be between 0 and 1, got {p!r}")


def _check_preset(settings: Settings) -> None:
    from .presets import PRESETS  # the presets know the columns they find by themselves

    preset = settings.input.preset
    if preset and preset != "auto" and preset not in PRESETS:
        raise ConfigError(
            f"input.preset {preset!r} is not known; "
            f"choose one of: auto, {', '.join(sorted(PRESETS))}"
        )
    cols = settings.columns
    if cols.start and (cols.date or cols.time):
        raise ConfigError("set either columns.start or columns.date (+ columns.time), not both")


def check_column_map(settings: Settings) -> None:
    """Without a preset, the column map must name the issue, the time spent and the day."""
    cols = settings.columns
    if settings.input.preset:
        return
    if cols.issue == "":
        raise ConfigError(
            "columns.issue is required: the column holding the issue key (or set input.preset)"
        )
    if cols.duration == "" and cols.end == "":
        raise ConfigError(
            "columns.duration is required: the column holding the time spent "
            "(or columns.end, the time the work ended)"
        )
    if not cols.start and not cols.date:
        raise ConfigError("columns.date (or columns.start, one date-and-time column) is required")


def load_settings(path: str | Path) -> Settings:
    """Read and check a TOML config file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        settings = parse_settings(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return dataclasses.replace(settings, config_dir=str(path.parent))


def config_path(settings: Settings, value: str) -> Path:
    """A path from the config, relative to the config file's folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(settings.config_dir or ".") / path


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
    return Credentials(
        base_url=base_url, token=token, auth=t.auth, org_id=org_id, cloud_org_id=cloud_org_id
    )
