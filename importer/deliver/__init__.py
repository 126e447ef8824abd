"""Deliver: ``Booking`` → ``Outcome``, exactly once.

``rows`` takes one row through the journal, the pre-check, its POST, retries and
reconciliation; ``outcomes`` says how it ended (pure); ``planner`` does the same for dry
runs without sending. ``calls`` executes requests (slots, patience, retries), ``stops`` is
the run's stop policy, ``waiting`` lets waiting rows lend their place and gathers listings.
``identity`` defines what makes a booking itself, ``holdings`` what Tracker already holds,
``searching`` how it is searched, ``matching`` when a record is a row's; ``slots`` and
``retry`` are the request slots and the retry policy. The journal they write is
:mod:`importer.journal`.
"""

from importer.deliver.calls import Calls
from importer.deliver.holdings import Holdings
from importer.deliver.identity import Occurrences, booking_content, fingerprint
from importer.deliver.lookups import Refusals, look_up
from importer.deliver.planner import Planner
from importer.deliver.rows import Deliverer
from importer.deliver.stops import RunStop, Stopped, identity_refused
from importer.deliver.waiting import ListingGate, Parking

__all__ = [
    "Calls",
    "Deliverer",
    "Holdings",
    "ListingGate",
    "Occurrences",
    "Parking",
    "Planner",
    "Refusals",
    "RunStop",
    "Stopped",
    "booking_content",
    "fingerprint",
    "identity_refused",
    "look_up",
]
