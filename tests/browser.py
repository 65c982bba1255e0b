"""A real headless Chromium, driven by Selenium through Debian's chromedriver.

Tests that need it take the ``browser`` fixture (a factory: ``browser(width,
height)``); without ``chromium`` and ``chromedriver`` on the PATH they skip with
a reason (``.ci/run`` installs both).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

# What every headless run here needs: no sandbox (CI runs as root), no GPU, no
# background traffic, no scrollbars taking width from the page.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _paths() -> tuple[str, str]:
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "chromium and chromedriver are not installed: "
            "apt-get install chromium chromium-driver to run the browser tests"
        )
    return chromium, driver


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[int, int], object]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = _paths()
    opened: list[webdriver.Chrome] = []

    def open_browser(width: int, height: int) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (
            "--headless=new",
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
            f"--window-size={width},{height}",
        ):
            options.add_argument(flag)
        chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        # --window-size is the window; the page's own viewport is what a phone has.
        chrome.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        opened.append(chrome)
        return chrome

    yield open_browser
    for chrome in opened:
        chrome.quit()
