"""`worklog-import serve` as its own process: SIGTERM stops the running job as a run stops,
and the next start resumes it — every row booked once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from importer.testing import sandbox_process
from tests.helpers import CONFIG_TOML, month_rows, sandbox_get, tracker_env

pytestmark = pytest.mark.slow  # whole processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(tmp_path: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML.replace("rate_limit = 2000", "rate_limit = 50"), "utf-8")
    command = [
        sys.executable, "-m", "importer", "serve", "-c", str(config), "--listen",
        f"127.0.0.1:{port}", "--state", str(tmp_path / "journal.sqlite"),
        "--log-file", str(tmp_path / "service.jsonl"),
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **tracker_env(url)})
    for _ in range(500):
        try:
            get(port, "/api/health")
            return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise AssertionError("the service did not start")


def get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return json.load(answer)


def upload(port: int, path: Path, **fields: str) -> int:
    boundary = "worklogboundary"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    body = (
        (
            head + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/jobs",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 202
        return int(json.load(answer)["id"])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_or_killed_service_resumes_its_job_exactly_once_on_the_next_start(
    signum: int, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """SIGTERM: the running job stops as a run stops; SIGKILL: it is cut anywhere. Either
    way the next start runs it again, and every row is booked once."""
    path = write_csv(month_rows(200))
    port = free_port()
    with sandbox_process("--latency", "0.02") as url:
        service = start(tmp_path, url, port)
        try:
            job_id = upload(port, path)
            while get(port, f"/api/jobs/{job_id}").get("progress", {}).get("rows_done", 0) < 20:
                time.sleep(0.02)
            service.send_signal(signum)
            assert service.wait(timeout=60) == (0 if signum == signal.SIGTERM else -signum)
        finally:
            if service.poll() is None:
                service.kill()
        booked_before = len(sandbox_get(url, "/_sandbox/worklogs"))
        service = start(tmp_path, url, port)
        try:
            for _ in range(3000):
                job = get(port, f"/api/jobs/{job_id}")
                if job["state"] == "finished":
                    break
                time.sleep(0.02)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
        stored = [(w["issue"]["key"], w["comment"]) for w in sandbox_get(url, "/_sandbox/worklogs")]
    assert 20 <= booked_before < 200  # stopped part-way
    assert job["exit_code"] == 0 and "interrupted by a restart" in job["note"]
    assert len(stored) == len(set(stored)) == 200  # every row once
    log = (tmp_path / "service.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line)["event"] for line in log if line.startswith("{")]
    assert {"service_started", "job_started", "job_resumed"} <= set(events)
    if signum == signal.SIGTERM:
        assert "service_stopping" in events


def test_listening_beyond_loopback_without_a_token_is_refused_at_start(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "WORKLOG_IMPORT_API_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "importer", "serve", "-c", str(config), "--listen", "0.0.0.0:0",
         "--state", str(tmp_path / "j.sqlite")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "needs API tokens; set service.tokens_file" in result.stderr
    assert "WORKLOG_IMPORT_API_TOKEN" in result.stderr
