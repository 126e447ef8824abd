"""Cells as the readers hand them over: blank or not, as text, parsed once."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from importer.errors import RowInvalid
from importer.models import Cell

_T = TypeVar("_T")

TOTAL_WORDS = ("total", "totals", "grand total", "sum", "итого", "итог", "всего", "сумма")


def is_blank(value: Cell) -> bool:
    """An empty cell, whatever the reader made of it."""
    if type(value) is str:
        return not value.strip()
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def cell_text(value: Cell) -> str:
    """A cell as trimmed text; a whole float without its ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cached(parse: Callable[[Cell], _T]) -> Callable[[Cell], _T]:
    """Memoise a parser for hashable cells; failures are not cached, only re-raised."""
    memo = functools.lru_cache(maxsize=8192)(parse)

    def parse_cell(value: Cell) -> _T:
        try:
            return memo(value)
        except TypeError:  # an unhashable cell
            return parse(value)

    return parse_cell


def totals_marker(values: Mapping[str, Cell]) -> str:
    """The text of a cell that marks a totals row (\"Итого\", \"Total:\"), or ``\"\"``."""
    for value in values.values():
        if isinstance(value, str):
            text = value.strip().rstrip(":").casefold()
            if text in TOTAL_WORDS or text.startswith(("total ", "итого ", "всего ")):
                return value.strip()
    return ""


def foreign_digit(text: str) -> str:
    """The first digit in ``text`` that is not 0–9 (``٣``, ``３``), or ``""``.

    Python's ``int`` and ``\\d`` read such digits as numbers; a timesheet's dates, times and
    durations are read only from 0–9, so a stray script never turns into hours.
    """
    if text.isascii():
        return ""
    return next((c for c in text if c.isdigit() and not c.isascii()), "")


def refuse_foreign_digits(text: str) -> None:
    """Raise ``ValueError`` naming a digit that is not 0–9."""
    if digit := foreign_digit(text):
        raise ValueError(f"the digit {digit!r} is not one of 0–9; write the number with 0–9")


def present(column: str, value: Cell) -> Cell:
    """A cell that must hold something; an empty one makes the row invalid."""
    if type(value) is str and value.strip():
        return value
    if is_blank(value):
        raise RowInvalid(f"column '{column}' is empty", column, value)
    return value


def parsed(column: str, value: Cell, parse: Callable[[Cell], _T]) -> _T:
    """Apply a parser; its complaint becomes a reason naming the column and the value."""
    try:
        return parse(value)
    except ValueError as exc:
        raise RowInvalid(
            f"column '{column}' value {cell_text(value)!r}: {exc}", column, value
        ) from None
