"""The config file's sections: one frozen dataclass each, its fields the file's keys.

Every key is documented in ``config.example.toml``; :mod:`importer.config.loading` checks a
file against these declarations.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from importer.models import Mode

DEFAULT_BASE_URL = "https://api.tracker.yandex.net"


@dataclasses.dataclass(frozen=True)
class TrackerSection:
    base_url: str = DEFAULT_BASE_URL
    token_env: str = "TRACKER_TOKEN"
    auth: Literal["oauth", "iam"] = "oauth"
    org_id: str = ""
    cloud_org_id: str = ""
    mode: Mode = Mode.CREATE


@dataclasses.dataclass(frozen=True)
class InputSection:
    preset: str = ""
    # Where the export's times were written. Unset is allowed only for files whose every
    # time carries a UTC offset: guessing would shift a whole month by hours, silently.
    timezone: str = ""
    dayfirst: bool = True
    default_start_time: str = "09:00"
    duration_unit: Literal["hours", "minutes", "days"] = "hours"
    date_system: Literal[1900, 1904] = 1900
    max_duration_hours: float = 24.0
    max_day_hours: float = 12.0
    max_comment_length: int = 10_000
    allow_future: bool = False
    encoding: str = "auto"
    delimiter: str = ""
    sheet: str | int = 0
    header_row: int = 0


@dataclasses.dataclass(frozen=True)
class ColumnsSection:
    issue: str = ""
    date: str = ""
    time: str = ""
    start: str = ""
    end: str = ""
    end_date: str = ""
    duration: str = ""
    comment: str = ""
    author: str = ""
    created_at: str = ""


@dataclasses.dataclass(frozen=True)
class AuthorsSection:
    """Who the authors are in Tracker (import mode)."""

    map_file: str = ""


@dataclasses.dataclass(frozen=True)
class IssueSection:
    """How to find the Tracker key in the issue column."""

    pattern: str = r"\b[A-Z][A-Z0-9]*-[1-9][0-9]*\b"
    map_file: str = ""
    map_pattern: str = r"#(\d+)"


@dataclasses.dataclass(frozen=True)
class DeliverySection:
    concurrency: int = 8
    rate_limit: float = 10.0
    request_timeout: float = 30.0
    max_attempts: int = 10
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    give_up_after: float = 300.0
    precheck: bool = True
    check_issues: bool = True  # look every distinct issue (and author) up before booking
    # A worklog write nobody answered (timeout, dropped connection, 502/504) is concluded
    # absent only by a read that starts this many seconds after the write was sent.
    commit_horizon: float = 60.0


@dataclasses.dataclass(frozen=True)
class StateSection:
    path: str = ""


@dataclasses.dataclass(frozen=True)
class RunSection:
    batch: str = ""  # empty: the first input file's name without its extension


@dataclasses.dataclass(frozen=True)
class SyncSection:
    max_delete_share: float = 0.25  # a --sync deleting more of its batch than this refuses


Check = Literal["warn", "invalid", "off"]


@dataclasses.dataclass(frozen=True)
class MonthSection:
    """The checks only the month as a whole shows: each ``warn`` (the row's ``warning``),
    ``invalid`` (the row is not booked) or ``off``."""

    overlaps: Check = "warn"  # two rows of one person overlapping in time
    over_day: Check = "warn"  # a person's day past input.max_day_hours
    outside_month: Check = "warn"  # a row dated outside the month the batch names
    empty_days: Literal["warn", "off"] = "warn"  # working days a person has no hours (listed)
    weekend: tuple[int, ...] = (6, 7)  # ISO weekdays that are not working days
    holidays: tuple[str, ...] = ()  # dates (YYYY-MM-DD) that are not working days
    workdays: tuple[str, ...] = ()  # weekend dates that are working days (a moved day)


@dataclasses.dataclass(frozen=True)
class MergeSection:
    """One worklog per person, issue and day (``per = "day"``) instead of one per row."""

    per: Literal["off", "day"] = "off"
    separator: str = "; "  # between the distinct comments of a group, in start order
    # A group with an invalid row: "hold" books none of it, "book_valid" books the rest.
    partial: Literal["hold", "book_valid"] = "hold"


@dataclasses.dataclass(frozen=True)
class ServiceSection:
    """``worklog-import serve``: who may submit jobs, how long their files are kept."""

    tokens_file: str = ""  # ``name: sha256:<hex>`` lines (``worklog-import token add``)
    keep_days: float = 30.0  # finished jobs' files (uploads, reports) kept; 0 keeps them
    max_upload_mb: float = 50.0  # one upload, all its files together


@dataclasses.dataclass(frozen=True)
class ReportSection:
    path: str = "worklog-report.csv"
    summary_path: str = ""


def _knob(default: float, help: str) -> float:
    return dataclasses.field(default=default, metadata={"help": help})


def _chance(help: str) -> float:
    """A probability per request, checked to lie in 0..1."""
    return dataclasses.field(default=0.0, metadata={"help": help, "probability": True})


LIMITERS = ("bucket", "fixed", "sliding")  # how the sandbox may count its rate limit


@dataclasses.dataclass
class SandboxSection:
    """The sandbox's fault knobs: ``[sandbox]`` for ``run --sandbox``, the options of
    ``worklog-import sandbox``, and the base of the sandbox's own settings.

    Declared once, here; not frozen, because a rehearsal (or a test) may turn a fault on
    while a run is under way. Probabilities are per request, in 0..1.
    """

    latency: float = _knob(0.0, "Seconds added to every answer.")
    rate_limit: float = _knob(0.0, "Requests per second before 429 (0: unlimited).")
    limiter: str = dataclasses.field(
        default="bucket",
        metadata={
            "help": "How rate_limit counts: 'bucket' (a token bucket refilled at rate_limit "
            "a second), 'fixed' (each calendar second), 'sliding' (any one second of arrivals).",
            "choices": LIMITERS,
        },
    )
    bucket_size: int = dataclasses.field(
        default=0,
        metadata={
            "help": "Tokens the 'bucket' limiter holds (0: rate_limit). A gateway's small "
            "bucket refuses bursts that a bucket of rate_limit lets through."
        },
    )
    p_500: float = _chance("Probability of a 500.")
    p_503: float = _chance("Probability of a 503.")
    p_429: float = _chance("Probability of a random 429.")
    p_created_then_500: float = _chance(
        "Probability that a worklog is stored and the answer is a 500."
    )
    p_created_then_drop: float = _chance(
        "Probability that a worklog is stored and the connection dropped."
    )
    others_per_issue: int = dataclasses.field(
        default=0,
        metadata={"help": "Worklogs other people booked long ago on each issue (big issues)."},
    )
    search_cap: int = dataclasses.field(
        default=10_000,
        metadata={"help": "Worklog search: no page may reach past this many items (0: none)."},
    )
    commit_delay: float = _knob(
        0.0, "Seconds a worklog POST takes before it is stored; its answer comes after."
    )
    seed: int = dataclasses.field(
        default=0, metadata={"help": "Seed for the fault dice (the same seed, the same faults)."}
    )
    missing_issues: str = dataclasses.field(
        default="",
        metadata={"help": "Issue keys that do not exist (404), comma-separated.", "keys": True},
    )
    hidden_issues: str = dataclasses.field(
        default="",
        metadata={"help": "Issue keys the token may not see (403), comma-separated.", "keys": True},
    )

    def keys(self, knob: str) -> frozenset[str]:
        """A comma-separated knob's issue keys."""
        return frozenset(k.strip() for k in str(getattr(self, knob)).split(",") if k.strip())


@dataclasses.dataclass(frozen=True)
class Settings:
    """The whole configuration, as read from a file (environment not yet applied)."""

    tracker: TrackerSection = TrackerSection()
    input: InputSection = InputSection()
    columns: ColumnsSection = ColumnsSection()
    issue: IssueSection = IssueSection()
    authors: AuthorsSection = AuthorsSection()
    delivery: DeliverySection = DeliverySection()
    report: ReportSection = ReportSection()
    state: StateSection = StateSection()
    run: RunSection = RunSection()
    sync: SyncSection = SyncSection()
    month: MonthSection = MonthSection()
    merge: MergeSection = MergeSection()
    service: ServiceSection = ServiceSection()
    sandbox: SandboxSection = dataclasses.field(default_factory=SandboxSection)
    explicit: frozenset[str] = frozenset()  # "section.key" of every key the file set
    config_dir: str = ""  # relative paths in the config are relative to its folder

    @property
    def zone(self) -> ZoneInfo | None:
        """The configured ``input.timezone``; ``None`` when unset (times must carry offsets)."""
        return ZoneInfo(self.input.timezone) if self.input.timezone else None

    @property
    def default_start_time(self) -> dt.time:
        return dt.time.fromisoformat(self.input.default_start_time)
