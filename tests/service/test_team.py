"""The service for a team: people by named tokens (each job records its submitter, a revoked
token stops at once), finished jobs' files removed after ``service.keep_days``, an upload
cut off mid-body leaves nothing behind, and the job says how its files were read."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog

from importer.errors import ConfigError
from importer.sandbox import DEFAULT_TOKEN
from importer.service import JobStore, Submitters
from importer.service.people import token_hash, write_tokens
from importer.service.retention import sweep
from importer.testing import sandbox_process
from tests.helpers import make_settings, month_rows
from tests.service.serving import service, stored, until_ended, upload

ALICE, BOB = "alice-token-0123456789", "bob-token-9876543210"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def every_file_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


async def test_each_job_shows_its_submitter_and_a_revoked_token_stops_while_a_job_runs(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    tokens = tmp_path / "people.tokens"
    write_tokens(tokens, {"alice": token_hash(ALICE), "bob": token_hash(BOB)})
    people = Submitters(tokens)
    answers: list[str] = []
    with (
        sandbox_process("--latency", "0.02", "--rate-limit", "100") as url,
        structlog.testing.capture_logs() as events,
    ):
        async with service(tmp_path, url, submitters=people) as (client, runner):
            assert (await client.get("/api/jobs")).status == 401
            rows = month_rows(205)
            bobs = write_csv([rows[0], *rows[201:]], name="bob.csv")  # not among alice's
            by_bob = await (await upload(client, bobs, auth(BOB))).json()
            await until_ended(client, by_bob["id"], auth(BOB))
            by_alice = await upload(client, write_csv(month_rows(200)), auth(ALICE))
            alice_id = (await by_alice.json())["id"]
            while (current := runner.current) is None or not current.progress.counts["created"]:
                await asyncio.sleep(0.01)
            write_tokens(tokens, {"alice": token_hash(ALICE)})  # bob leaves mid-job
            refused = await client.get("/api/jobs", headers=auth(BOB))
            assert refused.status == 401
            ended = await until_ended(client, alice_id, auth(ALICE))
            for path in ("/api/jobs", f"/api/jobs/{alice_id}", "/metrics", "/api/health",
                         f"/api/jobs/{alice_id}/summary.json", f"/api/jobs/{alice_id}/report.csv",
                         f"/api/jobs/{by_bob['id']}"):  # fmt: skip
                answers.append(await (await client.get(path, headers=auth(ALICE))).text())
            listed = json.loads(answers[0])["jobs"]
            summary = json.loads(answers[4])
        booked = stored(url)
    assert ended["state"] == "finished" and ended["exit_code"] == 0  # not disturbed
    assert ended["counts"] == {"created": 200} and sum(booked.values()) == 205
    assert [j["submitted_by"] for j in listed] == ["alice", "bob"]
    assert json.loads(answers[6])["submitted_by"] == "bob" and by_bob["submitted_by"] == "bob"
    assert summary["submitted_by"] == "alice"
    started = [e for e in events if e["event"] in ("job_started", "job_finished")]
    assert [(e["event"], e["submitted_by"]) for e in started] == [
        ("job_started", "bob"), ("job_finished", "bob"),
        ("job_started", "alice"), ("job_finished", "alice"),
    ]  # fmt: skip
    # No token anywhere: not in an answer, the log, the jobs' files or the tokens file.
    written = every_file_under(tmp_path) + repr(events).encode()
    for secret in (ALICE, BOB, DEFAULT_TOKEN):
        assert not any(secret in text for text in answers)
        assert secret.encode() not in written


async def test_jobs_started_from_a_plan_are_submitted_by_whoever_starts_them(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    tokens = tmp_path / "people.tokens"
    write_tokens(tokens, {"alice": token_hash(ALICE), "bob": token_hash(BOB)})
    async with service(tmp_path, sandbox_url, submitters=Submitters(tokens)) as (client, _):
        plan = await (
            await upload(client, write_csv(month_rows(4)), auth(ALICE), dry_run="1")
        ).json()
        await until_ended(client, plan["id"], auth(ALICE))
        started = await client.post(f"/api/jobs/{plan['id']}/start", headers=auth(BOB))
        job = await started.json()
        booked = await until_ended(client, job["id"], auth(BOB))
    assert started.status == 202 and booked["submitted_by"] == "bob"
    assert booked["exit_code"] == 0 and booked["counts"] == {"created": 4}


async def test_a_job_says_how_its_files_were_read(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    async with service(tmp_path, sandbox_url) as (client, _):
        job = await (await upload(client, write_csv(month_rows(3)), dry_run="1")).json()
        ended = await until_ended(client, job["id"])
        listed = await (await client.get("/api/jobs")).json()
    reading = {"timezone": "Europe/Moscow", "batch": ended["options"]["batch"],
               "presets": {"timesheet.csv": ""}}  # fmt: skip
    assert ended["reading"] == reading and listed["jobs"][0]["reading"] == reading
    assert ended["submitted_by"] == "local"  # a token-less loopback service


async def test_a_finished_job_s_files_go_after_keep_days_and_the_job_says_so(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    async with service(tmp_path, sandbox_url) as (client, runner):
        plan = await (await upload(client, write_csv(month_rows(4)), dry_run="1")).json()
        await until_ended(client, plan["id"])
        booked = await (await client.post(f"/api/jobs/{plan['id']}/start")).json()
        await until_ended(client, booked["id"])
        folders = sorted((tmp_path / "service" / "jobs").iterdir())
        store = runner.store
        now = dt.datetime.now(dt.UTC)
        assert await sweep(store, 30, now) == []  # ended moments ago: kept
        assert await sweep(store, 0, now + dt.timedelta(days=999)) == []  # 0 keeps forever
        later = now + dt.timedelta(days=30, minutes=1)
        assert await sweep(store, 30, later) == [plan["id"], booked["id"]]
        assert await sweep(store, 30, later) == []  # once
        job = await (await client.get(f"/api/jobs/{booked['id']}")).json()
        download = await client.get(f"/api/jobs/{booked['id']}/report.csv")
        gone = (await download.json())["error"]
        again = await client.post(f"/api/jobs/{plan['id']}/start")
        refused = (await again.json())["error"]
    assert len(folders) == 2 and not any(f.exists() for f in folders)
    assert job["files_removed_at"] == later.isoformat(timespec="seconds")
    assert job["counts"] == {"created": 4}  # the job itself stays listed
    assert download.status == 410 and "removed on" in gone
    assert again.status == 410 and "service.keep_days" in refused
    assert sum(stored(sandbox_url).values()) == 4  # bookings are never touched


async def test_retention_never_touches_a_job_that_has_not_ended(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    folder = tmp_path / "jobs" / "queued"
    (folder / "files").mkdir(parents=True)
    store.add(["a.csv"], [str(folder / "files" / "1.csv")], {}, str(folder))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    assert await sweep(store, 1, later) == [] and folder.exists()
    store.close()


async def test_an_upload_cut_off_mid_body_leaves_nothing_behind(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    body = write_csv(month_rows(2000)).read_bytes()
    async with service(tmp_path, sandbox_url) as (client, _):
        server = client.server
        _, writer = await asyncio.open_connection(server.host, server.port)
        head = (
            f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: multipart/form-data; boundary=cut\r\n"
            f"Content-Length: {len(body) + 200}\r\n\r\n"
            '--cut\r\nContent-Disposition: form-data; name="file"; filename="october.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        )
        writer.write(head.encode() + body[: len(body) // 2])
        await writer.drain()
        for _ in range(200):  # the part is being stored
            if list((tmp_path / "service" / "jobs").rglob("1.csv")):
                break
            await asyncio.sleep(0.01)
        writer.close()  # the client is gone mid-body
        await writer.wait_closed()
        for _ in range(300):
            if not list((tmp_path / "service" / "jobs").iterdir()):
                break
            await asyncio.sleep(0.01)
        jobs = await (await client.get("/api/jobs")).json()
        health = await client.get("/api/health")
    assert not list((tmp_path / "service" / "jobs").iterdir())
    assert jobs == {"jobs": []} and health.status == 200


def test_keep_days_cannot_be_negative() -> None:
    with pytest.raises(ConfigError, match=r"service\.keep_days must be 0"):
        make_settings(service={"keep_days": -1})


async def test_a_job_without_a_timezone_is_refused_in_the_cli_s_words(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    from importer.errors import ImporterError
    from importer.pipeline import RunOptions, run_import_async

    zoneless = make_settings(input={"timezone": ""})
    path = write_csv(month_rows(3))
    with pytest.raises(ImporterError) as cli:
        await run_import_async(
            RunOptions([path], zoneless, dry_run=True, report_path=tmp_path / "r.csv")
        )
    async with service(tmp_path, sandbox_url, settings=zoneless) as (client, _):
        job = await (await upload(client, path, dry_run="1")).json()
        ended = await until_ended(client, job["id"])
    assert ended["state"] == "failed" and ended["exit_code"] == 2
    # The CLI's refusal word for word, naming the file as it was uploaded.
    assert ended["stopped"] == str(cli.value).replace(str(path), path.name)
    assert "input.timezone is not set" in ended["stopped"]
