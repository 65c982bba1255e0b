"""The web desk served for real: uvicorn on a loopback port, in a thread, over a
Desk on each backend, with a clock the tests can move and people of each role.

``served`` yields a ``Served``: its ``url``, its ``desk`` (the library under
the app, for setting up and checking), its ``clock`` and ``client(name)``,
an httpx client logged in as that person.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from pledgewatch.clock import SystemClock
from pledgewatch.config import load_config
from pledgewatch.desk import Desk, open_desk
from pledgewatch.web.app import create_app
from pledgewatch.web.security import Throttle

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
PASSWORDS = {
    "rui": "reporter-password-1",
    "ana": "editor-password-1",
    "ada": "admin-password-1",
}
ROLES = {"rui": "reporter", "ana": "editor", "ada": "admin"}


class MovableClock(SystemClock):
    """The system clock, moved forward by ``ahead``."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        return super().now() + self.ahead


@dataclass
class Served:
    url: str
    desk: Desk
    clock: MovableClock
    config_path: Path
    app: Any
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, name: str | None = None, password: str | None = None) -> httpx.Client:
        """A browser-like client: a visitor, or logged in as ``name``."""
        http = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self.clients.append(http)
        if name is not None:
            response = log_in(http, name, password or PASSWORDS[name])
            assert response.status_code == 303, response.text
        return http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(http: httpx.Client, name: str, password: str) -> httpx.Response:
    token = csrf_of(http.get("/login").text)
    return http.post("/login", data={"csrf": token, "name": name, "password": password})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(tmp_path: Path, database_url: str, feed: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[web]\nsecret_key_file = "{tmp_path / "secret.key"}"\n{extra}'
        f'[[feeds]]\nname = "example"\nurl = "{feed}"\n',
        encoding="utf-8",
    )
    return config


def prepare(config_path: Path) -> None:
    """The example pledges, swept once, and a person of each role."""
    config = load_config(str(config_path))
    setup = Desk(config, user="setup")
    setup.init()
    setup.close()
    with open_desk(config, user="setup") as desk:
        desk.import_pledges(EXAMPLES / "pledges.csv")
        desk.sweep()
        for name, role in ROLES.items():
            desk.add_user(name, role, PASSWORDS[name])


@pytest.fixture(scope="session")
def prepared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file made ready once; each test serves a copy of it."""
    folder = tmp_path_factory.mktemp("web-template")
    prepare(write_config(folder, f"sqlite:///{folder / 'pledgewatch.db'}", EXAMPLES / "feed.xml"))
    return folder / "pledgewatch.db"


@pytest.fixture
def served(tmp_path: Path, prepared_sqlite: Path) -> Iterator[Served]:
    """The desk on a loopback port over a copy of the prepared SQLite database."""
    shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    yield from serve(tmp_path, f"sqlite:///{tmp_path / 'pledgewatch.db'}", EXAMPLES / "feed.xml")


@pytest.fixture
def served_everywhere(tmp_path: Path, database_url: str, prepared_sqlite: Path) -> Iterator[Served]:
    """The same on each backend (PostgreSQL is prepared from scratch)."""
    if database_url.startswith("sqlite"):
        shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    else:
        prepare(write_config(tmp_path, database_url, EXAMPLES / "feed.xml"))
    yield from serve(tmp_path, database_url, EXAMPLES / "feed.xml")


def serve(
    tmp_path: Path,
    database_url: str,
    feed: Path,
    extra: str = "",
    *,
    throttle: Throttle | None = None,
) -> Iterator[Served]:
    """Serve a prepared database (see ``prepare``) on a free loopback port."""
    config_path = write_config(tmp_path, database_url, feed, extra)
    config = load_config(str(config_path))
    clock = MovableClock()
    desk = open_desk(config, user="setup", clock=clock)
    app = create_app(config, desk=desk, throttle=throttle)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web desk did not start")
        time.sleep(0.02)
    served = Served(f"http://127.0.0.1:{port}", desk, clock, config_path, app)
    try:
        yield served
    finally:
        for http in served.clients:
            http.close()
        server.should_exit = True
        thread.join(timeout=10)
        desk.close()
