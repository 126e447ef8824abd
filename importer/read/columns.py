"""One file's column map: which header holds the issue, the day, the time spent, ….

The config's ``[columns]`` wins over what a preset finds; without a preset, ``[columns]``
must name the issue, the time spent and the day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from importer.config import ColumnsSection, Settings
from importer.errors import ConfigError, InputError
from importer.read.presets import (
    FIELDS,
    PRESETS,
    Preset,
    check_preset_name,
    find_column,
    guess_preset,
    header_key,
    preset_score,
)


@dataclasses.dataclass(frozen=True)
class ColumnMap:
    """Which header holds what, for one file."""

    columns: ColumnsSection
    preset: Preset | None = None

    @property
    def preset_name(self) -> str | None:
        return self.preset.name if self.preset else None

    def required(self) -> list[str]:
        c = self.columns
        names = [c.issue, c.duration or c.end, c.start or c.date]
        return [n for n in names if n]

    def optional(self) -> list[str]:
        c = self.columns
        return [n for n in (c.time, c.end_date, c.comment, c.author, c.created_at) if n]


def _preset_for(settings: Settings, header: Sequence[str]) -> Preset | None:
    name = settings.input.preset
    if not name:
        return None
    if name != "auto":
        return PRESETS[name]
    return guess_preset(header)


def header_score(settings: Settings) -> Callable[[list[str]], int]:
    """A scorer for :func:`importer.read.tables.open_table` that recognises the wanted header."""
    explicit = [getattr(settings.columns, f) for f in FIELDS if getattr(settings.columns, f)]

    def score(cells: list[str]) -> int:
        keys = {header_key(c) for c in cells if c}
        hits = sum(1 for name in explicit if header_key(name) in keys)
        if settings.input.preset:
            candidates = (
                PRESETS.values()
                if settings.input.preset == "auto"
                else [PRESETS[settings.input.preset]]
            )
            hits += max((preset_score(p, cells) for p in candidates), default=0)
        return hits

    return score


def resolve_columns(
    settings: Settings,
    header: Sequence[str],
    file: str,
    duplicated: Mapping[str, Sequence[str]] | None = None,
) -> ColumnMap:
    """The column map for one file: the config's ``[columns]`` over the preset's findings.

    ``duplicated``: header names that stand more than once, with the names their columns
    were given (``Hours`` → ``Hours[1]``, ``Hours[2]``). A map that would take such a name
    is refused: which column holds the hours must be said, never guessed.
    """
    duplicated = duplicated or {}
    header = [*header, *duplicated]  # so a preset finds the name, and the check below sees it
    preset = _preset_for(settings, header)
    if settings.input.preset == "auto" and preset is None:
        raise InputError(
            f"{file}: no preset matches this header ({', '.join(repr(h) for h in header)}); "
            f"set input.preset to one of {', '.join(sorted(PRESETS))}, or map [columns]"
        )
    found: dict[str, str] = {}
    for field in FIELDS:
        explicit = getattr(settings.columns, field)
        if explicit:
            found[field] = explicit
        elif preset is not None and field in preset.columns:
            found[field] = find_column(header, preset.columns[field])
    for field, name in found.items():
        if name in duplicated:
            choices = " or ".join(f'"{n}"' for n in duplicated[name])
            raise InputError(
                f"{file}: {len(duplicated[name])} columns of the header are named {name!r}; "
                f"say which one holds the {field}: columns.{field} = {choices}"
            )
    if found.get("start") and (settings.columns.date or settings.columns.time):
        found["start"] = ""  # the config chose date + time over the preset's datetime
    if preset is not None:
        missing = [f for f in preset.required if not found.get(f)]
        if missing:
            raise InputError(
                f"{file}: does not look like a {preset.title} export: no column for "
                f"{', '.join(missing)} (looked for "
                + "; ".join(
                    f"{f}: {', '.join(repr(a) for a in preset.columns[f])}" for f in missing
                )
                + ")"
            )
    return ColumnMap(ColumnsSection(**found), preset)


def check_column_map(settings: Settings) -> None:
    """The preset must be known; without one, ``[columns]`` must name the issue, the time
    spent and the day."""
    check_preset_name(settings)
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
