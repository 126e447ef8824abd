"""A tiny run of the benchmark runner, so `make bench` does not rot between real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a whole process or more per test

ROOT = Path(__file__).parent.parent


def test_the_benchmark_runner_runs_every_scenario_at_small_size() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert set(results) == {"P1", "P2", "P3", "P5", "P6", "P7"}
    assert [run["created"] for run in results["P6"]] == [60, 60, 60]
    assert results["P6"][1]["dropped"] == 0 and results["P6"][1]["overhead"] <= 0.05
    assert set(results["P7"]) == {"bucket", "fixed", "sliding"}
    assert all(run["created"] == 60 for run in results["P7"].values())
    assert results["P1"]["at_limit"]["created"] == 60
    assert results["P1"]["at_limit"]["served_429"] == 0
    assert results["P1"]["at_limit"]["busiest_second_sent"] <= results["P1"]["limit"]
    assert results["P5"]["faults"]["created"] == 60
    assert results["P2"]["ours"]["created"] == 30 and results["P3"]["ours"]["created"] == 60
