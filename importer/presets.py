"""Presets: where each time tracker's export keeps the issue, the time and the duration.

A preset finds its columns by header name (case and spacing ignored), in English or Russian,
and tolerates the optional columns those tools add or drop. Any ``[columns]`` key in the
config overrides what the preset found, and any ``[input]`` option set in the config
overrides the preset's own (e.g. ``dayfirst``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from .config import ColumnsSection, Settings
from .errors import InputError

FIELDS = (
    "issue",
    "date",
    "time",
    "start",
    "end",
    "end_date",
    "duration",
    "comment",
    "author",
    "created_at",
)


@dataclasses.dataclass(frozen=True)
class Preset:
    """One tool's export layout."""

    name: str
    title: str
    columns: Mapping[str, Sequence[str]]  # field → header names to look for, in order
    required: Sequence[str]  # fields that must be found for the layout to apply
    options: Mapping[str, object] = dataclasses.field(default_factory=dict)  # [input] keys
    issue_map: bool = False  # the issue column holds another tracker's ids (see issue.map_file)
    # Headers only this tool writes; "auto" guesses the preset only when one is present, so
    # a hand-made sheet with "Дата" and "Часы" is not taken for a Redmine export.
    signature: Sequence[str] = ()


def _preset(
    name: str,
    title: str,
    required: Sequence[str],
    signature: Sequence[str],
    options: Mapping[str, object] | None = None,
    issue_map: bool = False,
    **columns: Sequence[str],
) -> Preset:
    assert set(columns) <= set(FIELDS), set(columns) - set(FIELDS)
    return Preset(name, title, columns, required, options or {}, issue_map, signature)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _preset(
            "toggl",
            "Toggl Track, detailed report (CSV)",
            ("issue", "date", "time", "duration"),
            ["Start date", "Billable"],
            issue=["Description"],
            comment=["Description"],
            date=["Start date"],
            time=["Start time"],
            end_date=["End date"],
            end=["End time"],
            duration=["Duration"],
            author=["User", "Member", "Email"],
            options={"dayfirst": False},
        ),
        _preset(
            "clockify",
            "Clockify, detailed report (CSV/XLSX)",
            ("issue", "date", "time", "duration"),
            ["Duration (h)", "Duration (decimal)"],
            issue=["Description"],
            comment=["Description"],
            date=["Start Date"],
            time=["Start Time"],
            end_date=["End Date"],
            end=["End Time"],
            duration=["Duration (h)", "Duration (decimal)"],
            author=["User", "Email"],
            options={"dayfirst": False},
        ),
        _preset(
            "harvest",
            "Harvest, detailed time report (CSV)",
            ("issue", "date", "duration"),
            ["Billable?", "Project Code", "Hours Rounded"],
            issue=["Notes"],
            comment=["Notes"],
            date=["Date", "Spent Date"],
            duration=["Hours"],
            author=["Person", "Employee", "First Name"],
        ),
        _preset(
            "tempo",
            "Tempo Timesheets, worklog export (English or Russian)",
            ("issue", "start", "duration"),
            ["Issue Key", "Ключ запроса", "Work Description", "Описание работы"],
            issue=["Issue Key", "Key", "Ключ запроса", "Ключ задачи"],
            start=["Work date", "Started", "Дата работы"],
            duration=["Hours", "Time Spent (h)", "Часов", "Часы"],
            comment=["Work Description", "Worklog Description", "Описание работы"],
            author=["Username", "Full name", "User", "Имя пользователя", "Полное имя"],
        ),
        _preset(
            "kimai",
            "Kimai, timesheet export (CSV/XLSX, English or Russian)",
            ("issue", "date", "time"),
            ["Activity", "Активность"],
            date=["Date", "Дата"],
            time=["From", "Begin", "С", "Начало"],
            end=["To", "End", "До", "По", "Конец"],
            duration=["Duration", "Длительность", "Продолжительность"],
            issue=["Description", "Описание"],
            comment=["Description", "Описание"],
            author=["User", "Имя пользователя", "Пользователь"],
        ),
        _preset(
            "redmine",
            "Redmine, spent time (CSV, English or Russian)",
            ("issue", "date", "duration"),
            ["Activity", "Деятельность"],
            issue=["Issue", "Задача"],
            date=["Date", "Дата"],
            duration=["Hours", "час(а,ов)", "Часы"],
            comment=["Comment", "Комментарий"],
            author=["User", "Пользователь"],
            # English Redmine writes 10/05/2026 month first; Russian writes 05.10.2026.
            options={"dayfirst": False},
            issue_map=True,
        ),
    )
}


def _key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _find(header: Sequence[str], aliases: Sequence[str]) -> str:
    by_key = {_key(h): h for h in reversed(header)}  # the first of equal names wins
    for alias in aliases:
        if (found := by_key.get(_key(alias))) is not None:
            return found
    return ""


def preset_score(preset: Preset, header: Sequence[str]) -> int:
    """How many of the preset's fields this header has; 0 unless all required are there."""
    found = {f for f, aliases in preset.columns.items() if _find(header, aliases)}
    return len(found) if set(preset.required) <= found else 0


def guess_preset(header: Sequence[str]) -> Preset | None:
    """The preset whose layout this header matches best, if any does."""
    candidates = [p for p in PRESETS.values() if _find(header, p.signature)]
    scored = [(preset_score(p, header), p) for p in candidates]
    if not scored:
        return None
    best = max(scored, key=lambda sp: sp[0])
    return best[1] if best[0] else None


@dataclasses.dataclass(frozen=True)
class ColumnMap:
    """Which header holds what, for one file."""

    columns: ColumnsSection
    preset: Preset | None = None

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
    """A scorer for :func:`importer.reading.open_table` that recognises the wanted header."""
    explicit = [getattr(settings.columns, f) for f in FIELDS if getattr(settings.columns, f)]

    def score(cells: list[str]) -> int:
        keys = {_key(c) for c in cells if c}
        hits = sum(1 for name in explicit if _key(name) in keys)
        if settings.input.preset:
            candidates = (
                PRESETS.values()
                if settings.input.preset == "auto"
                else [PRESETS[settings.input.preset]]
            )
            hits += max((preset_score(p, cells) for p in candidates), default=0)
        return hits

    return score


def resolve_columns(settings: Settings, header: Sequence[str], file: str) -> ColumnMap:
    """The column map for one file: the config's ``[columns]`` over the preset's findings."""
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
            found[field] = _find(header, preset.columns[field])
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
