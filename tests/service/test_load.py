"""The service under work: the health check answers while a job plans a big file, and 20
uploads at once with 50 pages polling lose no job and never run two side by side.

The service runs as its own process (as systemd runs it); the latencies are this test's own
measurements of its requests, not the server's clock."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.testing import sandbox_process
from tests.helpers import month_rows, sandbox_get
from tests.service.test_process import free_port, get, start, upload

pytestmark = pytest.mark.slow  # whole processes, a big file

POLL_EVERY = 0.05


def health_latencies(port: int, busy: threading.Event) -> list[float]:
    """Seconds each ``GET /api/health`` took, one every 50 ms while ``busy`` is set."""
    taken: list[float] = []
    while busy.is_set():
        began = time.perf_counter()
        assert get(port, "/api/health")["ok"] is True
        taken.append(time.perf_counter() - began)
        time.sleep(max(0.0, POLL_EVERY - taken[-1]))
    return taken


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def ended(port: int, job_id: int) -> dict[str, object]:
    for _ in range(6000):
        job: dict[str, object] = get(port, f"/api/jobs/{job_id}")
        if job["state"] in ("finished", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


def test_the_health_check_answers_within_100_ms_while_a_big_file_is_planned(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv(month_rows(200_000))  # 5.6 s of p99 when the plan ran on the service's loop
    port = free_port()

    with sandbox_process("--latency", "0.002") as url:
        service = start(tmp_path, url, port)
        busy = threading.Event()
        busy.set()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            polled = pool.submit(health_latencies, port, busy)
            try:
                job = ended(port, upload(port, path, dry_run="true"))
            finally:
                busy.clear()
                service.terminate()
                service.wait(timeout=60)
            taken = polled.result()
    assert job["state"] == "finished" and job["counts"] == {"pending": 200_000}
    assert len(taken) >= 20  # the plan took a while: the polls span it
    assert p99(taken) <= 0.1, f"p99 {p99(taken) * 1000:.0f} ms over {len(taken)} polls"


def test_twenty_uploads_at_once_with_fifty_pages_polling_run_one_at_a_time_and_all_end(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(400)
    files = [write_csv([rows[0], *rows[1 + 20 * n : 21 + 20 * n]], f"t{n}.csv") for n in range(20)]
    port = free_port()

    with sandbox_process("--latency", "0.005") as url:
        service = start(tmp_path, url, port)
        busy = threading.Event()
        busy.set()
        try:
            with concurrent.futures.ThreadPoolExecutor(72) as pool:
                health = pool.submit(health_latencies, port, busy)
                pages = [pool.submit(_page_polling, port, busy) for _ in range(50)]
                ids = list(pool.map(lambda f: upload(port, f), files))
                jobs = [ended(port, job_id) for job_id in ids]
                busy.clear()
                polls = sum(page.result() for page in pages)
                taken = health.result()
        finally:
            busy.clear()
            service.terminate()
            service.wait(timeout=60)
        booked = len(sandbox_get(url, "/_sandbox/worklogs"))
    assert sorted(ids) == list(range(1, 21))  # every upload became a job
    assert all(j["state"] == "finished" and j["exit_code"] == 0 for j in jobs)
    assert booked == 400 and polls > 50
    log = (tmp_path / "service.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in log if line.startswith("{")]
    turns = [e["event"] for e in events if e["event"] in ("job_started", "job_finished")]
    assert turns == ["job_started", "job_finished"] * 20  # never two running at once
    assert p99(taken) <= 0.1, f"p99 {p99(taken) * 1000:.0f} ms over {len(taken)} polls"


def _page_polling(port: int, busy: threading.Event) -> int:
    """A page open in a browser: the job list every 0.4 s."""
    polls = 0
    while busy.is_set():
        get(port, "/api/jobs")
        polls += 1
        time.sleep(0.4)
    return polls
