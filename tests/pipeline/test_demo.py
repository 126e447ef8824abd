"""The README's first command, run as a new user would: `make demo`."""

from __future__ import annotations

import collections
import shutil
import subprocess

import pytest

from tests.helpers import ROOT, read_report

pytestmark = pytest.mark.slow  # a whole process or more per test


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_imports_the_sample_and_reports_every_row() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "demo", "OUT=out/test-demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rows: 335  created: 328" in result.stdout
    assert "invalid: 7" in result.stdout
    report = read_report(ROOT / "out" / "test-demo" / "demo-report.csv")
    statuses = collections.Counter(line["status"] for line in report)
    assert statuses == {"created": 328, "invalid": 7}
    assert sorted(int(line["row"]) for line in report) == list(range(2, 337))
    ids = [line["worklog_id"] for line in report if line["status"] == "created"]
    assert len(set(ids)) == 328
