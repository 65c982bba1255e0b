"""The web desk over HTTP, against a real server on loopback, on each backend:
who may see and do what, CSRF, sessions, log-in limits, escaping, and that every
action records the person logged in."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Mount, Route

from pledgewatch.models import User
from tests.web_support import PASSWORDS, Served, csrf_of, log_in

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
        policy = headers["content-security-policy"]
        assert "unsafe-inline" not in policy.split("style-src")[0], path
        assert "script-src 'self'" in policy or "default-src 'none'" in policy, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    for path in ("/", "/review", "/pledges/1"):
        assert "<script>" not in ana.get(path).text  # only <script src=...>


def test_log_ins_are_throttled_per_address_and_locked_per_name(served: Served) -> None:
    http = served.client()
    codes = [log_in(http, "ana", "wrong-password-x").status_code for _ in range(10)]
    assert codes[:5] == [401] * 5
    assert 401 in codes
    # Past five failures in a row the name is locked: the right password waits too.
    answer = log_in(served.client(), "ada", PASSWORDS["ada"])
    assert answer.status_code in (303, 429)
    locked = log_in(served.client(), "ana", PASSWORDS["ana"])
    assert locked.status_code in (401, 429)
    assert "try again" in locked.text or "Too many" in locked.text
    # The eleventh attempt within a minute from one address is refused outright.
    eleventh = log_in(http, "ana", "wrong-password-x")
    assert eleventh.status_code == 429
    assert int(eleventh.headers["retry-after"]) > 0
    served.clock.ahead = timedelta(hours=2)
    assert log_in(served.client(), "ana", PASSWORDS["ana"]).status_code in (303, 429)


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
    answer = ada.post("/users", data={"csrf": token, "act": "disable", "name": "ada"})
    assert answer.status_code == 400
    assert not served.desk.find_user("ada").disabled
    answer = ada.post("/users", data={"csrf": token, "act": "disable", "name": "bea"})
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
