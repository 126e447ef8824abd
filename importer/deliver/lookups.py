"""What Tracker will refuse, asked once per issue and per author before any row is sent.

A row for an issue that does not exist, or that the token may not see, fails with 404/403
only when its POST is answered, and the month is then half booked. So before the first POST
(and in a dry run with credentials) every distinct issue key is looked up: by Tracker's issue
search, which takes a list of keys (``POST /v2/issues/_search``, ``{"keys": [...]}``; 100
keys a search, paged), and, for each key the search did not show, one ``GET
/v2/issues/<key>`` — the search leaves out alike the keys that do not exist and those the
token may not see, and an issue moved to another queue answers under its new key; the
``GET`` tells them apart. A refused search (an older Tracker, a proxy) falls back to one
``GET`` per key. In import mode every distinct author is looked up too (``GET
/v3/users/<login>``, shared with the identities delivery needs later). Cost: at most one
request per distinct issue and author, plus the searches' pages; never one per row.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Iterable

from importer.deliver.calls import Calls
from importer.deliver.holdings import Holdings
from importer.deliver.stops import SYSTEMIC_FORBIDDEN
from importer.errors import AuthError, Rejected
from importer.log import get_logger
from importer.models import Mode, Worklog
from importer.tracker import Record, TrackerClient
from importer.tracker.paged import PageFetch

log = get_logger()
KEYS_PER_SEARCH = 100


@dataclasses.dataclass
class Refusals:
    """Issues and authors Tracker is known to refuse, with what it said; the requests spent."""

    issues: dict[str, str] = dataclasses.field(default_factory=dict)
    authors: dict[str, str] = dataclasses.field(default_factory=dict)
    requests: int = 0
    looked_up: int = 0  # distinct issues and authors asked about

    def of(self, worklog: Worklog, mode: Mode) -> str:
        """Why Tracker will refuse this row, or ``""``."""
        reason = self.issues.get(worklog.issue, "")
        if not reason and mode is Mode.IMPORT and worklog.author:
            reason = self.authors.get(worklog.author, "")
        return reason

    def as_json(self) -> dict[str, object]:
        return {
            "unknown_issues": self.issues,
            "unknown_authors": self.authors,
            "looked_up": self.looked_up,
            "requests": self.requests,
        }


def _why(what: str, error: Rejected) -> str:
    if error.status == 404:
        return f"{what} does not exist in Tracker ({error.message})"
    if error.status == 403:
        return f"{what} exists, but this token may not see it ({error.message})"
    return f"Tracker refuses {what} ({error.message})"


async def look_up(
    calls: Calls, holdings: Holdings, issues: Iterable[str], authors: Iterable[str], mode: Mode
) -> Refusals:
    """Every distinct issue (and, in import mode, author): which Tracker will refuse."""
    client = calls.client
    before = client.stats.requests
    keys = sorted(set(issues))
    logins = sorted(set(authors)) if mode is Mode.IMPORT else []
    refusals = Refusals(looked_up=len(keys) + len(logins))
    shown = await _searched(calls, keys)
    forbidden = 0
    for key in keys:
        if key in shown:
            continue
        try:
            await calls.fetch(f"issue {key}", functools.partial(client.issue, key))
        except Rejected as error:
            refusals.issues[key] = _why(f"issue {key}", error)
            forbidden += error.status == 403
    if forbidden == len(keys) >= SYSTEMIC_FORBIDDEN:
        # As when every POST is refused: the token may see none of them, not these issues.
        raise AuthError(
            f"this token may not see any of the files' {len(keys)} issues (403 on each)", 403
        )
    for login in logins:
        try:
            await holdings.identities(login)
        except Rejected as error:
            refusals.authors[login] = _why(f"author {login!r}", error)
    refusals.requests = client.stats.requests - before
    log.info(
        "tracker_checked",
        issues=len(keys),
        authors=len(logins),
        unknown_issues=sorted(refusals.issues),
        unknown_authors=sorted(refusals.authors),
        requests=refusals.requests,
    )
    return refusals


def _search(
    client: TrackerClient, keys: list[str]
) -> Callable[[PageFetch], Awaitable[list[Record]]]:
    def read(fetch: PageFetch) -> Awaitable[list[Record]]:
        return client.issues_by_keys(keys, each_page=fetch)

    return read


async def _searched(calls: Calls, keys: list[str]) -> set[str]:
    """The keys Tracker's issue search shows (each found issue's key and its aliases)."""
    client = calls.client
    shown: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_SEARCH):
        chunk = keys[start : start + KEYS_PER_SEARCH]
        try:
            found = await calls.pages("issue search", _search(client, chunk))
        except Rejected as error:
            log.warning("issue_search_refused", reason=str(error), fallback="one GET per issue")
            return shown
        for record in found:
            shown.add(str(record.get("key", "")))
            shown.update(str(alias) for alias in record.get("aliases") or [])
    return shown
