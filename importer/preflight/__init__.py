"""Preflight: what a person checks before a run, without booking anything.

``inspection`` shows what the importer makes of a file, ``checkup`` finds every problem with
the config and environment without the network, ``whoami`` asks Tracker whose token it is.
"""

from importer.preflight.checkup import Checkup, check_setup
from importer.preflight.inspection import Inspection, describe, inspect_file
from importer.preflight.whoami import Identity, whoami_async

__all__ = [
    "Checkup",
    "Identity",
    "Inspection",
    "check_setup",
    "describe",
    "inspect_file",
    "whoami_async",
]
