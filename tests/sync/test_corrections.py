"""A corrected export run without --sync (cron's way) is never booked beside the old booking."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from importer.cli import main
from tests.helpers import CONFIG_TOML, HEADER, read_report

BOOKED = [
    HEADER,
    ["BILL-81", "01.10.2026", "09:00", "2", "design", "a.smirnova"],
    ["BILL-82", "01.10.2026", "11:00", "2", "build", "a.smirnova"],
]
CORRECTED = [BOOKED[0], ["BILL-81", "01.10.2026", "09:00", "3", "design", "a.smirnova"], BOOKED[2]]


class Cron:
    """`run --sandbox --state k.sqlite FILE -c config.toml --report R -q`, as the issue ran it:
    the rehearsal's Tracker keeps its worklogs beside the journal between runs."""

    def __init__(self, tmp_path: Path, write_csv: Callable[..., Path]) -> None:
        self.tmp_path = tmp_path
        self.write_csv = write_csv
        self.config = tmp_path / "config.toml"
        self.config.write_text(CONFIG_TOML, encoding="utf-8")
        self.state = tmp_path / "k.sqlite"
        self.runs = 0

    def __call__(self, rows: list[list[str]], *flags: str) -> tuple[int, str, list[dict[str, str]]]:
        self.runs += 1
        path = self.write_csv(rows, name="c1.csv")
        report = self.tmp_path / f"k{self.runs}.csv"
        args = ["run", "--sandbox", "--state", str(self.state), str(path), "-c", str(self.config)]
        result = CliRunner().invoke(main, [*args, "--report", str(report), "-q", *flags])
        lines = read_report(report) if report.exists() else []
        return result.exit_code, result.stdout + result.stderr, lines

    def tracker(self) -> list[tuple[str, str, float, str]]:
        """What the rehearsal's Tracker holds: (issue, start, hours, comment), sorted."""
        kept = json.loads((self.tmp_path / "k.sqlite.sandbox.json").read_text(encoding="utf-8"))
        return sorted((w["issue"], w["start"], w["seconds"] / 3600, w["comment"]) for w in kept)


def test_a_corrected_row_is_not_booked_beside_its_earlier_booking(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    cron = Cron(tmp_path, write_csv)
    code, out, _ = cron(BOOKED)
    assert (code, out) == (0, "")
    before = cron.tracker()
    assert [hours for _, _, hours, _ in before] == [2.0, 2.0]

    code, out, report = cron(CORRECTED)
    assert code == 1  # cron mails the summary
    assert cron.tracker() == before  # nothing booked
    held = [line for line in report if line["status"] == "needs_sync"]
    assert [line["row"] for line in held] == ["2"]
    assert held[0]["worklog_id"] != ""
    assert held[0]["previous_duration"] == "PT2H" and held[0]["duration"] == "PT3H"
    assert [line["status"] for line in report if line["row"] == "3"] == ["already_imported"]
    # Printed under -q: the row, the earlier worklog and what it holds, and what to do.
    worklog = held[0]["worklog_id"]
    assert "needs sync: 1" in out
    assert (
        f"c1.csv:2 needs_sync: not booked: this row corrects worklog {worklog} "
        f"(2 h, 'design', booked from" in out
    )
    assert "(hours 2 → 3); run with --sync to replace it, or with --book-beside" in out
    assert "1 rows correct earlier bookings of batch 'c1' and were not booked" in out

    code, out, report = cron(CORRECTED, "--sync")
    assert code == 0, out
    assert cron.tracker() == [  # exactly one 3 h worklog for BILL-81
        ("BILL-81", "2026-10-01T09:00:00+03:00", 3.0, "design"),
        ("BILL-82", "2026-10-01T11:00:00+03:00", 2.0, "build"),
    ]
    assert sorted((line["row"], line["status"]) for line in report) == [
        ("2", "updated"),
        ("3", "already_imported"),
    ]


def test_book_beside_keeps_both_worklogs_as_asked(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    cron = Cron(tmp_path, write_csv)
    cron(BOOKED)
    code, out, report = cron(CORRECTED, "--book-beside")
    assert (code, out) == (0, "")
    assert sorted(h for _, _, h, _ in cron.tracker()) == [2.0, 2.0, 3.0]
    beside = [line for line in report if line["status"] == "created"]
    assert [line["row"] for line in beside] == ["2"]
    assert "an earlier booking of this row, worklog" in beside[0]["warning"]
    assert "is still in Tracker; run with --sync to replace it" in beside[0]["warning"]
    summary = json.loads((tmp_path / "k2.summary.json").read_text(encoding="utf-8"))
    assert summary["corrections_booked"] == 1


def test_book_beside_with_sync_is_refused_before_anything_is_sent(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    cron = Cron(tmp_path, write_csv)
    cron(BOOKED)
    code, out, _ = cron(CORRECTED, "--sync", "--book-beside")
    assert code == 2
    assert "--book-beside and --sync exclude each other" in out
    assert [h for _, _, h, _ in cron.tracker()] == [2.0, 2.0]


def test_an_unchanged_rerun_books_nothing_and_new_rows_are_still_booked(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    cron = Cron(tmp_path, write_csv)
    cron(BOOKED)
    code, out, report = cron(BOOKED)
    assert (code, out) == (0, "")
    assert {line["status"] for line in report} == {"already_imported"}
    more = [*BOOKED, ["BILL-83", "02.10.2026", "09:00", "1", "new", "a.smirnova"]]
    # A new row at the same issue and start as a booking whose own row is still there is a
    # new row, not a correction.
    more.append(["BILL-81", "01.10.2026", "09:00", "1", "pairing", "a.smirnova"])
    code, out, report = cron(more)
    assert (code, out) == (0, "")
    assert sorted(
        (line["row"], line["status"]) for line in report if line["status"] != "already_imported"
    ) == [
        ("4", "created"),
        ("5", "created"),
    ]
    assert len(cron.tracker()) == 4


def test_removed_rows_are_left_but_counted_and_the_dry_run_lists_corrections(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    cron = Cron(tmp_path, write_csv)
    cron(BOOKED)
    removed = [CORRECTED[0], CORRECTED[1]]  # BILL-81 corrected, BILL-82 gone
    code, out, report = cron(removed, "--dry-run")
    assert code == 1
    assert "needs sync: 1" in out
    assert "1 rows correct earlier bookings of batch 'c1': a run without --sync would leave" in out
    assert "1 earlier bookings of batch 'c1' have no row in these files" in out
    assert "(see them with --sync --dry-run)" in out
    assert [line["status"] for line in report] == ["needs_sync"]

    code, out, _ = cron(removed, "--log-format", "json")
    assert code == 1
    finished = [json.loads(line) for line in out.splitlines() if '"run_finished"' in line]
    assert finished[0]["needs_sync"] == 1 and finished[0]["removed_from_files"] == 1
    summary = json.loads((tmp_path / "k2.summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["needs_sync"] == 1 and summary["removed_from_files"] == 1
    assert [h for _, _, h, _ in cron.tracker()] == [2.0, 2.0]  # both left as they were
