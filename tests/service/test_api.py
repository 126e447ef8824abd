"""The service's API against a sandbox in its own process: uploads become jobs that import
exactly as `run` does, one at a time; cancel, restart, limits and the token."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from importer.errors import ConfigError
from importer.pipeline import RunOptions, run_import_async
from importer.sandbox import DEFAULT_TOKEN
from importer.service import JobStore, parse_listen
from importer.service.api import page_language
from importer.testing import sandbox_process
from tests.helpers import make_settings, month_rows, read_report, tracker_env
from tests.service.serving import SETTINGS, service, stored, until_ended, upload


async def test_an_upload_books_what_run_books_and_its_report_is_run_s_report(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    path = write_csv([*month_rows(40), ["BAD", "01.10.2026", "09:00", "1", "broken", "a"]])
    async with service(tmp_path, sandbox_url) as (client, _):
        answer = await upload(client, path, batch="2026-10")
        assert answer.status == 202
        job = await until_ended(client, (await answer.json())["id"])
        report = await (await client.get(f"/api/jobs/{job['id']}/report.csv")).text()
        failed = await (await client.get(f"/api/jobs/{job['id']}/failed.csv")).text()
        summary = await (await client.get(f"/api/jobs/{job['id']}/summary.json")).json()
    assert job["exit_code"] == 1 and job["counts"] == {"created": 40, "invalid": 1}
    assert job["names"] == ["timesheet.csv"] and "files" not in job and "folder" not in job
    assert summary["batch"] == "2026-10" and summary["counts"]["created"] == 40
    assert "broken" in failed
    through_api = stored(sandbox_url)
    with sandbox_process("--latency", "0.002") as other:
        options = RunOptions(
            [path], SETTINGS, report_path=tmp_path / "run.csv",
            state_path=tmp_path / "run.sqlite", environ=tracker_env(other), batch="2026-10",
        )  # fmt: skip
        await run_import_async(options)
        by_run = stored(other)
    assert through_api == by_run and sum(by_run.values()) == 40

    def rows(lines: list[dict[str, str]]) -> list[tuple[str, ...]]:
        return sorted((r["row"], r["status"], r["issue"], r["start"], r["duration"]) for r in lines)

    api_lines = list(csv.DictReader(report.lstrip("\ufeff").splitlines()))
    assert rows(api_lines) == rows(read_report(tmp_path / "run.csv"))


async def test_two_uploads_queue_and_run_one_after_the_other(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    first = write_csv(month_rows(60), "first.csv")
    second = write_csv([month_rows(0)[0], *month_rows(90)[61:]], "second.csv")  # 30 other rows
    async with service(tmp_path, sandbox_url) as (client, _runner):
        one = (await (await upload(client, first)).json())["id"]
        two = (await (await upload(client, second)).json())["id"]
        seen_running: set[tuple[int, ...]] = set()
        while True:
            jobs = (await (await client.get("/api/jobs")).json())["jobs"]
            seen_running.add(tuple(j["id"] for j in jobs if j["state"] == "running"))
            if all(j["state"] == "finished" for j in jobs):
                break
            await asyncio.sleep(0.01)
        done = {j["id"]: j for j in jobs}
    assert all(len(running) <= 1 for running in seen_running)  # never side by side
    assert done[one]["finished_at"] <= done[two]["started_at"]
    assert done[one]["options"]["batch"] == "first"  # from the uploaded file's name
    assert sum(stored(sandbox_url).values()) == 60 + 30


async def test_cancel_stops_a_job_as_sigterm_stops_a_run_and_a_new_upload_finishes_it(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(400))
    with sandbox_process("--latency", "0.05", "--rate-limit", "100") as url:
        async with service(tmp_path, url) as (client, _runner):
            job_id = (await (await upload(client, path)).json())["id"]
            while True:
                job = await (await client.get(f"/api/jobs/{job_id}")).json()
                if job.get("progress", {}).get("rows_done", 0) >= 20:
                    break
                await asyncio.sleep(0.02)
            cancelled = await client.post(f"/api/jobs/{job_id}/cancel")
            assert cancelled.status == 202
            job = await until_ended(client, job_id)
            again = await until_ended(client, (await (await upload(client, path)).json())["id"])
            late = await client.post(f"/api/jobs/{job_id}/cancel")
        assert job["state"] == "cancelled" and job["exit_code"] == 143
        assert job["counts"]["pending"] > 0 and "cancel" in job["stopped"]
        assert again["exit_code"] == 0 and late.status == 409
        assert set(stored(url).values()) == {1} and sum(stored(url).values()) == 400


async def test_a_job_the_service_died_in_is_resumed_exactly_once_on_restart(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(300))
    with sandbox_process("--latency", "0.05", "--rate-limit", "100") as url:
        async with service(tmp_path, url) as (client, runner):
            job_id = (await (await upload(client, path)).json())["id"]
            while (current := runner.current) is None or current.progress.counts["created"] < 30:
                await asyncio.sleep(0.02)
        # The worker task was cancelled mid-job, as a killed service leaves it: "running".
        store = JobStore(tmp_path / "service" / "jobs.sqlite")
        assert (job := store.get(job_id)) is not None and job.state == "running"
        store.close()
        async with service(tmp_path, url) as (client, _):
            resumed = await until_ended(client, job_id)
        assert resumed["exit_code"] == 0 and "interrupted by a restart" in resumed["note"]
        assert set(stored(url).values()) == {1} and sum(stored(url).values()) == 300


async def test_uploads_of_the_wrong_kind_or_size_are_refused_with_a_reason(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    script = tmp_path / "evil.sh"
    script.write_text("rm -rf /\n", encoding="utf-8")
    small = make_settings(service={"max_upload_mb": 0.001})
    async with service(tmp_path, sandbox_url, settings=small) as (client, _):
        wrong = await upload(client, script)
        plain = await client.post("/api/jobs", data=b"x", headers={"Content-Type": "text/csv"})
        big = await upload(client, write_csv(month_rows(200)))
        jobs = (await (await client.get("/api/jobs")).json())["jobs"]
        refusal = (await wrong.json())["error"]
        assert wrong.status == 415 and "evil.sh: not a timesheet file" in refusal
        assert plain.status == 415
        assert big.status == 413 and "larger than" in (await big.json())["error"]
    assert jobs == [] and not list((tmp_path / "service" / "jobs").glob("*"))


async def test_with_a_token_every_request_but_health_needs_it_and_no_answer_holds_tracker_s(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    secret = "api-secret-123"
    bearer = {"Authorization": f"Bearer {secret}"}
    async with service(tmp_path, sandbox_url, token=secret) as (client, _):
        assert (await client.get("/api/jobs")).status == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await upload(client, write_csv(month_rows(3)), wrong)).status == 401
        assert (await client.get("/api/health")).status == 200
        answer = await upload(client, write_csv(month_rows(3)), bearer)
        assert answer.status == 202
        job_id = (await answer.json())["id"]
        for _ in range(500):
            job = await (await client.get(f"/api/jobs/{job_id}", headers=bearer)).json()
            if job["state"] == "finished":
                break
            await asyncio.sleep(0.02)
        texts = [
            await (await client.get(path, headers=bearer)).text()
            for path in ("/api/jobs", f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/summary.json",
                         f"/api/jobs/{job_id}/report.csv", "/metrics", "/api/health")
        ]  # fmt: skip
    assert job["state"] == "finished"
    assert not any(DEFAULT_TOKEN in text or secret in text for text in texts)


def test_listening_beyond_loopback_needs_an_api_token() -> None:
    assert parse_listen("127.0.0.1:8765", "") == ("127.0.0.1", 8765)
    assert parse_listen("[::1]:9000", "") == ("::1", 9000)
    with pytest.raises(ConfigError, match=r"tokens_file .* or WORKLOG_IMPORT_API_TOKEN"):
        parse_listen("0.0.0.0:8765", "")
    assert parse_listen("0.0.0.0:8765", "t") == ("0.0.0.0", 8765)


async def test_metrics_parse_as_prometheus_text(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    async with service(tmp_path, sandbox_url) as (client, _):
        job_id = (await (await upload(client, write_csv(month_rows(5)))).json())["id"]
        await until_ended(client, job_id)
        text = await (await client.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    jobs = {s.labels["state"]: s.value for s in families["worklog_import_jobs"].samples}
    rows = {s.labels["status"]: s.value for s in families["worklog_import_rows"].samples}
    assert jobs["finished"] == 1 and jobs["queued"] == 0
    assert rows["created"] == 5
    assert "worklog_import_rows_per_second" in families


async def test_another_site_s_page_cannot_make_the_browser_book_a_file(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    """A multipart POST needs no CORS preflight: without these checks any page the user has
    open could upload a timesheet to the token-less loopback service and book it."""
    path = write_csv(month_rows(2))
    async with service(tmp_path, sandbox_url) as (client, _):
        forged = await upload(client, path, {"Origin": "https://evil.example"})
        fetched = await upload(client, path, {"Sec-Fetch-Site": "cross-site"})
        rebound = await upload(client, path, {"Host": "evil.example:8765"})  # DNS rebinding
        own = await upload(client, path, {"Origin": str(client.make_url("")).rstrip("/")})
        jobs = (await (await client.get("/api/jobs")).json())["jobs"]
    assert (forged.status, fetched.status, rebound.status) == (403, 403, 403)
    assert own.status == 202 and len(jobs) == 1


async def test_a_job_waits_while_a_run_from_cron_holds_the_journal(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    import filelock

    lock = filelock.FileLock(str(tmp_path / "journal.sqlite") + ".lock", timeout=0)
    lock.acquire()  # as `run` from cron holds it
    async with service(tmp_path, sandbox_url) as (client, runner):
        runner.locked_retry = 0.05
        job_id = (await (await upload(client, write_csv(month_rows(3)))).json())["id"]
        while (
            "waiting" not in (job := await (await client.get(f"/api/jobs/{job_id}")).json())["note"]
        ):
            await asyncio.sleep(0.02)
        assert job["state"] == "queued" and "another run is using" in job["note"]
        lock.release()
        ended = await until_ended(client, job_id)
    assert ended["state"] == "finished" and ended["exit_code"] == 0 and ended["note"] == ""


async def test_the_plan_report_and_failed_rows_name_the_uploaded_file_not_the_stored_one(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    rows = [*month_rows(3), ["BAD", "01.10.2026", "09:00", "1", "broken", "a"]]
    path = write_csv(rows, name="timesheet-2026-10.csv")
    async with service(tmp_path, sandbox_url) as (client, _):
        answer = await upload(client, path, dry_run="true")
        job = await until_ended(client, (await answer.json())["id"])
        report = await (await client.get(f"/api/jobs/{job['id']}/report.csv")).text()
        failed = await (await client.get(f"/api/jobs/{job['id']}/failed.csv")).text()
        summary = await (await client.get(f"/api/jobs/{job['id']}/summary.json")).json()
    lines = list(csv.DictReader(report.lstrip("\ufeff").splitlines()))
    assert {line["file"] for line in lines} == {"timesheet-2026-10.csv"}
    assert [p["file"] for p in summary["problems"]] == ["timesheet-2026-10.csv"]
    # How it was read, as the page shows it: the zone, the batch, the layout per file.
    assert summary["timezone"] == "Europe/Moscow" and summary["batch"] == "timesheet-2026-10"
    assert summary["presets"] == {"timesheet-2026-10.csv": ""}  # the config's [columns]
    failed_lines = list(csv.DictReader(failed.lstrip("\ufeff").splitlines()))
    assert [line["source_file"] for line in failed_lines] == ["timesheet-2026-10.csv"]


def test_two_uploads_of_one_name_are_told_apart_by_their_position() -> None:
    from importer.service.runner import shown_names

    assert shown_names(["a.csv", "b.csv", "a.csv"]) == ["a.csv (file 1)", "b.csv", "a.csv (file 3)"]
    assert shown_names(["october.csv"]) == ["october.csv"]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("de-DE,en;q=0.5,ru;q=0.4", "en"),
        ("de", "ru"),
        ("en;q=0.5, ru;q=0.5", "en"),
        ("en;q=abc,ru;q=0.1", "ru"),
    ],
)
def test_the_page_speaks_the_language_the_browser_weighs_highest(
    header: str, language: str
) -> None:
    assert page_language(header) == language
