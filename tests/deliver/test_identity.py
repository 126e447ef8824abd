"""What makes a booking itself: one definition for fingerprints and for twin rows."""

from __future__ import annotations

import datetime as dt

from importer.deliver.identity import Occurrences, booking_content, fingerprint, twin_key
from importer.models import Mode, Worklog

MSK = dt.timezone(dt.timedelta(hours=3))
START = dt.datetime(2026, 10, 1, 9, 0, tzinfo=MSK)
WORKLOG = Worklog("PORT-1", START, dt.timedelta(minutes=90), "Созвон", "a.smirnova")


def test_the_fingerprint_recipe_never_changes() -> None:
    """Journals written by earlier versions hold these very values: a changed recipe would
    make every row of a re-run look new and book it twice."""
    assert (
        fingerprint(
            WORKLOG, mode=Mode.CREATE, target="https://api.tracker.yandex.net|123", occurrence=1
        )
        == "0b3450742bb48268757e8c99ca49f62676680c1d9a09efdb7db0096763e7c794"
    )
    assert fingerprint(
        WORKLOG, mode=Mode.IMPORT, target="https://api.tracker.yandex.net|cloud:bpf", occurrence=2
    ) == "9ecdb565bcf1c07c3ce5ef531f04893a26a6d1d32da3f9df44db849df29b7c7b"  # fmt: skip


def test_fingerprints_separate_targets_modes_and_occurrences() -> None:
    base = fingerprint(WORKLOG, mode=Mode.CREATE, target="a", occurrence=1)
    assert base == fingerprint(WORKLOG, mode=Mode.CREATE, target="a", occurrence=1)
    assert base != fingerprint(WORKLOG, mode=Mode.CREATE, target="b", occurrence=1)
    assert base != fingerprint(WORKLOG, mode=Mode.IMPORT, target="a", occurrence=1)
    assert base != fingerprint(WORKLOG, mode=Mode.CREATE, target="a", occurrence=2)


def test_the_same_instant_in_another_zone_is_the_same_booking() -> None:
    in_utc = Worklog(
        "PORT-1", dt.datetime(2026, 10, 1, 6, 0, tzinfo=dt.UTC), WORKLOG.duration, " Созвон ",
        "a.smirnova",
    )  # fmt: skip
    assert booking_content(in_utc) == booking_content(WORKLOG)


def test_twins_differ_by_author_only_when_the_author_is_sent() -> None:
    other_author = Worklog(
        WORKLOG.issue, WORKLOG.start, WORKLOG.duration, WORKLOG.comment, "i.petrov"
    )
    assert twin_key(other_author, Mode.CREATE) == twin_key(WORKLOG, Mode.CREATE)
    assert twin_key(other_author, Mode.IMPORT) != twin_key(WORKLOG, Mode.IMPORT)


def test_identical_rows_are_numbered_in_order() -> None:
    occurrences = Occurrences()
    first, other = booking_content(WORKLOG), booking_content(WORKLOG) + "x"
    assert [occurrences.next(c) for c in (first, other, first, first)] == [1, 1, 2, 3]
