"""Presets: where each time tracker's export keeps the issue, the time and the duration.

A preset finds its columns by header name (case and spacing ignored), in English or Russian,
and tolerates the optional columns those tools add or drop. Any ``[columns]`` key in the
config overrides what the preset found, and any ``[input]`` option set in the config
overrides the preset's own (e.g. ``dayfirst``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from importer.config import ColumnsSection, Settings
from importer.errors import ConfigError

# What a column can hold: the keys of ``[columns]``.
FIELDS = tuple(f.name for f in dataclasses.fields(ColumnsSection))


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
    # An author column that holds only part of the name → the column with the rest, joined
    # with a space (Harvest: "First Name" + "Last Name" → "Oliver Bennett").
    author_rest: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _preset(
    name: str,
    title: str,
    required: Sequence[str],
    signature: Sequence[str],
    options: Mapping[str, object] | None = None,
    issue_map: bool = False,
    author_rest: Mapping[str, str] | None = None,
    **columns: Sequence[str],
) -> Preset:
    assert set(columns) <= set(FIELDS), set(columns) - set(FIELDS)
    rest = author_rest or {}
    return Preset(name, title, columns, required, options or {}, issue_map, signature, rest)


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
            author_rest={"First Name": "Last Name"},
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


def check_preset_name(settings: Settings) -> None:
    """Refuse an ``input.preset`` that names no preset (``auto`` guesses one per file)."""
    preset = settings.input.preset
    if preset and preset != "auto" and preset not in PRESETS:
        raise ConfigError(
            f"input.preset {preset!r} is not known; "
            f"choose one of: auto, {', '.join(sorted(PRESETS))}"
        )


def header_key(name: str) -> str:
    """A header name as compared: case, spacing and a stray BOM ignored."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def find_column(header: Sequence[str], aliases: Sequence[str]) -> str:
    """The first header that one of ``aliases`` names, or ``""``."""
    by_key = {header_key(h): h for h in reversed(header)}  # the first of equal names wins
    for alias in aliases:
        if (found := by_key.get(header_key(alias))) is not None:
            return found
    return ""


def preset_score(preset: Preset, header: Sequence[str]) -> int:
    """How many of the preset's fields this header has; 0 unless all required are there."""
    found = {f for f, aliases in preset.columns.items() if find_column(header, aliases)}
    return len(found) if set(preset.required) <= found else 0


def guess_preset(header: Sequence[str]) -> Preset | None:
    """The preset whose layout this header matches best, if any does."""
    candidates = [p for p in PRESETS.values() if find_column(header, p.signature)]
    scored = [(preset_score(p, header), p) for p in candidates]
    if not scored:
        return None
    best = max(scored, key=lambda sp: sp[0])
    return best[1] if best[0] else None
