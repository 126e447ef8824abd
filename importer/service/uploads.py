"""``POST /api/jobs``: the uploaded files stored under names of the service's own, the
options read strictly (a misspelt or unreadable option is refused, never taken for its
default), and the job queued. Whatever stops an upload part-way leaves nothing behind."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BodyPartReader

from importer.config import check_batch_name
from importer.errors import ConfigError
from importer.models import Mode
from importer.service.jobs import batch_from_name, shown_name
from importer.service.keys import JOBS_DIR, RUNNER, STORE, SUBMITTER, UPLOAD_LIMIT, refuse

MAX_FILES = 10
ACCEPTED = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"})
_FLAGS = ("dry_run", "sync", "allow_mass_delete", "rebook")


async def create_job(request: web.Request) -> web.Response:
    """``POST /api/jobs``: store the uploaded files and queue the job. Whatever stops the
    upload part-way (a refusal, a client gone mid-body) leaves nothing behind."""
    if not request.content_type.startswith("multipart/"):
        return refuse(415, "send the files as multipart/form-data, field 'file'")
    limit = request.app[UPLOAD_LIMIT]
    if (request.content_length or 0) > limit:
        return refuse(
            413, f"the upload is larger than {limit / 2**20:g} MiB (service.max_upload_mb)"
        )
    folder = request.app[JOBS_DIR] / f"upload-{secrets.token_hex(8)}"
    (folder / "files").mkdir(parents=True)
    stored = False
    try:
        answer = await _store_upload(request, folder)
        stored = True
        return answer
    except _Refused as refused:
        return refuse(refused.status, str(refused))
    except (ValueError, AssertionError, HttpProcessingError) as error:
        # a body that is not the multipart it says (no boundary, cut short, a broken header)
        return refuse(400, f"not a readable multipart/form-data body: {error}")
    finally:
        if not stored:
            shutil.rmtree(folder, ignore_errors=True)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _store_upload(request: web.Request, folder: Path) -> web.Response:
    store, runner = request.app[STORE], request.app[RUNNER]
    limit = request.app[UPLOAD_LIMIT]
    received = 0
    names: list[str] = []
    files: list[str] = []
    options: dict[str, Any] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.name == "file":
            name = shown_name(Path(part.filename or "").name)
            suffix = Path(name).suffix.lower()
            if suffix not in ACCEPTED:
                kinds = ", ".join(sorted(ACCEPTED))
                raise _Refused(415, f"{name or 'a file'}: not a timesheet file (use {kinds})")
            if len(files) >= MAX_FILES:
                raise _Refused(413, f"at most {MAX_FILES} files per job")
            stored = folder / "files" / f"{len(files) + 1}{suffix}"
            with stored.open("wb") as handle:
                while chunk := await part.read_chunk():
                    received += len(chunk)
                    if received > limit:
                        raise _Refused(
                            413,
                            f"the upload is larger than {limit / 2**20:g} MiB "
                            "(service.max_upload_mb)",
                        )
                    handle.write(chunk)
            names.append(name)
            files.append(str(stored))
        elif part.name in (*_FLAGS, "batch", "mode"):
            options[part.name] = (await part.text()).strip()
        else:  # a misspelt option must not quietly mean its default ("dryrun" → a real run)
            known = ", ".join(("file", *_FLAGS, "batch", "mode"))
            raise _Refused(400, f"unknown field {part.name!r} (the fields are: {known})")
    if not files:
        raise _Refused(400, "no file: send one or more in the multipart field 'file'")
    for flag in _FLAGS:
        options[flag] = _flag(flag, str(options.get(flag, "")))
    try:
        options["batch"] = check_batch_name(options.get("batch") or batch_from_name(names[0]))
        if options.get("mode"):
            options["mode"] = Mode(options["mode"]).value
    except (ConfigError, ValueError) as error:
        raise _Refused(400, str(error)) from None
    job = store.add(names, files, options, str(folder), request[SUBMITTER])
    runner.wakeup.set()
    return web.json_response({**job.as_json(), "url": f"/api/jobs/{job.id}"}, status=202)


def _flag(name: str, text: str) -> bool:
    """A yes/no field: anything else is refused, never read as "no" (``dry_run=maybe`` would
    otherwise book for real)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise _Refused(400, f"field {name!r} must be true or false, got {text!r}")
