"""``batches``: what the journal knows, batch by batch, and each batch's runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from importer.config import Settings
from importer.journal import Journal
from importer.journal.schema import BatchInfo, RunInfo
from importer.pipeline.options import RunOptions, state_path


@dataclasses.dataclass(frozen=True)
class BatchHistory:
    """One batch: its bookings and hours (:class:`BatchInfo`) and its runs, oldest first."""

    info: BatchInfo
    runs: list[RunInfo]

    @property
    def where(self) -> str:
        """The Tracker organisation it was booked at, as a person reads it."""
        base, _, org = self.info.target.partition("|")
        return f"{base} organisation {org}"


def run_files(run: RunInfo) -> list[str]:
    """The files a run read, by name."""
    return [Path(f).name for f in json.loads(run.files)]


def journal_path(settings: Settings, state: Path | None = None) -> Path:
    """Where the journal is: ``state``, else ``state.path``, else the default."""
    path = state_path(RunOptions(files=(), settings=settings, state_path=state))
    assert path is not None  # only a sandbox run keeps its journal in memory
    return path


def list_batches(journal: Path) -> list[BatchHistory]:
    """Every batch the journal at ``journal`` knows, with its runs (read-only, no lock)."""
    opened = Journal.open(journal, readonly=True)
    try:
        return [
            BatchHistory(info, opened.runs(info.target, info.batch)) for info in opened.batches()
        ]
    finally:
        opened.close()
