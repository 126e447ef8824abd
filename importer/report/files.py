"""Every file a run writes for people (report, failed rows, summary) is written the same way.

A new file is made beside the target and renamed over it: a symlink at the target is
replaced, never followed (a report path linked into someone else's folder must not
overwrite what the link points to), and a reader never sees half of an old and half of a
new file. The report is renamed into place as soon as it is created, so the lines a run has
finished are on disk even if it crashes; the summary, written whole at the end, is renamed
into place once complete.

Every failure is an :class:`~importer.errors.OutputError` naming the path and the problem.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TextIO

from importer.errors import OutputError

_BUFFER = 1 << 16


def problem(path: Path, what: str, error: OSError) -> OutputError:
    reason = error.strerror or str(error)
    return OutputError(f"cannot write the {what} {path}: {reason}")


def _beside(path: Path) -> tuple[Path, int]:
    """A new file in ``path``'s folder (created here, so never an existing file or link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    return temporary, descriptor


def new_file(path: Path, what: str) -> TextIO:
    """``path`` as a new, empty text file (UTF-8, ``newline=""``), in place at once."""
    try:
        temporary, descriptor = _beside(path)
    except OSError as error:
        raise problem(path, what, error) from None
    handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="", buffering=_BUFFER)
    try:
        os.replace(temporary, path)
    except OSError as error:
        handle.close()
        temporary.unlink(missing_ok=True)
        raise problem(path, what, error) from None
    return handle


def write_whole(path: Path, text: str, what: str) -> None:
    """Write ``text`` to ``path``: into a new file beside it, renamed over it when complete."""
    temporary: Path | None = None
    try:
        temporary, descriptor = _beside(path)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise problem(path, what, error) from None


def check_writable(path: Path, what: str) -> None:
    """Fail now, before anything is sent, if ``path`` could not be written at the end."""
    if path.is_dir():
        raise OutputError(f"cannot write the {what} {path}: it is a folder")
    try:
        temporary, descriptor = _beside(path)
    except OSError as error:
        raise problem(path, what, error) from None
    os.close(descriptor)
    temporary.unlink(missing_ok=True)
