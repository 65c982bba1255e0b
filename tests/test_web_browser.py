"""The web desk in a real browser (headless Chromium through chromedriver) against
a real server on loopback: log-in per role, review from the keyboard, a verdict
through its form, hostile feed text that never runs, reading without JavaScript,
and pages that fit a phone."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.web_support import PASSWORDS, ROLES, Served, serve

WAIT = 15


def shown(chrome: Any, selector: str) -> Any:
    """The element a submit's new page shows, waited for rather than read off the old page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, selector))
    )


def log_in(chrome: Any, served: Served, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    chrome.get(served.url + "/")
    WebDriverWait(chrome, WAIT).until(ec.presence_of_element_located((By.ID, "name")))
    chrome.find_element(By.ID, "name").send_keys(name)
    chrome.find_element(By.ID, "password").send_keys(PASSWORDS[name])
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chrome, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".who")))


def no_dialog(chrome: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = chrome.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    raise AssertionError(f"a dialog opened: {text!r}")


def test_each_role_logs_in_and_sees_its_own_desk(
    browser: Callable[[int, int], Any], served: Served
) -> None:
    from selenium.webdriver.common.by import By

    for name, role in ROLES.items():
        chrome = browser(1200, 900)
        log_in(chrome, served, name)
        assert chrome.find_element(By.CSS_SELECTOR, ".who").text.startswith(f"{name} ({role})")
        nav = chrome.find_element(By.CSS_SELECTOR, "header nav").text
        assert ("People" in nav) == (role == "admin")
        assert ("Log a pledge" in nav) is True
        chrome.get(served.url + "/pledges/1")
        buttons = chrome.find_element(By.CSS_SELECTOR, ".actions").text
        assert ("Record a verdict" in buttons) == (role != "reporter")
        chrome.get(served.url + "/pledges/1/verdict")
        refused = "does not allow" in chrome.page_source
        assert refused == (role == "reporter")


def test_an_editor_reviews_five_items_from_the_keyboard(
    browser: Callable[[int, int], Any], served: Served
) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    chrome = browser(1200, 900)
    log_in(chrome, served, "ana")
    pending_before = served.desk.evidence(review="pending").total
    assert pending_before >= 6
    decided: dict[int, str] = {}
    for turn, key in enumerate(["c", "r", "c", "r", "c"]):
        chrome.get(served.url + "/review")
        WebDriverWait(chrome, WAIT).until(
            lambda c: c.find_element(By.TAG_NAME, "body").get_attribute("data-keys") == "ready"
        )
        items = chrome.find_elements(By.CSS_SELECTOR, ".item")
        assert "current" in items[0].get_attribute("class")
        # j moves down one, k back up: the second item is decided on odd turns.
        ActionChains(chrome).send_keys("j").perform()
        assert "current" in items[1].get_attribute("class")
        if turn % 2 == 0:
            ActionChains(chrome).send_keys("k").perform()
            assert "current" in items[0].get_attribute("class")
        chosen = items[turn % 2]
        decided[int(chosen.get_attribute("data-id"))] = "confirmed" if key == "c" else "rejected"
        # The page the key was pressed on marks its window; the page the decision
        # leads to is a new window object, without the mark. (Asking an element of
        # the old page whether it is stale can fail in ChromeDriver mid-navigation
        # with "Node with given id does not belong to the document".)
        chrome.execute_script("window.pledgewatchOld = true")
        ActionChains(chrome).send_keys(key).perform()
        WebDriverWait(chrome, WAIT, ignored_exceptions=(WebDriverException,)).until(
            lambda c: c.execute_script("return window.pledgewatchOld !== true")
        )
        WebDriverWait(chrome, WAIT).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "p.done"))
        )
    assert len(decided) == 5
    for evidence_id, review in decided.items():
        item = next(e for e in served.desk.evidence(review=review) if e.id == evidence_id)
        assert item.reviewed_by == "ana"
    assert served.desk.evidence(review="pending").total == pending_before - 5


def test_an_editor_records_a_verdict_through_the_form(
    browser: Callable[[int, int], Any], served: Served
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    chrome = browser(1200, 900)
    log_in(chrome, served, "ana")
    chrome.get(served.url + "/pledges/1/verdict")
    Select(chrome.find_element(By.ID, "v-status")).select_by_value("broken")
    chrome.find_element(By.ID, "v-note").send_keys("Parts for drones reach Russia.")
    chrome.find_element(By.CSS_SELECTOR, ".verdict-form button[type=submit]").click()
    # A final status with no confirmed evidence and no source is refused, in words.
    alert = shown(chrome, "p.error")
    assert "final status" in alert.text
    assert served.desk.pledge(1).pledge.status == "not_yet_rated"
    chrome.find_element(By.ID, "v-source").send_keys("https://www.reuters.com/world/drones/")
    chrome.find_element(By.CSS_SELECTOR, ".verdict-form button[type=submit]").click()
    assert "Verdict recorded." in shown(chrome, "p.done").text
    verdict = served.desk.pledge(1).verdicts[-1]
    assert (verdict.to_status, verdict.by) == ("broken", "ana")
    timeline = chrome.find_element(By.CSS_SELECTOR, ".timeline").text
    assert "Parts for drones reach Russia." in timeline


HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>&lt;script&gt;alert("feed")&lt;/script&gt;</title>
<link>https://hostile.example/</link><description>x</description>
<item><title>China to sell weapons to Russia &lt;script&gt;alert(1)&lt;/script&gt;</title>
<link>https://hostile.example/one</link><pubDate>Mon, 02 Dec 2024 10:00:00 GMT</pubDate>
<description><![CDATA[Beijing weapons for Moscow <img src=x onerror="alert(2)"> <script>alert(3)</script>]]></description></item>
<item><title>&lt;img src=x onerror=alert(4)&gt; Chinese weapons shipped to Russia</title>
<link>https://hostile.example/two</link><pubDate>Tue, 03 Dec 2024 10:00:00 GMT</pubDate>
<description>Weapons from China reached Russia, &lt;svg onload=alert(5)&gt; officials said.</description></item>
</channel></rss>
"""


def test_hostile_feed_text_never_runs_in_the_desk(
    browser: Callable[[int, int], Any], tmp_path: Path, prepared_sqlite: Path
) -> None:
    from selenium.webdriver.common.by import By

    feed = tmp_path / "hostile.xml"
    feed.write_text(HOSTILE, encoding="utf-8")
    shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    for hostile in serve(tmp_path, f"sqlite:///{tmp_path / 'pledgewatch.db'}", feed):
        hostile.desk.sweep(all_feeds=True)
        titles = [e.article.title for e in hostile.desk.evidence(pledge_id=1)]
        assert any("<script>" in t for t in titles) and any("onerror" in t for t in titles)
        chrome = browser(1200, 900)
        log_in(chrome, hostile, "ada")
        for path in ("/", "/review", "/review?pledge=1", "/pledges/1", "/feeds", "/report"):
            chrome.get(hostile.url + path)
            no_dialog(chrome)
            assert (
                chrome.execute_script(
                    "return document.querySelectorAll('main img, main svg[onload]').length"
                )
                == 0
            ), path
        chrome.get(hostile.url + "/pledges/1/preview?query=%40china%20AND%20weapons")
        no_dialog(chrome)
        assert "<script>alert(1)</script>" in chrome.find_element(By.TAG_NAME, "main").text


def test_pages_read_without_javascript(
    tmp_path_factory: pytest.TempPathFactory, served: Served
) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from tests.browser import CHROMIUM_FLAGS, _paths

    chromium, driver = _paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path_factory.mktemp('nojs')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2}
    )
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        log_in(chrome, served, "ana")
        assert (
            "China will not sell weapons to Russia" in chrome.find_element(By.TAG_NAME, "main").text
        )
        chrome.get(served.url + "/pledges/1")
        assert "Timeline" in chrome.page_source
        chrome.get(served.url + "/review")
        assert chrome.find_element(By.TAG_NAME, "body").get_attribute("data-keys") is None
        first = chrome.find_element(By.CSS_SELECTOR, ".item")
        evidence_id = int(first.get_attribute("data-id"))
        first.find_element(By.CSS_SELECTOR, "button.confirm").click()
        assert "Confirmed 1 item." in shown(chrome, "p.done").text
        assert any(e.id == evidence_id for e in served.desk.evidence(review="confirmed"))
    finally:
        chrome.quit()


@pytest.mark.parametrize("path", ["/", "/pledges/1", "/review", "/pledges/1/verdict", "/feeds"])
def test_desk_pages_fit_a_phone_screen(
    browser: Callable[[int, int], Any], served: Served, path: str
) -> None:
    served.desk.edit_pledge(1, {"notes": "Unbreakable" + "x" * 60})
    chrome = browser(360, 740)
    log_in(chrome, served, "ana")
    chrome.get(served.url + path)
    width = chrome.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, f"{path} scrolls sideways: {width}px"
    overflowing = chrome.execute_script(
        """return [...document.querySelectorAll('main *')].filter(e => !e.closest('.scroll')
            && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.outerHTML.slice(0, 80))"""
    )
    assert overflowing == [], overflowing
    # Nothing is squeezed to a letter a line: no element with text runs to more lines
    # than its words take, a long word (a URL) taking one line per 20 letters.
    squeezed = chrome.execute_script(
        """return [...document.querySelectorAll('main th, main td, main a, main h1, main p')]
            .filter(e => e.offsetParent !== null && e.innerText.trim().length > 3)
            .filter(e => {
                const line = parseFloat(getComputedStyle(e).lineHeight) || 20;
                const text = e.innerText.trim();
                const lines = text.split(/\\s+/).length + text.length / 20;
                return e.getBoundingClientRect().height / line > lines + 1.5;
            }).map(e => e.innerText.slice(0, 40))"""
    )
    assert squeezed == [], squeezed
