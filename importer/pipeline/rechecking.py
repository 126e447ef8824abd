"""``run --recheck``: the batch's worklogs looked for in Tracker before the run, so that one
deleted there since (by hand, by another tool) is booked again instead of trusted to the
journal as ``already_imported``.

A run trusts its journal: a row booked before is not sent again, and Tracker is not asked.
That is what makes a month's re-run cost nothing — and why a worklog someone deleted in
Tracker stays missing (``verify`` reports it ``missing``). With ``--recheck`` each issue the
batch booked into is listed once (Tracker's listing is the authority: a worklog is gone only
when its issue's listing lacks it), and every booking whose worklog id is not listed is
marked gone in the journal; its row, still in the file, is then booked anew like any new
row, exactly once. A dry run only forgets those bookings for its plan. An issue Tracker
refuses to list is left as the journal says.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from importer.errors import Rejected
from importer.journal import Journal
from importer.log import get_logger
from importer.models import Booking, Outcome
from importer.pipeline.delivery import Delivery
from importer.tracker import Record


async def issue_listings(
    delivery: Delivery, issues: Iterable[str], concurrency: int, why: str
) -> tuple[dict[str, list[Record]], dict[str, str]]:
    """Every issue's worklogs; an issue Tracker refuses to list is kept with its reason."""
    calls = delivery.deliverer.calls
    client = delivery.client
    gate = asyncio.Semaphore(concurrency)
    found: dict[str, list[Record]] = {}
    refused: dict[str, str] = {}

    async def one(issue: str) -> None:
        async with gate:
            try:
                found[issue] = await calls.pages(
                    f"{issue} ({why})", lambda each: client.issue_worklogs(issue, each_page=each)
                )
            except Rejected as error:
                refused[issue] = f"cannot read {issue}'s worklogs: {error.message}"

    await asyncio.gather(*(one(issue) for issue in issues))
    return found, refused


@dataclasses.dataclass
class Recheck:
    """What looking for the batch's worklogs in Tracker found."""

    looked_for: int = 0  # bookings with a worklog id
    issues: int = 0
    gone: dict[str, str] = dataclasses.field(default_factory=dict)  # fingerprint → worklog id
    unread: dict[str, str] = dataclasses.field(default_factory=dict)  # issue → why

    def rows(self, items: Iterable[Booking | Outcome]) -> Iterator[Booking | Outcome]:
        """The rows, those whose worklog was gone saying so (they are booked again)."""
        for item in items:
            if isinstance(item, Booking) and item.fingerprint in self.gone:
                note = (
                    f"its worklog {self.gone[item.fingerprint]} was no longer in Tracker "
                    "(deleted there since it was booked): booked again"
                )
                item.warning = f"{item.warning}; {note}" if item.warning else note
            yield item

    def as_json(self) -> dict[str, Any]:
        return {
            "looked_for": self.looked_for,
            "issues": self.issues,
            "gone": len(self.gone),
            "unread_issues": self.unread,
        }


async def recheck(
    journal: Journal,
    target: str,
    batch: str,
    delivery: Delivery,
    concurrency: int,
) -> Recheck:
    """List the issues the batch's bookings are in; mark the bookings whose worklog is not
    there gone (a read-only journal, a dry run's, is left as it is: see ``Recheck.gone``)."""
    booked = [
        b for b in journal.batch_bookings(target, batch) if b.state == "created" and b.worklog_id
    ]
    issues = sorted({b.issue for b in booked})
    listings, refused = await issue_listings(delivery, issues, concurrency, "recheck")
    found = Recheck(looked_for=len(booked), issues=len(issues), unread=refused)
    for b in booked:
        if b.issue not in listings:
            continue
        if not any(str(r.get("id")) == b.worklog_id for r in listings[b.issue]):
            found.gone[b.fingerprint] = str(b.worklog_id)
    if found.gone and not journal.readonly:
        for fingerprint in found.gone:
            journal.settle_deleted(fingerprint)
        await journal.flush()  # the deliverer's journal lookups see them gone from now on
    get_logger().info(
        "recheck_done", bookings=len(booked), issues=len(issues), gone=len(found.gone)
    )
    return found
