"""A corpus of malformed and hostile exports, generated (never hand-edited).

Each builder returns the file's bytes; :func:`write` puts one in a folder. The rows use the
test column set (``tests.helpers.HEADER``), so one config reads them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

HEADER = "Issue,Date,Start,Hours,Comment,Author"
GOOD = [
    "PORT-1,01.10.2026,09:00,1,Созвон по релизу,a.smirnova",
    "PORT-2,02.10.2026,10:00,2,Ревью,i.petrov",
]


def _lines(*rows: str, encoding: str = "utf-8") -> bytes:
    return "".join(f"{row}\r\n" for row in rows).encode(encoding)


def unquoted_comma() -> bytes:
    """Row 3 has an unquoted comma in its comment: one field too many."""
    return _lines(HEADER, GOOD[0], "PORT-3,03.10.2026,11:00,1,fix, and test,m.kuznetsova", GOOD[1])


def missing_fields() -> bytes:
    """Row 3 lost its last two fields."""
    return _lines(HEADER, GOOD[0], "PORT-3,03.10.2026,11:00,1", GOOD[1])


def utf8_with_cp1251_rows() -> bytes:
    """A UTF-8 file in which row 3 was pasted from a cp1251 file."""
    return (
        _lines(HEADER, GOOD[0])
        + _lines("PORT-3,03.10.2026,11:00,1,Планёрка,d.volkov", encoding="cp1251")
        + _lines(GOOD[1])
    )


def cp1251_with_a_utf8_row() -> bytes:
    """A cp1251 file in which row 4 was pasted from a UTF-8 file."""
    return _lines(
        HEADER, GOOD[0], "PORT-3,03.10.2026,11:00,1,Планёрка,d.volkov", encoding="cp1251"
    ) + _lines(GOOD[1])


def unterminated_quote() -> bytes:
    """Row 4 opens a quote that never closes; rows after it would vanish into one cell."""
    return _lines(
        HEADER, GOOD[0], GOOD[1], 'PORT-3,03.10.2026,11:00,1,"Созвон, a.smirnova', GOOD[0]
    )


def huge_cell() -> bytes:
    """Row 3's comment is 200,000 characters long, beyond the csv module's field limit."""
    return _lines(HEADER, GOOD[0], 'PORT-3,03.10.2026,11:00,1,"' + "x" * 200_000 + '",d.volkov')


def wide_header() -> bytes:
    """A header of 100,000 columns (the first six are the real ones)."""
    extra = ",".join(f"x{n}" for n in range(100_000))
    return _lines(f"{HEADER},{extra}", GOOD[0] + "," * 100_000)


def write(folder: Path, build: Callable[[], bytes], name: str = "") -> Path:
    path = folder / (name or f"{build.__name__}.csv")
    path.write_bytes(build())
    return path


def duplicate_hours() -> bytes:
    """Two columns named Hours: planned and actual."""
    return _lines(
        "Issue,Date,Start,Hours,Comment,Author,Hours",
        "PORT-1,01.10.2026,09:00,8,Созвон,a.smirnova,1",
    )


def control_characters() -> bytes:
    """A NUL inside an issue key (row 2), a bell inside a comment (row 3), and a comment of
    two lines (row 4, which is fine)."""
    return _lines(
        HEADER,
        "PORT-4\x0013,01.10.2026,09:00,1,Созвон,a.smirnova",
        "PORT-5,01.10.2026,10:00,1,Ревью\x07,a.smirnova",
        'PORT-6,01.10.2026,11:00,1,"две\nстроки",a.smirnova',
    )


def invisible_characters() -> bytes:
    """Characters that show nothing yet change the text (rows 2–5), in a file with a BOM,
    and the invisible ones that belong to the text: an emoji's joiner and a direction mark
    in Hebrew (rows 6–7, fine)."""
    return b"\xef\xbb\xbf" + _lines(
        HEADER,
        "PORT-14\u200b,01.10.2026,09:00,1,Созвон,a.smirnova",
        "PORT-5,01.10.2026,10:00,1,\u202eйицазилаер,a.smirnova",
        "PORT-6,01.10.2026,11:00,1,Ревью\ufeff,a.smirnova",
        "PORT-7,01.10.2026,12:00,1,NEL\x85here,a.smirnova",
        "PORT-8,01.10.2026,13:00,1,семья 👨\u200d👩\u200d👧,a.smirnova",
        "PORT-9,01.10.2026,14:00,1,\u05e9\u05dc\u05d5\u05dd\u200f 2,a.smirnova",
    )


def odd_values() -> bytes:
    """Seconds in durations, a start before 1900, digits of another script."""
    return _lines(
        HEADER,
        "PORT-1,01.10.2026,09:00,0:29:31,Toggl seconds,a.smirnova",
        "PORT-2,01.10.2026,10:00,0:00:20,twenty seconds,a.smirnova",
        "PORT-3,05.10.0206,09:00,1,year 206,a.smirnova",
        "PORT-4,01.10.2026,12:00,٣,Arabic-Indic three,a.smirnova",
        "PORT-5,٠١.10.2026,13:00,1,Arabic-Indic date,a.smirnova",
        "PORT-6,01.10.2026,1٤:00,1,Arabic-Indic time,a.smirnova",
    )
