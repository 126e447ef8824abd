"""Read: files → ``SourceRow``, with the row numbers people see.

``tables`` opens CSV and spreadsheets and streams their rows, ``presets`` knows each time
tracker's export layout, ``columns`` resolves one file's column map, ``maps`` loads the
issue and user map files.
"""

from importer.read.tables import Table, open_table

__all__ = ["Table", "open_table"]
