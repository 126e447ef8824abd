"""What makes a booking itself: its content, its fingerprint, its occurrence number.

Two rows are *the same booking* when they book the same issue, start instant, business
duration and comment — and author, whenever the author is part of what is booked. This is
the one definition: the journal's fingerprints and the locks that keep identical rows apart
(:func:`twin_key`) are both built from :func:`booking_content`.
"""

from __future__ import annotations

import functools
import hashlib

from importer.formats import utc_instant
from importer.models import Mode, Worklog

_utc_text = functools.lru_cache(maxsize=65536)(utc_instant)


def comment_as_tracker_keeps(comment: str) -> str:
    """A comment as Tracker's answers show it: line breaks as ``\n``, no outer blanks — how a
    row and a worklog are compared. (Fingerprints hash ``comment.strip()`` only: journals of
    earlier versions hold them, so that recipe stays.)"""
    return comment.replace("\r\n", "\n").strip()


def booking_content(worklog: Worklog, *, with_author: bool = True) -> str:
    """What a row books, as text: issue, start instant (UTC), seconds, comment, author."""
    return "\x1f".join(
        (
            worklog.issue,
            _utc_text(worklog.start),
            str(int(worklog.duration.total_seconds())),
            worklog.comment.strip(),
            worklog.author if with_author else "",
        )
    )


def fingerprint(
    worklog: Worklog, *, mode: Mode, target: str, occurrence: int, content: str | None = None
) -> str:
    """A stable id for "the ``occurrence``-th row booking exactly this, at this Tracker".

    SHA-256 over the Tracker address and organisation, the mode, :func:`booking_content` and
    the occurrence number: so twins stay two, and a re-export with one more twin books
    exactly one more. Journals of earlier versions hold these: never change the recipe.
    """
    content = booking_content(worklog) if content is None else content
    return Fingerprints(target, mode).of(content.encode(), occurrence)


class Fingerprints:
    """:func:`fingerprint` for every row of a run: the target and mode are hashed once."""

    def __init__(self, target: str, mode: Mode) -> None:
        # SHA-256 of a concatenation, fed in parts: the very recipe of fingerprint().
        self._prefix = hashlib.sha256(f"{target}\x1f{mode.value}\x1f".encode())

    def of(self, content: bytes, occurrence: int) -> str:
        """The fingerprint of :func:`booking_content` (encoded) and its occurrence number."""
        digest = self._prefix.copy()
        digest.update(content)
        digest.update(b"\x1f%d" % occurrence)
        return digest.hexdigest()


def twin_key(worklog: Worklog, mode: Mode) -> str:
    """What Tracker can tell apart: the author counts only when it is sent (import mode).

    Rows with the same key are delivered one after another, so a reconciling row can never
    adopt the worklog its twin has just created.
    """
    return booking_content(worklog, with_author=mode is Mode.IMPORT)


class Occurrences:
    """Numbers identical rows 1, 2, 3… so that two genuinely identical entries stay two.

    Keyed by an 8-byte digest to keep a million-row input's memory small; a digest clash
    only renumbers rows, the same way on every run, so fingerprints stay stable.
    """

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    def next(self, content: str | bytes) -> int:
        """The occurrence number of the next row with this :func:`booking_content`."""
        data = content.encode() if isinstance(content, str) else content
        key = hashlib.blake2b(data, digest_size=8).digest()
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        return count
