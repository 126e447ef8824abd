"""The web page in a real browser (Debian's headless Chromium through Selenium): upload a
file, see the plan, start it, watch it end, download the report; in the language the browser
asks for, one language at a time, and the page's switch between them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from importer.config import Settings
from importer.formats import parse_business_iso
from importer.service import JobStore, Runner, create_service_app
from importer.service.api import page
from importer.testing import sandbox_process
from tests.helpers import HEADER, make_settings, month_rows, sandbox_get, tracker_env

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,  # a browser and a sandbox process
    pytest.mark.skipif(
        (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them; in CI it runs)",
    ),
]

# What a browser of each language sends as Accept-Language. Chromium takes it from the
# profile's "intl.accept_languages"; its --lang flag leaves headless Chromium's header en-US.
ACCEPT_LANGUAGE = {"ru": "ru-RU,ru", "en": "en-US,en"}
CYRILLIC = re.compile("[А-Яа-яЁё]")
# Words of the English labels that a Russian page must not show (the data it shows is Latin:
# file names, issue keys, logins, the server's messages).
ENGLISH_LABELS = re.compile(
    r"\b(files?|batch|sync|check|plan|book|import|recent jobs|state|exit|created|submitted"
    r"|to book|hours by|times read|rows to fix|finished|rows/s|files removed)\b",
    re.IGNORECASE,
)


def other_language_in(text: str, language: str) -> list[str]:
    """What of the other language's labels ``text`` shows: Cyrillic on an English page,
    English label words on a Russian one."""
    found = CYRILLIC.findall(text) if language == "en" else ENGLISH_LABELS.findall(text)
    return [str(item) for item in found]


async def served(app: web.Application, steps: Callable[..., Any], *args: Any) -> Any:
    """Serve ``app`` while a browser does ``steps``."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        return await asyncio.to_thread(steps, base, *args)
    finally:
        await server.close()


async def on_the_page(
    runner: Runner, app: web.Application, steps: Callable[..., Any], *args: Any
) -> Any:
    """Serve ``app`` (its runner taking jobs beside it) while a browser does ``steps``."""
    worker = asyncio.create_task(runner.serve())
    try:
        return await served(app, steps, *args)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def page_service(
    tmp_path: Path, url: str, settings: Settings | None = None
) -> tuple[Runner, web.Application, JobStore]:
    """The service's worker, app and jobs over a journal in ``tmp_path``, booking into ``url``."""
    store = JobStore(tmp_path / "service" / "jobs.sqlite")
    runner = Runner(
        settings or make_settings(), store, tmp_path / "journal.sqlite", tracker_env(url)
    )
    return runner, create_service_app(runner, tmp_path / "service" / "jobs"), store


def browser(language: str, downloads: Path | None = None) -> Any:
    """Headless Chromium whose Accept-Language prefers ``language``, downloading into
    ``downloads``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1100,1300"):  # fmt: skip
        options.add_argument(flag)
    prefs: dict[str, Any] = {"intl.accept_languages": ACCEPT_LANGUAGE[language]}
    if downloads is not None:
        prefs["download.default_directory"] = str(downloads)
        prefs["download.prompt_for_download"] = False
    options.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)


def visible_text(driver: Any) -> str:
    """All the page shows, its title included."""
    return str(driver.title) + "\n" + str(driver.execute_script("return document.body.innerText"))


OTHER = {"ru": "en", "en": "ru"}
# What a person reads after the import, in each language.
SEEN = {
    "ru": {
        "to_book": "будет загружено",
        "hours": "Часы по людям",
        "zone": "время по зоне Europe/Moscow (input.timezone)",
        "batch": "пакет 2026-10",
        "files": "файлы october.csv: [columns]",
        "finished": "завершено",
        "exit": "код 1",
        "created": "создано",
        "dry_run": "(план)",
        "jobs": "Последние задания",
    },
    "en": {
        "to_book": "to book",
        "hours": "Hours by person",
        "zone": "times read in Europe/Moscow (input.timezone)",
        "batch": "batch 2026-10",
        "files": "files october.csv: [columns]",
        "finished": "finished",
        "exit": "exit 1",
        "created": "created",
        "dry_run": "(plan)",
        "jobs": "Recent jobs",
    },
}


def steps(
    base: str, upload: Path, downloads: Path, screenshot: Path, language: str
) -> dict[str, str]:
    """What a person does on the page; returns what they saw."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(language, downloads)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "batch").send_keys("2026-10")
        driver.find_element(By.ID, "check").click()
        wait.until(shown.visibility_of_element_located((By.ID, "plan")))
        plan = driver.find_element(By.ID, "plan").text
        reading = driver.find_element(By.ID, "plan-reading").text
        # The switch renders the plan already shown in the other language, and back.
        driver.find_element(By.ID, f"lang-{OTHER[language]}").click()
        reading_switched = driver.find_element(By.ID, "plan-reading").text
        driver.find_element(By.ID, f"lang-{language}").click()
        plan_back = driver.find_element(By.ID, "plan").text
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
        seen = {
            "plan": plan,
            "reading": reading,
            "reading_switched": reading_switched,
            "plan_back": plan_back,
            "finished": finished,
            "jobs": driver.find_element(By.ID, "jobs").text,
            "page": visible_text(driver),
        }
        # The run's end and the jobs, rendered again in the other language.
        driver.find_element(By.ID, f"lang-{OTHER[language]}").click()
        seen["finished_switched"] = driver.find_element(By.ID, "progress").text
        seen["jobs_switched"] = driver.find_element(By.ID, "jobs").text
        return seen
    finally:
        driver.quit()


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_person_uploads_checks_the_plan_starts_and_downloads_the_report(
    write_csv: Callable[..., Path], tmp_path: Path, language: str
) -> None:
    rows = [*month_rows(30), ["BAD", "01.10.2026", "09:00", "1", "broken", "a"]]
    upload = write_csv(rows, "october.csv")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with sandbox_process("--latency", "0.01") as url:
        runner, app, store = page_service(tmp_path, url)
        seen = await on_the_page(
            runner, app, steps, upload, downloads, tmp_path / "finished.png", language
        )
        booked = len(sandbox_get(url, "/_sandbox/worklogs"))
    store.close()
    expect, other = SEEN[language], SEEN[OTHER[language]]
    assert expect["to_book"] in seen["plan"] and "30" in seen["plan"]
    assert "holds no issue key" in seen["plan"]  # the invalid row, with its reason
    assert expect["hours"] in seen["plan"]
    # How the files were read, in the page's language, naming the zone.
    assert expect["zone"] in seen["reading"]
    assert expect["batch"] in seen["reading"] and expect["files"] in seen["reading"]
    assert other["zone"] in seen["reading_switched"] and other["batch"] in seen["reading_switched"]
    assert seen["plan_back"] == seen["plan"]
    assert expect["finished"] in seen["finished"] and expect["exit"] in seen["finished"]
    assert expect["created"] in seen["finished"]
    report = (downloads / "report.csv").read_text(encoding="utf-8-sig")
    assert report.startswith("file,row,status") and report.count("\ncreated") == 0
    assert sum(",created," in line for line in report.splitlines()) == 30 == booked
    assert expect["dry_run"] in seen["jobs"]  # the dry run is listed beside the real run
    # One language at a time: nothing of the other's labels anywhere on the page.
    assert expect["jobs"] in seen["page"] and other["jobs"] not in seen["page"]
    assert other_language_in(seen["page"], language) == []
    assert other["finished"] in seen["finished_switched"]
    assert (
        other["exit"] in seen["finished_switched"] and other["created"] in seen["finished_switched"]
    )
    assert other["dry_run"] in seen["jobs_switched"]
    assert expect["dry_run"] not in seen["jobs_switched"]
    if language == "en" and (target := os.environ.get("WORKLOG_IMPORT_SCREENSHOT")):
        shutil.copyfile(tmp_path / "finished.png", target)


def correction_steps(base: str, upload: Path, language: str) -> dict[str, str]:
    """A corrected month through the page: the plan finds corrections and offers the sync."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(language, upload.parent)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "batch").send_keys("2026-10")
        driver.find_element(By.ID, "check").click()
        wait.until(shown.visibility_of_element_located((By.ID, "plan-sync")))
        plain = driver.find_element(By.ID, "plan").text
        problems = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#plan-problems .error")]
        driver.find_element(By.ID, "resync").click()
        wait.until(lambda d: "2026-10" in d.find_element(By.ID, "plan-job").text and
                   not d.find_element(By.ID, "plan-sync").is_displayed() and
                   d.find_element(By.ID, "plan").is_displayed())  # fmt: skip
        synced = driver.find_element(By.ID, "plan").text
        driver.find_element(By.ID, "start").click()
        wait.until(shown.visibility_of_element_located((By.ID, "download-report-csv")))
        return {
            "plain": plain,
            "problems": "\n".join(problems),
            "synced": synced,
            "finished": driver.find_element(By.ID, "progress").text,
        }
    finally:
        driver.quit()


CORRECTIONS = {
    "ru": {
        "needs_sync": "исправляет прежнюю запись",
        "corrections": "Строк, исправляющих прежние записи пакета: 1;",
        "exit": "код 0",
        "updated": "исправлено",
    },
    "en": {
        "needs_sync": "needs sync",
        "corrections": "1 rows correct earlier bookings of the batch",
        "exit": "exit 0",
        "updated": "updated",
    },
}


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_corrected_month_on_the_page_is_offered_the_sync_and_ends_equal_to_the_file(
    write_csv: Callable[..., Path], tmp_path: Path, language: str
) -> None:
    rows = month_rows(4)
    with sandbox_process("--latency", "0.01") as url:
        runner, app, store = page_service(tmp_path, url)
        first = store.add(["october.csv"], [str(write_csv(rows, "first.csv"))],
                          {"batch": "2026-10"}, str(tmp_path / "first"))  # fmt: skip
        await runner.run(first)
        assert len(sandbox_get(url, "/_sandbox/worklogs")) == 4
        corrected = [r[:] for r in rows]
        corrected[1][3] = "6"  # row 2's hours corrected
        upload = write_csv(corrected, "october.csv")
        seen = await on_the_page(runner, app, correction_steps, upload, language)
        held = sorted(
            parse_business_iso(w["duration"]).total_seconds() / 3600
            for w in sandbox_get(url, "/_sandbox/worklogs")
        )
    store.close()
    expect = CORRECTIONS[language]
    assert expect["needs_sync"] in seen["plain"]
    assert expect["corrections"] in seen["plain"]
    assert expect["needs_sync"] not in seen["synced"]
    assert expect["exit"] in seen["finished"] and expect["updated"] in seen["finished"]
    # The labels only: the rows' problems are the importer's own words (English).
    labels = seen["plain"] + seen["synced"] + seen["finished"]
    for problem in seen["problems"].splitlines():
        labels = labels.replace(problem, "")
    assert other_language_in(labels, language) == []
    expected = sorted(float(r[3].replace(",", ".")) for r in corrected[1:])
    assert held == expected  # one worklog per row, row 2 at its corrected hours


def first_look_steps(base: str, language: str) -> dict[str, str]:
    """The page as it opens, before anything is uploaded."""
    from selenium.webdriver.common.by import By

    driver = browser(language)
    try:
        driver.get(base + "/")
        return {
            "lang": driver.execute_script("return document.documentElement.lang"),
            "page": visible_text(driver),
            "title": driver.title,
            "check": driver.find_element(By.ID, "check").text,
            "jobs": driver.find_element(By.ID, "jobs").text,
        }
    finally:
        driver.quit()


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[tuple[web.Application, JobStore]]:
    """The service's app and its jobs, no runner taking them (no Tracker is asked)."""
    store = JobStore(tmp_path / "service" / "jobs.sqlite")
    env = tracker_env("http://127.0.0.1:9")
    runner = Runner(make_settings(), store, tmp_path / "journal.sqlite", env)
    yield create_service_app(runner, tmp_path / "service" / "jobs"), store
    store.close()


async def test_an_english_browser_sees_the_page_in_english_only(
    idle: tuple[web.Application, JobStore],
) -> None:
    seen = await served(idle[0], first_look_steps, "en")
    assert seen["lang"] == "en"
    assert seen["title"] == "Timesheets into Tracker"
    assert "Recent jobs" in seen["page"] and "Files" in seen["page"] and "Batch" in seen["page"]
    assert seen["check"] == "Check (dry run)"
    assert "Submitted by" in seen["jobs"]
    assert CYRILLIC.findall(seen["page"]) == []


async def test_a_russian_browser_sees_the_page_in_russian_only(
    idle: tuple[web.Application, JobStore],
) -> None:
    seen = await served(idle[0], first_look_steps, "ru")
    assert seen["lang"] == "ru"
    assert seen["title"] == "Табели в Трекер"
    assert "Последние задания" in seen["page"] and "Файлы" in seen["page"]
    assert "Пакет" in seen["page"] and "Кто загрузил" in seen["jobs"]
    assert seen["check"].startswith("Проверить")
    assert other_language_in(seen["page"], "ru") == []
    # No Latin word at all but the switch's own names for the languages.
    assert set(re.findall("[A-Za-z]+", seen["page"])) == {"RU", "EN"}


def switch_steps(base: str) -> dict[str, str]:
    """A Russian browser switches the page to English and back, reloading between."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser("ru")
    try:
        wait = WebDriverWait(driver, 10)
        seen: dict[str, str] = {}

        def look(name: str) -> None:
            wait.until(lambda d: "queued" in d.find_element(By.ID, "jobs").text
                       or "в очереди" in d.find_element(By.ID, "jobs").text)  # fmt: skip
            seen[name] = visible_text(driver)
            seen[name + ".lang"] = driver.execute_script("return document.documentElement.lang")
            seen[name + ".saved"] = str(
                driver.execute_script("return localStorage.getItem('language')")
            )
            seen[name + ".same"] = str(driver.execute_script("return window.sameDocument === 1"))

        driver.get(base + "/")
        look("opened")
        driver.execute_script("window.sameDocument = 1")  # gone if the page were reloaded
        driver.find_element(By.ID, "lang-en").click()
        look("switched")
        driver.refresh()
        look("reloaded")
        driver.find_element(By.ID, "lang-ru").click()
        look("back")
        driver.refresh()
        look("back_reloaded")
        return seen
    finally:
        driver.quit()


async def test_the_switch_flips_the_page_at_once_and_the_choice_survives_a_reload(
    idle: tuple[web.Application, JobStore], tmp_path: Path
) -> None:
    app, store = idle
    # A job waiting in the queue (no runner takes it): its state is rendered in the language.
    store.add(["october.csv"], [], {"batch": "2026-10", "dry_run": True}, str(tmp_path / "q"))
    seen = await served(app, switch_steps)
    assert seen["opened.lang"] == "ru" and seen["opened.saved"] == "None"
    assert "в очереди (план)" in seen["opened"] and other_language_in(seen["opened"], "ru") == []
    # At once, without a reload: the labels, the title and the jobs already listed.
    assert seen["switched.same"] == "True" and seen["switched.lang"] == "en"
    assert seen["switched.saved"] == "en"
    assert "queued (plan)" in seen["switched"] and "Recent jobs" in seen["switched"]
    assert seen["switched"].startswith("Timesheets into Tracker\n")
    assert CYRILLIC.findall(seen["switched"]) == []
    # The choice outweighs the browser's Russian after a reload.
    assert seen["reloaded.same"] == "False" and seen["reloaded.lang"] == "en"
    assert seen["reloaded"] == seen["switched"]
    assert seen["back.lang"] == "ru" and seen["back.saved"] == "ru"
    assert seen["back"] == seen["opened"] == seen["back_reloaded"]
    assert seen["back_reloaded.lang"] == "ru"


def jobs_steps(base: str, language: str) -> dict[str, str]:
    """The recent jobs, then the same in the other language."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(language)
    try:
        driver.get(base + "/")
        WebDriverWait(driver, 10).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")) == 2
        )

        def rows() -> list[str]:
            return [
                " | ".join(td.text for td in row.find_elements(By.TAG_NAME, "td"))
                for row in driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")
            ]

        seen = {"header": driver.find_element(By.CSS_SELECTOR, "#jobs thead").text}
        seen["rows"] = "\n".join(rows())
        seen["links"] = ",".join(
            str(a.get_attribute("href")).removeprefix(base)
            for a in driver.find_elements(By.CSS_SELECTOR, "#jobs a")
        )
        driver.find_element(By.ID, f"lang-{OTHER[language]}").click()
        seen["switched"] = "\n".join(rows())
        return seen
    finally:
        driver.quit()


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_jobs_show_who_submitted_them_and_when_their_files_were_removed(
    tmp_path: Path, language: str
) -> None:
    """Each job's ``submitted_by`` and ``files_removed_at`` (jobs from before them lack them)."""
    store = JobStore(tmp_path / "jobs.sqlite")
    old = store.add(["september.csv"], [], {"batch": "2026-09"}, str(tmp_path / "1"))
    new = store.add(["october.csv"], [], {"batch": "2026-10"}, str(tmp_path / "2"))
    store.close()
    jobs = [
        {**new.as_json(), "state": "finished", "exit_code": 0, "submitted_by": "a.smirnova",
         "files_removed_at": "2026-12-02T03:00:00+00:00"},
        {**old.as_json(), "state": "finished", "exit_code": 0},
    ]  # fmt: skip

    async def list_jobs(request: web.Request) -> web.Response:
        return web.json_response({"jobs": jobs})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/api/jobs", list_jobs)
    seen = await served(app, jobs_steps, language)
    removed = {"ru": "файлы удалены 2026-12-02 03:00:00 UTC",
               "en": "files removed 2026-12-02 03:00:00 UTC"}  # fmt: skip
    header = {"ru": "Кто загрузил", "en": "Submitted by"}
    assert header[language] in seen["header"]
    newer, older = seen["rows"].splitlines()
    assert newer.endswith(f" | a.smirnova | {removed[language]}")
    assert older.endswith(" |  | report.csv")  # no one named; its files still there
    assert seen["links"] == f"/api/jobs/{old.id}/report.csv"  # none for the removed files
    assert seen["switched"].splitlines()[0].endswith(f" | a.smirnova | {removed[OTHER[language]]}")


def october_rows() -> list[list[str]]:
    """Two people's October 2026, 8 h every working day, but: i.petrov has no hours on
    Wednesday 2026-10-14; a.smirnova's Monday 2026-10-05 is 14 h of two rows that overlap
    (09:00–17:00 and 16:00–22:00); a.smirnova books 2 h on Saturday 2026-10-10 on PORT-999,
    an issue Tracker does not have; i.petrov books 2 h on 2026-11-02, outside the month."""
    rows = [HEADER]
    day = dt.date(2026, 10, 1)
    while day.month == 10:
        for person in ("a.smirnova", "i.petrov"):
            date = day.strftime("%d.%m.%Y")
            if day.isoweekday() > 5 or (person, day.day) == ("i.petrov", 14):
                continue
            if (person, day.day) == ("a.smirnova", 5):
                rows.append(["PORT-401", date, "09:00", "8", "long day", person])
                rows.append(["PORT-402", date, "16:00", "6", "evening", person])
            else:
                rows.append(["PORT-400", date, "09:00", "8", f"{person} {date}", person])
        day += dt.timedelta(days=1)
    rows.append(["PORT-999", "10.10.2026", "10:00", "2", "saturday", "a.smirnova"])
    rows.append(["PORT-400", "02.11.2026", "09:00", "2", "november", "i.petrov"])
    return rows


def hours_by_day(rows: list[list[str]]) -> dict[tuple[str, str], float]:
    """The rows' hours per (person, ISO day) of October 2026."""
    hours: dict[tuple[str, str], float] = {}
    for _, date, _, duration, _, person in rows[1:]:
        day = dt.datetime.strptime(date, "%d.%m.%Y").date()
        if (day.year, day.month) == (2026, 10):
            key = (person, day.isoformat())
            hours[key] = hours.get(key, 0.0) + float(duration)
    return hours


def month_steps(base: str, upload: Path, language: str, screenshot: Path) -> dict[str, Any]:
    """A month checked on the page: its grid, legend and findings, in both languages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(language)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "batch").send_keys("2026-10")
        driver.find_element(By.ID, "check").click()
        wait.until(shown.visibility_of_element_located((By.ID, "plan-grid")))

        def texts() -> dict[str, str]:
            return {
                name: driver.find_element(By.ID, f"plan-{name}").text
                for name in ("month-title", "found", "legend", "tracker")
            }

        seen: dict[str, Any] = {
            "cells": driver.execute_script(
                "return [...document.querySelectorAll('#plan-grid td')].map((td) => ({"
                "person: td.dataset.person, day: td.dataset.day, hours: td.dataset.hours,"
                "classes: [...td.classList], title: td.title}))"
            ),
            "days": driver.execute_script(
                "return [...document.querySelectorAll('#plan-grid thead th[data-day]')]"
                ".map((th) => [th.dataset.day, th.classList.contains('off')])"
            ),
            "people": [
                e.text for e in driver.find_elements(By.CSS_SELECTOR, "#plan-grid th.person")
            ],
            **texts(),
        }
        # The plan, grid and all, as a picture: the window as tall as the page.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1100, int(height) + 200)
        driver.find_element(By.ID, "plan").screenshot(str(screenshot))
        driver.find_element(By.ID, f"lang-{OTHER[language]}").click()
        seen["switched"] = texts()
        seen["switched_title"] = driver.find_element(
            By.CSS_SELECTOR, '#plan-grid td[data-person="a.smirnova"][data-day="2026-10-05"]'
        ).get_attribute("title")
        return seen
    finally:
        driver.quit()


MONTH = {
    "ru": {
        "title": "Месяц по дням: 2026-10-01 … 2026-10-31 (месяц из названия пакета)",
        "found": "строк, пересекающихся по времени: 2; строк в днях больше 12 ч: 2; "
        "строк вне месяца: 1; рабочих дней без часов: 1",
        "legend": [
            "до 3 ч",
            "до 6 ч",
            "до 9 ч",
            "до 12 ч",
            "больше 12 ч за день",
            "рабочий день без часов",
            "выходной",
        ],
        "tracker": "Трекер откажет: PORT-999 (issue PORT-999 does not exist in Tracker",
        "over": "2026-10-05 · 14 ч · october.csv:{}, october.csv:{} · больше 12 ч за день",
        "empty": "2026-10-14 · 0 ч · рабочий день без часов",
    },
    "en": {
        "title": "The month by day: 2026-10-01 … 2026-10-31 (the month the batch names)",
        "found": "rows overlapping in time: 2; rows on days past 12 h: 2; "
        "rows outside the month: 1; working days with no hours: 1",
        "legend": [
            "up to 3 h",
            "up to 6 h",
            "up to 9 h",
            "up to 12 h",
            "more than 12 h a day",
            "working day with no hours",
            "day off",
        ],
        "tracker": "Tracker would refuse: PORT-999 (issue PORT-999 does not exist in Tracker",
        "over": "2026-10-05 · 14 h · october.csv:{}, october.csv:{} · more than 12 h a day",
        "empty": "2026-10-14 · 0 h · working day with no hours",
    },
}


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_plan_draws_the_month_as_a_grid_of_people_and_days(
    write_csv: Callable[..., Path], tmp_path: Path, language: str
) -> None:
    rows = october_rows()
    upload = write_csv(rows, "october.csv")
    settings = make_settings(delivery={"check_issues": True})  # PORT-999 looked up
    with sandbox_process("--latency", "0.01", "--missing-issues", "PORT-999") as url:
        runner, app, store = page_service(tmp_path, url, settings)
        shot = tmp_path / "month-grid.png"
        seen = await on_the_page(runner, app, month_steps, upload, language, shot)
        assert sandbox_get(url, "/_sandbox/worklogs") == []  # a dry run
    store.close()
    expect, other = MONTH[language], MONTH[OTHER[language]]
    october = [(dt.date(2026, 10, 1) + dt.timedelta(days=n)).isoformat() for n in range(31)]
    # Days across, weekends shaded; people down.
    assert [day for day, _ in seen["days"]] == october
    off = {day for day, shaded in seen["days"] if shaded}
    assert off == {d for d in october if dt.date.fromisoformat(d).isoweekday() > 5}
    assert len(off) == 9
    assert seen["people"] == ["a.smirnova", "i.petrov"]
    cells = {(c["person"], c["day"]): c for c in seen["cells"]}
    assert len(cells) == len(seen["cells"]) == 2 * 31
    # Every cell holds the file's hours of its person and day (November's row is not drawn).
    expected = hours_by_day(rows)
    drawn = {key: float(c["hours"]) for key, c in cells.items() if float(c["hours"])}
    assert drawn == expected
    assert (
        expected[("a.smirnova", "2026-10-05")] == 14 and ("i.petrov", "2026-10-14") not in expected
    )
    # The day past the limit and the working day with no hours, and only they, are marked.
    over = [key for key, c in cells.items() if "over" in c["classes"]]
    empty = [key for key, c in cells.items() if "empty" in c["classes"]]
    assert over == [("a.smirnova", "2026-10-05")]
    assert empty == [("i.petrov", "2026-10-14")]
    assert "off" in cells[("a.smirnova", "2026-10-10")]["classes"]  # Saturday, with hours
    # Hovering a cell names its day, hours and rows (sheet rows: the header is row 1).
    numbers = [
        n + 1 for n, row in enumerate(rows) if row[1] == "05.10.2026" and row[5] == "a.smirnova"
    ]
    assert cells[("a.smirnova", "2026-10-05")]["title"] == expect["over"].format(*numbers)
    assert cells[("i.petrov", "2026-10-14")]["title"] == expect["empty"]
    assert seen["switched_title"] == other["over"].format(*numbers)
    # The legend, the findings and what Tracker would refuse, in the page's language...
    assert seen["month-title"] == expect["title"]
    assert seen["found"] == expect["found"]
    assert all(item in seen["legend"] for item in expect["legend"])
    assert seen["tracker"].startswith(expect["tracker"])
    # ... and redrawn in the other by the switch.
    switched = seen["switched"]
    assert switched["month-title"] == other["title"] and switched["found"] == other["found"]
    assert all(item in switched["legend"] for item in other["legend"])
    assert not any(item in switched["legend"] for item in expect["legend"])
    assert switched["tracker"].startswith(other["tracker"])
    # One language at a time (Tracker's own words, quoted in the refusal, aside).
    labels = ("month-title", "found", "legend")
    assert other_language_in(" ".join(switched[k] for k in labels), OTHER[language]) == []
    assert other_language_in(" ".join(seen[k] for k in labels), language) == []
    if language == "en" and (target := os.environ.get("WORKLOG_IMPORT_SCREENSHOT_GRID")):
        shutil.copyfile(shot, target)


def merge_steps(base: str, upload: Path) -> dict[str, str]:
    """Check a file on a page whose service merges per day; the plan's merge line."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser("en")
    try:
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "check").click()
        WebDriverWait(driver, 60).until(shown.visibility_of_element_located((By.ID, "plan")))
        merged = driver.find_element(By.ID, "plan-merge").text
        driver.find_element(By.ID, "lang-ru").click()
        return {"merged": merged, "merged_ru": driver.find_element(By.ID, "plan-merge").text}
    finally:
        driver.quit()


async def test_a_merged_plan_says_how_many_worklogs_the_rows_make(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [HEADER] + [
        ["PORT-1", f"0{day}.10.2026", f"{9 + n}:00", "1", f"entry {n}", "a.smirnova"]
        for day in (1, 2) for n in range(3)
    ]  # fmt: skip
    upload = write_csv(rows, "timer.csv")
    with sandbox_process("--latency", "0.01") as url:
        runner, app, store = page_service(tmp_path, url, make_settings(merge={"per": "day"}))
        seen = await on_the_page(runner, app, merge_steps, upload)
    store.close()
    assert seen["merged"] == (
        "Merged per person, issue and day: 6 rows make 2 worklogs (4 requests saved); "
        "the hours per person are the files'"
    )
    assert seen["merged_ru"].startswith("Объединено по человеку, задаче и дню: 6 строк станут 2")


def rebook_steps(base: str, upload: Path, language: str) -> dict[str, str]:
    """A month booked per row, checked after the service was set to merge per day: the
    check is refused with a rebook offered; the rebook's plan, started, ends merged."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser(language, upload.parent)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(upload))
        driver.find_element(By.ID, "batch").send_keys("2026-10")
        driver.find_element(By.ID, "check").click()
        wait.until(shown.visibility_of_element_located((By.ID, "rebook-offer")))
        offer = driver.find_element(By.ID, "rebook-offer").text
        driver.find_element(By.ID, "rebook").click()
        wait.until(shown.visibility_of_element_located((By.ID, "plan-rebook")))
        plan = driver.find_element(By.ID, "plan").text
        offered_after = driver.find_element(By.ID, "rebook-offer").is_displayed()
        driver.find_element(By.ID, "start").click()
        wait.until(shown.visibility_of_element_located((By.ID, "download-report-csv")))
        return {
            "offer": offer,
            "plan": plan,
            "offered_after": str(offered_after),
            "finished": driver.find_element(By.ID, "progress").text,
        }
    finally:
        driver.quit()


REBOOK = {
    "ru": {
        "offer": "Пакет 2026-10 уже загружен по записи на строку. Загрузить его по записи на "
        "человека, задачу и день",
        "plan": "сначала будут удалены 16 прежних записей пакета (загружен по записи на строку)",
        "deleted": "удалено",
        "exit": "код 0",
    },
    "en": {
        "offer": "Batch 2026-10 was booked one worklog per row. Booking it one worklog per "
        "person, issue and day",
        "plan": "the batch's 16 earlier worklogs (booked one worklog per row) are taken back",
        "deleted": "deleted",
        "exit": "exit 0",
    },
}


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_batch_booked_per_row_is_offered_a_rebook_when_the_service_merges_per_day(
    write_csv: Callable[..., Path], tmp_path: Path, language: str
) -> None:
    from tests.pipeline.test_merge_kills import held
    from tests.pipeline.test_merging import expected_groups
    from tests.pipeline.test_rebook import whole_minutes

    rows = whole_minutes()
    with sandbox_process("--latency", "0.005") as url:
        per_row, _, store = page_service(tmp_path, url)
        first = store.add(["october.csv"], [str(write_csv(rows, "first.csv"))],
                          {"batch": "2026-10"}, str(tmp_path / "first"))  # fmt: skip
        await per_row.run(first)
        assert len(sandbox_get(url, "/_sandbox/worklogs")) == 16
        store.close()
        merged = make_settings(merge={"per": "day"})
        runner, app, store = page_service(tmp_path, url, merged)
        seen = await on_the_page(
            runner, app, rebook_steps, write_csv(rows, "october.csv"), language
        )
        holds = held(url)
        jobs = store.recent(10)
    store.close()
    expect = REBOOK[language]
    assert expect["offer"] in seen["offer"]
    assert expect["plan"] in seen["plan"] and seen["offered_after"] == "False"
    assert expect["exit"] in seen["finished"] and expect["deleted"] in seen["finished"]
    assert other_language_in(seen["offer"] + seen["plan"] + seen["finished"], language) == []
    assert holds == expected_groups(rows)  # 8 groups, each once; the per-row worklogs gone
    refused = next(job for job in jobs if job.state == "failed")
    assert refused.reading == {"offer": "rebook", "batch": "2026-10", "from": "row", "to": "day"}
    assert [job.options.get("rebook") for job in jobs if job.state == "finished"][:2] == [
        True, True,
    ]  # fmt: skip
