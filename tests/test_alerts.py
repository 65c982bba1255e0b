"""Alerts against real receivers on loopback: one signed digest per sweep, a
receiver that is down gets the message once it is back, a receiver that hangs
never holds up a sweep, a sender killed mid-send loses nothing, and `alert test`."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pledgewatch import open_desk
from pledgewatch.alerts import messages
from pledgewatch.config import load_config
from pledgewatch.desk import Desk
from pledgewatch.errors import AlertFailed, ConfigError, NotFoundError
from pledgewatch.models import AlertMessage
from tests.conftest import Cli
from tests.web_support import MovableClock, free_port

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
SECRET = "a-webhook-secret-of-some-length"


class Receiver:
    """A webhook receiver on a loopback port: records what it is sent; ``mode`` is
    "ok", "fail" (HTTP 500) or "hang" (answers after ``hang`` seconds)."""

    def __init__(self, port: int | None = None, mode: str = "ok", hang: float = 30.0) -> None:
        self.port = port or free_port()
        self.mode = mode
        self.hang = hang
        self.received: list[dict[str, Any]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.mode == "hang":
                    time.sleep(receiver.hang)
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(500 if receiver.mode == "fail" else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def write_config(tmp_path: Path, database_url: str, alerts: str, feed: Path | None = None) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        '[web]\npublic_url = "https://desk.example"\n'
        f'[[feeds]]\nname = "example"\nurl = "{feed or EXAMPLES / "feed.xml"}"\n{alerts}',
        encoding="utf-8",
    )
    return config


def webhook(url: str, **extra: Any) -> str:
    lines = [
        "[[alerts]]",
        'name = "desk"',
        f'webhook = "{url}"',
        f'secret = "{SECRET}"',
        "timeout = 2",
    ]
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def desk_for(config: Path, clock: MovableClock | None = None) -> Desk:
    setup = Desk(load_config(str(config)), user="setup")
    setup.init()
    setup.close()
    desk = open_desk(load_config(str(config)), user="ana", clock=clock)
    desk.import_pledges(EXAMPLES / "pledges.csv")
    return desk


def signed(request: dict[str, Any]) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-Pledgewatch-Signature"], expected)


def test_one_signed_digest_per_sweep_with_the_right_items(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text((EXAMPLES / "feed.xml").read_text(encoding="utf-8"), encoding="utf-8")
    desk = desk_for(write_config(tmp_path, database_url, webhook(receiver.url), feed))
    try:
        summary = desk.sweep()
        assert summary.evidence_new > 3
        delivered = desk.deliver_alerts()
        assert (delivered.sent, delivered.retrying) == (1, 0)
        assert len(receiver.received) == 1
        request = receiver.received[0]
        assert signed(request)
        assert request["headers"]["X-Pledgewatch-Event"] == "evidence"
        digest = receiver.payloads()[0]
        pending = {e.id for e in desk.evidence(review="pending")}
        assert {i["evidence_id"] for i in digest["items"]} == pending
        assert digest["count"] == summary.evidence_new == len(pending)
        first = digest["items"][0]
        assert first["review_url"] == f"https://desk.example/review?pledge={first['pledge_id']}"
        # A sweep that finds nothing new sends nothing; delivering again sends nothing.
        desk.sweep(all_feeds=True)
        assert desk.deliver_alerts().sent == 0
        assert len(receiver.received) == 1
        # The next sweep's digest holds only its own new item.
        text = feed.read_text(encoding="utf-8").replace(
            "<item>",
            "<item><title>China sends weapons to Russia, officials say</title>"
            "<link>https://news.example.org/new-weapons</link>"
            "<pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate>"
            "<description>Beijing sent weapons to Moscow.</description></item><item>",
            1,
        )
        feed.write_text(text, encoding="utf-8")
        second = desk.sweep(all_feeds=True)
        assert second.evidence_new >= 1
        assert desk.deliver_alerts().sent == 1
        newest = receiver.payloads()[1]
        assert newest["count"] == second.evidence_new
        assert {i["url"] for i in newest["items"]} == {"https://news.example.org/new-weapons"}
        assert newest["sweep_run"] == second.run_id
        assert signed(receiver.received[1])
    finally:
        desk.close()


def test_an_alert_filtered_by_tag_hears_only_of_its_pledges(
    tmp_path: Path, sqlite_url: str, receiver: Receiver
) -> None:
    desk = desk_for(write_config(tmp_path, sqlite_url, webhook(receiver.url, tags=["climate"])))
    try:
        desk.sweep()
        desk.deliver_alerts()
        items = receiver.payloads()[0]["items"]
        tagged = {p.id for p in desk.pledges(tag="climate")}
        assert items and {i["pledge_id"] for i in items} <= tagged
        others = {e.id for e in desk.evidence(review="pending") if e.pledge_id not in tagged}
        assert others and not others & {i["evidence_id"] for i in items}
    finally:
        desk.close()


def test_a_receiver_that_is_down_gets_the_message_after_it_recovers_once(
    tmp_path: Path, database_url: str
) -> None:
    down = Receiver()  # its port is free: nothing listens yet
    clock = MovableClock()
    desk = desk_for(write_config(tmp_path, database_url, webhook(down.url)), clock)
    try:
        desk.sweep()
        first = desk.deliver_alerts()
        assert (first.sent, first.retrying) == (0, 1)
        assert "could not connect" in first.errors[0][1]
        down.start()
        assert desk.deliver_alerts().sent == 0  # not before its retry time
        clock.ahead = messages.backoff(1) + timedelta(seconds=1)
        assert desk.deliver_alerts().sent == 1
        clock.ahead += timedelta(hours=5)
        assert desk.deliver_alerts().sent == 0
        assert len(down.received) == 1
        delivery = down.received[0]["headers"]["X-Pledgewatch-Delivery"]
        assert delivery == str(_only_message_id(desk))
    finally:
        down.stop()
        desk.close()


def _only_message_id(desk: Desk) -> int:
    with desk.database.session(write=False) as session:
        return int(session.scalars(select(AlertMessage.id)).one())


def test_a_hanging_receiver_never_slows_the_sweep(tmp_path: Path, sqlite_url: str) -> None:
    hanging = Receiver(mode="hang", hang=20).start()
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    try:
        without = desk_for(write_config(quiet, f"sqlite:///{quiet / 'p.db'}", ""))
        started = time.monotonic()
        without.sweep()
        plain = time.monotonic() - started
        without.close()
        desk = desk_for(write_config(tmp_path, sqlite_url, webhook(hanging.url)))
        started = time.monotonic()
        summary = desk.sweep()
        with_alert = time.monotonic() - started
        assert summary.evidence_new > 0 and desk.alert_counts()["desk"]["waiting"] == 1
        assert with_alert < plain * 1.5 + 1.0, (plain, with_alert)
        # Sending gives up on the hanging receiver at the alert's timeout (2 s) and
        # keeps the message for later.
        started = time.monotonic()
        delivered = desk.deliver_alerts()
        assert time.monotonic() - started < 2 + 1.5
        assert (delivered.sent, delivered.retrying) == (0, 1)
        assert "no answer within 2 seconds" in delivered.errors[0][1]
        desk.close()
    finally:
        hanging.stop()


def test_a_sender_killed_mid_send_loses_nothing(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver(mode="hang", hang=8).start()
    config = write_config(
        tmp_path, sqlite_url, webhook(receiver.url).replace("timeout = 2", "timeout = 1")
    )
    desk = desk_for(config)
    try:
        desk.sweep()
        env = {**os.environ, "PLEDGEWATCH_USER": "cron"}
        env.pop("PLEDGEWATCH_DATABASE_URL", None)
        sender = subprocess.Popen(
            [sys.executable, "-m", "pledgewatch", "--config", str(config), "alert", "send"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while not _claimed(desk) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _claimed(desk), "the sender never claimed the message"
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=10)
        # Held by the dead sender: nobody sends it until its claim runs out.
        receiver.mode = "ok"
        assert desk.deliver_alerts().sent == 0
        time.sleep(1 + 10 + 0.5)  # the timeout plus the lease margin
        assert desk.deliver_alerts().sent == 1
        assert desk.deliver_alerts().sent == 0
        ok = [r for r in receiver.received if r["headers"]["X-Pledgewatch-Event"] == "evidence"]
        assert len(ok) >= 1 and len({r["headers"]["X-Pledgewatch-Delivery"] for r in ok}) == 1
    finally:
        receiver.stop()
        desk.close()


def _claimed(desk: Desk) -> bool:
    with desk.database.session(write=False) as session:
        return session.scalars(select(AlertMessage.claimed_until)).first() is not None


def test_a_verdict_deadlines_and_a_failing_feed_are_each_sent_once(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    missing = tmp_path / "missing.xml"
    alerts = webhook(
        receiver.url,
        events=["verdict", "due", "overdue", "feed"],
        feed_failures=2,
        due_within="400d",
    )
    clock = MovableClock()
    desk = desk_for(write_config(tmp_path, database_url, alerts, missing), clock)
    try:
        soon = (clock.today() + timedelta(days=10)).isoformat()
        late = (clock.today() - timedelta(days=2)).isoformat()
        desk.edit_pledge(1, {"deadline": soon})
        desk.edit_pledge(3, {"deadline": late})
        desk.record_verdict(2, "in_the_works", note="Talks under way")
        for _ in range(3):
            desk.sweep(all_feeds=True)
        desk.deliver_alerts()
        desk.sweep(all_feeds=True)
        desk.deliver_alerts()
        events = sorted((p["event"], p.get("pledge", {}).get("id")) for p in receiver.payloads())
        assert events == [("due", 1), ("feed", None), ("overdue", 3), ("verdict", 2)]
        by_event = {p["event"]: p for p in receiver.payloads()}
        assert by_event["verdict"]["verdict"]["by"] == "ana"
        assert by_event["due"]["days"] == 10 and by_event["overdue"]["days"] == 2
        assert by_event["feed"]["feed"]["failures"] == 2
        assert all(signed(r) for r in receiver.received)
    finally:
        desk.close()


def test_alert_test_sends_a_sample(
    cli_for: Any, tmp_path: Path, sqlite_url: str, receiver: Receiver
) -> None:
    down = Receiver()
    config = write_config(
        tmp_path,
        sqlite_url,
        webhook(receiver.url) + webhook(down.url).replace('name = "desk"', 'name = "down"'),
    )
    cli: Cli = cli_for(config)
    result = cli("alert", "test", "desk")
    assert result.code == 0, result.err
    assert "delivered" in result.out
    assert receiver.payloads()[0]["test"] is True and signed(receiver.received[0])
    result = cli("alert", "test", "down")
    assert result.code == 1 and "could not connect" in result.err
    result = cli("alert", "test", "nope")
    assert result.code == 2 and "configured alerts: desk, down" in result.err
    listed = json.loads(cli("alert", "list", "--json").out)
    assert [(a["name"], a["waiting"]) for a in listed] == [("desk", 0), ("down", 0)]


def test_the_apprise_route_posts_to_a_json_service(
    tmp_path: Path, sqlite_url: str, receiver: Receiver
) -> None:
    alerts = f'[[alerts]]\nname = "chat"\napprise = "json://127.0.0.1:{receiver.port}/hook"\n'
    desk = desk_for(write_config(tmp_path, sqlite_url, alerts))
    try:
        desk.sweep()
        assert desk.deliver_alerts().sent == 1
        sent = receiver.payloads()[0]
        assert "evidence to review" in sent["title"]
        assert "https://desk.example/review?pledge=" in sent["message"]
        with pytest.raises(NotFoundError):
            desk.test_alert("missing")
    finally:
        desk.close()


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('name = "x"\n', "give either apprise"),
        ('name = "x"\napprise = "json://a"\nwebhook = "https://a.example/"\n', "give either"),
        ('name = "x"\nwebhook = "ftp://a.example/"\n', "not an http(s) URL"),
        ('name = "x"\nwebhook = "https://a.example/"\nsecret = "short"\n', "at least 16"),
        (
            'name = "x"\napprise = "json://a"\nsecret = "0123456789abcdefgh"\n',
            "signs webhooks only",
        ),
        ('name = "x"\nwebhook = "https://a.example/"\nevents = ["coffee"]\n', "not an event"),
        ('name = "X Y"\nwebhook = "https://a.example/"\n', "not an alert name"),
        ('name = "x"\nwebhook = "https://a.example/"\npledges = ["one"]\n', "pledge ids"),
        ('name = "x"\nwebhook = "https://a.example/"\ncolour = "red"\n', "unknown key"),
    ],
)
def test_a_bad_alert_table_is_a_clear_error(tmp_path: Path, table: str, problem: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///p.db"\n[[alerts]]\n' + table, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        load_config(str(config))


def test_backoff_grows_to_a_ceiling_and_signatures_cover_the_body() -> None:
    waits = [messages.backoff(n) for n in range(1, messages.MAX_ATTEMPTS + 1)]
    assert waits == sorted(waits) and waits[0] == timedelta(seconds=30)
    assert waits[-1] == messages.LONGEST_WAIT
    assert sum(waits, timedelta()) > timedelta(hours=12)
    assert messages.sign(SECRET, b"{}") != messages.sign(SECRET, b"{} ")
    with pytest.raises(AlertFailed):
        raise AlertFailed("x", "y")


def test_watch_sends_a_sweeps_digest_in_its_own_job(
    tmp_path: Path, sqlite_url: str, receiver: Receiver
) -> None:
    config = write_config(tmp_path, sqlite_url, webhook(receiver.url))
    desk_for(config).close()
    env = {**os.environ, "PLEDGEWATCH_USER": "watch"}
    env.pop("PLEDGEWATCH_DATABASE_URL", None)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pledgewatch", "--config", str(config), "watch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    assert len(receiver.received) == 1 and signed(receiver.received[0])
    assert receiver.payloads()[0]["count"] > 0
    assert "alerts: 1 sent, 0 to retry" in err
