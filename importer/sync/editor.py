"""Edit or delete an earlier booking's worklog exactly once, and never someone else's change.

Before any write the worklog is looked up in Tracker (:class:`~importer.sync.looking.Looks`):

* gone already → ``gone`` (a correction's row is then booked anew);
* edited by someone since it was booked (its version and its content both differ from what
  this product last saw, and it is not what this edit is about to write) → ``conflict``:
  left as it is, reported with both versions;
* already what the edit wants (a crashed run's edit landed) → settled, nothing sent.

Otherwise the journal marks the intent — durably — and the PATCH or DELETE goes out. Both are
safe to repeat, but a lost answer is still checked first: the next attempt looks again and
only writes when the worklog is still as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from importer.deliver import Calls, Deliverer, Stopped
from importer.deliver.matching import books
from importer.deliver.outcomes import stopped_message
from importer.errors import (
    AuthError,
    DeliveryError,
    JournalError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    TrackerUnavailable,
)
from importer.formats import format_duration
from importer.journal import Journal
from importer.journal.schema import Booked
from importer.log import get_logger
from importer.models import Booking, Mode, Outcome, SourceRow, Status, Worklog
from importer.sync.looking import Looks
from importer.sync.plan import Delete, Update, earlier_source, earlier_worklog, intended
from importer.sync.verify import as_worklog
from importer.tracker import Record

log = get_logger()
_ROW_ERRORS = (Stopped, Rejected, AuthError, TrackerUnavailable, JournalError, Retryable)


class _Conflict(Exception):
    def __init__(self, record: Record) -> None:
        self.record = record


class _Gone(Exception):
    pass


@dataclasses.dataclass
class _Edit:
    """One edit's way: what it starts from, what it wants, what it knows so far."""

    earlier: Booked
    booking: Booking | None  # the corrected row; None: delete
    was: Worklog
    unsure: bool = False  # a write went unanswered: look before writing again
    attempts: int = 0
    sent: bool = False

    @property
    def goal(self) -> Worklog | None:
        return self.booking.worklog if self.booking is not None else None


def describe_change(before: Worklog, after: Worklog) -> str:
    """``duration 2h → 1h30m; comment 'a' → 'b'``."""
    parts = []
    if before.duration != after.duration:
        parts.append(f"hours {_hours(before.duration)} → {_hours(after.duration)}")
    if before.comment.strip() != after.comment.strip():
        parts.append(f"comment {before.comment.strip()!r} → {after.comment.strip()!r}")
    if before.start != after.start:
        parts.append(f"start {before.start.isoformat()} → {after.start.isoformat()}")
    return "; ".join(parts) or "no change"


def _hours(duration: dt.timedelta) -> str:
    return f"{duration.total_seconds() / 3600:g}"


def _version(record: Record | None) -> str | None:
    version = record.get("version") if record else None
    return None if version is None else str(version)


class Editor:
    """Applies a sync's (or an undo's) updates and deletions."""

    def __init__(
        self,
        calls: Calls,
        journal: Journal,
        looks: Looks,
        deliverer: Deliverer | None,
        zone: dt.tzinfo | None = None,
    ) -> None:
        self.zone = zone  # where the report shows an earlier booking's start
        self.calls = calls
        self.stops = calls.stops
        self.journal = journal
        self.looks = looks
        self._deliverer = deliverer  # books a correction anew when its worklog is gone

    async def apply(self, step: Update | Delete) -> Outcome:
        """Carry out one step; never raises for a row-level problem."""
        members: tuple[tuple[SourceRow, Worklog], ...] = ()  # a merged group's rows
        if isinstance(step, Update):
            edit = _Edit(step.earlier, step.booking, earlier_worklog(step.earlier, self.zone))
            source, warning, members = (
                step.booking.source,
                step.booking.warning,
                step.booking.members,
            )
        else:
            edit = _Edit(step.earlier, None, earlier_worklog(step.earlier, self.zone))
            source, warning = earlier_source(step.earlier), ""
        outcome = Outcome(
            source,
            Status.PENDING,
            edit.goal or edit.was,
            previous=edit.was,
            warning=warning,
            members=members,
        )
        outcome.worklog_id = edit.earlier.worklog_id or ""
        successes = self.calls.successes
        try:
            return await self._apply(edit, outcome)
        except _ROW_ERRORS as error:
            return self._unfinished(edit, outcome, error, successes)

    async def _apply(self, edit: _Edit, outcome: Outcome) -> Outcome:
        self.stops.check()
        earlier = edit.earlier
        if earlier.worklog_id is None:
            # An earlier run's POST went unanswered: find what it created, if anything.
            found = await self.looks.unanswered(earlier, edit.was)
            if found is None:
                self.journal.settle_deleted(earlier.fingerprint)
                return await self._gone(edit, outcome, "its request never created a worklog")
            earlier = edit.earlier = dataclasses.replace(
                earlier, worklog_id=str(found["id"]), version=_version(found)
            )
            outcome.worklog_id = str(found["id"])
        current = await self.looks.current(earlier, fresh=False)
        if current is None:
            self.journal.settle_deleted(earlier.fingerprint)
            if earlier.state == "deleting" and edit.goal is None:
                return self._done(edit, outcome)  # a crashed run's delete had landed
            return await self._gone(edit, outcome, "")
        if edit.goal is not None and books(current, edit.goal):
            return self._done(edit, outcome, current)  # a crashed run's edit had landed
        if not self._ours(edit, current):
            return self._conflict(edit, outcome, current)
        await self.journal.mark_intent(earlier.fingerprint, *self._intent(edit))
        try:
            record = await self.calls.first_then_retrying(
                lambda: self._attempt(edit), f"{earlier.issue} worklog {earlier.worklog_id}"
            )
        except _Conflict as conflict:
            return self._conflict(edit, outcome, conflict.record)
        except _Gone:
            self.journal.settle_deleted(earlier.fingerprint)
            if edit.goal is None:
                return self._done(edit, outcome)
            return await self._gone(edit, outcome, "")
        return self._done(edit, outcome, record)

    def _intent(self, edit: _Edit) -> tuple[str, dict[str, Any]]:
        if edit.booking is None:
            return "deleting", {"run": self.journal.run_id}
        goal = edit.booking.worklog
        return "updating", {
            "fingerprint": edit.booking.fingerprint,
            "seconds": int(goal.duration.total_seconds()),
            "comment": goal.comment.strip(),
            "run": self.journal.run_id,
        }

    def _ours(self, edit: _Edit, record: Record) -> bool:
        """Whether the worklog is as this product left it (or as this edit makes it)."""
        version = edit.earlier.version
        if version is not None and _version(record) == version:
            return True
        if books(record, edit.was):
            return True
        if edit.goal is not None and books(record, edit.goal):
            return True
        unfinished = intended(edit.earlier)  # what a stopped sync was writing
        return unfinished is not None and books(record, unfinished)

    async def _attempt(self, edit: _Edit) -> Record:
        self.stops.check()
        earlier = edit.earlier
        if edit.unsure:
            current = await self.looks.current(earlier, fresh=True)
            if current is None:
                raise _Gone
            if edit.goal is not None and books(current, edit.goal):
                return current  # the unanswered PATCH had landed
            if not self._ours(edit, current):
                raise _Conflict(current)
            edit.unsure = False
        edit.attempts += 1
        edit.sent = True
        self.stops.sent += 1
        client = self.calls.client
        v3 = earlier.mode == Mode.IMPORT.value
        worklog_id = str(earlier.worklog_id)
        try:
            if edit.goal is None:
                await self.calls.patiently(client.delete_worklog(earlier.issue, worklog_id, v3=v3))
                return {"id": worklog_id}
            changes = {
                "duration": format_duration(edit.goal.duration),
                "comment": edit.goal.comment.strip(),
            }
            return await self.calls.patiently(
                client.update_worklog(earlier.issue, worklog_id, changes, v3=v3)
            )
        except OutcomeUnknown:
            edit.unsure = True
            raise
        except Rejected as error:
            if error.status == 404:
                log.info(
                    "edit_found_gone",
                    issue=earlier.issue,
                    worklog_id=worklog_id,
                    delete=edit.goal is None,
                    unsure=edit.unsure,
                    state=earlier.state,
                )
                raise _Gone from None
            raise

    def _done(self, edit: _Edit, outcome: Outcome, record: Record | None = None) -> Outcome:
        earlier = edit.earlier
        outcome.attempts = edit.attempts
        outcome.http_status = 204 if edit.booking is None else 200
        if edit.booking is None:
            self.journal.settle_deleted(earlier.fingerprint)
            outcome.status = Status.DELETED
            outcome.error = "deleted" + ("" if edit.sent else " (by an earlier, interrupted run)")
            return outcome
        self.journal.settle_updated(
            earlier.fingerprint,
            edit.booking.fingerprint,
            edit.booking.worklog,
            _version(record),
            file=edit.booking.source.file,
            row=edit.booking.source.row,
        )
        outcome.status = Status.UPDATED
        outcome.error = "updated: " + describe_change(edit.was, edit.booking.worklog)
        if not edit.sent:
            outcome.error += " (Tracker held it already)"
        return outcome

    def _conflict(self, edit: _Edit, outcome: Outcome, record: Record) -> Outcome:
        earlier = edit.earlier
        if earlier.state != "created":
            self.journal.settle_kept(earlier.fingerprint)
        now = as_worklog(record, edit.was.issue, edit.was.author) or edit.was
        outcome.status = Status.CONFLICT
        outcome.http_status = 200
        outcome.attempts = edit.attempts
        outcome.error = (
            f"worklog {earlier.worklog_id} was edited in Tracker since it was booked "
            f"(version {earlier.version or 'unknown'} → {_version(record)}: "
            f"{describe_change(edit.was, now)}); left as it is"
        )
        return outcome

    async def _gone(self, edit: _Edit, outcome: Outcome, why: str) -> Outcome:
        earlier = edit.earlier
        what = why or f"worklog {earlier.worklog_id} was already deleted in Tracker"
        if edit.booking is not None and self._deliverer is not None:
            booked = await self._deliverer.deliver(edit.booking)
            note = f"{what}; the corrected row was booked anew"
            booked.warning = f"{booked.warning}; {note}" if booked.warning else note
            booked.previous = edit.was
            return booked
        outcome.status = Status.GONE
        outcome.error = what
        return outcome

    def _unfinished(
        self, edit: _Edit, outcome: Outcome, error: BaseException, successes: int
    ) -> Outcome:
        stops = self.stops.after_row_error(
            error, importing=False, nothing_succeeded=self.calls.successes == successes
        )
        outcome.attempts = edit.attempts
        if isinstance(error, DeliveryError):
            outcome.http_status = error.status
        what = "edit" if edit.booking is not None else "delete"
        if stops:
            reason = str(self.stops.reason) if self.stops.reason else "run stopped"
            outcome.error = f"{what} not finished: " + stopped_message(
                reason, uncertain=edit.unsure
            )
        elif isinstance(error, Rejected):
            outcome.status, outcome.error = Status.FAILED, f"{what} refused: {error.message}"
        elif isinstance(error, Retryable) and edit.unsure:
            outcome.error = f"{what}: outcome unknown, gave up after {edit.attempts} attempts"
        elif isinstance(error, Retryable):
            outcome.status = Status.FAILED
            outcome.error = f"{what}: gave up after {edit.attempts} attempts: {error.message}"
        return outcome
