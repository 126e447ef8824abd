"""Open the input files: find each one's header and column map, load the issue map.

Everything about a file that can be wrong — unreadable, no header, a mapped column
missing, an issue map that cannot be read — is found here, before anything is sent.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import Settings, check_column_map, config_path
from .errors import ConfigError, InputError
from .normalize import ISSUE_KEY, Normalizer
from .presets import ColumnMap, header_score, resolve_columns
from .reading import Table, detect_encoding, open_table


@dataclasses.dataclass(frozen=True)
class InputFile:
    """One opened file and the rules that turn its rows into worklogs."""

    table: Table
    column_map: ColumnMap
    normalizer: Normalizer


def _load_pairs(path: Path, setting: str) -> list[tuple[str, str]]:
    """Two-column pairs from a CSV (a header line is fine) or a TOML table."""
    try:
        if path.suffix.lower() == ".toml":
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
            tables = [v for v in raw.values() if isinstance(v, dict)]
            table = tables[0] if len(raw) == 1 and tables else raw
            return [(str(k), str(v)) for k, v in table.items()]
        encoding = detect_encoding(path, "auto")
        with path.open(encoding=encoding, newline="") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
            return [
                (row[0].strip(), row[1].strip())
                for row in csv.reader(handle, dialect)
                if len(row) >= 2 and row[0].strip()
            ]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, csv.Error) as exc:
        raise ConfigError(f"{setting} {path}: cannot read: {exc}") from None


def load_issue_map(path: Path) -> dict[str, str]:
    """Another tracker's ids → Tracker keys, from a two-column CSV or a TOML table."""
    pairs = [(s.lstrip("#"), k.upper()) for s, k in _load_pairs(path, "issue.map_file")]
    if pairs and not ISSUE_KEY.match(pairs[0][1]):
        pairs = pairs[1:]  # a header line
    for source, key in pairs:
        if not ISSUE_KEY.match(key):
            raise ConfigError(
                f"issue.map_file {path}: {key!r} (for {source!r}) "
                "is not a Tracker key like QUEUE-123"
            )
    return dict(pairs)


def load_user_map(path: Path) -> dict[str, str]:
    """Names, e-mails or logins as the timesheet writes them → Tracker logins."""
    pairs = _load_pairs(path, "authors.map_file")
    if pairs and pairs[0][1].casefold() in ("login", "tracker_login", "логин"):
        pairs = pairs[1:]  # a header line
    for person, login in pairs:
        if not login or any(c.isspace() for c in login):
            raise ConfigError(
                f"authors.map_file {path}: {login!r} (for {person!r}) is not a Tracker login"
            )
    return dict(pairs)


def open_inputs(
    files: Sequence[Path],
    settings: Settings,
    *,
    mode: str = "create",
    now: Callable[[], dt.datetime] | None = None,
) -> list[InputFile]:
    """Open every file; raise ``InputError``/``ConfigError`` for the first that cannot work."""
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
    for path in files:
        table = open_table(path, settings.input, header_score(settings))
        column_map = resolve_columns(settings, table.columns, str(path))
        missing = [
            n for n in column_map.required() + column_map.optional() if n not in table.columns
        ]
        if missing:
            names = ", ".join(repr(m) for m in missing)
            raise InputError(
                f"{table.path}: column {names} not found (check [columns] in the config); "
                f"the header (row {table.header_row}) has: "
                f"{', '.join(repr(c) for c in table.columns)}"
            )
        if mode == "import" and not column_map.columns.author:
            raise ConfigError(
                f"{table.path}: mode 'import' books each row as its author; map columns.author"
            )
        normalizer = Normalizer(
            settings,
            column_map,
            issue_map=issue_map,
            user_map=user_map,
            import_mode=mode == "import",
            now=now,
        )
        opened.append(InputFile(table, column_map, normalizer))
    return opened
