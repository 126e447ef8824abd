"""Book timesheets into Yandex Tracker as worklogs, exactly once, with a per-row report.

The public API is what ``__all__`` lists; everything else may change between versions.
"""

from importer.config import (
    Credentials,
    Settings,
    load_settings,
    parse_settings,
    resolve_credentials,
)
from importer.errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    ExitCode,
    ImporterError,
    InputError,
    Interrupted,
    JournalError,
    OutcomeUnknown,
    OutputError,
    Rejected,
    Retryable,
    RowInvalid,
    SearchTooWide,
    StateLocked,
    SwitchRefused,
    SyncRefused,
    TrackerUnavailable,
    Unreachable,
)
from importer.formats import format_duration, parse_business_iso
from importer.models import Invalid, Mode, Outcome, Skipped, SourceRow, Status, Worklog
from importer.normalize import Normalizer
from importer.normalize.durations import parse_duration
from importer.pipeline import (
    BatchHistory,
    RunOptions,
    UndoOptions,
    list_batches,
    run_import,
    run_import_async,
    undo,
    verify,
)
from importer.read import Table, open_table
from importer.report import RunSummary

__all__ = [
    "AuthError",
    "BatchHistory",
    "ConfigError",
    "Credentials",
    "DeliveryError",
    "ExitCode",
    "ImporterError",
    "InputError",
    "Interrupted",
    "Invalid",
    "JournalError",
    "Mode",
    "Normalizer",
    "Outcome",
    "OutcomeUnknown",
    "OutputError",
    "Rejected",
    "Retryable",
    "RowInvalid",
    "RunOptions",
    "RunSummary",
    "SearchTooWide",
    "Settings",
    "Skipped",
    "SourceRow",
    "StateLocked",
    "Status",
    "SwitchRefused",
    "SyncRefused",
    "Table",
    "TrackerUnavailable",
    "UndoOptions",
    "Unreachable",
    "Worklog",
    "format_duration",
    "list_batches",
    "load_settings",
    "open_table",
    "parse_business_iso",
    "parse_duration",
    "parse_settings",
    "resolve_credentials",
    "run_import",
    "run_import_async",
    "undo",
    "verify",
]
