"""Screenshots of the desk's board, a pledge page and the review queue, at desktop
and phone widths, with headless Chromium.

    python docs/screenshots/take.py URL NAME PASSWORD PLEDGE_ID [FOLDER]

against a running ``pledgewatch serve`` (these were taken on the quick-start data
after one sweep, one review and one verdict).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def main() -> None:
    base, name, password, pledge_id = sys.argv[1:5]
    folder = Path(sys.argv[5] if len(sys.argv) > 5 else Path(__file__).parent)
    for width, height, label in ((1280, 900, "desktop"), (390, 844, "phone")):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
            options.add_argument(flag)
        options.add_argument(f"--window-size={width},{height}")
        chrome = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        chrome.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        chrome.get(base + "/login")
        chrome.find_element(By.ID, "name").send_keys(name)
        chrome.find_element(By.ID, "password").send_keys(password + "\n")
        time.sleep(0.5)
        for path, page in (
            ("/", "board"),
            (f"/pledges/{pledge_id}", "pledge"),
            ("/review", "review"),
        ):
            chrome.get(base + path)
            time.sleep(0.3)
            chrome.save_screenshot(str(folder / f"{page}-{label}.png"))
        chrome.quit()


if __name__ == "__main__":
    main()
