"""``worklog-import``: the command line over the library (see :mod:`importer.cli.commands`)."""

import click

from importer.cli.commands import check_config, inspect, run, whoami
from importer.cli.history import batches, undo, verify
from importer.cli.sandbox import sandbox
from importer.cli.service import serve, token


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracker-worklog-importer")
def main() -> None:
    """Book timesheets (CSV, Excel) into Yandex Tracker as worklogs, exactly once."""


for command in (run, inspect, whoami, check_config, batches, undo, verify, sandbox, serve, token):
    main.add_command(command)

__all__ = ["main"]
