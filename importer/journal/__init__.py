"""The journal: what this machine booked, run by run, so a booking is never made twice.

``store`` is the :class:`Journal` (SQLite, WAL): per booking its batch, run and what Tracker
answered; the ``sending``/``created`` marks and the edit marks; runs; the run lock.
``schema`` holds its tables, the migration of older journals and its records
(:class:`Entry`, :class:`Booked`, :class:`BatchInfo`, :class:`RunInfo`); ``commits`` group
the marks of rows that settle together into one transaction.
"""

from importer.journal.schema import BatchInfo, Booked, Entry, RunInfo
from importer.journal.store import Journal, default_state_path, exclusive

__all__ = [
    "BatchInfo",
    "Booked",
    "Entry",
    "Journal",
    "RunInfo",
    "default_state_path",
    "exclusive",
]
