"""Exactly once across runs: re-runs, lost journals, hand-booked rows, resume, stops."""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Callable
from pathlib import Path

import filelock
import pytest

from importer.config import parse_settings
from importer.deliver import fingerprint
from importer.errors import ExitCode, StateLocked
from importer.journal import Journal
from importer.models import Mode, Worklog
from importer.normalize import Normalizer
from importer.read.tables import open_table
from importer.sandbox import DEFAULT_ORG_ID, SandboxSettings, running_sandbox
from importer.testing import FakeClock
from tests.helpers import COLUMNS, HEADER, import_into, make_settings, month_rows, read_report


def statuses(report: Path) -> collections.Counter[str]:
    return collections.Counter(line["status"] for line in read_report(report))


def stored_per_row(sandbox_store: object) -> collections.Counter[tuple[str, str, int, str]]:
    return collections.Counter(
        (w.issue, w.start.isoformat(), int(w.duration.total_seconds()), w.comment)
        for w in sandbox_store.worklogs.values()  # type: ignore[attr-defined]
    )


def worklogs_of(path: Path) -> list[Worklog]:
    settings = make_settings()
    normalizer = Normalizer(settings)
    results = [normalizer.normalize(r) for r in open_table(path, settings.input).rows()]
    return [w for w in results if isinstance(w, Worklog)]


async def left_sending(state: Path, worklogs: list[Worklog], target: str, path: Path) -> None:
    """The journal of a run that crashed after marking these rows (sheet rows 2, 3, …)
    ``sending``."""
    journal = Journal.open(state)
    for n, worklog in enumerate(worklogs):
        fp = fingerprint(worklog, mode=Mode.CREATE, target=target, occurrence=1)
        await journal.mark_sending(
            fp, worklog, target=target, mode=Mode.CREATE, file=str(path), row=n + 2
        )
    await journal.flush()
    journal.close()


async def book_by_hand(sandbox: object, worklog: Worklog) -> None:
    """A person books the row in Tracker themselves (as the token's owner)."""
    store = sandbox.store  # type: ignore[attr-defined]
    from importer.sandbox import ROBOT

    store.add(worklog.issue, worklog.start, worklog.duration, worklog.comment, ROBOT)


async def test_the_same_file_again_creates_nothing(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(40, identical_pairs=3))
    async with running_sandbox() as sandbox:
        first = await import_into(sandbox, [path], make_settings(), tmp_path / "first.csv")
        requests_before = len(sandbox.stats.arrivals)
        second = await import_into(sandbox, [path], make_settings(), tmp_path / "second.csv")
        requests = len(sandbox.stats.arrivals) - requests_before
        stored = len(sandbox.store.worklogs)
    assert first.counts["created"] == 43
    assert stored == 43
    assert second.exit_code == ExitCode.OK
    assert statuses(tmp_path / "second.csv") == {"already_imported": 43}
    assert requests == 1, "only who-am-I: the journal answered for every row"
    first_ids = {line["row"]: line["worklog_id"] for line in read_report(tmp_path / "first.csv")}
    second_ids = {line["row"]: line["worklog_id"] for line in read_report(tmp_path / "second.csv")}
    assert first_ids == second_ids


async def test_with_the_journal_gone_tracker_says_what_is_booked(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(40, identical_pairs=3))
    async with running_sandbox() as sandbox:
        await import_into(
            sandbox, [path], make_settings(), tmp_path / "r1.csv", state=tmp_path / "a.sqlite"
        )
        (tmp_path / "a.sqlite").unlink()
        again = await import_into(
            sandbox, [path], make_settings(), tmp_path / "r2.csv", state=tmp_path / "a.sqlite"
        )
        per_row = stored_per_row(sandbox.store)
    assert again.exit_code == ExitCode.OK
    assert statuses(tmp_path / "r2.csv") == {"already_imported": 43}
    assert sum(per_row.values()) == 43
    assert sorted(per_row.values()).count(2) == 3, "the three genuine twins stay two each"


async def test_rows_booked_by_hand_are_adopted_and_only_the_rest_created(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(100))
    worklogs = worklogs_of(path)
    by_hand = worklogs[::10] + worklogs[1::10] + worklogs[2::10]  # 30 %
    async with running_sandbox() as sandbox:
        for worklog in by_hand:
            await book_by_hand(sandbox, worklog)
        summary = await import_into(sandbox, [path], make_settings(), tmp_path / "r.csv")
        created_by_run = len(sandbox.store.worklogs) - len(by_hand)
        per_row = stored_per_row(sandbox.store)
    assert summary.counts == {**summary.counts, "created": 70, "already_imported": 30}
    assert created_by_run == 70
    assert set(per_row.values()) == {1}
    adopted = [
        line for line in read_report(tmp_path / "r.csv") if line["status"] == "already_imported"
    ]
    assert all(line["error"] == "found in Tracker: booked before this run" for line in adopted)
    assert sorted(int(line["worklog_id"]) for line in adopted) == list(range(1, 31))


async def test_identical_rows_are_counted_against_what_tracker_holds(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    twin = ["PORT-1", "01.10.2026", "09:00", "1", "standup", "a"]
    path = write_csv([HEADER, twin, twin, twin])
    async with running_sandbox() as sandbox:
        await book_by_hand(sandbox, worklogs_of(path)[0])
        summary = await import_into(sandbox, [path], make_settings(), tmp_path / "r.csv")
        stored = len(sandbox.store.worklogs)
    assert (summary.counts["already_imported"], summary.counts["created"]) == (1, 2)
    assert stored == 3


async def test_a_corrected_re_export_books_only_changed_and_new_rows(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(30)
    corrected = [list(r) for r in rows]
    corrected[5][3] = "3"  # a changed duration
    corrected[9][4] = "row 8, fixed comment"  # a changed comment
    corrected += [["PORT-999", "30.10.2026", "17:00", "1", "added later", "a"]]
    async with running_sandbox() as sandbox:
        await import_into(
            sandbox, [write_csv(rows, "v1.csv")], make_settings(), tmp_path / "r1.csv"
        )
        summary = await import_into(
            sandbox, [write_csv(corrected, "v2.csv")], make_settings(), tmp_path / "r2.csv"
        )
        stored = len(sandbox.store.worklogs)
    report = {line["row"]: line["status"] for line in read_report(tmp_path / "r2.csv")}
    assert summary.counts["created"] == 3 and summary.counts["already_imported"] == 28
    assert sorted(int(row) for row, status in report.items() if status == "created") == [6, 10, 32]
    assert stored == 33


async def test_rows_left_sending_by_a_crash_are_reconciled_before_resending(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(6))
    worklogs = worklogs_of(path)
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        target = f"{sandbox.base_url}|{DEFAULT_ORG_ID}"
        await left_sending(state, worklogs[:4], target, path)
        # The crashed run's first two POSTs had reached Tracker, the next two had not.
        for worklog in worklogs[:2]:
            await book_by_hand(sandbox, worklog)
        summary = await import_into(
            sandbox, [path], make_settings(), tmp_path / "r.csv", state=state, precheck=False
        )
        per_row = stored_per_row(sandbox.store)
    report = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert set(per_row.values()) == {1} and len(per_row) == 6
    assert [report[r]["status"] for r in ("2", "3", "4", "5", "6", "7")] == [
        "already_imported",
        "already_imported",
        "created",
        "created",
        "created",
        "created",
    ]
    assert report["2"]["error"] == "found in Tracker: booked by an earlier run that was interrupted"
    assert summary.exit_code == ExitCode.OK


async def test_a_resumed_row_this_run_created_is_reported_created_not_found_from_before(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """A row an interrupted run left ``sending``, absent from Tracker: this run POSTs it,
    the answer is lost, and the worklog it finds is its own — ``created``, counted in this
    run's hours, not ``already_imported`` "by an earlier run"."""
    path = write_csv(month_rows(4))
    worklogs = worklogs_of(path)
    state = tmp_path / "journal.sqlite"
    async with running_sandbox(SandboxSettings(p_created_then_drop=1.0)) as sandbox:
        target = f"{sandbox.base_url}|{DEFAULT_ORG_ID}"
        await left_sending(state, worklogs[:2], target, path)
        await book_by_hand(sandbox, worklogs[0])  # the crashed run's first POST had landed
        summary = await import_into(
            sandbox, [path], make_settings(), tmp_path / "r.csv", state=state, precheck=False
        )
        per_row = stored_per_row(sandbox.store)
    report = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert set(per_row.values()) == {1} and len(per_row) == 4
    assert [report[r]["status"] for r in ("2", "3", "4", "5")] == [
        "already_imported",  # booked by the interrupted run
        "created",  # resumed, and created by this run's POST
        "created",
        "created",
    ]
    assert report["3"]["error"] == "adopted the worklog an unanswered request had created"
    assert summary.counts["created"] == 3
    assert summary.hours_created == sum(w.duration.total_seconds() for w in worklogs[1:]) / 3600


async def test_dry_run_leaves_sandbox_and_journal_untouched(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    half = write_csv(month_rows(10), "half.csv")
    full = write_csv([*month_rows(20), ["BAD", "x", "", "1", "", ""]], "full.csv")
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        await import_into(sandbox, [half], make_settings(), tmp_path / "r1.csv", state=state)
        before = (hashlib.sha256(state.read_bytes()).hexdigest(), state.stat().st_mtime_ns)
        stored_before = len(sandbox.store.worklogs)
        summary = await import_into(
            sandbox, [full], make_settings(), tmp_path / "plan.csv", state=state, dry_run=True
        )
        stored_after = len(sandbox.store.worklogs)
    after = (hashlib.sha256(state.read_bytes()).hexdigest(), state.stat().st_mtime_ns)
    assert before == after
    assert stored_before == stored_after == 10
    assert summary.counts == {**summary.counts, "already_imported": 10, "pending": 10, "invalid": 1}
    assert sum(summary.hours_by_issue.values()) == pytest.approx(
        sum(w.duration.total_seconds() for w in worklogs_of(full)[10:]) / 3600
    )
    assert summary.exit_code == ExitCode.ROWS_FAILED  # the invalid row


async def test_a_second_run_on_the_same_state_is_refused(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        with (
            filelock.FileLock(str(state) + ".lock"),
            pytest.raises(StateLocked, match="another run is using"),
        ):
            await import_into(
                sandbox,
                [write_csv(month_rows(2))],
                make_settings(),
                tmp_path / "r.csv",
                state=state,
            )
        stored = len(sandbox.store.worklogs)
    assert stored == 0


async def test_an_outage_ends_with_exit_4_and_the_next_run_completes(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(30))
    knobs = SandboxSettings()
    settings = make_settings(
        delivery={"give_up_after": 30.0, "max_attempts": 1000, "concurrency": 2}
    )
    async with running_sandbox(knobs) as sandbox:
        original_add = sandbox.store.add

        def add_then_fail(*args: object, **kwargs: object) -> object:
            stored = original_add(*args, **kwargs)  # type: ignore[arg-type]
            if len(sandbox.store.worklogs) >= 12:
                knobs.p_503 = 1.0  # Tracker goes down after twelve worklogs
            return stored

        sandbox.store.add = add_then_fail  # type: ignore[method-assign]
        first = await import_into(sandbox, [path], settings, tmp_path / "r1.csv", clock=FakeClock())
        knobs.p_503 = 0.0
        sandbox.store.add = original_add  # type: ignore[method-assign]
        second = await import_into(sandbox, [path], settings, tmp_path / "r2.csv")
        per_row = stored_per_row(sandbox.store)
    assert first.exit_code == ExitCode.UNAVAILABLE
    assert statuses(tmp_path / "r1.csv")["pending"] >= 18
    assert second.exit_code == ExitCode.OK
    assert len(per_row) == 30 and set(per_row.values()) == {1}


async def test_403_on_every_issue_stops_the_run_with_exit_3(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(20))
    async with running_sandbox(SandboxSettings(forbidden_queues=frozenset({"PORT"}))) as sandbox:
        summary = await import_into(
            sandbox, [path], make_settings(delivery={"concurrency": 1}), tmp_path / "r.csv"
        )
    counts = statuses(tmp_path / "r.csv")
    assert summary.exit_code == ExitCode.AUTH
    assert counts == {"failed": 3, "pending": 17}
    assert "every worklog so far was refused: HTTP 403" in summary.stopped


async def test_403_on_one_queue_fails_only_its_rows(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [*month_rows(10), ["SECRET-1", "01.10.2026", "09:00", "1", "no access", "a"]]
    async with running_sandbox(SandboxSettings(forbidden_queues=frozenset({"SECRET"}))) as sandbox:
        summary = await import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv")
    report = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert summary.exit_code == ExitCode.ROWS_FAILED
    assert report["12"]["status"] == "failed" and report["12"]["http_status"] == "403"
    assert statuses(tmp_path / "r.csv") == {"created": 10, "failed": 1}


async def test_failed_rows_file_can_be_fixed_and_fed_back(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [
        *month_rows(3),
        ["PORT-1", "31.09.2026", "09:00", "1", "bad date", "a"],
        ["GONE-1", "01.10.2026", "09:00", "1", "no such issue", "a"],
    ]
    async with running_sandbox(
        SandboxSettings(known_issues=frozenset({"PORT-1", "PORT-400", "PORT-401", "PORT-402"}))
    ) as sandbox:
        first = await import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv")
        failed_path = tmp_path / "r.failed.csv"
        failed = read_report(failed_path)
        assert first.failed_rows_path == failed_path
        # The input's columns, where each row came from (to trace a fix back), the reason.
        assert list(failed[0]) == [*HEADER, "source_file", "source_row", "error"]
        source = str(tmp_path / "timesheet.csv")
        assert [
            (line["Comment"], line["source_file"], line["source_row"], line["error"])
            for line in failed
        ] == [
            (
                "bad date",
                source,
                "5",
                "column 'Date' value '31.09.2026': not a date: '31.09.2026' "
                "(day is out of range for month)",
            ),
            ("no such issue", source, "6", "HTTP 404: Задача не существует."),
        ]
        text = failed_path.read_text(encoding="utf-8-sig")
        fixed = text.replace("31.09.2026", "30.09.2026").replace("GONE-1", "PORT-1")
        failed_path.write_text(fixed, encoding="utf-8-sig")
        second = await import_into(sandbox, [failed_path], make_settings(), tmp_path / "r2.csv")
        stored = len(sandbox.store.worklogs)
    assert second.exit_code == ExitCode.OK and second.counts["created"] == 2
    assert stored == 5
    assert not (tmp_path / "r2.failed.csv").exists()


def test_settings_accept_a_state_path() -> None:
    settings = parse_settings({"columns": COLUMNS, "state": {"path": "~/journal.sqlite"}})
    assert settings.state.path == "~/journal.sqlite"
