"""The sandbox's memory: users, issues and the worklogs booked on them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable
from typing import Any

from importer.formats import format_business_duration, format_tracker_start


@dataclasses.dataclass(frozen=True)
class SandboxUser:
    """A Tracker user the sandbox knows; ``token`` is what authenticates as them."""

    login: str
    uid: int
    display: str
    token: str = ""
    admin: bool = False
    email: str = ""


@dataclasses.dataclass
class StoredWorklog:
    id: int
    issue: str
    start: dt.datetime
    duration: dt.timedelta
    comment: str
    author: SandboxUser
    created_at: dt.datetime
    version: int = 0
    updated_at: dt.datetime | None = None
    updated_by: SandboxUser | None = None

    def change(self, by: SandboxUser, **fields: Any) -> None:
        """Apply an edit as Tracker does: the version rises, ``updatedAt/By`` are set."""
        for name, value in fields.items():
            setattr(self, name, value)
        self.version += 1
        self.updated_at = dt.datetime.now(dt.UTC)
        self.updated_by = by

    def record(self, base: str) -> dict[str, Any]:
        """The worklog as Tracker's API shows it (UTC ``+0000``, business-time duration)."""

        def person(user: SandboxUser) -> dict[str, str]:
            return {
                "self": f"{base}/v2/users/{user.uid}",
                "id": str(user.uid),
                "display": user.display,
            }

        created = format_tracker_start(self.created_at.astimezone(dt.UTC))
        updated = format_tracker_start((self.updated_at or self.created_at).astimezone(dt.UTC))
        return {
            "self": f"{base}/v2/issues/{self.issue}/worklog/{self.id}",
            "id": self.id,
            "version": self.version,
            "issue": {
                "self": f"{base}/v2/issues/{self.issue}",
                "id": hashlib.sha1(self.issue.encode()).hexdigest()[:24],
                "key": self.issue,
                "display": f"Issue {self.issue}",
            },
            "comment": self.comment,
            "createdBy": person(self.author),
            "updatedBy": person(self.updated_by or self.author),
            "createdAt": created,
            "updatedAt": updated,
            "start": format_tracker_start(self.start.astimezone(dt.UTC)),
            "duration": format_business_duration(self.duration),
        }


def _author_keys(user: SandboxUser) -> set[str]:
    return {user.login, str(user.uid)}


class Store:
    """Worklogs by id, in creation order (ids ascend like Tracker's), and by issue.

    ``others_per_issue``: worklogs other people booked on each issue long before, stored
    the first time the issue is touched — a long-lived "support" issue, for benchmarks.
    """

    def __init__(self, others_per_issue: int = 0, other: SandboxUser | None = None) -> None:
        self.worklogs: dict[int, StoredWorklog] = {}
        self._by_issue: dict[str, dict[int, StoredWorklog]] = {}
        # By author (login, and uid as text): searches by ``createdBy`` read only these, as
        # Tracker's own index would, not every worklog of a store seeded with big issues.
        self._by_author: dict[str, dict[int, StoredWorklog]] = {}
        self._ids = itertools.count(1)
        self._others = others_per_issue
        self._other = other

    def _issue(self, issue: str) -> dict[int, StoredWorklog]:
        found = self._by_issue.get(issue)
        if found is None:
            found = self._by_issue[issue] = {}
            if self._others and self._other is not None:
                long_ago = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)
                for n in range(self._others):
                    start = long_ago + dt.timedelta(hours=n)
                    # The issue is known now: add() does not seed it again.
                    self.add(issue, start, dt.timedelta(hours=1), f"other {n}", self._other, start)
        return found

    def add(
        self,
        issue: str,
        start: dt.datetime,
        duration: dt.timedelta,
        comment: str,
        author: SandboxUser,
        created_at: dt.datetime | None = None,
    ) -> StoredWorklog:
        self._issue(issue)
        worklog = StoredWorklog(
            id=next(self._ids),
            issue=issue,
            start=start,
            duration=duration,
            comment=comment,
            author=author,
            created_at=created_at or dt.datetime.now(dt.UTC),
        )
        worklog.version = int(worklog.created_at.timestamp() * 1000)
        self._index(worklog)
        return worklog

    def _index(self, worklog: StoredWorklog) -> None:
        self.worklogs[worklog.id] = worklog
        self._by_issue.setdefault(worklog.issue, {})[worklog.id] = worklog
        for key in _author_keys(worklog.author):
            self._by_author.setdefault(key, {})[worklog.id] = worklog

    def put(self, worklog: StoredWorklog) -> None:
        """A worklog put back from a kept store, with its id (its issue counts as seeded:
        the kept store holds whatever others had booked); new ids follow the highest."""
        self._index(worklog)
        self._ids = itertools.count(max(self.worklogs) + 1)

    def find(self, issue: str, worklog_id: str) -> StoredWorklog | None:
        """The worklog ``worklog_id`` of ``issue``, unless it never was or was deleted."""
        worklog = self.worklogs.get(int(worklog_id)) if worklog_id.isdigit() else None
        return worklog if worklog is not None and worklog.issue == issue else None

    def delete(self, worklog: StoredWorklog) -> None:
        del self.worklogs[worklog.id]
        del self._by_issue[worklog.issue][worklog.id]
        for key in _author_keys(worklog.author):
            del self._by_author[key][worklog.id]

    def by_author(self, wanted: str | None) -> Iterable[StoredWorklog]:
        """Every worklog, or those created by ``wanted`` (a login or uid), in id order."""
        if wanted is None:
            return self.worklogs.values()
        return self._by_author.get(wanted, {}).values()

    def of_issue(
        self, issue: str, after_id: int = 0, most: int | None = None
    ) -> list[StoredWorklog]:
        """The issue's worklogs with ids above ``after_id``, in id order, ``most`` of them."""
        found = []
        for worklog in self._issue(issue).values():
            if worklog.id > after_id:
                found.append(worklog)
                if most is not None and len(found) >= most:
                    break
        return found


def dump_worklogs(store: Store) -> list[dict[str, Any]]:
    """What a rehearsal's store holds, to keep beside its journal (``load_worklogs``)."""
    return [
        {
            "id": w.id,
            "issue": w.issue,
            "start": w.start.isoformat(),
            "seconds": int(w.duration.total_seconds()),
            "comment": w.comment,
            "author": w.author.login,
            "created_at": w.created_at.isoformat(),
            "version": w.version,
            "updated_at": w.updated_at.isoformat() if w.updated_at else None,
            "updated_by": w.updated_by.login if w.updated_by else None,
        }
        for w in store.worklogs.values()
    ]


def load_worklogs(
    store: Store, records: list[dict[str, Any]], users: dict[str, SandboxUser]
) -> None:
    """Put back what :func:`dump_worklogs` kept, with the same ids, versions and times."""
    for r in sorted(records, key=lambda r: int(r["id"])):
        updated_at = r.get("updated_at")
        store.put(
            StoredWorklog(
                id=int(r["id"]),
                issue=r["issue"],
                start=dt.datetime.fromisoformat(r["start"]),
                duration=dt.timedelta(seconds=int(r["seconds"])),
                comment=r["comment"],
                author=users[r["author"]],
                created_at=dt.datetime.fromisoformat(r["created_at"]),
                version=int(r["version"]),
                updated_at=dt.datetime.fromisoformat(updated_at) if updated_at else None,
                updated_by=users.get(r.get("updated_by") or ""),
            )
        )
