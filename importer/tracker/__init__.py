"""Tracker: the HTTP client (the only user of aiohttp's client) and the pacer it shares."""

from importer.tracker.client import SentAt, TrackerClient, error_for_status
from importer.tracker.pacing import Pacer
from importer.tracker.paged import Record

__all__ = ["Pacer", "Record", "SentAt", "TrackerClient", "error_for_status"]
