"""Pipeline: the stages wired into one run — ``run_import(RunOptions) -> RunSummary``.

``inputs`` opens the files, ``bookings`` turns rows into bookings, ``pool`` runs the elastic
worker pool, ``sink`` sends outcomes to the report, ``run`` puts them together.
"""

from importer.pipeline.options import RunOptions
from importer.pipeline.run import run_import, run_import_async

__all__ = ["RunOptions", "run_import", "run_import_async"]
