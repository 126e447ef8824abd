"""The README documents every command-line option and every config key."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import click
import pytest

from importer.cli import main
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_and_option_is_in_the_readme() -> None:
    assert isinstance(main, click.Group)
    missing = []
    for name, command in main.commands.items():
        if f"worklog-import {name}" not in README:
            missing.append(f"command {name}")
        for parameter in command.params:
            for flag in (*parameter.opts, *parameter.secondary_opts):
                if flag.startswith("--") and flag not in README:
                    missing.append(f"{name} {flag}")
    assert missing == []


def test_every_config_key_is_in_the_readme_and_the_example() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    import dataclasses

    from importer.config import Settings

    missing = []
    defaults = Settings()
    for section in dataclasses.fields(Settings):
        if section.name in ("explicit", "config_dir"):
            continue
        for key in dataclasses.fields(getattr(defaults, section.name)):
            dotted = f"{section.name}.{key.name}"
            in_readme = f"`{dotted}`" in README or (
                section.name == "sandbox" and key.name in README
            )
            if not in_readme:
                missing.append(f"README: {dotted}")
            commented = f"# {key.name} =" in (ROOT / "config.example.toml").read_text(
                encoding="utf-8"
            )
            if key.name not in example.get(section.name, {}) and not commented:
                missing.append(f"config.example.toml: {dotted}")
    assert missing == []


def test_every_command_has_help_with_an_example() -> None:
    from click.testing import CliRunner

    assert isinstance(main, click.Group)
    for name in main.commands:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example:" in result.stdout and "worklog-import" in result.stdout, name


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_the_readme_crontab_lines_work_when_pasted() -> None:
    """One line each (cron knows no ``\\`` continuation), five schedule fields, every ``%``
    escaped (cron turns a bare one into a newline), and the command parses as shell."""
    lines = [
        line
        for block in _blocks("cron")
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) >= 2
    for line in lines:
        assert not line.rstrip().endswith("\\"), line
        fields = line.split(None, 5)
        assert all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5]), line
        command = fields[5]
        assert "worklog-import run" in command and "--log-file" in command
        assert re.search(r"(?<!\\)%", command) is None, f"a bare % in: {command}"
        shell = subprocess.run(
            ["sh", "-n", "-c", command.replace("\\%", "%")], capture_output=True, text=True
        )
        assert shell.returncode == 0, shell.stderr


def test_the_readme_systemd_units_have_no_inline_comments_and_verify(tmp_path: Path) -> None:
    """systemd takes ``Key=value  # note`` as part of the value; ``systemd-analyze verify``
    (when this machine has it) checks the rest."""
    units: dict[str, str] = {}
    for block in _blocks("ini"):
        parts = re.split(r"^# /etc/systemd/system/(\S+)\n", block, flags=re.M)
        units.update(zip(parts[1::2], parts[2::2], strict=True))
    assert set(units) == {
        "worklog-import.service",
        "worklog-import.timer",
        "worklog-import-service.service",
    }
    for name, text in units.items():
        for line in text.splitlines():
            if "=" in line and not line.lstrip().startswith(("#", ";")):
                assert " #" not in line and "\t#" not in line, f"{name}: {line}"
        (tmp_path / name).write_text(text, encoding="utf-8")
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here; the inline-comment check ran")
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, sorted(tmp_path.iterdir()))],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr


def test_the_readme_report_examples_show_the_real_header() -> None:
    """Every report line the README shows starts with the columns a report really has."""
    from importer.report import REPORT_COLUMNS

    headers = [line for line in README.splitlines() if line.startswith("file,row,status")]
    assert headers
    for header in headers:
        assert header.split(",")[: len(REPORT_COLUMNS)] == list(REPORT_COLUMNS), header


def test_the_readme_python_example_names_what_the_package_has() -> None:
    """The library example compiles, and every ``importer.…`` name it uses exists."""
    import importer

    [example] = _blocks("python")
    compile(example, "README.md", "exec")
    for dotted in re.findall(r"\bimporter((?:\.\w+)+)", example):
        target: object = importer
        for part in dotted.strip(".").split("."):
            assert hasattr(target, part), f"importer{dotted}"
            target = getattr(target, part)
