"""The service while a job plans a big file: is it still answering?

Starts `worklog-import serve --sandbox` in its own process (as systemd would), uploads a
dry run of an N-row CSV through `POST /api/jobs`, and polls `GET /api/health` every 50 ms
from this process until the job ends. Reports the health check's latency as the client
measured it (p50, p99, max), the polls made, and the job's time.

    .venv/bin/python bench/service.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

# Siblings in bench/: a script's own folder is on sys.path.
import files

POLL_EVERY = 0.05


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(base: str, path: str, timeout: float = 30) -> Any:
    with urllib.request.urlopen(f"{base}{path}", timeout=timeout) as answer:
        return json.load(answer)


def upload(base: str, path: Path, **fields: str) -> int:
    """A multipart upload streamed from the file; the job's id."""
    boundary = uuid.uuid4().hex
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{base}/api/jobs",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=300) as answer:
        return int(json.load(answer)["id"])


def start_service(folder: Path, port: int, upload_mb: float) -> subprocess.Popen[bytes]:
    config = folder / "config.toml"
    text = files.CONFIG
    if upload_mb > 50:  # past the default upload limit (and so only for builds that have one)
        text += f"\n[service]\nmax_upload_mb = {int(upload_mb) + 1}\n"
    config.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    command = [
        sys.executable, "-m", "importer", "serve", "-c", str(config), "--sandbox",
        "--listen", f"127.0.0.1:{port}", "--state", str(folder / "journal.sqlite"),
        "--log-file", str(folder / "service.jsonl"),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1000):
        try:
            get(base, "/api/health", timeout=1)
            return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit("the service did not start")


def health_while(base: str, busy: threading.Event) -> list[tuple[float, float]]:
    """(when, seconds) of each health check, polled every 50 ms while ``busy`` is set."""
    taken: list[tuple[float, float]] = []
    while busy.is_set():
        began = time.perf_counter()
        get(base, "/api/health")
        taken.append((began, time.perf_counter() - began))
        time.sleep(max(0.0, POLL_EVERY - (time.perf_counter() - began)))
    return taken


def measure(rows: int) -> dict[str, object]:
    path = files.make_csv(rows)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_service(Path(tmp), port, path.stat().st_size / 2**20)
        try:
            busy = threading.Event()
            busy.set()
            taken: list[tuple[float, float]] = []
            poller = threading.Thread(target=lambda: taken.extend(health_while(base, busy)))
            poller.start()
            began = time.perf_counter()
            job_id = upload(base, path, dry_run="true", batch="bench")
            uploaded = time.perf_counter()
            while (job := get(base, f"/api/jobs/{job_id}"))["state"] not in (
                "finished", "failed", "cancelled",
            ):  # fmt: skip
                time.sleep(0.2)
            wall = time.perf_counter() - began
            busy.clear()
            poller.join()
        finally:
            process.terminate()
            process.wait(timeout=120)
    if job["state"] != "finished":
        raise SystemExit(f"the job ended {job['state']}: {job.get('stopped')}")
    ms = sorted(t * 1000 for _, t in taken)
    slow = [(round(at - began, 2), round(t * 1000)) for at, t in taken if t > 0.1]
    return {
        "upload_seconds": round(uploaded - began, 2),
        "slow_polls_at_s_ms": slow[:20],
        "rows": rows,
        "job_seconds": round(wall, 1),
        "polls": len(ms),
        "health_p50_ms": round(statistics.median(ms), 1),
        "health_p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "health_max_ms": round(ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(json.dumps(measure(args.rows)))


if __name__ == "__main__":
    main()
