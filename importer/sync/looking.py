"""Looking up one booked worklog in Tracker, by what the journal knows of it.

Tracker documents no request for a single worklog. When the journal holds the worklog's
``createdBy`` and ``createdAt`` (every booking since batches exist), a search for what that
person created in that second across all issues (``POST /v2/worklog/_search``) answers with a
handful of records, whatever the size of the issue: reads follow the number of edits, not the
month. A worklog the search does not show (an older journal, or a search index lagging
behind) is looked for in its issue's listing, which is the authority: a worklog is only
ever called gone when its issue's listing lacks it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Hashable

from importer.deliver import Calls, Holdings
from importer.deliver.holdings import shared
from importer.errors import Rejected, SearchTooWide
from importer.formats import parse_tracker_start
from importer.journal.schema import Booked
from importer.models import Worklog
from importer.tracker import Record

WINDOW = dt.timedelta(seconds=1)


def _by_id(records: list[Record], worklog_id: str) -> Record | None:
    for record in records:
        if str(record.get("id")) == worklog_id:
            return record
    return None


class Looks:
    """The run's lookups of booked worklogs; issue listings are shared and read once."""

    def __init__(self, calls: Calls, holdings: Holdings) -> None:
        self._calls = calls
        self._holdings = holdings
        self._listings: dict[Hashable, asyncio.Future[list[Record]]] = {}

    async def current(self, earlier: Booked, *, fresh: bool) -> Record | None:
        """The worklog as Tracker holds it now, or ``None`` when it is gone.

        ``fresh``: after a write of this run, so no listing read before it may answer.
        """
        worklog_id = str(earlier.worklog_id)
        if earlier.created_by and earlier.tracker_created_at:
            found = _by_id(await self._search(earlier), worklog_id)
            if found is not None:
                return found
        if fresh:
            return _by_id(await self._list(earlier.issue), worklog_id)
        listing = await shared(self._listings, earlier.issue, lambda: self._list(earlier.issue))
        return _by_id(listing, worklog_id)

    async def unanswered(self, earlier: Booked, worklog: Worklog) -> Record | None:
        """What an earlier run's unanswered POST created, if anything (as the pre-check finds
        a row's worklog: an unclaimed one that books exactly this, by its author)."""
        return await self._holdings.existing(worklog)

    async def _search(self, earlier: Booked) -> list[Record]:
        assert earlier.created_by and earlier.tracker_created_at
        try:
            moment = parse_tracker_start(earlier.tracker_created_at)
        except ValueError:
            return []
        client = self._calls.client
        try:
            return await self._calls.pages(
                f"search worklog {earlier.worklog_id}",
                lambda each: client.search_worklogs(
                    str(earlier.created_by), moment - WINDOW, moment + WINDOW, each_page=each
                ),
            )
        except (SearchTooWide, Rejected):
            return []  # the issue's listing answers instead

    async def _list(self, issue: str) -> list[Record]:
        client = self._calls.client
        return await self._calls.pages(
            f"{issue} (sync)", lambda each: client.issue_worklogs(issue, each_page=each)
        )
