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
    at_limit, p5 = results["P1"]["at_limit"], results["P5"]
    assert at_limit["created"] == 60 and at_limit["served_429"] == 0
    assert at_limit["busiest_second_sent"] <= results["P1"]["limit"]
    assert at_limit["first_post_after_s"] is not None
    assert p5["faults"]["stored"] == {"once": 60, "more_than_once": 0}
    assert p5["of_floor"] >= 1 and p5["faults"]["first_post_after_s"] is not None
    assert [pair["rate"] for pair in results["P6"]] == [1000, 200]
    for pair in results["P6"]:
        for run in (pair["faults"], pair["clean"]):
            assert run["created"] == 60 and run["stored"] == {"once": 60, "more_than_once": 0}
        assert pair["clean"]["dropped"] == 0 and pair["clean"]["overhead"] <= 0.05
    assert list(results["P7"]) == ["bucket", "small-bucket", "fixed", "sliding"]
    for run in results["P7"].values():
        control = run["control"]
        assert run["created"] == 60 and control["requests"] == run["requests"]
        assert control["created"] + control["served_429"] == control["requests"]
    assert results["P2"]["ours"]["created"] == 30 and results["P3"]["ours"]["created"] == 60
