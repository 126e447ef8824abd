"""``worklog-import check-config``: every problem with the setup, found without the network."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from importer.config import Credentials, Settings, config_path, resolve_credentials
from importer.errors import ConfigError
from importer.journal import default_state_path
from importer.models import Mode
from importer.read.columns import check_column_map
from importer.read.maps import load_issue_map, load_user_map


@dataclasses.dataclass
class Checkup:
    """What was checked: the problems found, and where the importer would go."""

    problems: list[str]
    credentials: Credentials | None
    state_path: Path


def _writable_folder(path: Path) -> bool:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def check_setup(settings: Settings, environ: Mapping[str, str] | None = None) -> Checkup:
    """Check the column map, the environment, the map files and the journal's folder."""
    problems: list[str] = []
    credentials: Credentials | None = None

    def check(step: Callable[[], object]) -> object:
        try:
            return step()
        except ConfigError as exc:
            problems.append(str(exc))
            return None

    check(lambda: check_column_map(settings))
    found = check(lambda: resolve_credentials(settings, environ))
    credentials = found if isinstance(found, Credentials) else None
    if settings.issue.map_file:
        check(lambda: load_issue_map(config_path(settings, settings.issue.map_file)))
    if settings.authors.map_file:
        check(lambda: load_user_map(config_path(settings, settings.authors.map_file)))
    if settings.tracker.mode is Mode.IMPORT and not (
        settings.columns.author or settings.input.preset
    ):
        problems.append("tracker.mode = 'import' books each row as its author: map columns.author")
    state = Path(settings.state.path).expanduser() if settings.state.path else default_state_path()
    if not _writable_folder(state):
        problems.append(
            f"state.path {state}: its folder cannot be written (the journal lives there)"
        )
    return Checkup(problems, credentials, state)
