"""The web desk over HTTP, against a real server on loopback, on each backend:
who may see and do what, CSRF, sessions, log-in limits, escaping, and that every
action records the person logged in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Mount, Route

from pledgewatch.models import User
from pledgewatch.web.security import Throttle
from tests.web_support import EXAMPLES, PASSWORDS, Served, csrf_of, log_in, serve

PUBLIC = {"/login", "/status.css"}


def private_paths(served: Served) -> list[tuple[str, set[str]]]:
    """Every route of the app but the log-in page and static files, with its methods
    and its parameters filled in."""
    found = []
    for route in served.app.routes:
        if isinstance(route, Mount) or not isinstance(route, Route) or route.path in PUBLIC:
            continue
        path = route.path.replace("{pledge_id}", "1").replace("{fmt}", "csv")
        found.append((path, set(route.methods or ())))
    return found


def test_a_visitor_is_refused_every_private_page(served_everywhere: Served) -> None:
    served = served_everywhere
    visitor = served.client()
    paths = private_paths(served)
    assert len(paths) >= 12
    for path, methods in paths:
        if "GET" in methods:
            answer = visitor.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/login?next="), path
        if "POST" in methods:
            token = csrf_of(visitor.get("/login").text)  # a visitor's own valid token
            answer = visitor.post(path, data={"csrf": token, "status": "broken", "note": "x"})
            assert answer.status_code in (303, 403), path
            if answer.status_code == 303:  # /logout only: it sends the visitor to log in
                assert answer.headers["location"] == "/login"
    assert served.desk.pledge(1).pledge.status == "not_yet_rated"


def test_each_role_logs_in_and_sees_what_it_may_do(served: Served) -> None:
    for name, allowed_pages, refused in (
        (
            "rui",
            {"/", "/review", "/pledges/1", "/pledges/new", "/import"},
            {"/users", "/pledges/1/verdict"},
        ),
        ("ana", {"/", "/review", "/pledges/1/verdict"}, {"/users"}),
        ("ada", {"/", "/users", "/pledges/1/verdict", "/feeds"}, set()),
    ):
        http = served.client(name)
        board = http.get("/")
        assert board.status_code == 200
        assert f'{name} <span class="role">' in board.text
        for path in allowed_pages:
            assert http.get(path).status_code == 200, (name, path)
        for path in refused:
            answer = http.get(path)
            assert answer.status_code == 403, (name, path)
            assert "does not allow" in answer.text


def _verdict_form(http: httpx.Client) -> dict[str, str]:
    page = http.get("/pledges/1/verdict")
    return {
        "csrf": csrf_of(page.text),
        "status": "in_the_works",
        "note": "Reported talks, no decision yet.",
    }


def test_a_verdict_is_recorded_as_the_editor_logged_in(served_everywhere: Served) -> None:
    served = served_everywhere
    ana = served.client("ana")
    answer = ana.post("/pledges/1/verdict", data=_verdict_form(ana))
    assert answer.status_code == 303
    detail = served.desk.pledge(1)
    assert detail.pledge.status == "in_the_works"
    assert detail.verdicts[-1].by == "ana"
    page = ana.get(answer.headers["location"])
    assert "Verdict recorded." in page.text


def test_a_reporter_is_refused_a_verdict_and_a_review(served: Served) -> None:
    rui = served.client("rui")
    token = csrf_of(rui.get("/").text)
    answer = rui.post("/pledges/1/verdict", data={"csrf": token, "status": "broken", "note": "no"})
    assert answer.status_code == 403
    assert served.desk.pledge(1).pledge.status == "not_yet_rated"
    pending = served.desk.evidence(review="pending", limit=1).items[0]
    answer = rui.post("/review", data={"csrf": token, "act": f"confirmed:{pending.id}"})
    assert answer.status_code == 403
    assert served.desk.evidence(review="pending").total >= 1
    assert all(
        e.review == "pending"
        for e in served.desk.evidence(pledge_id=pending.pledge_id)
        if e.id == pending.id
    )


@pytest.mark.parametrize("token", [None, "", "forged-token-value-0123456789"])
def test_a_form_without_the_sessions_token_is_refused_and_changes_nothing(
    served: Served, token: str | None
) -> None:
    ada = served.client("ada")
    before_people = len(served.desk.users())
    pending = served.desk.evidence(review="pending").total
    data_sets = [
        ("/pledges/1/verdict", {"status": "in_the_works", "note": "x"}),
        ("/review", {"act": "rejected:1"}),
        (
            "/pledges/new",
            {
                "text": "A new pledge that is long enough",
                "actor": "Someone",
                "made_on": "2024-01-01",
                "source_url": "https://example.org/a",
            },
        ),
        ("/pledges/1/edit", {"text": "Changed"}),
        ("/users", {"act": "add", "name": "eve", "role": "admin", "password": "eve-password-1"}),
    ]
    for path, data in data_sets:
        if token is not None:
            data = {**data, "csrf": token}
        answer = ada.post(path, data=data)
        assert answer.status_code == 403, path
        assert "did not come from the desk" in answer.text
    assert served.desk.pledge(1).pledge.status == "not_yet_rated"
    assert served.desk.pledge(1).pledge.text == "China will not sell weapons to Russia"
    assert served.desk.evidence(review="pending").total == pending
    assert len(served.desk.users()) == before_people
    assert served.desk.pledges().total == 9


def test_another_sessions_token_is_refused(served: Served) -> None:
    ana, other = served.client("ana"), served.client("ada")
    token_of_other = csrf_of(other.get("/").text)
    form = _verdict_form(ana)
    form["csrf"] = token_of_other
    assert ana.post("/pledges/1/verdict", data=form).status_code == 403
    assert served.desk.pledge(1).pledge.status == "not_yet_rated"


def test_sessions_expire(served: Served) -> None:
    ana = served.client("ana")
    assert ana.get("/").status_code == 200
    served.clock.ahead = served.desk.config.web.session - timedelta(minutes=1)
    assert ana.get("/").status_code == 200
    served.clock.ahead = served.desk.config.web.session + timedelta(minutes=1)
    answer = ana.get("/review")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Freview"
    form_token = csrf_of(ana.get("/login").text)
    assert (
        ana.post(
            "/pledges/1/verdict", data={"csrf": form_token, "status": "broken", "note": "x"}
        ).status_code
        == 403
    )


def test_a_reset_password_or_a_disabled_person_ends_their_sessions(served: Served) -> None:
    ana, rui = served.client("ana"), served.client("rui")
    served.clock.ahead = timedelta(seconds=5)  # the reset comes after the log-in
    served.desk.reset_password("ana", "a-new-password-2")
    assert ana.get("/").status_code == 303
    served.desk.disable_user("rui")
    assert rui.get("/").status_code == 303
    assert log_in(served.client(), "rui", PASSWORDS["rui"]).status_code == 401
    assert log_in(served.client(), "ana", PASSWORDS["ana"]).status_code == 401
    assert log_in(served.client(), "ana", "a-new-password-2").status_code == 303


def test_passwords_are_stored_only_as_argon2id_hashes(served_everywhere: Served) -> None:
    served = served_everywhere
    with served.desk.database.session(write=False) as session:
        stored = {u.name: u.password_hash for u in session.scalars(select(User))}
    assert set(stored) == set(PASSWORDS)
    for name, digest in stored.items():
        assert digest.startswith("$argon2id$")
        assert PASSWORDS[name] not in digest
    assert all("argon2" not in str(value) for value in served.desk.users()[0].to_json().values())


def test_the_session_cookie_is_signed_http_only_and_same_site(served: Served) -> None:
    http = served.client()
    token = csrf_of(http.get("/login").text)
    answer = http.post("/login", data={"csrf": token, "name": "ana", "password": PASSWORDS["ana"]})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    # A cookie changed by hand is no session.
    value = http.cookies["pledgewatch_session"]
    http.cookies.set(
        "pledgewatch_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    )
    assert http.get("/").status_code == 303


def test_every_response_carries_a_policy_without_inline_script(served: Served) -> None:
    ana = served.client("ana")
    for path in ("/login", "/", "/review", "/pledges/1", "/report", "/static/desk.css"):
        headers = ana.get(path).headers
        directives = dict(
            (part.split()[0], part.split()[1:])
            for part in headers["content-security-policy"].split(";")
            if part.strip()
        )
        scripts = directives.get("script-src", directives.get("default-src"))
        assert scripts in (["'self'"], ["'none'"]), (path, directives)
        assert directives["frame-ancestors"] == ["'none'"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    for path in ("/", "/review", "/pledges/1"):
        assert "<script>" not in ana.get(path).text  # only <script src=...>


@pytest.fixture
def lenient(tmp_path: Path, prepared_sqlite: Path) -> Iterator[Served]:
    """The desk with an address throttle that never bites, to see the per-name lock."""
    shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    yield from serve(
        tmp_path,
        f"sqlite:///{tmp_path / 'pledgewatch.db'}",
        EXAMPLES / "feed.xml",
        throttle=Throttle(attempts=10_000),
    )


def test_a_name_is_locked_after_five_failures_and_says_nothing_of_it(lenient: Served) -> None:
    http = lenient.client()
    wrong = [log_in(http, "ana", "wrong-password-x") for _ in range(5)]
    assert [w.status_code for w in wrong] == [401] * 5
    locked = log_in(lenient.client(), "ana", PASSWORDS["ana"])
    assert locked.status_code == 401
    unknown = log_in(lenient.client(), "nobody-at-all", "wrong-password-x")
    said = re.compile(r'role="alert">([^<]+)<')
    assert said.search(locked.text).group(1) == said.search(unknown.text).group(1)
    assert "retry-after" not in locked.headers
    assert log_in(lenient.client(), "ada", PASSWORDS["ada"]).status_code == 303  # others log in
    lenient.clock.ahead = timedelta(seconds=31)
    assert log_in(lenient.client(), "ana", PASSWORDS["ana"]).status_code == 303


def test_failed_log_ins_from_one_address_are_throttled_and_successes_are_not(
    served: Served,
) -> None:
    http = served.client()
    for _ in range(12):  # a newsroom behind one address logs in all day
        assert log_in(http, "ada", PASSWORDS["ada"]).status_code == 303
    codes = [log_in(http, "nobody", "wrong-password-x").status_code for _ in range(10)]
    assert codes == [401] * 10
    refused = log_in(http, "ada", PASSWORDS["ada"])
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 61


def test_a_throttle_forgets_quiet_addresses() -> None:
    now = [0.0]
    throttle = Throttle(attempts=2, window=60, clock=lambda: now[0])
    for n in range(3000):
        throttle.failed(f"10.0.{n // 250}.{n % 250}")
    assert throttle.retry_after("10.0.0.0") == 0
    throttle.failed("10.0.0.0")
    assert throttle.retry_after("10.0.0.0") == 61
    now[0] = 61.0
    for n in range(1000):
        throttle.failed(f"10.9.{n // 250}.{n % 250}")
    assert len(throttle._failed) <= 1000


def test_a_wrong_name_and_a_wrong_password_read_the_same(served: Served) -> None:
    one = log_in(served.client(), "nobody", "whatever-password")
    two = log_in(served.client(), "ana", "whatever-password")
    assert one.status_code == two.status_code == 401
    message = re.search(r'role="alert">([^<]+)<', one.text)
    assert message and message.group(1) in two.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_after_log_in_the_desk_only_sends_people_to_its_own_pages(
    served: Served, target: str
) -> None:
    http = served.client()
    token = csrf_of(http.get("/login").text)
    answer = http.post(
        "/login", data={"csrf": token, "name": "ana", "password": PASSWORDS["ana"], "next": target}
    )
    assert answer.headers["location"] == "/"


def test_reviewing_many_at_once_records_the_reviewer(served_everywhere: Served) -> None:
    served = served_everywhere
    ana = served.client("ana")
    page = ana.get("/review")
    ids = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page.text)][:3]
    assert len(ids) == 3
    answer = ana.post(
        "/review",
        data={"csrf": csrf_of(page.text), "ids": [str(i) for i in ids], "act": "rejected:selected"},
    )
    assert answer.status_code == 303
    after = ana.get(answer.headers["location"])
    assert "Rejected 3 items." in after.text
    for item in served.desk.evidence(review="rejected").items:
        assert item.reviewed_by == "ana"
    assert {e.id for e in served.desk.evidence(review="rejected")} == set(ids)


def test_one_item_confirmed_with_a_corrected_stance(served: Served) -> None:
    ana = served.client("ana")
    page = ana.get("/review")
    first = int(re.search(r'name="ids" value="(\d+)"', page.text).group(1))
    answer = ana.post(
        "/review",
        data={
            "csrf": csrf_of(page.text),
            "act": f"confirmed:{first}",
            f"stance-{first}": "neutral",
        },
    )
    assert answer.status_code == 303
    item = next(e for e in served.desk.evidence(review="confirmed"))
    assert (item.id, item.stance, item.reviewed_by) == (first, "neutral", "ana")


def test_logging_a_pledge_shows_each_fields_error_and_stores_nothing(served: Served) -> None:
    rui = served.client("rui")
    token = csrf_of(rui.get("/pledges/new").text)
    answer = rui.post(
        "/pledges/new",
        data={
            "csrf": token,
            "text": "Ministers will build 300,000 homes a year",
            "actor": "UK government",
            "made_on": "14/06/2099",
            "source_url": "https://example.org/homes",
        },
    )
    assert answer.status_code == 400
    assert 'role="alert"' in answer.text
    assert served.desk.pledges().total == 9
    answer = rui.post(
        "/pledges/new",
        data={
            "csrf": token,
            "text": "Ministers will build 300,000 homes a year",
            "actor": "UK government",
            "made_on": "2024-06-14",
            "source_url": "https://example.org/homes",
        },
    )
    assert answer.status_code == 303
    new_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    assert served.desk.pledge(new_id).pledge.created_by == "rui"


def test_an_import_shows_every_bad_row_beside_its_line(served: Served) -> None:
    rui = served.client("rui")
    token = csrf_of(rui.get("/import").text)
    csv_text = (
        "text;actor;made_on;source_url\n"
        "Ministers will build more homes every year;UK government;2024-06-14;https://example.org/a\n"
        ";UK government;2024-06-14;https://example.org/b\n"
        "Ministers will cut waiting lists;UK government;not a date;https://example.org/c\n"
    )
    answer = rui.post(
        "/import",
        data={"csrf": token},
        files={"file": ("pledges.csv", csv_text.encode(), "text/csv")},
    )
    assert answer.status_code == 400
    rows = re.findall(r'<tr><td class="n">(\d+)</td>', answer.text)
    assert rows == ["3", "4"]
    assert "not a date" in answer.text
    assert served.desk.pledges().total == 9


HOSTILE_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title><link>https://hostile.example/</link><description>x</description>
<item><title>China weapons Russia &lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(2)&lt;/script&gt;</title>
<link>https://hostile.example/one</link><pubDate>Mon, 02 Dec 2024 10:00:00 GMT</pubDate>
<description>Beijing sold weapons to Moscow &lt;img src=y onerror=alert(3)&gt;, officials said.</description></item>
</channel></rss>
"""


def test_feed_text_with_matched_words_is_escaped_where_it_is_marked(
    tmp_path: Path, prepared_sqlite: Path
) -> None:
    feed = tmp_path / "hostile.xml"
    feed.write_text(HOSTILE_FEED, encoding="utf-8")
    shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    for hostile in serve(tmp_path, f"sqlite:///{tmp_path / 'pledgewatch.db'}", feed):
        hostile.desk.sweep(all_feeds=True)
        mine = [e for e in hostile.desk.evidence(pledge_id=1) if "hostile" in e.article.url]
        assert mine and "<img" in mine[0].article.title
        ana = hostile.client("ana")
        for path in ("/review", "/review?pledge=1", "/pledges/1"):
            page = ana.get(path).text
            assert "<mark>" in page, path  # the words are marked...
            assert "<img" not in page and "<script>alert" not in page, path  # ...and escaped
            assert "&lt;img src=x onerror=alert(1)&gt;" in page, path


def test_text_from_feeds_and_people_is_escaped(served: Served) -> None:
    served.desk.edit_pledge(1, {"notes": "<img src=x onerror=alert(1)> & <b>bold</b>"})
    page = served.client("ana").get("/pledges/1").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_the_exports_download_every_pledge(served: Served) -> None:
    http = served.client("rui")
    csv_answer = http.get("/export/pledges.csv")
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-disposition"] == 'attachment; filename="pledges.csv"'
    assert csv_answer.text.count("\n") >= 10
    assert http.get("/export/pledges.xlsx").status_code == 404


def test_an_admin_adds_and_disables_people_but_not_themselves(served: Served) -> None:
    ada = served.client("ada")
    token = csrf_of(ada.get("/users").text)
    answer = ada.post(
        "/users",
        data={"csrf": token, "act": "add", "name": "bea", "role": "editor", "password": "short"},
    )
    assert answer.status_code == 400 and "at least 10" in answer.text
    answer = ada.post(
        "/users",
        data={
            "csrf": token,
            "act": "add",
            "name": "bea",
            "role": "editor",
            "password": "bea-password-1",
        },
    )
    assert answer.status_code == 200 and "Added bea as editor." in answer.text
    assert served.desk.find_user("bea").created_by == "ada"
    for name in ("ada", " ada "):
        answer = ada.post("/users", data={"csrf": token, "act": "disable", "name": name})
        assert answer.status_code == 400 and "cannot disable yourself" in answer.text
        answer = ada.post(
            "/users", data={"csrf": token, "act": "role", "name": name, "role": "reporter"}
        )
        assert answer.status_code == 400
    assert served.desk.find_user("ada").role == "admin"
    assert not served.desk.find_user("ada").disabled
    answer = ada.post("/users", data={"csrf": token, "act": "disable", "name": "bea"})
    assert answer.status_code == 200 and "bea is disabled." in answer.text
    assert served.desk.find_user("bea").disabled


def test_the_board_filters_and_the_query_preview(served: Served) -> None:
    http = served.client("rui")
    page = http.get("/", params={"actor": "xi jinping"}).text
    assert len(re.findall(r'<a href="/pledges/\d+">', page)) == 2
    assert "No pledge matches" in http.get("/", params={"q": "zzzz-nothing"}).text
    assert "is not a flag" in http.get("/", params={"flag": "bogus"}).text
    preview = http.get(
        "/pledges/1/preview", params={"query": "@china AND weapons", "fragment": "1"}
    )
    assert preview.status_code == 200 and "Matches <strong>" in preview.text
    assert "<html" not in preview.text
    broken = http.get("/pledges/1/preview", params={"query": "china AND ("})
    assert "does not parse" in broken.text


def test_a_log_out_ends_the_session_even_for_a_copied_cookie(served: Served) -> None:
    ana = served.client("ana")
    copied = ana.cookies["pledgewatch_session"]
    served.clock.ahead = timedelta(seconds=2)
    ana.post("/logout", data={"csrf": csrf_of(ana.get("/").text)})
    thief = served.client()
    thief.cookies.set("pledgewatch_session", copied)
    assert thief.get("/").status_code == 303
    # Disabled, then enabled again: the sessions from before stay over.
    rui = served.client("rui")
    copied = rui.cookies["pledgewatch_session"]
    served.clock.ahead = timedelta(seconds=4)
    served.desk.disable_user("rui")
    served.desk.disable_user("rui", disabled=False)
    thief.cookies.set("pledgewatch_session", copied)
    assert thief.get("/").status_code == 303
    served.clock.ahead = timedelta(seconds=6)
    assert served.client("rui").get("/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/pledges/²",
        "/pledges/²/edit",
        "/pledges/²/verdict",
        "/pledges/99999999999999",
        "/review?offset=²",
        "/review?pledge=%C2%B2",
    ],
)
def test_odd_ids_are_not_found_not_errors(served: Served, path: str) -> None:
    answer = served.client("ada").get(path)
    assert answer.status_code in (200, 404), answer.text[:200]


def test_odd_posts_are_refused_in_words(served: Served) -> None:
    ana = served.client("ana")
    token = csrf_of(ana.get("/review").text)
    for data in (
        {"act": "confirmed:selected", "ids": "²"},
        {"act": "bogus"},
        {"act": "rejected:²"},
    ):
        answer = ana.post("/review", data={"csrf": token, **data})
        assert answer.status_code == 303
        assert 'role="alert"' in ana.get("/review").text
    answer = ana.post(
        "/pledges/1/verdict", data={"csrf": token, "status": "kept", "note": "x", "evidence": "²"}
    )
    assert answer.status_code == 400
    rui = served.client("rui")
    token = csrf_of(rui.get("/import").text)
    answer = rui.post(
        "/import",
        data={"csrf": token},
        files={"file": ("x" * 300 + ".csv", b"text,actor\n", "text/csv")},
    )
    assert answer.status_code == 400 and "x" * 300 in answer.text


def test_an_edit_changes_only_the_fields_it_sends(served: Served) -> None:
    served.desk.edit_pledge(1, {"notes": "keep me", "quote": "We will not"})
    rui = served.client("rui")
    token = csrf_of(rui.get("/pledges/1/edit").text)
    answer = rui.post("/pledges/1/edit", data={"csrf": token, "deadline": "2030-01-01"})
    assert answer.status_code == 303
    after = served.desk.pledge(1).pledge
    assert (after.notes, after.quote, str(after.deadline)) == (
        "keep me",
        "We will not",
        "2030-01-01",
    )
    assert after.updated_by == "rui"


def test_messages_come_from_the_desk_not_from_the_address(served: Served) -> None:
    ana = served.client("ana")
    page = ana.get("/review", params={"error": "Log in again at evil.example", "done": "x"}).text
    assert "evil.example" not in page
    page = ana.get("/pledges/1", params={"recorded": "1", "added": "99"}).text
    assert "Verdict recorded." not in page and "99 stored" not in page


def test_exports_are_csv_or_json_lines_only(served: Served) -> None:
    http = served.client("rui")
    for fmt in ("CSV", "%20csv", "xlsx"):
        assert http.get(f"/export/pledges.{fmt}").status_code == 404
    assert (
        http.get("/export/pledges.jsonl").headers["content-type"].startswith("application/x-ndjson")
    )


def test_pledgewatch_serve_runs_the_desk_as_a_process(
    tmp_path: Path, prepared_sqlite: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.web_support import free_port, write_config

    shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'pledgewatch.db'}", EXAMPLES / "feed.xml"
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PLEDGEWATCH_DATABASE_URL"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pledgewatch",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 303
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}")
        assert log_in(http, "ana", PASSWORDS["ana"]).status_code == 303
        assert "Status board" in http.get("/").text
        assert "server" not in answer.headers
        http.close()
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    # uvicorn shuts down cleanly, then ends by the signal it was sent (systemd counts
    # that as a clean stop).
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete." in err
    assert f"serving the desk on http://127.0.0.1:{port}/" in out
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_the_review_queue_past_its_count_cap_says_more_than(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pledgewatch import desk as desk_module

    ana = served.client("ana")
    pending = served.desk.evidence(review="pending").total
    assert pending > 1
    assert f'<p class="count">{pending} pending' in ana.get("/review").text
    monkeypatch.setattr(desk_module, "COUNT_CAP", 1)
    page = ana.get("/review").text
    assert '<p class="count">More than 1 pending' in page
    # The cap stops the count, never the queue: every pending item is on the page.
    assert len(re.findall(r'name="ids" value="(\d+)"', page)) == pending
