"""Normalize: ``SourceRow`` → ``Worklog`` | ``Invalid`` | ``Skipped``, with no I/O.

``rows`` holds the row rules, ``times`` and ``durations`` read the cells people type,
``limits`` warns across rows (long days).
"""

from importer.normalize.cells import is_blank
from importer.normalize.rows import Normalizer, effective_input

__all__ = ["Normalizer", "effective_input", "is_blank"]
