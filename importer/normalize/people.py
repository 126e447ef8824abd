"""People as timesheets write them: names, e-mails, logins."""

from __future__ import annotations


def person_key(name: str) -> str:
    """Logins, e-mails and names compare without case, extra spaces or ё/е differences."""
    return " ".join(name.split()).casefold().replace("ё", "е")
