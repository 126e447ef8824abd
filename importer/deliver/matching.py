"""Is this worklog in Tracker the one a row meant to book? Pure rules, used to reconcile.

A match has the same issue, the same start *instant*, the same business duration, the same
comment, was created by the expected person, and is not already claimed by another row.
Tracker answers with ``start`` in UTC and ``duration`` normalised (``PT8H`` → ``P1D``), so
both are compared as values, never as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from importer.formats import parse_business_iso, parse_tracker_start
from importer.models import Worklog


def user_identities(user: Mapping[str, Any]) -> frozenset[str]:
    """Every id Tracker may put in ``createdBy.id`` for this user (login or a numeric uid)."""
    ids = {
        str(user[k])
        for k in ("login", "uid", "trackerUid", "passportUid", "cloudUid")
        if user.get(k)
    }
    if isinstance(user.get("self"), str):
        ids.add(user["self"].rstrip("/").rsplit("/", 1)[-1])
    return frozenset(ids)


def _same_text(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def created_by_one_of(record: Mapping[str, Any], authors: Collection[str]) -> bool:
    """Whether ``createdBy`` (its id, or the uid ending its ``self``) is one of ``authors``."""
    created_by = record.get("createdBy") or {}
    creator = {str(created_by.get("id", ""))}
    if isinstance(created_by.get("self"), str):
        creator.add(created_by["self"].rstrip("/").rsplit("/", 1)[-1])
    return bool(creator & set(authors))


def books(record: Mapping[str, Any], worklog: Worklog) -> bool:
    """Whether a Tracker worklog record holds ``worklog``'s start, duration and comment."""
    try:
        start = parse_tracker_start(str(record["start"]))
        duration = parse_business_iso(str(record["duration"]))
    except (KeyError, ValueError):
        return False
    return (
        start == worklog.start.astimezone(dt.UTC)
        and duration == worklog.duration
        and _same_text(str(record.get("comment") or ""), worklog.comment)
    )


def record_matches(record: Mapping[str, Any], worklog: Worklog, authors: Collection[str]) -> bool:
    """Whether a Tracker worklog record books exactly what ``worklog`` would, by one of
    ``authors``."""
    return books(record, worklog) and created_by_one_of(record, authors)


def find_match(
    records: Iterable[Mapping[str, Any]],
    worklog: Worklog,
    authors: Collection[str],
    claimed: Collection[str],
) -> Mapping[str, Any] | None:
    """The oldest unclaimed record that matches, if any."""
    # Ids may come as numbers or numeric strings; order them numerically either way.
    for record in sorted(records, key=lambda r: (len(str(r.get("id"))), str(r.get("id")))):
        if str(record.get("id")) not in claimed and record_matches(record, worklog, authors):
            return record
    return None
