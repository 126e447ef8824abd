"""Dry runs: what a real run would do with each row. Sends nothing, writes nothing.

A row the journal holds as created is ``already_imported``. With credentials and the
pre-check on, each issue's worklogs are read (once) and a row already in Tracker is
``already_imported`` too; the rest would be created. If Tracker cannot be consulted, the
plan goes on from the journal alone and says so in the summary.
"""

from __future__ import annotations

from importer.deliver import outcomes
from importer.deliver.holdings import Holdings
from importer.deliver.stops import RunStop, Stopped
from importer.errors import DeliveryError, TrackerUnavailable
from importer.journal.store import Journal
from importer.models import Booking, Outcome


class Planner:
    """Plans rows from the journal and, while it can, from Tracker's worklogs."""

    def __init__(
        self,
        journal: Journal,
        target: str,
        stops: RunStop,
        holdings: Holdings | None,
        *,
        forget: frozenset[str] = frozenset(),
    ) -> None:
        # ``forget``: bookings a rebook takes back before it books (not booked, to this plan)
        self._recall = journal.recall(target, forget)
        self._stops = stops
        self._holdings = holdings  # None: plan from the journal alone

    async def plan(self, booking: Booking) -> Outcome:
        """What a real run would do with this row."""
        known = outcomes.known_from_journal(booking, self._recall(booking.fingerprint))
        if known is not None:
            return known
        if self._holdings is None or self._stops.reason is not None:
            return outcomes.would_create(booking)
        try:
            match = await self._holdings.existing(booking.worklog)
        except (DeliveryError, Stopped) as exc:
            match = None
            self._stops.stop(TrackerUnavailable(f"Tracker not consulted: {exc}"))
        if match is not None:
            return outcomes.found_before(booking, str(match["id"]))
        return outcomes.would_create(booking)
