"""Open the input files: find each one's header and column map, load the map files.

Everything about a file that can be wrong — unreadable, no header, a mapped column
missing, an issue map that cannot be read — is found here, before anything is sent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import typing
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from importer.config import Settings, config_path
from importer.errors import ConfigError, InputError
from importer.models import Cell, Mode, SourceRow
from importer.normalize import Normalizer
from importer.normalize.cells import cell_text, is_blank
from importer.normalize.times import machine_zone
from importer.read.columns import ColumnMap, check_column_map, header_score, resolve_columns
from importer.read.maps import load_issue_map, load_user_map
from importer.read.tables import Table, open_table


@dataclasses.dataclass(frozen=True)
class InputFile:
    """One opened file and the rules that turn its rows into worklogs."""

    table: Table
    column_map: ColumnMap
    normalizer: Normalizer


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def open_inputs(
    files: Sequence[Path],
    settings: Settings,
    *,
    mode: Mode = Mode.CREATE,
    now: Callable[[], dt.datetime] | None = None,
    require_zone: bool = True,
    names: Sequence[str] | None = None,
) -> list[InputFile]:
    """Open every file; raise ``InputError``/``ConfigError`` for the first that cannot work.
    ``require_zone=False`` (``inspect``) lets a file that needs ``input.timezone`` open;
    ``names``: what people call the files (an upload's own name), in the reports."""
    if not files:
        raise InputError("no input files given")
    check_column_map(settings)
    issue_map = (
        load_issue_map(config_path(settings, settings.issue.map_file))
        if settings.issue.map_file
        else None
    )
    user_map = (
        load_user_map(config_path(settings, settings.authors.map_file))
        if settings.authors.map_file
        else None
    )
    opened = []
    seen: dict[str, tuple[Path, str]] = {}
    for position, path in enumerate(files):
        table = open_table(path, settings.input, header_score(settings))
        if names is not None:
            table = dataclasses.replace(table, name=names[position])
        digest = table.scan.digest or _digest(path)  # CSV: hashed while scanned
        if (first := seen.get(digest)) is not None:
            same = "the same file" if first[0].resolve() == path.resolve() else "the same content"
            raise InputError(
                f"{table.shown}: {same} as {first[1]}, given before; "
                "each of its rows would be booked twice — name it once"
            )
        seen[digest] = (path, table.shown)
        column_map = _mapped(settings, table, path)
        table.check()  # a file that cannot be read to the end sends nothing
        if Mode(mode) is Mode.IMPORT and not column_map.columns.author:
            raise ConfigError(
                f"{table.shown}: mode 'import' books each row as its author; map columns.author"
            )
        normalizer = Normalizer(
            _dated(settings, table),
            column_map,
            issue_map=issue_map,
            user_map=user_map,
            mode=mode,
            now=now,
            control_free=table.scan.no_controls,
        )
        if require_zone:
            _check_zone(table, normalizer)
        opened.append(InputFile(table, column_map, normalizer))
    return opened


def _dated(settings: Settings, table: Table) -> Settings:
    """A workbook that counts its dates from 1904 reads its plain serials so, unless the
    config says ``input.date_system`` itself."""
    if table.date_system is None or "input.date_system" in settings.explicit:
        return settings
    system = typing.cast(typing.Literal[1900, 1904], table.date_system)
    return dataclasses.replace(
        settings, input=dataclasses.replace(settings.input, date_system=system)
    )


def _mapped(settings: Settings, table: Table, path: Path) -> ColumnMap:
    """The file's column map, every column it names present in the header."""
    column_map = resolve_columns(settings, table.columns, table.shown, table.duplicated)
    missing = [n for n in column_map.required() + column_map.optional() if n not in table.columns]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise InputError(
            f"{table.shown}: column {names} not found (check [columns] in the config); "
            f"the header (row {table.header_row}) has: "
            f"{', '.join(repr(c) for c in table.columns)}"
        )
    return column_map


def _check_zone(table: Table, normalizer: Normalizer) -> None:
    """Without ``input.timezone``, a file whose times carry no UTC offset is refused before
    anything is sent: a guessed zone books a whole month hours off, with no hint."""
    if (why := zone_needed(table, normalizer)) is not None:
        raise ConfigError(
            f"{table.shown}: input.timezone is not set, and {why}. Set input.timezone in the "
            "config to the zone the file's times were written in (this machine's is "
            f'{machine_zone()!r}), e.g. [input] timezone = "Europe/Moscow"'
        )


def zone_needed(table: Table, normalizer: Normalizer) -> str | None:
    """Why this file cannot be booked without ``input.timezone`` (its first time without a
    UTC offset), or ``None``."""
    if normalizer.zone is not None:
        return None
    with contextlib.closing(table.rows()) as rows:
        found = _first_without_offset(normalizer, rows)
    if found is None:
        return None
    row, column, value = found
    return f"row {row.row} column '{column}' value {cell_text(value)!r} carries no UTC offset"


def _first_without_offset(
    normalizer: Normalizer, rows: Iterable[SourceRow]
) -> tuple[SourceRow, str, Cell] | None:
    """The first row whose time carries no UTC offset (a date column never does), or
    ``None`` when every one does — only then can the file be booked without a zone."""
    c = normalizer.columns
    moments = [name for name in (c.start, c.created_at) if name]
    for row in rows:
        if row.problem:
            continue
        if not c.start and not is_blank(value := row.values.get(c.date)):
            return row, c.date, value
        for column in moments:
            if is_blank(value := row.values.get(column)):
                continue
            try:
                moment = normalizer.parse_moment(value)
            except ValueError:
                continue  # the row is invalid for its own reason
            if moment.tzinfo is None:
                return row, column, value
    return None
