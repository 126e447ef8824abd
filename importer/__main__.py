"""``python -m importer`` is ``worklog-import``."""

from importer.cli import main

if __name__ == "__main__":  # not when a job's process imports it
    main()
