"""The web page in a real browser (Debian's headless Chromium through Selenium): upload a
file, see the plan, start it, watch it end, download the report."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from importer.formats import parse_business_iso
from importer.service import JobStore, Runner, create_service_app
from importer.testing import sandbox_process
from tests.helpers import make_settings, month_rows, sandbox_get, tracker_env

pytestmark = pytest.mark.slow  # a browser and a sandbox process

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


async def on_the_page(
    runner: Runner, app: web.Application, steps: Callable[..., Any], *args: Any
) -> Any:
    """Serve ``app`` (its runner taking jobs beside it) while a browser does ``steps``."""
    worker = asyncio.create_task(runner.serve())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        return await asyncio.to_thread(steps, base, *args)
    finally:
        await server.close()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def browser(downloads: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1100,1300"):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    return webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)


def steps(base: str, upload: Path, downloads: Path, screenshot: Path) -> dict[str, str]:
    """What a person does on the page; returns what they saw."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(downloads)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "batch").send_keys("2026-10")
        driver.find_element(By.ID, "check").click()
        wait.until(shown.visibility_of_element_located((By.ID, "plan")))
        plan = driver.find_element(By.ID, "plan").text
        driver.find_element(By.ID, "start").click()
        wait.until(shown.visibility_of_element_located((By.ID, "download-report-csv")))
        finished = driver.find_element(By.ID, "progress").text
        driver.find_element(By.ID, "download-report-csv").click()
        for _ in range(200):
            if (downloads / "report.csv").exists():
                break
            time.sleep(0.05)
        wait.until(lambda d: "report.csv" in d.find_element(By.ID, "jobs").text)
        driver.save_screenshot(str(screenshot))
        return {"plan": plan, "finished": finished, "jobs": driver.find_element(By.ID, "jobs").text}
    finally:
        driver.quit()


@pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them; in CI it runs)",
)
async def test_a_person_uploads_checks_the_plan_starts_and_downloads_the_report(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [*month_rows(30), ["BAD", "01.10.2026", "09:00", "1", "broken", "a"]]
    upload = write_csv(rows, "october.csv")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    store = JobStore(tmp_path / "service" / "jobs.sqlite")
    with sandbox_process("--latency", "0.01") as url:
        runner = Runner(make_settings(), store, tmp_path / "journal.sqlite", tracker_env(url))
        app = create_service_app(runner, tmp_path / "service" / "jobs")
        seen = await on_the_page(runner, app, steps, upload, downloads, tmp_path / "finished.png")
        booked = len(sandbox_get(url, "/_sandbox/worklogs"))
    store.close()
    assert "будет загружено · to book" in seen["plan"] and "30" in seen["plan"]
    assert "holds no issue key" in seen["plan"]  # the invalid row, with its reason
    assert "Часы по людям · hours by person" in seen["plan"]
    assert "times read in Europe/Moscow (input.timezone)" in seen["plan"]
    assert "batch 2026-10" in seen["plan"] and "october.csv: [columns]" in seen["plan"]
    assert "завершено · finished" in seen["finished"] and "код · exit 1" in seen["finished"]
    assert "создано · created" in seen["finished"]
    report = (downloads / "report.csv").read_text(encoding="utf-8-sig")
    assert report.startswith("file,row,status") and report.count("\ncreated") == 0
    assert sum(",created," in line for line in report.splitlines()) == 30 == booked
    assert "(план · plan)" in seen["jobs"]  # the dry run is listed beside the real run
    if target := os.environ.get("WORKLOG_IMPORT_SCREENSHOT"):
        shutil.copyfile(tmp_path / "finished.png", target)


def correction_steps(base: str, upload: Path) -> dict[str, str]:
    """A corrected month through the page: the plan finds corrections and offers the sync."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(upload.parent)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "batch").send_keys("2026-10")
        driver.find_element(By.ID, "check").click()
        wait.until(shown.visibility_of_element_located((By.ID, "plan-sync")))
        plain = driver.find_element(By.ID, "plan").text
        driver.find_element(By.ID, "resync").click()
        wait.until(lambda d: "2026-10" in d.find_element(By.ID, "plan-job").text and
                   not d.find_element(By.ID, "plan-sync").is_displayed() and
                   d.find_element(By.ID, "plan").is_displayed())  # fmt: skip
        synced = driver.find_element(By.ID, "plan").text
        driver.find_element(By.ID, "start").click()
        wait.until(shown.visibility_of_element_located((By.ID, "download-report-csv")))
        return {
            "plain": plain,
            "synced": synced,
            "finished": driver.find_element(By.ID, "progress").text,
        }
    finally:
        driver.quit()


@pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them; in CI it runs)",
)
async def test_a_corrected_month_on_the_page_is_offered_the_sync_and_ends_equal_to_the_file(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = month_rows(4)
    store = JobStore(tmp_path / "service" / "jobs.sqlite")
    with sandbox_process("--latency", "0.01") as url:
        runner = Runner(make_settings(), store, tmp_path / "journal.sqlite", tracker_env(url))
        app = create_service_app(runner, tmp_path / "service" / "jobs")
        first = store.add(["october.csv"], [str(write_csv(rows, "first.csv"))],
                          {"batch": "2026-10"}, str(tmp_path / "first"))  # fmt: skip
        await runner.run(first)
        assert len(sandbox_get(url, "/_sandbox/worklogs")) == 4
        corrected = [r[:] for r in rows]
        corrected[1][3] = "6"  # row 2's hours corrected
        upload = write_csv(corrected, "october.csv")
        seen = await on_the_page(runner, app, correction_steps, upload)
        held = sorted(
            parse_business_iso(w["duration"]).total_seconds() / 3600
            for w in sandbox_get(url, "/_sandbox/worklogs")
        )
    store.close()
    assert "исправляет прежнюю запись · needs sync" in seen["plain"]
    assert "1 rows correct earlier bookings of the batch" in seen["plain"]
    assert "needs sync" not in seen["synced"]
    assert "код · exit 0" in seen["finished"] and "исправлено · updated" in seen["finished"]
    expected = sorted(float(r[3].replace(",", ".")) for r in corrected[1:])
    assert held == expected  # one worklog per row, row 2 at its corrected hours
