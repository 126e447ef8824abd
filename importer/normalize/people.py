"""People as timesheets write them: names, e-mails, logins."""

from __future__ import annotations

from collections.abc import Mapping

from importer.errors import RowInvalid
from importer.models import Cell
from importer.normalize.cells import cell_text, is_blank


def person_key(name: str) -> str:
    """Logins, e-mails and names compare without case, extra spaces or ё/е differences."""
    return " ".join(name.split()).casefold().replace("ё", "е")


def _text(value: Cell) -> str:
    if type(value) is str:
        return value.strip()
    return "" if is_blank(value) else cell_text(value).strip()


class Authors:
    """Who a row is booked for: the author column's text — with the rest of a name that a
    preset's export splits in two (Harvest: "First Name" + "Last Name") — and in import
    mode the Tracker login (through the user map, when there is one)."""

    def __init__(
        self,
        column: str,
        *,
        rest: str = "",
        user_map: Mapping[str, str] | None = None,
        import_mode: bool = False,
    ) -> None:
        self.column = column
        self.rest = rest
        self.user_map = {person_key(k): v for k, v in (user_map or {}).items()}
        self.has_user_map = user_map is not None
        self.import_mode = import_mode

    def of(self, values: Mapping[str, Cell]) -> str:
        """The row's author; in import mode the login Tracker will book it for."""
        column = self.column
        name = _text(values.get(column)) if column else ""
        if name and self.rest and (rest := _text(values.get(self.rest))):
            name = f"{name} {rest}"
        if not self.import_mode:
            return name
        if not name:
            raise RowInvalid(f"column '{column}' is empty", column, values.get(column))
        if not self.has_user_map:
            return name  # Tracker's answer decides whether this login exists
        login = self.user_map.get(person_key(name))
        if login is None:
            raise RowInvalid(
                f"column '{column}' value {name!r} is not in the user map (authors.map_file)",
                column,
                name,
            )
        return login
