"""Tracker: the HTTP client (the only user of aiohttp's client) and the pacer it shares."""

from importer.tracker.client import (
    Record,
    SentAt,
    TrackerClient,
    error_for_status,
)
from importer.tracker.pacing import Pacer

__all__ = ["Pacer", "Record", "SentAt", "TrackerClient", "error_for_status"]
