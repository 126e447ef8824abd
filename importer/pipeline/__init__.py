"""Pipeline: the stages wired into the commands — ``run_import(RunOptions) -> RunSummary``,
``undo``, ``verify`` and ``list_batches`` beside it.

``inputs`` opens the files, ``bookings`` turns rows into bookings, ``pool`` runs the elastic
worker pool, ``sink`` sends outcomes to the report, ``session`` holds what every command
shares (journal, credentials, outputs, delivery, the summary), ``run``, ``syncing``,
``undoing``, ``verifying`` and ``batches`` are the commands.
"""

from importer.pipeline.batches import BatchHistory, journal_path, list_batches
from importer.pipeline.options import RunOptions
from importer.pipeline.run import run_import, run_import_async
from importer.pipeline.undoing import UndoOptions, undo, undo_async
from importer.pipeline.verifying import verify, verify_async

__all__ = [
    "BatchHistory",
    "RunOptions",
    "UndoOptions",
    "journal_path",
    "list_batches",
    "run_import",
    "run_import_async",
    "undo",
    "undo_async",
    "verify",
    "verify_async",
]
