"""Hostile files are refused or booked right, never booked wrong (the corpus: hostile.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from importer.errors import ExitCode, InputError, exit_code_for
from importer.sandbox import running_sandbox
from tests.helpers import import_into, make_settings, read_report
from tests.read import hostile


async def _import(path: Path, tmp_path: Path) -> tuple[list[dict[str, str]], list[str], int]:
    """Import ``path``; the report, the comments Tracker stored, and the exit code."""
    async with running_sandbox() as sandbox:
        try:
            summary = await import_into(sandbox, [path], make_settings(), tmp_path / "r.csv")
        except InputError as error:
            assert not sandbox.store.worklogs
            raise error
        stored = sorted(w.comment for w in sandbox.store.worklogs.values())
    report = sorted(read_report(tmp_path / "r.csv"), key=lambda line: int(line["row"]))
    return report, stored, summary.exit_code


async def test_a_row_with_an_unquoted_delimiter_is_invalid_not_shifted(tmp_path: Path) -> None:
    report, stored, code = await _import(hostile.write(tmp_path, hostile.unquoted_comma), tmp_path)
    assert [(line["row"], line["status"]) for line in report] == [
        ("2", "created"),
        ("3", "invalid"),
        ("4", "created"),
    ]
    assert report[1]["error"] == (
        "the row has 7 fields but the header has 6 (an unquoted delimiter inside a cell?); "
        "not read, so that no column shifts"
    )
    assert stored == ["Ревью", "Созвон по релизу"] and code == ExitCode.ROWS_FAILED


async def test_a_row_with_fields_missing_is_invalid(tmp_path: Path) -> None:
    report, stored, _ = await _import(hostile.write(tmp_path, hostile.missing_fields), tmp_path)
    assert report[1]["row"] == "3" and report[1]["status"] == "invalid"
    assert report[1]["error"].startswith("the row has 4 fields but the header has 6")
    assert stored == ["Ревью", "Созвон по релизу"]


async def test_cp1251_rows_in_a_utf8_file_are_invalid_and_the_rest_is_read_as_utf8(
    tmp_path: Path,
) -> None:
    path = hostile.write(tmp_path, hostile.utf8_with_cp1251_rows)
    report, stored, _ = await _import(path, tmp_path)
    assert [(line["row"], line["status"]) for line in report] == [
        ("2", "created"),
        ("3", "invalid"),
        ("4", "created"),
    ]
    assert report[1]["error"].startswith(
        "column 'Comment': bytes that are not utf-8-sig (0xCF 0xEB 0xE0"
    )
    assert "the file mixes encodings" in report[1]["error"]
    assert stored == ["Ревью", "Созвон по релизу"]  # never mojibake


async def test_a_utf8_row_in_a_cp1251_file_is_invalid_and_the_rest_is_read_as_cp1251(
    tmp_path: Path,
) -> None:
    path = hostile.write(tmp_path, hostile.cp1251_with_a_utf8_row)
    report, stored, _ = await _import(path, tmp_path)
    assert [(line["row"], line["status"]) for line in report] == [
        ("2", "created"),
        ("3", "created"),
        ("4", "invalid"),
    ]
    assert report[2]["error"] == (
        "column 'Comment': UTF-8 text ('Ревью') in a cp1251 file: the file mixes encodings"
    )
    assert stored == ["Планёрка", "Созвон по релизу"]


async def test_an_unterminated_quote_refuses_the_file_naming_its_row(tmp_path: Path) -> None:
    path = hostile.write(tmp_path, hostile.unterminated_quote)
    with pytest.raises(InputError) as refused:
        await _import(path, tmp_path)
    assert str(refused.value) == (
        f"{path}: row 4: a quote opens there and never closes, so the rest of the file "
        "would be one cell; fix the quoting"
    )
    assert exit_code_for(refused.value) == ExitCode.BAD_INPUT


async def test_a_cell_beyond_the_field_limit_refuses_the_file_before_sending(
    tmp_path: Path,
) -> None:
    path = hostile.write(tmp_path, hostile.huge_cell)
    with pytest.raises(InputError, match=r"row 3: a cell longer than 128 KiB"):
        await _import(path, tmp_path)


async def test_a_header_of_100000_columns_is_read_in_seconds(tmp_path: Path) -> None:
    path = hostile.write(tmp_path, hostile.wide_header)
    started = time.perf_counter()
    report, _, code = await _import(path, tmp_path)
    assert time.perf_counter() - started < 30  # was minutes: names were checked pairwise
    assert [line["status"] for line in report] == ["created"] and code == ExitCode.OK
