"""P7's control sender: plain asyncio and aiohttp, no importer code.

A limiter shape that refuses the importer may be refusing this machine instead: the sandbox
stamps arrivals in a process that shares two cores with the sender. So beside each importer
run the same number of worklog POSTs goes to a fresh sandbox of the same shape on an even,
absolute schedule — request i leaves at t0 + i / (0.99 R), so a late wake-up does not push
the rest back — over 64 connections, with no retries. The 429s it draws are the machine's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

PACE = 0.99  # of the limit: what an even sender that leaves the limiter 1 % to spare sends
CONNECTIONS = 64
LEAD = 0.1  # seconds to set up every request before the first one is due


def send_evenly(url: str, count: int, limit: float, headers: Mapping[str, str]) -> dict[str, Any]:
    """POST ``count`` worklogs at ``PACE`` × ``limit`` a second; what came back, and how fast."""
    statuses, wall = asyncio.run(_send(url, count, PACE * limit, headers))
    refused = statuses.count(429)
    return {
        "requests": count,
        "created": statuses.count(201),
        "served_429": refused,
        "share_429": round(refused / max(1, count), 4),
        "wall_seconds": round(wall, 2),
        "fraction_of_limit": round(count / limit / wall, 3),
    }


async def _send(
    url: str, count: int, rate: float, headers: Mapping[str, str]
) -> tuple[list[int], float]:
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        start = loop.time() + LEAD
        statuses = await asyncio.gather(
            *(_post_at(session, url, n, start + n / rate) for n in range(count))
        )
        return list(statuses), loop.time() - start


async def _post_at(session: aiohttp.ClientSession, url: str, n: int, at: float) -> int:
    await asyncio.sleep(at - asyncio.get_running_loop().time())
    body = {
        "start": "2026-10-01T09:00:00.000+0300",
        "duration": "PT1H30M",
        "comment": f"control {n}",
    }
    async with session.post(f"{url}/v2/issues/BENCH-{1 + n % 50}/worklog", json=body) as answer:
        await answer.read()
        return answer.status
