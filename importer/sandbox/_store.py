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

    def record(self, base: str) -> dict[str, Any]:
        """The worklog as Tracker's API shows it (UTC ``+0000``, business-time duration)."""
        user = {
            "self": f"{base}/v2/users/{self.author.uid}",
            "id": str(self.author.uid),
            "display": self.author.display,
        }
        created = format_tracker_start(self.created_at.astimezone(dt.UTC))
        return {
            "self": f"{base}/v2/issues/{self.issue}/worklog/{self.id}",
            "id": self.id,
            "version": int(self.created_at.timestamp() * 1000),
            "issue": {
                "self": f"{base}/v2/issues/{self.issue}",
                "id": hashlib.sha1(self.issue.encode()).hexdigest()[:24],
                "key": self.issue,
                "display": f"Issue {self.issue}",
            },
            "comment": self.comment,
            "createdBy": user,
            "updatedBy": user,
            "createdAt": created,
            "updatedAt": created,
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
        self.worklogs[worklog.id] = worklog
        return worklog

    def of_issue(self, issue: str, after_id: int = 0) -> list[StoredWorklog]:
        return [w for w in self.worklogs.values() if w.issue == issue and w.id > after_id]
