from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.testing import sandbox_process


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """A quick sandbox in its own process, for one test."""
    with sandbox_process("--latency", "0.002") as url:
        yield url
