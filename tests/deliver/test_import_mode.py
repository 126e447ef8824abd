"""Admin import: every worklog keeps its real author; re-runs and checks work per author."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config import load_settings
from importer.errors import ExitCode
from importer.pipeline import RunOptions, run_import_async
from importer.sandbox import DEFAULT_ORG_ID, running_sandbox
from importer.testing import sandbox_process
from tests.helpers import ROOT, read_report, sandbox_env, tracker_env

SAMPLE = ROOT / "sample_data"
FILE = SAMPLE / "team-import-2026-10.csv"


async def import_team(
    sandbox: object,
    tmp_path: Path,
    report: str,
    *,
    state: str = "journal.sqlite",
    file: Path = FILE,
    token: str | None = None,
    **config: object,
) -> object:
    settings = load_settings(SAMPLE / "config-import.toml")
    if config:
        settings = dataclasses.replace(settings, **config)  # type: ignore[arg-type]
    env = sandbox_env(sandbox) if token is None else sandbox_env(sandbox, token)  # type: ignore[arg-type]
    options = RunOptions(
        [file], settings, report_path=tmp_path / report, state_path=tmp_path / state, environ=env
    )
    return await run_import_async(options)


@pytest.mark.slow
async def test_each_worklog_keeps_its_author_and_a_rerun_creates_nothing(tmp_path: Path) -> None:
    async with running_sandbox() as sandbox:
        first = await import_team(sandbox, tmp_path, "r1.csv")
        authors = collections.Counter(w.author.login for w in sandbox.store.worklogs.values())
        created_at = {w.id: w.created_at for w in sandbox.store.worklogs.values()}
        again = await import_team(sandbox, tmp_path, "r2.csv")
        lost_journal = await import_team(sandbox, tmp_path, "r3.csv", state="other.sqlite")
        stored = len(sandbox.store.worklogs)
    assert first.exit_code == ExitCode.OK and first.counts["created"] == 10  # type: ignore[attr-defined]
    assert authors == {"a.smirnova": 4, "i.petrov": 3, "m.kuznetsova": 3}
    # createdAt defaults to the row's start.
    assert created_at[1] == dt.datetime(2026, 10, 1, 6, 0, tzinfo=dt.UTC)
    assert again.counts["already_imported"] == 10  # type: ignore[attr-defined]
    # Without the journal, Tracker is asked: matches are recognised by their author.
    assert lost_journal.counts["already_imported"] == 10  # type: ignore[attr-defined]
    assert stored == 10


@pytest.mark.slow
async def test_someone_elses_identical_worklog_is_not_adopted(tmp_path: Path) -> None:
    async with running_sandbox() as sandbox:
        import datetime as dt

        from importer.formats import parse_tracker_start
        from importer.sandbox import TEAM

        petrov = next(u for u in TEAM if u.login == "i.petrov")
        # Ivan booked by hand exactly what Anna's first row books.
        start = parse_tracker_start("2026-10-01T09:00:00.000+0300")
        sandbox.store.add(
            "PORT-412", start, dt.timedelta(hours=2.5), "Исправление входа по SSO", petrov
        )
        summary = await import_team(sandbox, tmp_path, "r.csv")
        stored = len(sandbox.store.worklogs)
    assert summary.counts["created"] == 10  # type: ignore[attr-defined]
    assert stored == 11


async def test_unknown_author_with_a_user_map_is_invalid_before_anything_is_sent(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["Сотрудник", "Задача", "Дата", "Начало", "Часы", "Комментарий"],
        ["Анна Смирнова", "PORT-1", "01.10.2026", "09:00", "1", "ok"],
        ["Пётр Новиков", "PORT-1", "01.10.2026", "11:00", "1", "who?"],
    ]
    path = write_csv(rows, delimiter=";")
    async with running_sandbox() as sandbox:
        summary = await import_team(sandbox, tmp_path, "r.csv", file=path)
        posts = sandbox.stats.served[201]
    report = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert report["3"]["status"] == "invalid"
    assert (
        report["3"]["error"]
        == "column 'Сотрудник' value 'Пётр Новиков' is not in the user map (authors.map_file)"
    )
    assert posts == 1 and summary.exit_code == ExitCode.ROWS_FAILED  # type: ignore[attr-defined]


async def test_unknown_author_without_a_map_is_found_before_anything_is_sent(
    tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["Сотрудник", "Задача", "Дата", "Начало", "Часы", "Комментарий"],
        ["a.smirnova", "PORT-1", "01.10.2026", "09:00", "1", "ok"],
        ["p.novikov", "PORT-1", "01.10.2026", "11:00", "1", "who?"],
    ]
    path = write_csv(rows, delimiter=";")
    from importer.config import AuthorsSection

    async with running_sandbox() as sandbox:
        summary = await import_team(sandbox, tmp_path, "r.csv", file=path, authors=AuthorsSection())
        stored = [w.author.login for w in sandbox.store.worklogs.values()]
        imports = sandbox.stats.routes["POST /v3/issues/{key}/worklogs/_import"]
    report = {line["row"]: line for line in read_report(tmp_path / "r.csv")}
    assert stored == ["a.smirnova"] and imports == 1  # nothing was sent for p.novikov
    assert report["3"]["status"] == "invalid"
    assert report["3"]["error"] == (
        "author 'p.novikov' does not exist in Tracker (HTTP 404: Пользователь не существует.)"
    )
    assert summary.exit_code == ExitCode.ROWS_FAILED  # type: ignore[attr-defined]


async def test_a_token_that_is_not_an_administrators_stops_at_the_first_answer(
    tmp_path: Path,
) -> None:
    async with running_sandbox() as sandbox:
        summary = await import_team(sandbox, tmp_path, "r.csv", token="i.petrov-token")
        stored = len(sandbox.store.worklogs)
        refused = sandbox.stats.served[403]
    statuses = collections.Counter(line["status"] for line in read_report(tmp_path / "r.csv"))
    assert summary.exit_code == ExitCode.AUTH  # type: ignore[attr-defined]
    assert "mode 'import' needs an administrator's token" in summary.stopped  # type: ignore[attr-defined]
    assert refused == 1 and stored == 0
    assert statuses == {"pending": 10}  # the token's fault, not the rows': all left for a rerun


def test_whoami_names_the_token_owner_or_says_why_not() -> None:
    runner = CliRunner()
    with sandbox_process() as url:
        good = runner.invoke(
            main,
            ["whoami"],
            env=tracker_env(url),
        )
        bad = runner.invoke(
            main,
            ["whoami"],
            env=tracker_env(url, "y0_wrong"),
        )
        org = runner.invoke(
            main,
            ["whoami"],
            env=tracker_env(url, org_id="", cloud_org_id="bpf-nope"),
        )
    assert (good.exit_code, good.stdout.splitlines()[0]) == (
        0,
        "login: robot-importer  name: Робот Импорта  uid: 1120000000000001",
    )
    assert f"organisation: X-Org-ID {DEFAULT_ORG_ID}  tracker: {url}" in good.stdout
    assert (
        bad.exit_code == 3
        and "rejected the token: HTTP 401" in bad.stderr
        and "y0_wrong" not in bad.stderr
    )
    assert org.exit_code == 3 and "refused X-Cloud-Org-ID bpf-nope: HTTP 403" in org.stderr


def test_whoami_when_tracker_is_unreachable_exits_4() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = CliRunner().invoke(
        main,
        ["whoami"],
        env=tracker_env(url, "t", org_id="1"),
    )
    assert result.exit_code == 4 and f"Tracker is not answering at {url}" in result.stderr


def test_a_python_caller_may_name_the_mode_as_text(write_csv: Callable[..., Path]) -> None:
    """``mode="import"`` from a script means what ``Mode.IMPORT`` means."""
    import pytest

    from importer.errors import ConfigError
    from importer.pipeline.inputs import open_inputs
    from tests.helpers import make_settings

    path = write_csv([["Issue", "Date", "Hours"], ["PORT-1", "01.10.2026", "1"]])
    settings = make_settings(columns={"time": "", "comment": "", "author": ""})
    with pytest.raises(ConfigError, match="mode 'import' books each row as its author"):
        open_inputs([path], settings, mode="import")  # type: ignore[arg-type]
