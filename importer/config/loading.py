"""Read a TOML config and check it before anything runs.

Unknown keys and wrong types are refused with a message naming the key, so a typo never
silently falls back to a default. (Whether ``input.preset`` names a known preset is the
presets' own business: :func:`importer.read.presets.check_preset_name`.)
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import enum
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfoNotFoundError

from importer.config.sections import SandboxSection, Settings
from importer.errors import ConfigError
from importer.formats import ISSUE_KEY


def _check_type(where: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{where} must be one of {choices}, got {value!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        if value not in values:
            choices = ", ".join(repr(v) for v in values)
            raise ConfigError(f"{where} must be one of {choices}, got {value!r}")
        return hint(value)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _check_type(where, value, option)
            except ConfigError:
                continue
        names = " or ".join(getattr(a, "__name__", str(a)) for a in typing.get_args(hint))
        raise ConfigError(f"{where} must be {names}, got {value!r}")
    if origin is tuple:  # tuple[X, ...]: a TOML array of X
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        item = typing.get_args(hint)[0]
        return tuple(_check_type(f"{where}[{i}]", v, item) for i, v in enumerate(value))
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
    if not settings.input.preset and not any(dataclasses.astuple(settings.columns)):
        # A config that maps no column and names no preset (say, only a timezone) reads
        # files the way no config does: the preset is guessed from each file's header.
        guessing = dataclasses.replace(settings.input, preset="auto")
        settings = dataclasses.replace(settings, input=guessing)
    _check_values(settings)
    return settings


def _positive(where: str, value: float) -> None:
    if not value > 0 or not math.isfinite(value):  # nan is not > 0; inf is no limit at all
        raise ConfigError(f"{where} must be a number greater than 0, got {value!r}")


def _check_input(settings: Settings) -> None:
    """``[input]`` values that would otherwise fail deep inside a run, not naming the key."""
    i = settings.input
    _positive("input.max_duration_hours", i.max_duration_hours)
    _positive("input.max_day_hours", i.max_day_hours)
    _positive("input.max_comment_length", i.max_comment_length)
    if i.encoding != "auto":
        try:
            codecs.lookup(i.encoding)
        except LookupError:
            raise ConfigError(
                f"input.encoding {i.encoding!r} is not an encoding Python knows "
                "(e.g. 'utf-8', 'cp1251', 'utf-16-le'), or 'auto'"
            ) from None
    if len(i.delimiter) > 1:
        raise ConfigError(f"input.delimiter must be one character, got {i.delimiter!r}")
    if isinstance(i.sheet, int) and i.sheet < 0:
        raise ConfigError(f"input.sheet must be a sheet's name or 0-based index, got {i.sheet}")


def _check_values(settings: Settings) -> None:
    try:
        _ = settings.zone
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"input.timezone {settings.input.timezone!r} is not an IANA timezone "
            "(e.g. 'Europe/Moscow')"
        ) from None
    try:
        if settings.default_start_time.tzinfo is not None:
            raise ValueError("an offset: times are read in input.timezone")
    except ValueError:
        raise ConfigError(
            f"input.default_start_time must be hh:mm, got {settings.input.default_start_time!r}"
        ) from None
    d = settings.delivery
    for key in ("concurrency", "rate_limit", "request_timeout", "max_attempts"):
        _positive(f"delivery.{key}", getattr(d, key))
    _check_input(settings)
    if d.commit_horizon < 0:
        raise ConfigError(f"delivery.commit_horizon must be 0 or more, got {d.commit_horizon!r}")
    cols = settings.columns
    if cols.start and (cols.date or cols.time):
        raise ConfigError("set either columns.start or columns.date (+ columns.time), not both")
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
    share = settings.sync.max_delete_share
    if not 0 <= share <= 1:
        raise ConfigError(f"sync.max_delete_share must be between 0 and 1, got {share!r}")
    _check_month(settings)
    if settings.service.keep_days < 0:
        raise ConfigError(
            f"service.keep_days must be 0 (keep) or more, got {settings.service.keep_days!r}"
        )
    _positive("service.max_upload_mb", settings.service.max_upload_mb)
    if settings.run.batch:
        check_batch_name(settings.run.batch, "run.batch")
    _check_sandbox(settings.sandbox)


def _check_month(settings: Settings) -> None:
    month = settings.month
    for key in ("holidays", "workdays"):
        for day in getattr(month, key):
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise ConfigError(f"month.{key}: {day!r} is not a date (YYYY-MM-DD)") from None
    for day in month.weekend:
        if not 1 <= day <= 7:
            raise ConfigError(f"month.weekend: {day!r} is not a weekday (1 Monday … 7 Sunday)")


def _check_sandbox(sandbox: SandboxSection) -> None:
    """Every knob by its declaration: a closed set of choices, a probability, or a number
    that cannot be negative."""
    for field in dataclasses.fields(SandboxSection):
        value, where = getattr(sandbox, field.name), f"sandbox.{field.name}"
        choices = field.metadata.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
        if field.metadata.get("probability") and not 0 <= value <= 1:
            raise ConfigError(f"{where} must be between 0 and 1, got {value!r}")
        if field.name != "seed" and isinstance(value, int | float) and value < 0:
            raise ConfigError(f"{where} must be 0 or more, got {value!r}")
        if field.metadata.get("keys"):
            bad = [k for k in sandbox.keys(field.name) if not ISSUE_KEY.fullmatch(k)]
            if bad:
                raise ConfigError(f"{where}: {bad[0]!r} is not an issue key (e.g. PORT-12)")


def check_batch_name(name: str, where: str = "--batch") -> str:
    """A batch name a person can type back: 1–200 printable characters, not all spaces."""
    if not name.strip() or len(name) > 200 or not name.isprintable():
        raise ConfigError(f"{where} must be 1 to 200 printable characters, got {name!r}")
    return name


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
