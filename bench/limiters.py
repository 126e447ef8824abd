"""The pacer beside aiolimiter, on the same sender, against a strict limiter in its own process.

    .venv/bin/python bench/limiters.py [--rate 200] [--requests 3000] [--shape sliding]
    .venv/bin/python bench/limiters.py --shape bucket -- --bucket-size 20   # a small bucket

Each limiter paces the same plain sender (128 tasks, each: wait for the limiter, then one
worklog POST) at a configured rate equal to the sandbox's limit, against a fresh sandbox of
the given shape. What decides between them: the share of the limit reached and the share of
requests refused with 429. aiolimiter is a leaky bucket: ``AsyncLimiter(1, 1/R)`` (a bucket
of one, evenly spaced) and ``AsyncLimiter(R, 1)`` (a bucket of R, as its docs show).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter

from importer.clock import SystemClock
from importer.sandbox import DEFAULT_ORG_ID, DEFAULT_TOKEN
from importer.testing import sandbox_process
from importer.tracker.pacing import Pacer

SENDERS = 128
HEADERS = {"Authorization": f"OAuth {DEFAULT_TOKEN}", "X-Org-ID": DEFAULT_ORG_ID}
Acquire = Callable[[], Awaitable[object]]


def pacer(rate: float) -> Acquire:
    paced = Pacer(rate, SystemClock())
    return paced.wait_turn


def leaky_bucket(rate: float, size: float) -> Acquire:
    limiter = AsyncLimiter(size, size / rate)
    return limiter.acquire


async def _send(url: str, count: int, acquire: Acquire) -> tuple[list[int], float]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    statuses: list[int] = []

    async def sender(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            await acquire()
            body = {"start": "2026-10-01T09:00:00.000+0300", "duration": "PT1H", "comment": f"{n}"}
            async with session.post(f"{url}/v2/issues/BENCH-{1 + n % 50}/worklog", json=body) as r:
                await r.read()
                statuses.append(r.status)

    connector = aiohttp.TCPConnector(limit=SENDERS)
    async with aiohttp.ClientSession(connector=connector, headers=HEADERS) as session:
        started = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(SENDERS)))
        return statuses, time.perf_counter() - started


def measure(
    name: str, make: Callable[[], Acquire], rate: int, count: int, shape: str, extra: list[str]
) -> Any:
    flags = ["--rate-limit", str(rate), "--latency", "0.05", "--limiter", shape, *extra]
    with sandbox_process(*flags) as url:
        statuses, wall = asyncio.run(_send(url, count, make()))
    refused = statuses.count(429)
    return {
        "limiter": name,
        "shape": " ".join([shape, *extra]),
        "fraction_of_limit": round(count / rate / wall, 3),
        "share_429": round(refused / count, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--shape", default="sliding")
    parser.add_argument("sandbox_flags", nargs="*", help="more flags for the sandbox")
    args = parser.parse_args()
    rate = args.rate
    candidates: dict[str, Callable[[], Acquire]] = {
        "pacer (even schedule + window of real sends)": lambda: pacer(rate),
        "aiolimiter, bucket of 1": lambda: leaky_bucket(rate, 1),
        "aiolimiter, bucket of R": lambda: leaky_bucket(rate, rate),
    }
    for name, make in candidates.items():
        found = measure(name, make, rate, args.requests, args.shape, args.sandbox_flags)
        print(json.dumps(found))


if __name__ == "__main__":
    main()
