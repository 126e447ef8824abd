"""One map from an error (or a run's end) to the exit code cron sees."""

from __future__ import annotations

import pytest

from importer.errors import (
    AuthError,
    ConfigError,
    ExitCode,
    ImporterError,
    InputError,
    Interrupted,
    JournalError,
    Rejected,
    StateLocked,
    TrackerUnavailable,
    exit_code_for,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("bad key"), ExitCode.BAD_INPUT),
        (InputError("no header"), ExitCode.BAD_INPUT),
        (JournalError("disk full"), ExitCode.BAD_INPUT),
        (StateLocked("busy"), ExitCode.LOCKED),
        (AuthError("HTTP 401", 401), ExitCode.AUTH),
        (TrackerUnavailable("down"), ExitCode.UNAVAILABLE),
        (Rejected("HTTP 404", 404), ExitCode.UNAVAILABLE),
        (Interrupted("SIGTERM", 143), ExitCode.TERMINATED),
    ],
)
def test_each_error_has_its_exit_code(error: ImporterError, code: ExitCode) -> None:
    assert exit_code_for(error) == code


def test_a_run_that_ran_to_the_end_is_judged_by_its_rows() -> None:
    assert exit_code_for(None) == ExitCode.OK
    assert exit_code_for(None, rows_in_trouble=True) == ExitCode.ROWS_FAILED


def test_a_dry_run_that_could_not_consult_tracker_is_judged_by_its_rows() -> None:
    down = TrackerUnavailable("Tracker not consulted")
    assert exit_code_for(down, dry_run=True) == ExitCode.OK
    assert exit_code_for(down, dry_run=True, rows_in_trouble=True) == ExitCode.ROWS_FAILED
    assert exit_code_for(down) == ExitCode.UNAVAILABLE


@pytest.mark.parametrize("error", [InputError("broke at row 9"), JournalError("disk full")])
def test_input_or_journal_failing_after_sending_is_never_nothing_was_sent(
    error: ImporterError,
) -> None:
    assert exit_code_for(error, sent=False) == ExitCode.BAD_INPUT
    assert exit_code_for(error, sent=True) == ExitCode.STOPPED_PART_WAY
