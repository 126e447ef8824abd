"""CSV, TSV and text exports: encoding, delimiter, and records that may not fit the header.

Read with the ``csv`` module record by record, so every row is seen as the file has it:

* a row with more non-empty fields than the header (an unquoted delimiter inside a cell)
  or with fewer fields is never booked with shifted columns: it carries a *problem* and
  is reported ``invalid``;
* bytes that are not in the file's encoding (a file that mixes UTF-8 and cp1251) make
  *that row* invalid, named by its real row number; the other rows' text is never
  decoded in the wrong encoding. A file is taken as UTF-8 when most of its non-ASCII
  lines are UTF-8, so a few cp1251 rows do not turn the whole file into mojibake, and a
  row of UTF-8 text inside a cp1251 file is caught too;
* problems that leave the rest of the file unreadable — a quote that never closes, a cell
  beyond the ``csv`` module's field limit, a file that cannot be read — are found by
  :func:`check_records` before anything is sent, and refuse the whole file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import functools
import hashlib
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

import charset_normalizer

from importer.errors import InputError

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
SAMPLE_BYTES = 1024 * 1024
HEADER_SCAN_ROWS = 30
FIELD_LIMIT = csv.field_size_limit()  # 128 KiB: no timesheet cell is that long


@functools.lru_cache(maxsize=16)
def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def detect_encoding(path: Path, configured: str) -> str:
    """``auto``: UTF-8 (with or without BOM) when most non-ASCII lines of the file's start
    are UTF-8; otherwise cp1251 (Russian Excel's "CSV (разделители — точка с запятой)") or
    cp1252 (Latin-1: e.g. Redmine's English export), whichever charset-normalizer finds
    coherent in the lines that are not UTF-8."""
    if configured != "auto":
        return configured
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text"
    # Cut at a line end so a multi-byte character is never split by the sample's edge.
    sample = head[: head.rfind(b"\n") + 1 or len(head)]
    utf8 = 0
    other: list[bytes] = []
    for line in sample.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other.append(line)
    if len(other) <= utf8:
        return "utf-8-sig"
    best = charset_normalizer.from_bytes(
        b"\n".join(other), cp_isolation=["cp1251", "cp1252"]
    ).best()
    return best.encoding if best is not None else "cp1251"


def sniff_delimiter(path: Path, encoding: str, configured: str) -> str:
    """The configured delimiter, a tab for ``.tsv``, else the one the start of the file uses."""
    if configured:
        return "\t" if configured in ("\\t", "tab") else configured
    if path.suffix.lower() == ".tsv":
        return "\t"
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(SNIFF_BYTES)
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # Title rows or too little text confuse the sniffer: take the delimiter that splits
        # the most lines into the same number of fields.
        lines = [line for line in sample.splitlines()[:HEADER_SCAN_ROWS] if line.strip()]

        def steadiness(d: str) -> tuple[int, int]:
            counts = [line.count(d) for line in lines]
            common = max(set(counts), key=counts.count) if counts else 0
            return (counts.count(common) if common else 0, common)

        return max(DELIMITERS, key=steadiness)


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# UTF-8's C1 controls, zero-width space, bidirectional controls and byte order mark (the
# characters ``normalize.sendable.INVISIBLE`` adds to C0 and DEL).
_INVISIBLE_UTF8 = re.compile(
    rb"\xc2[\x80-\x9f]|\xe2\x80[\x8b\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xef\xbb\xbf"
)
_HIGH_CONTROLS = re.compile(rb"[\x80-\x9f]")  # C1 controls in a Latin-1-like encoding
# A UTF-8 multi-byte sequence: in a single-byte file, the mark of a row pasted from UTF-8.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


@dataclasses.dataclass(frozen=True)
class Scan:
    """What one pass over a file's bytes rules out, so rows need not be looked at one by
    one: ``clean_text`` — every byte decodes in the file's encoding and no row can be
    another encoding's; ``no_controls`` — no control character anywhere."""

    clean_text: bool
    no_controls: bool
    digest: str = ""  # SHA-256 of the bytes: the same file named twice is refused


def scan_bytes(path: Path, encoding: str) -> Scan:
    """One pass over the file's bytes, in 1 MiB blocks (C speed)."""
    utf16 = codecs.lookup(encoding).name.startswith("utf-16")  # strict; NULs everywhere
    utf8 = is_utf8(encoding)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    clean, no_controls, tail = True, True, b""
    # In a single-byte encoding the bytes 0x80–0x9F are letters (cp1251, cp1252) or C1
    # controls (Latin-1); in UTF-8, invisible characters are sequences (see _INVISIBLE_UTF8).
    invisible = _INVISIBLE_UTF8 if utf8 else _HIGH_CONTROLS if _c1_controls(encoding) else None
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            if utf16:
                continue
            start = 3 if not tail and block.startswith(b"\xef\xbb\xbf") else 0  # the BOM
            if no_controls and (
                _CONTROL_BYTES.search(block)
                or (invisible is not None and invisible.search(tail + block, start))
            ):
                no_controls = False
            if clean and utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    clean = False
            elif clean and (_UTF8_SEQUENCE.search(tail + block) or not _decodes(block, encoding)):
                clean = False
            tail = block[-2:]
    if utf16:
        return Scan(clean_text=True, no_controls=False, digest=digest.hexdigest())
    return Scan(clean, no_controls, digest.hexdigest())


def _c1_controls(encoding: str) -> bool:
    """Whether the encoding reads some byte 0x80–0x9F as a C1 control (Latin-1 does)."""
    text = bytes(range(0x80, 0xA0)).decode(encoding, errors="ignore")
    return any("\x80" <= ch <= "\x9f" for ch in text)


def _decodes(block: bytes, encoding: str) -> bool:
    """Whether every byte has a character in a single-byte encoding (cp1251 has no 0x98)."""
    try:
        block.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


UNSCANNED = Scan(clean_text=False, no_controls=False)


def _open(path: Path, encoding: str) -> TextIO:
    # Undecodable bytes become lone surrogates (surrogateescape): a row that holds them is
    # reported on its own instead of failing the whole file. UTF-16 has no such mixing.
    errors = "strict" if codecs.lookup(encoding).name.startswith("utf-16") else "surrogateescape"
    return path.open(encoding=encoding, errors=errors, newline="")


def _not_encoded(field: str, encoding: str) -> str:
    """Why a field's text is not what the file's encoding says, or ``""``."""
    if field.isascii():
        return ""
    try:
        raw = field.encode("utf-8" if is_utf8(encoding) else encoding, "strict")
    except UnicodeEncodeError:
        bad = field.encode("utf-8", "surrogateescape")
        shown = " ".join(f"0x{b:02X}" for b in bad if b >= 0x80)[:40]
        return f"bytes that are not {encoding} ({shown}): the file mixes encodings"
    if is_utf8(encoding):
        return ""
    try:
        meant = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    if meant != field:
        return f"UTF-8 text ({meant!r}) in a {encoding} file: the file mixes encodings"
    return ""


def row_problem(fields: list[str], width: int, encoding: str, names: list[str]) -> str:
    """Why a record cannot be read as a row of this header, or ``""``."""
    if len(fields) > width and any(f.strip() for f in fields[width:]):
        return (
            f"the row has {len(fields)} fields but the header has {width} "
            "(an unquoted delimiter inside a cell?); not read, so that no column shifts"
        )
    if 0 < len(fields) < width:
        return (
            f"the row has {len(fields)} fields but the header has {width}; "
            "not read, so that no column shifts"
        )
    if not _mixed(fields[:width], encoding):
        return ""
    for name, field in zip(names, fields, strict=False):
        if problem := _not_encoded(field, encoding):
            return f"column '{name}': {problem}"
    return ""


def _mixed(fields: list[str], encoding: str) -> bool:
    """One look at the whole row (the common case: it is fine); the fields only if not."""
    text = "".join(fields)
    if text.isascii():
        return False
    try:
        raw = text.encode("utf-8" if is_utf8(encoding) else encoding)
    except UnicodeEncodeError:
        return True
    if is_utf8(encoding):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@contextlib.contextmanager
def _reading(path: Path, encoding: str, where: list[int]) -> Iterator[None]:
    """Turn what stops a file part-way into ``InputError`` naming the row (``where[0]``
    is the last row read)."""
    try:
        yield
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(
                f"{path}: row {where[0] + 1}: a cell longer than {FIELD_LIMIT // 1024} KiB "
                "(no timesheet cell is; a quote that never closes?)"
            ) from None
        raise InputError(f"{path}: row {where[0] + 1}: cannot read: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not readable as {encoding} near row {where[0] + 1} ({exc.reason}); "
            'set input.encoding (e.g. "cp1251")'
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read after row {where[0]}: {exc.strerror}") from None


def records(
    path: Path, encoding: str, delimiter: str, skip: int
) -> Iterator[tuple[int, list[str]]]:
    """``(row number, fields)`` for each record after the first ``skip`` ones.

    Raises ``InputError`` for what leaves the rest of the file unreadable.
    """
    where = [skip]
    with _reading(path, encoding, where), _open(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for _ in islice(reader, skip):
            pass
        for fields in reader:
            where[0] += 1
            yield where[0], fields


def head_records(path: Path, encoding: str, delimiter: str) -> list[list[str]]:
    """The first records, for finding the header."""
    return [fields for _, fields in islice(records(path, encoding, delimiter, 0), HEADER_SCAN_ROWS)]


def check_records(path: Path, encoding: str, delimiter: str, skip: int) -> int:
    """Read the whole file once, before anything is sent: refuse it now if it cannot be
    read to the end (a quote that never closes, a huge cell, an I/O error). Returns how
    many records follow the first ``skip`` (a cell may span lines: records, not lines)."""
    where = [skip]
    first_line = 0  # where the last record began
    with _reading(path, encoding, where), _open(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for _ in islice(reader, skip):
            pass
        line = reader.line_num
        for _ in reader:
            where[0] += 1
            first_line, line = line + 1, reader.line_num
    if where[0] > skip and _quote_left_open(path, encoding, delimiter, first_line):
        raise InputError(
            f"{path}: row {where[0]}: a quote opens there and never closes, so the rest "
            "of the file would be one cell; fix the quoting"
        )
    return where[0] - skip


def _quote_left_open(path: Path, encoding: str, delimiter: str, first_line: int) -> bool:
    """Whether the record starting at ``first_line`` (1-based) ends inside a quote at EOF."""
    with _open(path, encoding) as handle:
        for _ in islice(handle, first_line - 1):
            pass
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            for _ in reader:
                pass
        except csv.Error as exc:
            return "unexpected end of data" in str(exc)
    return False
