from __future__ import annotations

import datetime as dt
from pathlib import Path

from importer.models import Outcome, SourceRow, Status, Worklog
from importer.report import REPORT_COLUMNS, ReportWriter, summary_path_for
from tests.helpers import read_report

MSK = dt.timezone(dt.timedelta(hours=3))


def test_report_has_the_fixed_columns_then_the_source_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    worklog = Worklog(
        "PORT-1", dt.datetime(2026, 10, 1, 9, 30, tzinfo=MSK), dt.timedelta(hours=1.5), "SSO"
    )
    source = SourceRow(
        "oct.csv", 2, {"Задача": "PORT-1", "Часы": "1,5", "Дата": dt.datetime(2026, 10, 1)}
    )
    with ReportWriter(path, ["Задача", "Часы", "Дата"]) as report:
        report.write(Outcome(source, Status.CREATED, worklog, "17", 201, 2))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel shows Cyrillic"
    [line] = read_report(path)
    assert list(line) == [*REPORT_COLUMNS, "Задача", "Часы", "Дата"]
    assert line == {
        "file": "oct.csv",
        "row": "2",
        "status": "created",
        "issue": "PORT-1",
        "start": "2026-10-01T09:30:00+03:00",
        "duration": "PT1H30M",
        "worklog_id": "17",
        "http_status": "201",
        "attempts": "2",
        "error": "",
        "warning": "",
        "previous_duration": "",
        "previous_comment": "",
        "group": "",
        "Задача": "PORT-1",
        "Часы": "1,5",
        "Дата": "2026-10-01",
    }


def test_one_instant_in_two_offsets_is_written_in_each_row_s_own(tmp_path: Path) -> None:
    """Aware datetimes of one instant are equal: a start is shown as its row wrote it, not
    as an earlier row (or an earlier run in the same process) with that instant did."""
    from dateutil import tz

    path = tmp_path / "r.csv"
    starts = [
        dt.datetime(2026, 10, 1, 7, 0, tzinfo=MSK),
        dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(2026, 10, 1, 4, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 1, 8, 0, tzinfo=tz.tzoffset(None, 4 * 3600)),  # unhashable
    ]
    assert len(set(starts[:3])) == 1
    with ReportWriter(path, []) as report:
        for n, start in enumerate(starts):
            worklog = Worklog("PORT-1", start, dt.timedelta(hours=1), "")
            report.write(Outcome(SourceRow("a.csv", n + 2, {}), Status.CREATED, worklog, "1"))
    assert [line["start"] for line in read_report(path)] == [
        "2026-10-01T07:00:00+03:00",
        "2026-10-01T09:00:00+05:00",
        "2026-10-01T04:00:00+00:00",
        "2026-10-01T08:00:00+04:00",
    ]


def test_formula_like_cells_are_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    cells = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "plain", ""]
    with ReportWriter(path, ["Comment"]) as report:
        for n, text in enumerate(cells):
            report.write(
                Outcome(SourceRow("=f.csv", n + 2, {"Comment": text}), Status.INVALID, error="-bad")
            )
    lines = read_report(path)
    assert [line["Comment"] for line in lines] == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "",
    ]
    assert {line["error"] for line in lines} == {"'-bad"}
    assert {line["file"] for line in lines} == {"'=f.csv"}
    assert {line["status"] for line in lines} == {"invalid"}


def test_summary_sits_beside_the_report() -> None:
    assert summary_path_for(Path("out/october.csv")) == Path("out/october.summary.json")


def test_a_failed_rows_file_fed_back_keeps_where_its_rows_first_came_from(
    tmp_path: Path,
) -> None:
    """Fixed, re-run and failing again: the new failed-rows file still names the first
    file and row, not the failed-rows file itself."""
    from importer.report import FailedRowsWriter

    columns = ["Issue", "Hours", "source_file", "source_row", "error"]
    values = {"Issue": "GONE-1", "Hours": "1", "source_file": "october.csv", "source_row": "17"}
    row = SourceRow(str(tmp_path / "r.failed.csv"), 2, values, "")
    with FailedRowsWriter(tmp_path / "r2.csv", columns) as failed:
        failed.write(Outcome(row, Status.FAILED, None, error="HTTP 404: no such issue"))
    header = (tmp_path / "r2.failed.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "Issue,Hours,source_file,source_row,error"  # nothing twice
    [line] = read_report(tmp_path / "r2.failed.csv")
    assert (line["source_file"], line["source_row"]) == ("october.csv", "17")
    assert line["error"] == "HTTP 404: no such issue"
