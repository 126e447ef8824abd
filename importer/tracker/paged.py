"""Tracker's paged reads: worklogs by search or by issue, issues by their keys.

Mixed into :class:`importer.tracker.TrackerClient`, which sends the requests (pacing,
errors); here is only how pages are asked for and when the last one has come.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from importer.errors import Rejected, SearchTooWide
from importer.formats import format_tracker_start

Record = dict[str, Any]
PAGE_SIZE = 500
SEARCH_PAGE = 500  # worklogs per search page asked for (Tracker may answer fewer)
SURELY_LAST_PAGE = 50  # a search page with fewer worklogs than this is the last
ISSUE_PAGE = 100  # issues per page of an issue search by keys (Tracker's default is 50)

# How each page of a paged read is asked for: the caller may retry a page on its own, so a
# failure on page 7 of a big issue repeats page 7, not pages 1–7.
PageFetch = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


async def _once(request: Callable[[], Awaitable[Any]]) -> Any:
    return await request()


class PagedReads:
    """The paged reads of :class:`~importer.tracker.TrackerClient` (its ``_request``)."""

    _request: Callable[..., Awaitable[Any]]

    async def search_worklogs(
        self,
        created_by: str,
        since: dt.datetime,
        until: dt.datetime,
        *,
        each_page: PageFetch = _once,
    ) -> list[Record]:
        """``POST /v2/worklog/_search``: every worklog ``created_by`` created in a window,
        across all issues, page by page. A page shorter than asked for proves little (Tracker
        may cap the page size, its docs do not say at what); one shorter than
        ``SURELY_LAST_PAGE`` (50, assumed to be the least any page size could be capped at)
        is the last, else paging goes on to an empty page.

        Raises :class:`SearchTooWide` when the answer cannot be read whole: Tracker refuses
        pages past its item limit ("Request exceeds 10000 items limit"), or it ignores
        ``page`` and answers the same page again.
        """
        body = {
            "createdBy": created_by,
            "createdAt": {"from": format_tracker_start(since), "to": format_tracker_start(until)},
        }
        found: list[Record] = []
        seen: set[str] = set()
        page = 1
        while True:
            params = {"perPage": str(SEARCH_PAGE), "page": str(page)}
            try:
                answer = await each_page(
                    functools.partial(
                        self._request, "POST", "/v2/worklog/_search", body=body, params=params
                    )
                )
            except Rejected as error:
                if error.status == 400 and "exceeds" in error.message.lower():
                    raise SearchTooWide(error.message, 400) from None
                raise
            records = [r for r in answer if isinstance(r, dict)] if isinstance(answer, list) else []
            if not records:
                return found
            last_page = len(records) < min(SURELY_LAST_PAGE, SEARCH_PAGE)
            ids = {str(r.get("id")) for r in records}
            if ids & seen:
                raise SearchTooWide("Tracker answered the same worklogs for the next page")
            seen |= ids
            found.extend(records)
            if last_page:
                return found
            page += 1

    async def issue_worklogs(self, issue: str, *, each_page: PageFetch = _once) -> list[Record]:
        """Every worklog of an issue, paging by id (``perPage`` + ``id`` of the last one).

        Pages until an empty one: a server that caps pages below ``perPage`` must not make
        us miss worklogs, since a missed one would be booked twice.
        """
        found: list[Record] = []
        params = {"perPage": str(PAGE_SIZE)}
        while True:
            page = await each_page(
                functools.partial(
                    self._request, "GET", f"/v2/issues/{issue}/worklog", params=params
                )
            )
            if not isinstance(page, list) or not page:
                return found
            found.extend(page)
            params = {"perPage": str(PAGE_SIZE), "id": str(page[-1]["id"])}

    async def issues_by_keys(
        self, keys: Sequence[str], *, each_page: PageFetch = _once
    ) -> list[Record]:
        """``POST /v2/issues/_search`` with ``keys``: those of ``keys`` that exist and this
        token may see (Tracker leaves the others out, saying nothing of why), page by page
        until a page shorter than asked for or ``X-Total-Pages`` says it was the last."""
        found: list[Record] = []
        page = 1
        while True:
            params = {"perPage": str(ISSUE_PAGE), "page": str(page)}
            answer = await each_page(
                functools.partial(
                    self._request, "POST", "/v2/issues/_search", body={"keys": list(keys)},
                    params=params,
                )
            )  # fmt: skip
            records = [r for r in answer if isinstance(r, dict)] if isinstance(answer, list) else []
            found.extend(records)
            if len(records) < ISSUE_PAGE or len(found) >= len(keys):
                return found
            page += 1
