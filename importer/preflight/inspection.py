"""``worklog-import inspect``: what the importer makes of a file, before a real run.

Shows the format, encoding, delimiter and header row it detected, the preset it would
guess, the column map it would use, and the first rows as they would be sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from importer.config import Settings, parse_settings
from importer.errors import InputError
from importer.models import Invalid, Skipped, SourceRow, Worklog
from importer.normalize.times import machine_zone
from importer.pipeline.inputs import open_inputs, zone_needed
from importer.read.columns import header_score
from importer.read.presets import FIELDS, check_preset_name, guess_preset
from importer.read.tables import open_table


@dataclasses.dataclass
class Inspection:
    """What one file looks like to the importer."""

    path: Path
    kind: str
    encoding: str
    delimiter: str
    header_row: int
    header: list[str]
    guessed_preset: str
    preset: str
    column_map: dict[str, str]
    rows: list[tuple[SourceRow, Worklog | Invalid | Skipped]]
    problem: str = ""
    timezone: str = ""  # the zone times are read in, or why a run needs input.timezone
    note: str = ""  # a workbook's other sheets that hold rows (not read)


def inspect_file(
    path: Path,
    settings: Settings | None = None,
    *,
    rows: int = 5,
    now: Callable[[], dt.datetime] | None = None,
) -> Inspection:
    """Inspect ``path`` with ``settings`` (default: guess the preset from the header)."""
    settings = settings or parse_settings({"input": {"preset": "auto"}})
    check_preset_name(settings)
    table = open_table(path, settings.input, header_score(settings))
    guessed = guess_preset(table.columns)
    inspection = Inspection(
        path=path,
        kind=table.kind,
        encoding=_shown_encoding(path, table.encoding),
        delimiter=table.delimiter,
        header_row=table.header_row,
        header=table.columns,
        guessed_preset=guessed.name if guessed else "",
        preset="",
        column_map={},
        rows=[],
        note=table.other_sheets_note(),
    )
    try:
        [opened] = open_inputs([path], settings, now=now, require_zone=False)
    except InputError as exc:
        inspection.problem = str(exc)
        return inspection
    inspection.timezone = f"{settings.input.timezone} (input.timezone)"
    if settings.zone is None:
        why = zone_needed(opened.table, opened.normalizer)
        if why is None:
            inspection.timezone = "not set; every time in the file carries its own UTC offset"
        else:
            # Show the rows in this machine's zone, and say that a run will not guess it.
            here = machine_zone()
            inspection.timezone = (
                f"NOT SET: {why}, so a run refuses the file until input.timezone is set; "
                f"the rows below are read in this machine's zone, {here}"
            )
            local = dataclasses.replace(settings.input, timezone=here)
            settings = dataclasses.replace(settings, input=local)
            [opened] = open_inputs([path], settings, now=now, require_zone=False)
    columns = opened.column_map.columns
    inspection.preset = opened.column_map.preset.name if opened.column_map.preset else ""
    inspection.column_map = {f: getattr(columns, f) for f in FIELDS if getattr(columns, f)}
    source = opened.table.rows()
    try:
        inspection.rows = [(row, opened.normalizer.normalize(row)) for row in islice(source, rows)]
    finally:
        source.close()
    return inspection


def _shown_encoding(path: Path, encoding: str) -> str:
    """The encoding as a person would name it: UTF-8 is read with ``utf-8-sig`` (which
    drops a BOM if there is one), but only a file that starts with a BOM has one."""
    if encoding != "utf-8-sig":
        return encoding
    with path.open("rb") as handle:
        return "utf-8 with BOM" if handle.read(3) == b"\xef\xbb\xbf" else "utf-8"


def describe(result: Worklog | Invalid | Skipped) -> str:
    """One line: what a row would send, or why it sends nothing."""
    if isinstance(result, Worklog):
        payload = result.payload()
        text = f"{result.issue}  start {payload['start']}  duration {payload['duration']}"
        if result.comment:
            text += f"  comment {result.comment!r}"
        if result.author:
            text += f"  author {result.author!r}"
        return text
    if isinstance(result, Invalid):
        return f"invalid: {result.reason}"
    return f"skipped: {result.reason}"
