"""``undo`` and ``batches``: taking a batch or a run back, exactly once (sandbox process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.errors import ConfigError, ExitCode, InputError
from importer.pipeline import RunOptions
from importer.pipeline.undoing import UndoOptions, undo_async
from importer.testing import sandbox_process
from tests.helpers import make_settings, read_report, tracker_env
from tests.sync.test_sync import CORRECTED, FIRST, Importer, call, holdings, unique_issues


@pytest.fixture(scope="module")
def tracker() -> Iterator[str]:
    with sandbox_process() as url:
        yield url


def undo_options(base_url: str, tmp_path: Path, **what: object) -> UndoOptions:
    return UndoOptions(
        run=RunOptions(
            files=(),
            settings=make_settings(),
            report_path=tmp_path / "undo.csv",
            state_path=tmp_path / "journal.sqlite",
            environ=tracker_env(base_url),
            dry_run=bool(what.pop("dry_run", False)),
        ),
        **what,  # type: ignore[arg-type]
    )


async def test_undo_a_batch_deletes_what_it_holds_and_nothing_else(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("UNDO-")
    run = Importer(tracker, tmp_path)
    await run(write_csv(rename(FIRST), name="october.csv"))
    await run(write_csv(rename(CORRECTED), name="october.csv"), sync=True)
    # Another batch on the same issues stays.
    other = [FIRST[0], ["PORT-1", "20.10.2026", "15:00", "1", "other batch", "d.volkov"]]
    await run(write_csv(rename(other), name="other.csv"), batch="other")
    issues = ["UNDO-1", "UNDO-2", "UNDO-3", "UNDO-4"]
    assert len(holdings(tracker, issues)) == 6

    planned = await undo_async(undo_options(tracker, tmp_path, batch="october", dry_run=True))
    assert planned.counts["pending"] == 5 and len(holdings(tracker, issues)) == 6

    summary = await undo_async(undo_options(tracker, tmp_path, batch="october"))
    assert summary.exit_code == ExitCode.OK and summary.counts["deleted"] == 5
    report = read_report(tmp_path / "undo.csv")
    assert {line["status"] for line in report} == {"deleted"}
    assert {(line["file"].rsplit("/", 1)[-1], line["row"]) for line in report} == {
        ("october.csv", str(n)) for n in range(2, 7)
    }
    assert list(holdings(tracker, issues).values()) == [(1.0, "other batch")]

    again = await undo_async(undo_options(tracker, tmp_path, batch="october"))
    assert again.counts["deleted"] == 0 and again.requests == 1  # who am I, nothing else


async def test_undo_a_run_deletes_only_what_that_run_created(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("RUN-")
    run = Importer(tracker, tmp_path)
    await run(write_csv(rename(FIRST), name="october.csv"))  # run 1
    grown = [*FIRST, ["PORT-5", "07.10.2026", "09:00", "2", "late entry", "i.petrov"]]
    second, _ = await run(write_csv(rename(grown), name="october.csv"))  # run 2: one more row
    assert second.run_id == 2 and second.counts["created"] == 1
    summary = await undo_async(undo_options(tracker, tmp_path, run_id=2))
    assert summary.counts["deleted"] == 1 and summary.batch == "october"
    assert len(holdings(tracker, ["RUN-1", "RUN-2", "RUN-3", "RUN-5"])) == 5


async def test_undo_leaves_a_worklog_edited_since_and_reports_it(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rename = unique_issues("KEEP-")
    run = Importer(tracker, tmp_path)
    _, report = await run(write_csv(rename(FIRST), name="october.csv"))
    edited = next(line for line in report if line["row"] == "3")
    call(tracker, "PATCH", f"/v2/issues/KEEP-1/worklog/{edited['worklog_id']}", {"comment": "x"})
    summary = await undo_async(undo_options(tracker, tmp_path, batch="october"))
    assert (summary.counts["deleted"], summary.counts["conflict"]) == (4, 1)
    assert summary.exit_code == ExitCode.ROWS_FAILED
    assert list(holdings(tracker, ["KEEP-1", "KEEP-2", "KEEP-3"]).values()) == [(3.0, "x")]


async def test_undo_refuses_what_the_journal_does_not_know(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    with pytest.raises(ConfigError, match="no journal at"):
        await undo_async(undo_options(tracker, tmp_path, batch="october"))
    run = Importer(tracker, tmp_path)
    await run(write_csv(unique_issues("NONE-")(FIRST), name="october.csv"))
    with pytest.raises(InputError, match="knows no batch 'november'"):
        await undo_async(undo_options(tracker, tmp_path, batch="november"))
    with pytest.raises(InputError, match="has no run 9"):
        await undo_async(undo_options(tracker, tmp_path, run_id=9))
    with pytest.raises(ConfigError, match="exactly one of --batch NAME or --run ID"):
        await undo_async(undo_options(tracker, tmp_path))


async def test_batches_lists_batches_runs_and_hours(
    tracker: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    run = Importer(tracker, tmp_path)
    rename = unique_issues("LIST-")
    await run(write_csv(rename(FIRST), name="october.csv"))
    await run(write_csv(rename(CORRECTED), name="october.csv"), sync=True)
    result = CliRunner().invoke(main, ["batches", "--state", str(tmp_path / "journal.sqlite")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("batch 'october'") and "bookings: 5" in lines[1]
    assert "hours: 11.5" in lines[1] and "runs: 2" in lines[1]
    assert " run   " in lines[2] and "exit 0" in lines[2] and "october.csv" in lines[2]
    assert " sync  " in lines[3]
