"""Which Tracker issue a row books to: a key, a key inside text, or another tracker's id."""

from __future__ import annotations

import re
from collections.abc import Mapping

from importer.config import IssueSection
from importer.errors import RowInvalid
from importer.formats import ISSUE_KEY
from importer.models import Cell
from importer.normalize.cells import cell_text


class IssueKeys:
    """Finds the issue key in an issue cell: ``PORT-12``, ``"PORT-12 review"``, ``#4711``."""

    def __init__(
        self,
        section: IssueSection,
        issue_map: Mapping[str, str] | None = None,
        *,
        needs_map: bool = False,
    ) -> None:
        self.issue_pattern = re.compile(section.pattern)
        self.map_pattern = re.compile(section.map_pattern)
        self.issue_map = issue_map
        self.needs_map = needs_map  # the preset's tool has ids of its own (Redmine)

    def key(self, column: str, value: Cell) -> str:
        """The Tracker key in ``value``, or ``RowInvalid`` naming the column and value."""
        text = cell_text(value)
        if ISSUE_KEY.match(text.upper()):
            return text.upper()
        if self.issue_map is not None and (found := self.map_pattern.search(text)):
            source_id = found.group(1) if found.groups() else found.group(0)
            key = self.issue_map.get(source_id)
            if key is None:
                raise RowInvalid(
                    f"column '{column}' value {text!r}: id {source_id} is not in the issue map "
                    "(issue.map_file)",
                    column,
                    value,
                )
            return key
        if found := self.issue_pattern.search(text):
            key = found.group(0).upper()
            if ISSUE_KEY.match(key):
                return key
        hint = " (set issue.map_file to map its ids to Tracker keys)" if self.needs_map else ""
        raise RowInvalid(
            f"column '{column}' value {text!r} holds no issue key like QUEUE-123{hint}",
            column,
            value,
        )
