from __future__ import annotations

import datetime as dt

import pytest

from importer.deliver.matching import find_match, record_matches, user_identities
from importer.models import Worklog

MSK = dt.timezone(dt.timedelta(hours=3))
WORKLOG = Worklog(
    "PORT-1", dt.datetime(2026, 10, 1, 9, 0, tzinfo=MSK), dt.timedelta(hours=9), "SSO"
)
OWNER = {"login": "robot", "uid": 11, "self": "https://api/v2/users/11"}


def record(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 5,
        "start": "2026-10-01T06:00:00.000+0000",
        "duration": "P1DT1H",
        "comment": "SSO",
        "createdBy": {"self": "https://api/v2/users/11", "id": "11", "display": "Robot"},
    }
    base.update(changes)
    return base


def test_a_record_in_utc_with_business_duration_matches() -> None:
    assert record_matches(record(), WORKLOG, user_identities(OWNER))


def test_login_as_created_by_id_also_matches() -> None:
    assert record_matches(record(createdBy={"id": "robot"}), WORKLOG, user_identities(OWNER))


def test_any_difference_is_not_a_match() -> None:
    ids = user_identities(OWNER)
    assert not record_matches(record(start="2026-10-01T06:01:00.000+0000"), WORKLOG, ids)
    assert not record_matches(record(duration="P1D"), WORKLOG, ids)
    assert not record_matches(record(comment="other"), WORKLOG, ids)
    assert not record_matches(record(createdBy={"id": "12"}), WORKLOG, ids)
    assert not record_matches(record(start="garbage"), WORKLOG, ids)


def test_claimed_records_are_passed_over_for_the_next_oldest() -> None:
    ids = user_identities(OWNER)
    records = [record(id=9), record(id=5), record(id=12)]
    assert find_match(records, WORKLOG, ids, claimed=set())["id"] == 5  # type: ignore[index]
    assert find_match(records, WORKLOG, ids, claimed={"5"})["id"] == 9  # type: ignore[index]
    assert find_match(records, WORKLOG, ids, claimed={"5", "9", "12"}) is None


def test_an_index_parses_each_record_once_however_many_rows_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Matching costs O(1) per waiting row: the listing is parsed when it is indexed."""
    from importer.deliver import matching

    parsed = 0
    original = matching.parse_tracker_start

    def counting(text: str) -> dt.datetime:
        nonlocal parsed
        parsed += 1
        return original(text)

    monkeypatch.setattr(matching, "parse_tracker_start", counting)
    start = dt.datetime(2026, 10, 1, 6, 0, tzinfo=dt.UTC)
    records = [
        record(id=n, start=(start + dt.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"))
        for n in range(2000)
    ]
    index = matching.RecordIndex(records)
    assert parsed == 2000
    ids = user_identities(OWNER)
    for n in range(0, 2000, 4):
        row = Worklog("PORT-1", start + dt.timedelta(minutes=n), dt.timedelta(hours=9), "SSO")
        assert index.match(row, ids, claimed=set())["id"] == n  # type: ignore[index]
    assert parsed == 2000  # 500 rows matched, not one record parsed again
    assert index.match(WORKLOG, ids, claimed={"0"}) is None
