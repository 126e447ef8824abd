"""The map files: another tracker's issue ids → Tracker keys, and people → Tracker logins.

Either a two-column CSV (a header line is fine; delimiter and encoding sniffed) or a TOML
table.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

from importer.errors import ConfigError
from importer.formats import ISSUE_KEY
from importer.read.delimited import detect_encoding


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
