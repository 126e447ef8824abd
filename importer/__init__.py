"""Book timesheets into Yandex Tracker as worklogs, exactly once, with a per-row report.

The public API is what ``__all__`` lists; everything else may change between versions.
"""

from .config import Credentials, Settings, load_settings, parse_settings, resolve_credentials
from .durations import format_duration, parse_business_iso, parse_duration
from .errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    ImporterError,
    InputError,
    Interrupted,
    JournalError,
    OutcomeUnknown,
    Rejected,
    Retryable,
    RowInvalid,
    StateLocked,
    TrackerUnavailable,
)
from .models import Invalid, Outcome, Skipped, SourceRow, Status, Worklog
from .normalize import Normalizer
from .reading import Table, open_table
from .run import ExitCode, RunOptions, RunSummary, run_import, run_import_async

__all__ = [
    "AuthError",
    "ConfigError",
    "Credentials",
    "DeliveryError",
    "ExitCode",
    "ImporterError",
    "InputError",
    "Interrupted",
    "Invalid",
    "JournalError",
    "Normalizer",
    "Outcome",
    "OutcomeUnknown",
    "Rejected",
    "Retryable",
    "RowInvalid",
    "RunOptions",
    "RunSummary",
    "Settings",
    "Skipped",
    "SourceRow",
    "StateLocked",
    "Status",
    "Table",
    "TrackerUnavailable",
    "Worklog",
    "format_duration",
    "load_settings",
    "open_table",
    "parse_business_iso",
    "parse_duration",
    "parse_settings",
    "resolve_credentials",
    "run_import",
    "run_import_async",
]
