"""A rehearsal goes run → verify → undo against the kept sandbox, like the real thing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from importer.cli import main
from importer.config import parse_settings
from importer.sandbox import SandboxSettings
from importer.service import JobStore, Runner
from tests.helpers import COLUMNS, CONFIG_TOML, month_rows


def kept(state: Path) -> list[dict[str, object]]:
    path = state.with_name(state.name + ".sandbox.json")
    return list(json.loads(path.read_text(encoding="utf-8")))


def test_a_rehearsal_is_booked_verified_and_taken_back_in_the_kept_sandbox(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    state = tmp_path / "rehearsal.sqlite"
    path = str(write_csv(month_rows(6), name="october.csv"))
    common = ["-c", str(config), "--sandbox", "--state", str(state)]

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args))
        return result.exit_code, result.output

    code, out = invoke("run", path, *common, "--report", str(tmp_path / "run.csv"))
    assert code == 0, out
    assert len(kept(state)) == 6

    code, out = invoke("verify", path, *common, "--report", str(tmp_path / "verify.csv"))
    assert code == 0, out
    assert "present 6  missing 0  different 0  extra 0" in out

    code, out = invoke("undo", *common, "--batch", "october", "--report", str(tmp_path / "u.csv"))
    assert code == 0, out
    assert "undo of batch 'october': deleted 6" in out
    assert kept(state) == []

    code, out = invoke("verify", path, *common, "--report", str(tmp_path / "verify2.csv"))
    assert code == 1
    assert "present 0  missing 6" in out


async def test_the_service_rehearses_in_the_kept_sandbox(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    settings = parse_settings({"columns": dict(COLUMNS), "input": {"timezone": "Europe/Moscow"}})
    state = tmp_path / "journal.sqlite"
    store = JobStore(tmp_path / "service" / "jobs.sqlite")
    runner = Runner(settings, store, state, environ={}, sandbox=SandboxSettings())
    csv = write_csv(month_rows(4), name="october.csv")
    job = store.add(["october.csv"], [str(csv)], {"batch": "2026-10"}, str(tmp_path / "job"))
    assert await runner.run(job)
    again = store.add(["october.csv"], [str(csv)], {"batch": "2026-10"}, str(tmp_path / "job2"))
    assert await runner.run(again)
    ended = store.get(again.id)
    store.close()
    assert ended is not None and ended.exit_code == 0
    assert ended.counts == {"already_imported": 4}  # the second job found the first's
    assert len(kept(state)) == 4
