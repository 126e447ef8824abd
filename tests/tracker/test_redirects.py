"""The token and the organisation go to the configured Tracker only: no redirect is followed,
and a credential with a control character is refused before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from importer.cli import main
from importer.errors import ConfigError, ExitCode
from importer.pipeline import RunOptions, run_import_async
from importer.preflight import whoami_async
from tests.helpers import CONFIG_TOML, make_settings, month_rows


class Elsewhere:
    """A server on another address of this machine that records whatever reaches it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        return web.json_response({"login": "stranger"})


@pytest.fixture
async def redirected() -> AsyncIterator[tuple[str, str, Elsewhere]]:
    """A "Tracker" at 127.0.0.1 answering every request with 307 to another host (127.0.0.2),
    and that other host."""
    elsewhere = Elsewhere()
    other = web.Application()
    other.router.add_route("*", "/{tail:.*}", elsewhere.handle)
    other_server = TestServer(other, host="127.0.0.2")
    await other_server.start_server()
    target = str(other_server.make_url("")).rstrip("/")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(target + request.path_qs)

    tracker = web.Application()
    tracker.router.add_route("*", "/{tail:.*}", redirect)
    tracker_server = TestServer(tracker, host="127.0.0.1")
    await tracker_server.start_server()
    try:
        yield str(tracker_server.make_url("")).rstrip("/"), target, elsewhere
    finally:
        await tracker_server.close()
        await other_server.close()


def env_for(base_url: str, token: str = "secret-token", org: str = "12345") -> dict[str, str]:
    return {"TRACKER_TOKEN": token, "TRACKER_ORG_ID": org, "TRACKER_BASE_URL": base_url}


async def test_a_redirect_to_another_host_is_not_followed_and_names_both_addresses(
    redirected: tuple[str, str, Elsewhere],
) -> None:
    base, target, elsewhere = redirected
    with pytest.raises(ConfigError) as refused:
        await whoami_async(make_settings(), env_for(base))
    message = str(refused.value)
    assert f"{base}/v2/myself answered HTTP 307: a redirect to {target}/v2/myself" in message
    assert "follows no redirect" in message and "TRACKER_BASE_URL" in message
    assert elsewhere.seen == []  # neither the token nor X-Org-ID went there


async def test_a_run_against_a_redirecting_tracker_stops_with_exit_2_and_sends_nothing_else(
    redirected: tuple[str, str, Elsewhere],
    write_csv: Callable[..., Path],
    tmp_path: Path,
) -> None:
    base, target, elsewhere = redirected
    summary = await run_import_async(
        RunOptions(
            files=[write_csv(month_rows(3))],
            settings=make_settings(),
            report_path=tmp_path / "r.csv",
            state_path=tmp_path / "j.sqlite",
            environ=env_for(base),
        )
    )
    assert summary.exit_code == ExitCode.BAD_INPUT
    assert f"a redirect to {target}/v2/myself" in summary.stopped
    assert summary.counts["created"] == 0 and summary.requests == 1  # who am I, refused
    assert elsewhere.seen == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKER_TOKEN", "y0_token\nwith-a-line-break"),
        ("TRACKER_TOKEN", "y0_to\tken"),
        ("TRACKER_ORG_ID", "123\r45"),
    ],
)
def test_a_credential_with_a_control_character_is_refused_naming_the_variable(
    variable: str, value: str, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    env = env_for("https://api.tracker.yandex.net")
    env[variable] = value
    result = CliRunner().invoke(main, ["whoami", "-c", str(config)], env=env)
    assert result.exit_code == 2
    assert f"{variable}" in result.output and "control character" in result.output
    assert value.strip() not in result.output and "Traceback" not in result.output
    run = CliRunner().invoke(
        main,
        ["run", str(write_csv(month_rows(2))), "-c", str(config), "--state", str(tmp_path / "j")],
        env=env,
    )
    assert run.exit_code == 2 and "control character" in run.output


@pytest.mark.parametrize("how", ["body", "redirect"])
async def test_a_tracker_that_echoes_the_token_does_not_get_it_into_any_answer_or_file(
    how: str, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    """Tracker's words reach the report, the summary and the service's job: an answer that
    repeats the Authorization header (a proxy's echo, a redirect that puts it in its URL)
    must not carry the token there."""

    async def echo(request: web.Request) -> web.Response:
        said = request.headers.get("Authorization", "")
        if how == "redirect":
            raise web.HTTPFound(f"http://127.0.0.1:9/v2/myself?echo={said}")
        return web.json_response({"errorMessages": [f"bad credentials: {said}"]}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        options = RunOptions(
            [write_csv(month_rows(3))], make_settings(), report_path=tmp_path / "r.csv",
            state_path=tmp_path / "j.sqlite",
            environ=env_for(str(server.make_url("")).rstrip("/"), token="SECRETECHO777"),
        )  # fmt: skip
        try:
            summary = await run_import_async(options)
            said = summary.stopped
        except (ConfigError, Exception) as error:  # a refusal before the run: its words
            said = str(error)
    finally:
        await server.close()
    assert "***" in said or "bad credentials" in said or "redirect" in said
    assert "SECRETECHO777" not in said
    for made in tmp_path.iterdir():
        if made.is_file():
            assert b"SECRETECHO777" not in made.read_bytes(), made
