"""The service's HTTP API (JSON), on aiohttp like the sandbox.

``POST /api/jobs`` takes files (multipart, field ``file``, one or more) and options (fields
``dry_run``, ``batch``, ``sync``, ``mode``, ``allow_mass_delete``, ``rebook``) and answers
``202`` with the job (a job refused because its batch was booked the other way says
``"reading": {"offer": "rebook", "batch": ..., "from": "row", "to": "day"}``: ask again
with ``rebook``); ``GET /api/jobs`` lists
recent jobs; ``GET /api/jobs/{id}`` shows one with its progress;
``GET /api/jobs/{id}/report.csv``, ``failed.csv``, ``summary.json`` download its files;
``POST /api/jobs/{id}/cancel`` stops it; ``GET /api/health``; ``GET /metrics`` (Prometheus).

Security: with API tokens (named ones from ``service.tokens_file``, or the one
``WORKLOG_IMPORT_API_TOKEN``) every request but the page and the health check must send
``Authorization: Bearer <token>`` (compared in constant time); the job records whose token
it was. A service listening beyond loopback refuses to start without tokens. A header, not
a cookie, so no other site can make a browser send it; and a POST whose ``Origin`` is
another site is refused, so even a token-less loopback service cannot be driven by a page
the user visits. Uploads are limited in size and count, only timesheet types are taken, and
files are stored under generated names. The Tracker token is never part of any answer.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from importer.service.jobs import Job, JobState
from importer.service.keys import (
    JOBS_DIR,
    RUNNER,
    STORE,
    SUBMITTER,
    SUBMITTERS,
    UPLOAD_LIMIT,
    refuse,
)
from importer.service.people import Submitters
from importer.service.runner import Runner
from importer.service.uploads import create_job


def _cross_site(request: web.Request) -> bool:
    """A browser's request made by another site's page: its ``Origin`` is not this server.

    Without a token, any web page the user has open could otherwise make the browser POST
    a timesheet to the loopback service (a multipart form needs no preflight) and book it.
    curl and scripts send no ``Origin``; this service's own page sends its own."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    origin = request.headers.get("Origin")
    if origin is not None:
        return urlsplit(origin).netloc != request.host
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def _loopback_host(request: web.Request) -> bool:
    """Whether the request names this machine: a token-less service answers nothing else, so
    a page whose own domain is made to point at 127.0.0.1 (DNS rebinding) gets nowhere."""
    return (urlsplit(f"//{request.host}").hostname or "") in LOOPBACK_NAMES


@web.middleware
async def _json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every answer under ``/api/`` is JSON, aiohttp's own refusals too (an unknown route, a
    method not allowed, a body past the size limit)."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or not request.path.startswith("/api/"):
            raise
        if error.content_type == "application/json":
            raise
        return refuse(error.status, error.text or error.reason)
    return response


@web.middleware
async def _authorised(request: web.Request, handler: Any) -> web.StreamResponse:
    if _cross_site(request):
        return refuse(403, "a request from another site's page is refused")
    submitters = request.app[SUBMITTERS]
    if not submitters.needed and not _loopback_host(request):
        return refuse(403, "without an API token the service answers only as 127.0.0.1")
    if request.path not in ("/", "/api/health"):  # the page asks for the token itself
        who = submitters.who(request.headers.get("Authorization", ""))
        if who is None:
            return refuse(401, "send your API token as 'Authorization: Bearer <token>'")
        request[SUBMITTER] = who
    response: web.StreamResponse = await handler(request)
    return response


def _job_id(request: web.Request) -> int:
    try:
        job_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no such job"}), content_type="application/json"
        ) from None
    if not 0 < job_id < 2**63:  # SQLite's integers: a larger id is no job either
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no such job"}), content_type="application/json"
        )
    return job_id


def _shown(request: web.Request, job_id: int) -> dict[str, Any] | None:
    job = request.app[STORE].get(job_id)
    if job is None:
        return None
    shown = job.as_json()
    current = request.app[RUNNER].current
    if current is not None and current.job.id == job_id:
        shown["progress"] = current.progress.as_json()
    return shown


async def list_jobs(request: web.Request) -> web.Response:
    jobs = request.app[STORE].recent()
    return web.json_response({"jobs": [_shown(request, job.id) for job in jobs]})


async def get_job(request: web.Request) -> web.Response:
    shown = _shown(request, _job_id(request))
    if shown is None:
        return refuse(404, "no such job")
    return web.json_response(shown)


_DOWNLOADS = {
    "report.csv": "report.csv",
    "failed.csv": "report.failed.csv",
    "summary.json": "report.summary.json",
}


def _files_gone(job: Job) -> web.Response:
    return refuse(
        410,
        f"job {job.id}'s files were removed on {job.files_removed_at} (service.keep_days); "
        "its bookings stay in the journal and in Tracker",
    )


async def download(request: web.Request) -> web.StreamResponse:
    job = request.app[STORE].get(_job_id(request))
    name = request.match_info["name"]
    if job is None or name not in _DOWNLOADS:
        return refuse(404, "no such job or file")
    if job.files_removed_at:
        return _files_gone(job)
    path = Path(job.folder) / _DOWNLOADS[name]
    if not path.is_file():
        return refuse(404, f"job {job.id} has no {name} (yet)")
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def cancel_job(request: web.Request) -> web.Response:
    job_id = _job_id(request)
    if request.app[STORE].get(job_id) is None:
        return refuse(404, "no such job")
    if not request.app[RUNNER].cancel(job_id):
        return refuse(409, "the job has already ended")
    return web.json_response(_shown(request, job_id), status=202)


async def start_job(request: web.Request) -> web.Response:
    """``POST /api/jobs/{id}/start``: book what a finished dry run planned — a new job with
    the same files (linked into its own folder, so each job's files live and go with it) and
    options, for real, submitted by whoever starts it."""
    store, runner = request.app[STORE], request.app[RUNNER]
    planned = store.get(_job_id(request))
    if planned is None:
        return refuse(404, "no such job")
    if not planned.options.get("dry_run") or planned.state != JobState.FINISHED:
        return refuse(409, "only a finished dry run can be started")
    if planned.files_removed_at:
        return _files_gone(planned)
    folder = request.app[JOBS_DIR] / f"start-{secrets.token_hex(8)}"
    (folder / "files").mkdir(parents=True)
    files = []
    try:
        for source in map(Path, planned.files):
            target = folder / "files" / source.name
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
            files.append(str(target))
    except OSError as error:
        shutil.rmtree(folder, ignore_errors=True)
        return refuse(409, f"job {planned.id}'s files cannot be read: {error.strerror}")
    options = {**planned.options, "dry_run": False}
    job = store.add(planned.names, files, options, str(folder), request[SUBMITTER])
    runner.wakeup.set()
    return web.json_response({**job.as_json(), "url": f"/api/jobs/{job.id}"}, status=202)


LANGUAGES = ("ru", "en")  # the page's languages; the first is for browsers that ask for neither


def page_language(accept_language: str) -> str:
    """The page's language from the browser's ``Accept-Language`` (``en-GB,en;q=0.9,ru;q=0.8``):
    the one of ours it weighs highest, the earlier on a tie."""
    best, weight = LANGUAGES[0], 0.0
    for order, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if language in LANGUAGES and q - order * 1e-6 > weight:
            best, weight = language, q - order * 1e-6
    return best


async def page(request: web.Request) -> web.Response:
    """The web page: upload, the plan, start, progress, downloads, recent jobs; in the
    language the browser asks for (the page's switch overrides it)."""
    text = resources.files("importer.service").joinpath("page.html").read_text("utf-8")
    language = page_language(request.headers.get("Accept-Language", ""))
    text = text.replace('<html lang="ru">', f'<html lang="{language}">', 1)
    return web.Response(
        text=text, content_type="text/html", charset="utf-8", headers={"Vary": "Accept-Language"}
    )


async def health(request: web.Request) -> web.Response:
    runner = request.app[RUNNER]
    states = request.app[STORE].count_by_state()
    running = runner.current.job.id if runner.current is not None else None
    return web.json_response(
        {"ok": True, "running": running, "queued": states.get(JobState.QUEUED, 0)}
    )


class _Collector:
    """Jobs by state, rows by status, requests and the current job's pace."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Any:
        runner, store = self.app[RUNNER], self.app[STORE]
        jobs = GaugeMetricFamily("worklog_import_jobs", "Jobs by state", labels=["state"])
        counted = store.count_by_state()
        for state in JobState:
            jobs.add_metric([state], counted.get(state, 0))
        yield jobs
        rows = GaugeMetricFamily(
            "worklog_import_rows", "Rows of this service's jobs by status", labels=["status"]
        )
        counts = runner.finished_rows.copy()
        progress = runner.current.progress if runner.current is not None else None
        if progress is not None:
            counts.update(progress.counts)
        for status, n in sorted(counts.items()):
            rows.add_metric([status], n)
        yield rows
        pace = progress.as_json() if progress is not None else {}
        for name, key, text in (
            ("worklog_import_rows_per_second", "rows_per_second", "The running job's pace"),
            ("worklog_import_requests", "requests", "The running job's requests"),
            ("worklog_import_retries", "retries", "The running job's retries"),
            ("worklog_import_responses_429", "responses_429", "The running job's 429s"),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], float(pace.get(key) or 0))  # type: ignore[arg-type]
            yield gauge


async def metrics(request: web.Request) -> web.Response:
    registry = CollectorRegistry()
    registry.register(_Collector(request.app))
    return web.Response(body=generate_latest(registry), content_type="text/plain")


def create_service_app(
    runner: Runner, jobs_dir: Path, token: str = "", *, submitters: Submitters | None = None
) -> web.Application:
    """The API over ``runner``'s store; the caller runs ``runner.serve()`` beside it. Who may
    submit: ``submitters`` (named tokens), else the one ``token``, else anyone on loopback."""
    limit = int(runner.settings.service.max_upload_mb * 2**20)
    app = web.Application(middlewares=[_json_errors, _authorised], client_max_size=limit)
    app[RUNNER], app[STORE], app[JOBS_DIR] = runner, runner.store, jobs_dir
    app[SUBMITTERS] = submitters if submitters is not None else Submitters(shared=token)
    app[UPLOAD_LIMIT] = limit
    app.add_routes(
        [
            web.post("/api/jobs", create_job),
            web.get("/api/jobs", list_jobs),
            web.get("/api/jobs/{id}", get_job),
            web.get("/api/jobs/{id}/{name}", download),
            web.post("/api/jobs/{id}/cancel", cancel_job),
            web.post("/api/jobs/{id}/start", start_job),
            web.get("/", page),
            web.get("/api/health", health),
            web.get("/metrics", metrics),
        ]
    )
    return app
