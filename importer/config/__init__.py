"""Configuration: the TOML file's sections, their checks, and the credentials' environment."""

from importer.config.credentials import Credentials, check_base_url, resolve_credentials
from importer.config.loading import (
    check_batch_name,
    config_path,
    load_settings,
    parse_settings,
)
from importer.config.sections import (
    DEFAULT_BASE_URL,
    AuthorsSection,
    ColumnsSection,
    DeliverySection,
    InputSection,
    IssueSection,
    MergeSection,
    MonthSection,
    ReportSection,
    RunSection,
    SandboxSection,
    ServiceSection,
    Settings,
    StateSection,
    SyncSection,
    TrackerSection,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AuthorsSection",
    "ColumnsSection",
    "Credentials",
    "DeliverySection",
    "InputSection",
    "IssueSection",
    "MergeSection",
    "MonthSection",
    "ReportSection",
    "RunSection",
    "SandboxSection",
    "ServiceSection",
    "Settings",
    "StateSection",
    "SyncSection",
    "TrackerSection",
    "check_base_url",
    "check_batch_name",
    "config_path",
    "load_settings",
    "parse_settings",
    "resolve_credentials",
]
