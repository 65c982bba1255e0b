"""`pledgewatch watch` reads its config again on SIGHUP, as a real process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pledgewatch.db import Database

EXAMPLE = Path(__file__).parent.parent / "examples" / "feed.xml"


def wait_for(proc: subprocess.Popen[str], log: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = log.read_text(encoding="utf-8")
        if text in seen:
            return seen
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"watch never logged {text!r}; its log:\n{log.read_text(encoding='utf-8')}")


def config_text(url: str, feeds: int, interval: str = "1h") -> str:
    text = f'[database]\nurl = "{url}"\n[sweep]\ninterval = "{interval}"\n'
    for n in range(feeds):
        text += f'[[feeds]]\nname = "example-{n}"\nurl = "{EXAMPLE}"\n'
    return text


def test_sighup_reloads_the_config_and_a_bad_one_is_kept_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pw.db'}"
    Database(url).migrate()
    config = tmp_path / "config.toml"
    config.write_text(config_text(url, 1), encoding="utf-8")
    log = tmp_path / "watch.log"
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pledgewatch", "--config", str(config), "watch"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        try:
            wait_for(proc, log, "sweep #1: 1 of 1 feeds polled")
            # A config that does not load: logged, the one in use kept.
            config.write_text("[database\n", encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            wait_for(proc, log, "config not reloaded; the one in use stays")
            assert proc.poll() is None, "a bad config on reload does not stop watch"
            config.write_text(config_text(url, 3, interval="2h"), encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            seen = wait_for(proc, log, "config reloaded: 3 feeds; sweeping every 2:00:00")
            assert "received" not in seen.split("config reloaded")[1]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert proc.returncode == 0, log.read_text(encoding="utf-8")
    assert "stopped" in log.read_text(encoding="utf-8")
