"""What a run writes for people — report, failed rows, summary, log — when the disk or the
paths misbehave: one line naming the path and the problem, the right exit code, the journal
right and its lock released, never a hang and never a write through a symlink."""

from __future__ import annotations

import asyncio
import collections
import errno
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import filelock
import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.errors import ExitCode, OutputError
from importer.journal import Journal
from importer.log import GuardedFile, configure_logging
from importer.report import ReportWriter, writers
from importer.sandbox import running_sandbox
from importer.testing import sandbox_process
from tests.helpers import (
    CONFIG_TOML,
    import_into,
    make_settings,
    month_rows,
    read_report,
    tracker_env,
)


def stored(sandbox: Any) -> collections.Counter[str]:
    return collections.Counter(w.comment for w in sandbox.store.worklogs.values())


def created_in_journal(state: Path) -> int:
    journal = Journal.open(state, readonly=True)
    try:
        return sum(1 for b in journal.run_bookings(1) if b.state == "created")
    finally:
        journal.close()


async def test_a_full_disk_under_the_report_stops_the_run_cleanly_and_exit_6(
    write_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: every worker died on ENOSPC, the run ignored SIGTERM and kept the journal's
    lock, so every later cron run exited 5 until someone sent SIGKILL."""
    rows = month_rows(300)

    class Filling:
        """The report's file on a disk that fills up after about 40 lines."""

        def __init__(self, handle: TextIO) -> None:
            self.handle, self.written = handle, 0

        def write(self, text: str) -> int:
            self.written += len(text)
            if self.written > 3000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(text)

        def flush(self) -> None:
            if self.written > 3000:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.handle.flush()

        def close(self) -> None:
            self.handle.close()

        @property
        def closed(self) -> bool:
            return self.handle.closed

    original = writers.new_file
    monkeypatch.setattr(
        writers,
        "new_file",
        lambda path, what: Filling(original(path, what)),  # type: ignore[arg-type,return-value]
    )
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        summary = await asyncio.wait_for(
            import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "r.csv"),
            timeout=60,
        )
        booked = stored(sandbox)
        journaled = created_in_journal(state)
        monkeypatch.setattr(writers, "new_file", original)  # the disk has room again
        again = await import_into(sandbox, [write_csv(rows)], make_settings(), tmp_path / "a.csv")
        final = stored(sandbox)
    assert summary.exit_code == ExitCode.STOPPED_PART_WAY
    assert "No space left on device" in summary.stopped and "r.csv" in summary.stopped
    assert sum(booked.values()) >= 10 and set(booked.values()) == {1}
    assert journaled == sum(booked.values())  # the journal is right
    assert again.exit_code == ExitCode.OK  # the lock was released
    assert final == collections.Counter(r[4] for r in rows[1:])  # each row once
    report = read_report(tmp_path / "a.csv")
    assert sum(line["status"] == "already_imported" for line in report) == sum(booked.values())


async def test_a_log_file_that_cannot_be_written_stops_the_run_like_the_report(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    class Filling:
        lines = 0

        def write(self, text: str) -> int:
            self.lines += 1
            if self.lines > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return len(text)

        def flush(self) -> None:
            return None

    configure_logging("json", stream=GuardedFile(Filling(), "run.log"))
    async with running_sandbox() as sandbox:
        summary = await asyncio.wait_for(
            import_into(sandbox, [write_csv(month_rows(200))], make_settings(), tmp_path / "r.csv"),
            timeout=60,
        )
    assert summary.exit_code in (ExitCode.STOPPED_PART_WAY, ExitCode.BAD_INPUT)
    assert "cannot write the log file run.log: No space left on device" in summary.stopped


@pytest.fixture(scope="module")
def sandbox_url() -> Any:
    with sandbox_process() as url:
        yield url


def run_cli(args: list[str], url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["run", *args], env=tracker_env(url))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


@pytest.mark.parametrize("which", ["report", "summary"])
def test_an_output_path_that_cannot_be_written_is_exit_2_before_anything_is_sent(
    which: str, sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """A folder that is really a file fails the same way for root (as CI may run) as a
    read-only folder does for anyone else."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    report = blocker / "r.csv" if which == "report" else tmp_path / "r.csv"
    if which == "summary":
        config.write_text(
            CONFIG_TOML.replace(
                "[delivery]", f'[report]\nsummary_path = "{blocker}/s.json"\n\n[delivery]'
            ),
            encoding="utf-8",
        )
    before = len(sandbox_get_all(sandbox_url))
    args = [str(write_csv(month_rows(5))), "-c", str(config), "--state", str(tmp_path / "j")]
    args += ["--report", str(report)] if which == "report" else []
    code, _, err = run_cli(args, sandbox_url)
    assert code == ExitCode.BAD_INPUT
    assert f"cannot write the {which} {blocker}/" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert len(sandbox_get_all(sandbox_url)) == before  # nothing was sent


def sandbox_get_all(url: str) -> list[Any]:
    from tests.helpers import sandbox_get

    return list(sandbox_get(url, "/_sandbox/worklogs"))


def test_a_damaged_journal_is_one_line_and_exit_2_before_anything_is_sent(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    state = tmp_path / "journal.sqlite"
    rows = month_rows(300)
    first = [str(write_csv(rows)), "-c", str(config), "--state", str(state)]
    assert run_cli([*first, "--report", str(tmp_path / "r1.csv")], sandbox_url)[0] == 0
    data = bytearray(state.read_bytes())
    assert len(data) > 3 * 4096
    data[4096 : 2 * 4096] = b"\xff" * 4096  # a page of garbage
    state.write_bytes(bytes(data))
    before = len(sandbox_get_all(sandbox_url))
    code, _, err = run_cli(
        [str(write_csv(month_rows(320), "more.csv")), "-c", str(config), "--state", str(state),
         "--report", str(tmp_path / "r2.csv")],
        sandbox_url,
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT, err
    assert str(state) in err and "Traceback" not in err
    assert len(sandbox_get_all(sandbox_url)) == before


def test_symlinked_report_and_summary_paths_are_replaced_not_written_through(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """A report path linked into a folder someone else controls must not overwrite what
    the link points to."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    for name in ("precious.csv", "precious.json", "precious.failed.csv"):
        (theirs / name).write_text("keep me\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.csv").symlink_to(theirs / "precious.csv")
    (out / "r.summary.json").symlink_to(theirs / "precious.json")
    (out / "r.failed.csv").symlink_to(theirs / "precious.failed.csv")
    rows = [*month_rows(3), ["PORT-1", "31.02.2026", "09:00", "1", "bad date", "a"]]
    code, _, err = run_cli(
        [str(write_csv(rows)), "-c", str(config), "--state", str(tmp_path / "j"),
         "--report", str(out / "r.csv")],
        sandbox_url,
    )  # fmt: skip
    assert code == ExitCode.ROWS_FAILED, err
    for name in ("precious.csv", "precious.json", "precious.failed.csv"):
        assert (theirs / name).read_text(encoding="utf-8") == "keep me\n"
    for name in ("r.csv", "r.summary.json", "r.failed.csv"):
        assert not (out / name).is_symlink()
    assert len(read_report(out / "r.csv")) == 4
    assert json.loads((out / "r.summary.json").read_text(encoding="utf-8"))["exit_code"] == 1
    failed = read_report(out / "r.failed.csv")
    assert [(f["source_row"], f["Comment"]) for f in failed] == [("5", "bad date")]
    assert not list(out.glob(".*.tmp"))  # no temporary file left behind


def test_a_dry_run_does_not_overwrite_the_last_real_report(
    sandbox_url: str, config: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    config.write_text(
        CONFIG_TOML.replace(
            "[delivery]", f'[report]\npath = "{tmp_path}/out/report.csv"\n\n[delivery]'
        ),
        encoding="utf-8",
    )
    path = str(write_csv(month_rows(4)))
    base = [path, "-c", str(config), "--state", str(tmp_path / "j")]
    assert run_cli(base, sandbox_url)[0] == 0
    real = (tmp_path / "out" / "report.csv").read_bytes()
    code, out, _ = run_cli([*base, "--dry-run"], sandbox_url)
    assert code == 0
    assert (tmp_path / "out" / "report.csv").read_bytes() == real
    rehearsal = read_report(tmp_path / "out" / "report-dry-run.csv")
    assert [line["status"] for line in rehearsal] == ["already_imported"] * 4
    assert (tmp_path / "out" / "report-dry-run.summary.json").exists()
    assert "report-dry-run.csv" in out


def test_the_output_error_is_exported_and_names_path_and_problem(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(OutputError, match=r"cannot write the report .*/file/r\.csv: "):
        ReportWriter(blocker / "r.csv", [])


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A 64 KiB tmpfs, where this machine lets the tests mount one (root in a container)."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the injected ENOSPC test covers this")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_a_real_full_disk_under_the_report_stops_the_run_cleanly(
    small_disk: Path, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [[*row[:4], row[4] + " " + "x" * 200, row[5]] for row in month_rows(600)[1:]]
    state = tmp_path / "journal.sqlite"
    async with running_sandbox() as sandbox:
        summary = await asyncio.wait_for(
            import_into(
                sandbox,
                [write_csv([month_rows(0)[0], *rows])],
                make_settings(),
                small_disk / "r.csv",
                state=state,
            ),
            timeout=60,
        )
        booked = stored(sandbox)
        journaled = created_in_journal(state)
    assert summary.exit_code == ExitCode.STOPPED_PART_WAY
    assert "No space left on device" in summary.stopped
    assert set(booked.values()) == {1} and journaled == sum(booked.values()) > 0
    lock = filelock.FileLock(str(state) + ".lock", timeout=0)
    lock.acquire()  # released: the next cron run is not locked out
    lock.release()
