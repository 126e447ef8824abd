from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import importer
import importer.errors

PACKAGE = Path(importer.__file__).parent


def test_all_lists_every_public_name_and_nothing_missing() -> None:
    public = {name for name in vars(importer) if not name.startswith("_")}
    modules = {name for name, value in vars(importer).items() if type(value) is type(importer)}
    assert set(importer.__all__) == public - modules
    assert importer.__all__ == sorted(importer.__all__, key=lambda n: (not n[0].isupper(), n))


def test_every_error_class_is_exported() -> None:
    errors = {
        name
        for name, value in vars(importer.errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert errors <= set(importer.__all__)


def test_the_public_api_is_what_users_rely_on() -> None:
    """A name dropped from ``__all__`` breaks someone's code; add freely, remove never."""
    assert set(importer.__all__) >= {
        "AuthError", "ConfigError", "Credentials", "DeliveryError", "ExitCode",
        "ImporterError", "InputError", "Interrupted", "Invalid", "JournalError",
        "Normalizer", "Outcome", "OutcomeUnknown", "Rejected", "Retryable", "RowInvalid",
        "RunOptions", "RunSummary", "Settings", "Skipped", "SourceRow", "StateLocked",
        "Status", "Table", "TrackerUnavailable", "Worklog", "format_duration",
        "load_settings", "open_table", "parse_business_iso", "parse_duration",
        "parse_settings", "resolve_credentials", "run_import", "run_import_async",
        "BatchHistory", "UndoOptions", "list_batches", "undo", "verify",
    }  # fmt: skip


def test_importing_the_package_does_not_load_the_sandbox_or_aiohttps_server() -> None:
    code = (
        "import sys, importer, importer.cli; "
        "assert 'aiohttp.web' not in sys.modules, 'aiohttp.web'; "
        "assert not any(m.startswith('importer.sandbox') for m in sys.modules), 'sandbox'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_only_the_tracker_package_uses_aiohttps_client() -> None:
    """The sandbox and the service serve with ``aiohttp.web`` (the service reads uploads with
    its multipart reader, and names a body it cannot parse by the server's parsing error);
    everything else talks through the tracker."""
    client_import = re.compile(
        r"^\s*(import aiohttp\b|from aiohttp(?!\.multipart import BodyPartReader$)"
        r"(?!\.http_exceptions import HttpProcessingError$)(\.\w+)* import (?!web$))",
        re.M,
    )
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if client_import.search(path.read_text(encoding="utf-8"))
    )
    assert users == ["tracker/client.py"]
