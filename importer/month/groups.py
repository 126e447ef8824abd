"""Rows of one person, one issue and one day (``[merge] per = "day"``): which group each
valid row joins, its last row, and the invalid rows that would
have joined it — worked out from the first pass, so the second can close each group at its
last row instead of holding the month. Pure: no I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from importer.month.findings import MonthFacts

GroupKey = tuple[str, str, dt.date]  # person, issue, local day
_LOW = (1 << 21) - 1  # a packed key: person << 42 | issue << 21 | day


@dataclasses.dataclass
class Groups:
    """Per row of the first pass, its group; per group, its key, last row and strays."""

    of_row: list[int]  # the group of each of the first pass's rows
    last: list[int]  # each group's last row (index into the first pass)
    keys: list[GroupKey]
    strays: dict[int, list[str]]  # invalid rows ("file:row") that would have joined a group

    def __len__(self) -> int:
        return len(self.keys)


def group(facts: MonthFacts) -> Groups:
    """Each valid row's group: (person, issue, the start's local day)."""
    if not len(facts):
        return Groups([], [], [], {})
    person, issue, day = facts.numbers("person"), facts.numbers("issue"), facts.days()
    first_day = int(day.min())
    packed = (person << 42) | (issue << 21) | (day - first_day)
    keys, which = np.unique(packed, return_inverse=True)
    last = np.full(len(keys), -1, dtype=np.int64)
    np.maximum.at(last, which, np.arange(len(which)))
    people, issues = list(facts.people), list(facts.issues)
    named = [
        (
            people[k >> 42],
            issues[(k >> 21) & 0x1FFFFF],
            dt.date.fromordinal((k & 0x1FFFFF) + first_day),
        )
        for k in keys.tolist()
    ]
    numbered = {key: n for n, key in enumerate(named)}
    strays: dict[int, list[str]] = {}
    for file, row, author, key, ordinal in facts.strays:
        found = numbered.get((author, key, dt.date.fromordinal(ordinal)))
        if found is not None:
            strays.setdefault(found, []).append(f"{facts.files[file]}:{row}")
    return Groups(which.tolist(), last.tolist(), named, strays)
