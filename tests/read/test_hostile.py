"""Hostile files are refused or booked right, never booked wrong (the corpus: hostile.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from importer.errors import ExitCode, InputError, exit_code_for
from importer.sandbox import running_sandbox
from tests.helpers import COLUMNS, import_into, make_settings, month_rows, read_report
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


async def test_a_header_of_100000_columns_is_read_and_its_row_booked(tmp_path: Path) -> None:
    path = hostile.write(tmp_path, hostile.wide_header)
    report, _, code = await _import(path, tmp_path)
    # No timing here (speed belongs to bench/): names were checked pairwise, which took
    # minutes for this header; it now takes about a second.
    assert [line["status"] for line in report] == ["created"] and code == ExitCode.OK


async def test_two_columns_of_one_name_refuse_the_file_until_the_map_names_one(
    tmp_path: Path,
) -> None:
    path = hostile.write(tmp_path, hostile.duplicate_hours)
    with pytest.raises(InputError) as refused:
        await _import(path, tmp_path)
    assert str(refused.value) == (
        f"{path}: 2 columns of the header are named 'Hours'; say which one holds the "
        'duration: columns.duration = "Hours[1]" or "Hours[2]"'
    )
    async with running_sandbox() as sandbox:
        settings = make_settings(columns={"duration": "Hours[2]"})
        summary = await import_into(sandbox, [path], settings, tmp_path / "r.csv")
        [stored] = sandbox.store.worklogs.values()
    assert summary.exit_code == ExitCode.OK and stored.duration == dt.timedelta(hours=1)


async def test_control_characters_make_the_row_invalid_and_are_never_sent(
    tmp_path: Path,
) -> None:
    report, stored, _ = await _import(hostile.write(tmp_path, hostile.control_characters), tmp_path)
    assert [(line["row"], line["status"], line["error"]) for line in report] == [
        (
            "2",
            "invalid",
            "column 'Issue' value 'PORT-4\\x0013': a control character (U+0000); "
            "such a cell is never sent",
        ),
        (
            "3",
            "invalid",
            "column 'Comment' value 'Ревью\\x07': a control character (U+0007); "
            "such a cell is never sent",
        ),
        ("4", "created", ""),
    ]
    assert stored == ["две\nстроки"]


async def test_invisible_characters_make_the_row_invalid_but_joiners_and_marks_are_text(
    tmp_path: Path,
) -> None:
    path = hostile.write(tmp_path, hostile.invisible_characters)
    report, stored, _ = await _import(path, tmp_path)
    assert [(line["row"], line["status"], line["error"]) for line in report] == [
        ("2", "invalid", "column 'Issue' value 'PORT-14\\u200b': an invisible character "
         "(U+200B); such a cell is never sent"),
        ("3", "invalid", "column 'Comment' value '\\u202eйицазилаер': an invisible character "
         "(U+202E); such a cell is never sent"),
        ("4", "invalid", "column 'Comment' value 'Ревью\\ufeff': an invisible character "
         "(U+FEFF); such a cell is never sent"),
        ("5", "invalid", "column 'Comment' value 'NEL\\x85here': a control character "
         "(U+0085); such a cell is never sent"),
        ("6", "created", ""),
        ("7", "created", ""),
    ]  # fmt: skip
    assert stored == ["семья 👨\u200d👩\u200d👧", "\u05e9\u05dc\u05d5\u05dd\u200f 2"]


def test_the_byte_scan_sees_invisible_characters_in_utf_8_and_c1_controls_in_latin_1(
    tmp_path: Path,
) -> None:
    """A file the scan calls free of them skips the per-row look: it must not miss one, even
    split across its 1 MiB blocks; a BOM at the start is not one."""
    from importer.read.delimited import scan_bytes

    def scanned(data: bytes, encoding: str = "utf-8-sig") -> bool:
        path = tmp_path / "f.csv"
        path.write_bytes(data)
        return scan_bytes(path, encoding).no_controls

    filler = b"a" * ((1 << 20) - 1)
    assert scanned(b"\xef\xbb\xbfIssue,Comment\r\nPORT-1,ok\r\n")
    assert not scanned("PORT-1,x\u202ey\r\n".encode())
    assert not scanned(filler + "\u200b".encode())  # split: one byte here, two in the next
    assert not scanned(b"x" + b"\xef\xbb\xbf")
    assert scanned("PORT-1,тест\r\n".encode("cp1251"), "cp1251")  # 0x80–0x9F are letters
    assert scanned("PORT-1,Ü\u2013\r\n".encode("cp1252"), "cp1252")
    assert not scanned(b"PORT-1,a\x85b\r\n", "latin-1")


async def test_values_tracker_would_refuse_are_rounded_or_refused_never_sent(
    tmp_path: Path,
) -> None:
    report, stored, _ = await _import(hostile.write(tmp_path, hostile.odd_values), tmp_path)
    lines = {line["row"]: line for line in report}
    assert (lines["2"]["status"], lines["2"]["duration"]) == ("created", "PT30M")
    assert lines["3"]["error"] == (
        "column 'Hours' value '0:00:20': 20 s is less than half a minute, which rounds to 0; "
        "Tracker books whole minutes"
    )
    assert lines["4"]["error"].startswith(
        "column 'Date' value '05.10.0206': 0206-10-05T09:00:00+02:30:17 is before 1900"
    )
    for row, column, value, digit in (
        ("5", "Hours", "٣", "٣"),
        ("6", "Date", "٠١.10.2026", "٠"),
        ("7", "Start", "1٤:00", "٤"),
    ):
        assert lines[row]["error"] == (
            f"column '{column}' value '{value}': the digit '{digit}' is not one of 0–9; "
            "write the number with 0–9"
        )
    assert stored == ["Toggl seconds"]


async def test_the_same_file_twice_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    first = hostile.write(tmp_path, hostile.unquoted_comma)
    copy = hostile.write(tmp_path, hostile.unquoted_comma, "copy.csv")
    for twice in ([first, first], [first, copy]):
        async with running_sandbox() as sandbox:
            with pytest.raises(InputError) as refused:
                await import_into(sandbox, twice, make_settings(), tmp_path / "r.csv")
            assert not sandbox.store.worklogs
        assert "each of its rows would be booked twice — name it once" in str(refused.value)
        assert exit_code_for(refused.value) == ExitCode.BAD_INPUT


async def test_a_broken_file_after_good_ones_sends_nothing(tmp_path: Path) -> None:
    good = hostile.write(tmp_path, hostile.unquoted_comma)
    broken = hostile.write(tmp_path, hostile.unterminated_quote)
    async with running_sandbox() as sandbox:
        with pytest.raises(InputError, match="a quote opens there and never closes"):
            await import_into(sandbox, [good, broken], make_settings(), tmp_path / "r.csv")
        assert not sandbox.store.worklogs


@pytest.mark.parametrize(
    ("reading", "breaks_after", "code"),
    [(1, 10, None), (2, 1, ExitCode.BAD_INPUT), (2, 10, ExitCode.STOPPED_PART_WAY)],
)
async def test_a_file_that_breaks_mid_run_stops_it_and_the_exit_code_tells_the_truth(
    reading: int,
    breaks_after: int,
    code: ExitCode | None,
    write_csv: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Files are read whole before the first request — once to check them, once more to see
    the month as a whole — and then once more as rows are booked. One that breaks in the
    month's reading stops the run before anything is sent (exit 2); one that breaks while
    rows are booked (changed on disk, a failing disk) stops the run: exit 2 if nothing was
    sent yet, else 6, with a summary of what was booked."""
    from importer.read import tables

    path = write_csv(month_rows(12))
    readable = tables.records
    reads = [0]

    def breaking(*args: object) -> Iterator[tuple[int, list[str]]]:
        reads[0] += 1
        for number, fields in readable(*args):  # type: ignore[arg-type]
            if reads[0] == reading and number > breaks_after:
                raise InputError(f"{path}: cannot read after row {number - 1}: I/O error")
            yield number, fields

    monkeypatch.setattr(tables, "records", breaking)
    settings = make_settings(delivery={"concurrency": 1})
    async with running_sandbox() as sandbox:
        if code is None:
            with pytest.raises(InputError, match="cannot read after row 10: I/O error"):
                await import_into(sandbox, [path], settings, tmp_path / "r.csv")
            assert not sandbox.store.worklogs and not sandbox.stats.routes
            return
        summary = await import_into(sandbox, [path], settings, tmp_path / "r.csv")
        stored = len(sandbox.store.worklogs)
    assert summary.exit_code == code
    assert summary.stopped == f"{path}: cannot read after row {breaks_after}: I/O error"
    assert summary.counts["created"] == stored
    assert (stored > 0) == (code == ExitCode.STOPPED_PART_WAY)


def test_spreadsheet_error_cells_name_the_error(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from tests.helpers import HEADER, read_bookings

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["PORT-1", "01.10.2026", "09:00", "#DIV/0!", "x", "a"])
    sheet.append(["PORT-2", "01.10.2026", "09:00", 1, "#N/A", "a"])
    for cell in ("D2", "E3"):
        sheet[cell].data_type = "e"
    path = tmp_path / "errors.xlsx"
    book.save(path)
    results = read_bookings(path, columns=dict(COLUMNS))
    assert [getattr(results[row], "reason", None) for row in (2, 3)] == [
        "column 'Hours': the cell holds the spreadsheet error #DIV/0!",
        "column 'Comment': the cell holds the spreadsheet error #N/A",
    ]


async def test_a_file_whose_dates_can_only_be_the_other_order_is_refused_before_sending(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    """Read day first, 10/05/2026 is 10 May; a 10/25/2026 in the same file shows it is 5
    October. Booking the rest anyway would put them on the wrong day: the file is refused."""
    rows = [
        ["Issue", "Date", "Start", "Hours", "Comment", "Author"],
        ["PORT-1", "10/05/2026", "09:00", "1", "a", "a.smirnova"],
        ["PORT-2", "10/25/2026", "09:00", "1", "b", "a.smirnova"],
    ]
    path = write_csv(rows)
    async with running_sandbox() as sandbox:
        with pytest.raises(InputError) as refused:
            await import_into(sandbox, [path], make_settings(), tmp_path / "r.csv")
        assert not sandbox.store.worklogs
        month_first = make_settings(input={"dayfirst": False})
        summary = await import_into(sandbox, [path], month_first, tmp_path / "r2.csv")
        starts = sorted(w.start.date() for w in sandbox.store.worklogs.values())
    assert str(refused.value) == (
        f"{path}: row 3 column 'Date' value '10/25/2026' can only be month first, but the "
        "file's dates are read day first (input.dayfirst = true, a preset's default or the "
        "config's): row 2's '10/05/2026' and every date like it would be booked on the wrong "
        "day. Set input.dayfirst = false; nothing was sent"
    )
    assert summary.exit_code == ExitCode.OK
    assert starts == [dt.date(2026, 10, 5), dt.date(2026, 10, 25)]
    dotted = write_csv([rows[0], [*rows[1][:1], "05.10.2026", *rows[1][2:]], rows[2]])
    async with running_sandbox() as sandbox:  # no ambiguous date: only that row is invalid
        alone = await import_into(sandbox, [dotted], make_settings(), tmp_path / "r3.csv")
    assert (alone.counts["created"], alone.counts["invalid"]) == (1, 1)


async def test_a_row_of_numbers_only_is_a_total_only_when_it_adds_up_the_rows_above(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["Issue", "Date", "Start", "Hours", "Comment", "Author"],
        ["PORT-1", "01.10.2026", "09:00", "1", "a", "a.smirnova"],
        ["PORT-2", "01.10.2026", "11:00", "2,5", "b", "a.smirnova"],
        ["", "", "", "3,5", "", ""],  # row 4: the subtotal of rows 2–3
        ["PORT-3", "02.10.2026", "09:00", "2", "c", "a.smirnova"],
        ["", "", "", "8", "", ""],  # row 6: adds up nothing: an entry that lost its issue
        ["", "", "", "", "", ""],
        ["", "", "", "5,5", "", ""],  # row 8: the grand total
    ]
    async with running_sandbox() as sandbox:
        summary = await import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv")
    lines = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert [lines[r]["status"] for r in ("4", "6", "7", "8")] == [
        "skipped", "invalid", "skipped", "skipped",
    ]  # fmt: skip
    assert lines["6"]["error"] == (
        "column 'Hours' value '8': a row with no issue, date or text, and its hours are not "
        "the total of the rows above (2 h since the last total, 5.5 h in all): is it an entry "
        "missing its issue and date?"
    )
    assert summary.exit_code == ExitCode.ROWS_FAILED and summary.counts["created"] == 3


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_unread(tmp_path: Path) -> None:
    import zipfile

    from importer.config import InputSection
    from importer.read.tables import open_table

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", b" " * (300 << 20))  # 300 MiB of spaces
    with pytest.raises(InputError, match=r"bomb\.xlsx: unpacks to 300 MiB, [\d,]+ times its size"):
        open_table(bomb, InputSection())
