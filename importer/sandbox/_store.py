"""The sandbox's memory: users, issues and the worklogs booked on them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
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


class Store:
    """Worklogs by id, in creation order (ids ascend like Tracker's)."""

    def __init__(self) -> None:
        self.worklogs: dict[int, StoredWorklog] = {}
        self._ids = itertools.count(1)

    def add(
        self,
        issue: str,
        start: dt.datetime,
        duration: dt.timedelta,
        comment: str,
        author: SandboxUser,
        created_at: dt.datetime | None = None,
    ) -> StoredWorklog:
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
        self.worklogs[worklog.id] = worklog
        return worklog

    def find(self, issue: str, worklog_id: str) -> StoredWorklog | None:
        """The worklog ``worklog_id`` of ``issue``, unless it never was or was deleted."""
        worklog = self.worklogs.get(int(worklog_id)) if worklog_id.isdigit() else None
        return worklog if worklog is not None and worklog.issue == issue else None

    def delete(self, worklog: StoredWorklog) -> None:
        del self.worklogs[worklog.id]

    def of_issue(self, issue: str, after_id: int = 0) -> list[StoredWorklog]:
        return [w for w in self.worklogs.values() if w.issue == issue and w.id > after_id]
