"""The README documents every command-line option and every config key."""

from __future__ import annotations

import tomllib

import click

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
