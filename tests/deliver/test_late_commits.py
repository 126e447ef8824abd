"""Late commits: Tracker stores a POST after the client stopped waiting for its answer.

The row waits until its commit horizon has passed since its POST was sent; only a listing
that starts after that may prove the worklog absent. Against a sandbox in its own process
that stores every POST ``D`` seconds after receiving it, for delays on both sides of the
client's timeout and up to the horizon: every row is stored exactly once, and none is lost.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.config import Settings
from importer.pipeline import RunOptions, run_import_async
from importer.report import RunSummary
from importer.testing import sandbox_process
from tests.helpers import make_settings, month_rows, read_report, sandbox_get, tracker_env

pytestmark = pytest.mark.slow  # waits out real horizons

TIMEOUT = 0.3
HORIZON = 1.5


async def import_and_count(
    url: str, csv: Path, settings: Settings, tmp_path: Path
) -> tuple[RunSummary, collections.Counter[tuple[str, str]]]:
    """Run once against the sandbox at ``url``; what it stored, by (issue, comment)."""
    summary = await run_import_async(
        RunOptions(
            files=[csv],
            settings=settings,
            report_path=tmp_path / "report.csv",
            state_path=tmp_path / "journal.sqlite",
            environ=tracker_env(url),
        )
    )
    stored = collections.Counter(
        (w["issue"]["key"], w["comment"]) for w in sandbox_get(url, "/_sandbox/worklogs")
    )
    return summary, stored


def each_once(rows: list[list[str]]) -> collections.Counter[tuple[str, str]]:
    return collections.Counter((r[0], r[4]) for r in rows[1:])


@pytest.mark.parametrize("delay", [0.1, 0.25, 0.35, 0.8, 1.3])
async def test_a_post_stored_after_its_timeout_is_adopted_never_doubled(
    delay: float, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = month_rows(12)
    settings = make_settings(
        delivery={"request_timeout": TIMEOUT, "commit_horizon": HORIZON, "max_attempts": 4}
    )
    with sandbox_process("--commit-delay", str(delay)) as url:
        summary, stored = await import_and_count(url, write_csv(rows), settings, tmp_path)
    assert summary.exit_code == 0, (summary.stopped, summary.problems)
    assert stored == each_once(rows)
    report = read_report(tmp_path / "report.csv")
    assert {line["status"] for line in report} == {"created"}
    if delay > TIMEOUT:
        assert all("adopted" in line["error"] for line in report)


async def test_a_row_an_earlier_run_left_unanswered_waits_out_its_horizon_in_the_next_run(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    """The horizon counts from when the earlier run marked the row, not from this run."""
    from importer.config import resolve_credentials
    from importer.journal import Journal
    from importer.models import Mode
    from importer.pipeline.bookings import bookings
    from importer.pipeline.delivery import target_of
    from importer.pipeline.inputs import open_inputs

    rows = month_rows(3)
    csv = write_csv(rows)
    settings = make_settings(delivery={"commit_horizon": 3.0})
    with sandbox_process("--commit-delay", "1.5") as url:
        env = tracker_env(url)
        # An earlier run marked row 1 'sending', sent its POST and was killed: the POST is
        # still on its way into Tracker (stored 1.5 s after it arrives).
        target = target_of(resolve_credentials(settings, env))
        [opened] = open_inputs([csv], settings)
        first = next(b for b in bookings([opened], Mode.CREATE, target))
        journal = Journal.open(tmp_path / "journal.sqlite")
        await journal.mark_sending(
            first.fingerprint, first.worklog, target=target, mode=Mode.CREATE,  # type: ignore[union-attr]
            file=first.source.file, row=first.source.row,
        )  # fmt: skip
        await journal.flush()
        journal.close()
        import json
        import urllib.request

        body = json.dumps(first.worklog.payload()).encode()  # type: ignore[union-attr]
        request = urllib.request.Request(
            f"{url}/v2/issues/{first.worklog.issue}/worklog",  # type: ignore[union-attr]
            data=body,
            method="POST",
            headers={"Authorization": f"OAuth {env['TRACKER_TOKEN']}",
                     "X-Org-ID": env["TRACKER_ORG_ID"], "Content-Type": "application/json"},
        )  # fmt: skip
        with pytest.raises(OSError):
            urllib.request.urlopen(request, timeout=0.2)  # the "killed" run's POST
        summary, stored = await import_and_count(url, csv, settings, tmp_path)
    assert summary.exit_code == 0
    assert stored == each_once(rows)
    report = {line["row"]: line for line in read_report(tmp_path / "report.csv")}
    assert report["2"]["status"] == "already_imported"
    assert "interrupted" in report["2"]["error"]


async def test_a_stored_write_whose_answer_was_lost_is_settled_at_once_not_after_the_horizon(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    """With a real Tracker's 60 s horizon: the first read after a dropped answer finds the
    stored worklog and settles the row; nothing waits for the horizon, nothing is doubled."""
    from structlog.testing import capture_logs

    rows = month_rows(60)
    settings = make_settings(delivery={"commit_horizon": 60.0, "rate_limit": 200})
    with sandbox_process("--p-created-then-drop", "0.1", "--seed", "3") as url:
        with capture_logs() as logs:
            summary, stored = await import_and_count(url, write_csv(rows), settings, tmp_path)
        dropped = sandbox_get(url, "/_sandbox/stats")["faults"].get("created_then_drop", 0)
    assert summary.exit_code == 0, (summary.stopped, summary.problems)
    assert stored == each_once(rows)
    report = read_report(tmp_path / "report.csv")
    adopted = [line for line in report if "adopted" in line["error"]]
    assert dropped >= 3 and len(adopted) == dropped  # every lost answer found in Tracker
    assert not [e for e in logs if e["event"] == "waiting_for_commit_horizon"]


async def test_answers_lost_while_fresh_rows_flow_are_looked_up_by_one_shared_search(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    """At a slow pace every request is dear: lost answers wait (up to 10 s, or until the
    input is exhausted) to share one search instead of paying for one each."""
    rows = month_rows(80)
    settings = make_settings(delivery={"commit_horizon": 60.0, "rate_limit": 40})
    from structlog.testing import capture_logs

    with (
        sandbox_process("--p-created-then-drop", "0.1", "--seed", "4") as url,
        capture_logs() as logs,
    ):
        summary, stored = await import_and_count(url, write_csv(rows), settings, tmp_path)
        stats = sandbox_get(url, "/_sandbox/stats")
    dropped = stats["faults"].get("created_then_drop", 0)
    looks = sum(1 for e in logs if e["event"] == "reconcile_search") - 1  # but the pre-check
    assert summary.exit_code == 0, (summary.stopped, summary.problems)
    assert stored == each_once(rows)
    assert dropped >= 5
    assert 1 <= looks <= dropped / 2  # shared looks, not one search per lost answer
    assert not [e for e in logs if e["event"] == "waiting_for_commit_horizon"]
