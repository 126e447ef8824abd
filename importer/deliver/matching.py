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

from importer.deliver.identity import comment_as_tracker_keeps
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
    return comment_as_tracker_keeps(a) == comment_as_tracker_keeps(b)


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


class RecordIndex:
    """A listing indexed once by what a match needs (start instant, duration, comment), so a
    waiting row finds its candidates in O(1) instead of parsing every record again.

    Records whose start or duration cannot be read never match, as in :func:`books`.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]], *, by_issue: bool = False) -> None:
        """``by_issue``: the records come from several issues (a search), so a match must
        also be of the row's issue."""
        self._by_content: dict[tuple[str, dt.datetime, dt.timedelta, str], list[Mapping[str, Any]]]
        self._by_content = {}
        self._by_issue = by_issue
        self.size = 0
        for record in records:
            self.size += 1
            try:
                start = parse_tracker_start(str(record["start"]))
                duration = parse_business_iso(str(record["duration"]))
            except (KeyError, ValueError):
                continue
            issue = _issue_key(record) if by_issue else ""
            key = (
                issue,
                start,
                duration,
                comment_as_tracker_keeps(str(record.get("comment") or "")),
            )
            self._by_content.setdefault(key, []).append(record)
        for candidates in self._by_content.values():
            candidates.sort(key=_id_order)  # the oldest first

    def match(
        self, worklog: Worklog, authors: Collection[str], claimed: Collection[str]
    ) -> Mapping[str, Any] | None:
        """The oldest unclaimed record that books exactly ``worklog``, by one of ``authors``."""
        issue = worklog.issue if self._by_issue else ""
        key = (
            issue,
            worklog.start.astimezone(dt.UTC),
            worklog.duration,
            comment_as_tracker_keeps(worklog.comment),
        )
        for record in self._by_content.get(key, ()):
            if str(record.get("id")) not in claimed and created_by_one_of(record, authors):
                return record
        return None


def _issue_key(record: Mapping[str, Any]) -> str:
    issue = record.get("issue")
    return str(issue.get("key", "")) if isinstance(issue, Mapping) else ""


def _id_order(record: Mapping[str, Any]) -> tuple[int, str]:
    # Ids may come as numbers or numeric strings; order them numerically either way.
    worklog_id = str(record.get("id"))
    return (len(worklog_id), worklog_id)


def find_match(
    records: Iterable[Mapping[str, Any]],
    worklog: Worklog,
    authors: Collection[str],
    claimed: Collection[str],
) -> Mapping[str, Any] | None:
    """The oldest unclaimed record that matches, if any (indexes ``records`` first)."""
    return RecordIndex(records).match(worklog, authors, claimed)
