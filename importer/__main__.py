"""``python -m importer`` is ``worklog-import``."""

from .cli import main

main()
