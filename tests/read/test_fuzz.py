"""No input is a traceback: random bytes and random CSV shapes are read, or refused by name."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import ConfigError, InputError
from importer.normalize import Normalizer
from importer.read.columns import ColumnMap
from importer.read.tables import open_table
from tests.helpers import HEADER, make_settings

SETTINGS = make_settings()
CELLS = st.text(
    alphabet=st.sampled_from([*'PORT-1,;"\n\r\t\x00 .:0123456789абв٣', "\ufeff", "\x07"]),
    max_size=12,
)


def _read_everything(path: Path) -> int:
    """Open, check and normalize every row; the number of rows, or ``InputError``."""
    table = open_table(path, SETTINGS.input)
    table.check()
    normalizer = Normalizer(SETTINGS, ColumnMap(SETTINGS.columns))
    rows = 0
    for row in table.rows():
        normalizer.normalize(row)
        rows += 1
    return rows


def _survives(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(data)
        try:
            _read_everything(path)
        except (InputError, ConfigError) as refused:
            assert str(path) in str(refused)  # every refusal names the file


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from([".csv", ".tsv", ".txt", ".xlsx", ".ods"]))
def test_random_bytes_are_read_or_refused_by_name(data: bytes, suffix: str) -> None:
    _survives(data, suffix)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(CELLS, max_size=9), max_size=8),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "cp1251", "utf-16"]),
)
def test_random_csv_shapes_are_read_or_refused_by_name(
    rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows([HEADER, *rows])
    _survives(text.getvalue().encode(encoding, "replace"), ".csv")
