"""Sync and undo: keeping Tracker equal to a corrected file, and taking an import back.

``plan`` pairs a file with its batch's earlier bookings (pure); ``editor`` edits and deletes
earlier bookings' worklogs exactly once; ``looking`` finds one booked worklog in Tracker;
``corrections`` holds back a plain run's rows that correct an earlier booking; ``verify``
matches a file's rows with Tracker's listings for ``verify``.
"""

from importer.sync.corrections import CorrectionGuard
from importer.sync.editor import Editor, describe_change
from importer.sync.looking import Looks
from importer.sync.plan import Delete, Step, SyncPlan, Update, plan_sync

__all__ = [
    "CorrectionGuard",
    "Delete",
    "Editor",
    "Looks",
    "Step",
    "SyncPlan",
    "Update",
    "describe_change",
    "plan_sync",
]
