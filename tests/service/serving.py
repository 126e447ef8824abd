"""The service in this process for tests: its API and worker over a journal and jobs
in a temporary folder, and the calls the tests make of it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from importer.config import Settings
from importer.service import JobStore, Runner, Submitters, create_service_app
from tests.helpers import make_settings, sandbox_get, tracker_env

SETTINGS = make_settings()


@contextlib.asynccontextmanager
async def service(
    tmp_path: Path,
    url: str,
    *,
    token: str = "",
    name: str = "journal.sqlite",
    settings: Settings = SETTINGS,
    submitters: Submitters | None = None,
) -> AsyncIterator[tuple[TestClient[Any, Any], Runner]]:
    """The API and its worker, in this process; the journal and jobs under ``tmp_path``."""
    state = tmp_path / name
    store = JobStore(tmp_path / "service" / "jobs.sqlite")
    runner = Runner(settings, store, state, tracker_env(url))
    app = create_service_app(runner, tmp_path / "service" / "jobs", token, submitters=submitters)
    worker = asyncio.create_task(runner.serve())
    try:
        async with TestClient(TestServer(app)) as client:
            yield client, runner
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        store.close()


async def upload(
    client: TestClient[Any, Any], path: Path, headers: dict[str, str] | None = None, **fields: str
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename=path.name, content_type="text/csv")
    for key, value in fields.items():
        form.add_field(key, value)
    return await client.post("/api/jobs", data=form, headers=headers or {})


async def until_ended(
    client: TestClient[Any, Any], job_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    for _ in range(3000):
        answer = await client.get(f"/api/jobs/{job_id}", headers=headers or {})
        job: dict[str, Any] = await answer.json()
        if job["state"] in ("finished", "cancelled", "failed"):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} did not end")


def stored(url: str) -> collections.Counter[tuple[str, str, str, str]]:
    return collections.Counter(
        (w["issue"]["key"], w["start"], w["duration"], w["comment"])
        for w in sandbox_get(url, "/_sandbox/worklogs")
    )
