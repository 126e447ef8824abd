"""What the service's handlers share: the application's keys, and how a refusal is said."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from importer.service.jobs import JobStore
from importer.service.people import Submitters
from importer.service.runner import Runner

RUNNER: web.AppKey[Runner] = web.AppKey("runner", Runner)
STORE: web.AppKey[JobStore] = web.AppKey("store", JobStore)
JOBS_DIR: web.AppKey[Path] = web.AppKey("jobs_dir", Path)
SUBMITTERS: web.AppKey[Submitters] = web.AppKey("submitters", Submitters)
UPLOAD_LIMIT: web.AppKey[int] = web.AppKey("upload_limit", int)  # bytes, the whole request
SUBMITTER: web.RequestKey[str] = web.RequestKey("submitter", str)  # who sent the request


def refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
