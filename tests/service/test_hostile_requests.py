"""What a careless or hostile client sends the service, and what a server in trouble leaves:
every refusal a JSON answer naming what is wrong, no option misread as a real run, no job
that stops the queue, no stored path in what people read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.service import JobStore, serve
from tests.helpers import make_settings, month_rows, tracker_env
from tests.service.serving import service, stored, until_ended, upload


async def test_a_file_name_that_is_not_utf_8_is_shown_with_a_replacement_and_the_queue_goes_on(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    path = write_csv(month_rows(3))
    async with service(tmp_path, sandbox_url) as (client, _):
        body = (  # a name's raw byte 0xFF: no client library writes it, a raw one does
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="\xffx.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + path.read_bytes() + b"\r\n--b--\r\n"
        )
        odd = await client.post(
            "/api/jobs", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
        )
        assert odd.status == 202, await odd.text()
        first = await until_ended(client, (await odd.json())["id"])
        second = await until_ended(client, (await (await upload(client, path)).json())["id"])
    assert first["names"] == ["\ufffdx.csv"] and first["state"] == "finished"
    assert second["state"] == "finished"  # the queue went on
    assert sum(first["counts"].values()) == sum(second["counts"].values()) == 3


async def test_an_option_that_is_not_yes_or_no_or_not_an_option_is_refused_not_a_real_run(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    path = write_csv(
        month_rows(
            3,
        ),
        "typo.csv",
    )
    before = sum(stored(sandbox_url).values())
    async with service(tmp_path, sandbox_url) as (client, _):
        maybe = await upload(client, path, dry_run="maybe")
        typo = await upload(client, path, dryrun="true")
        jobs = (await (await client.get("/api/jobs")).json())["jobs"]
        assert maybe.status == 400
        assert (await maybe.json())["error"] == "field 'dry_run' must be true or false, got 'maybe'"
        assert typo.status == 400 and "unknown field 'dryrun'" in (await typo.json())["error"]
    assert jobs == [] and sum(stored(sandbox_url).values()) == before


async def test_every_refusal_under_api_is_json(tmp_path: Path, sandbox_url: str) -> None:
    async with service(tmp_path, sandbox_url) as (client, _):
        answers = {
            "huge id": await client.get("/api/jobs/99999999999999999999"),
            "huge id cancel": await client.post("/api/jobs/99999999999999999999/cancel"),
            "word id": await client.get("/api/jobs/abc"),
            "no route": await client.get("/api/nothing-here"),
            "no method": await client.delete("/api/jobs"),
            "no boundary": await client.post(
                "/api/jobs", data=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}
            ),
            "cut body": await client.post(
                "/api/jobs",
                data=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n',
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            ),
        }
        bodies = {name: (a.status, a.content_type, await a.json()) for name, a in answers.items()}
    for name, (status, kind, body) in bodies.items():
        assert 400 <= status < 500 and kind == "application/json", (name, status, kind)
        assert body["error"], name
    assert bodies["huge id"][0] == 404 and bodies["no boundary"][0] == 400


async def test_a_refusal_names_the_uploaded_file_never_where_the_service_keeps_it(
    tmp_path: Path, sandbox_url: str
) -> None:
    empty = tmp_path / "empty-october.csv"
    empty.write_bytes(b"")
    async with service(tmp_path, sandbox_url) as (client, _):
        job = await until_ended(client, (await (await upload(client, empty)).json())["id"])
    assert job["state"] == "failed" and job["stopped"] == "empty-october.csv: the file is empty"


async def test_a_job_whose_end_cannot_be_handled_does_not_stop_the_queue(
    write_csv: Callable[..., Path], tmp_path: Path, sandbox_url: str
) -> None:
    """Filing an inbox job away can fail (a name too long, a folder removed): said in the
    log, and the next job still runs."""
    path = write_csv(month_rows(2))

    def broken(job: object) -> None:
        raise OSError(36, "File name too long")

    async with service(tmp_path, sandbox_url) as (client, runner):
        runner.on_end.append(broken)
        first = await until_ended(client, (await (await upload(client, path)).json())["id"])
        second = await until_ended(client, (await (await upload(client, path)).json())["id"])
    assert first["state"] == second["state"] == "finished"


async def test_serve_on_a_port_in_use_is_refused_in_words(tmp_path: Path, sandbox_url: str) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    (tmp_path / "journal.sqlite.service" / "jobs" / "upload-cut").mkdir(parents=True)
    try:
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}: cannot listen there"):
            await serve(make_settings(), tmp_path / "journal.sqlite", f"127.0.0.1:{port}",
                        environ=tracker_env(sandbox_url))  # fmt: skip
        with pytest.raises(ConfigError, match="a port is 0 to 65535"):
            await serve(make_settings(), tmp_path / "journal.sqlite", "127.0.0.1:99999",
                        environ=tracker_env(sandbox_url))  # fmt: skip
    finally:
        taken.close()
    JobStore(tmp_path / "journal.sqlite.service" / "jobs.sqlite").close()


def test_an_upload_cut_off_by_the_service_s_own_death_is_removed_at_the_next_start(
    tmp_path: Path,
) -> None:
    from importer.service import _sweep_cut_uploads

    jobs = tmp_path / "jobs"
    store = JobStore(tmp_path / "jobs.sqlite")
    kept = jobs / "upload-kept"
    (kept / "files").mkdir(parents=True)
    store.add(["a.csv"], [str(kept / "files" / "1.csv")], {}, str(kept))
    (jobs / "upload-cut" / "files").mkdir(parents=True)
    _sweep_cut_uploads(jobs, store)
    store.close()
    assert sorted(p.name for p in jobs.iterdir()) == ["upload-kept"]
