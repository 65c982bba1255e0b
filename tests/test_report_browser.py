"""The HTML report in a real browser: headless Chromium shows the chart and the tables."""

from __future__ import annotations

import dataclasses
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pledgewatch.report.data import build_report
from pledgewatch.report.render import STATUS_COLOURS, render
from tests.browser import CHROMIUM_FLAGS
from tests.test_report import fixture

FLAGS = ("--headless", *CHROMIUM_FLAGS, "--disable-quic", "--window-size=800,1400")


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed: apt-get install chromium to run the browser test")
    return path


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _pixels(png: bytes) -> list[tuple[int, int, int]]:
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes) with the stdlib."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) in ((8, 2, 0), (8, 6, 0)), "unexpected PNG layout"
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        rows.append(line)
        previous = line
    return [(row[x], row[x + 1], row[x + 2]) for row in rows for x in range(0, stride, channels)]


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_chromium_shows_the_chart_and_the_tables(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(build_report(fixture()), "html"), encoding="utf-8")
    url = page.as_uri()

    dumped = _run(chromium, tmp_path / "profile-dom", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert dom.count("<rect ") == 6
    assert dom.count("<table>") == 5
    assert "<script>alert" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the hostile title, as text

    shot = tmp_path / "report.png"
    taken = _run(chromium, tmp_path / "profile-shot", f"--screenshot={shot}", url)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    pixels = _pixels(shot.read_bytes())
    assert len(pixels) == 800 * 1400
    ink = sum(1 for p in pixels if p != (255, 255, 255))
    assert ink > len(pixels) // 50  # text and bars, not a blank page
    colours = set(pixels)
    # The bars of the statuses that have pledges are painted in their colours.
    for status in ("not_yet_rated", "in_the_works", "stalled", "kept"):
        assert _rgb(STATUS_COLOURS[status]) in colours, status


# The width of a small phone, and a word longer than the screen is wide.
PHONE = (360, 740)
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitaenswitwenrentenversicherung"


def test_the_report_fits_a_phone_screen_and_keeps_dates_whole(browser, tmp_path: Path) -> None:
    data = fixture()
    data.pledges[1] = dataclasses.replace(
        data.pledges[1], text=f"Fund the {LONG_WORD} by 2027", actor=LONG_WORD
    )
    page = tmp_path / "report.html"
    page.write_text(render(build_report(data), "html"), encoding="utf-8")

    phone = browser(*PHONE)
    phone.get(page.as_uri())
    assert LONG_WORD in phone.page_source
    # The page never scrolls sideways; a wide table scrolls inside its own box.
    width = phone.execute_script("return document.documentElement.clientWidth")
    assert width == PHONE[0]
    assert phone.execute_script("return document.documentElement.scrollWidth") <= width
    overflowing = phone.execute_script(
        """return [...document.querySelectorAll('body *')]
             .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > arguments[0] + 1)
             .map(e => e.tagName + ': ' + e.textContent.slice(0, 40));""",
        width,
    )
    assert overflowing == []
    # Every date stays on one line: its text is laid out in a single row of boxes.
    lines = phone.execute_script(
        """return [...document.querySelectorAll('.day')].filter(e => e.textContent.trim())
             .map(e => { const r = document.createRange(); r.selectNodeContents(e);
                         return [e.textContent.trim(),
                                 new Set([...r.getClientRects()].map(b => Math.round(b.top))).size]; });"""
    )
    assert lines, "the report shows dates"
    assert all(rows == 1 for _, rows in lines), lines
