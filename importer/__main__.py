"""``python -m importer`` is ``worklog-import``."""

from importer.cli import main

main()
