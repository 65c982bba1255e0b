"""Every form and filter of the web desk takes any text: a page or a refusal in
words (never a server error), and a refused form leaves the database as it was.
Against a real server on loopback, with hypothesis choosing the input."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledgewatch.web.security import Throttle
from tests.web_support import EXAMPLES, PASSWORDS, Served, csrf_of, serve

# Any text a browser can send: every character but lone surrogates (not UTF-8).
ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
# Text that is nearly a number, a date or an id: where parsing goes wrong first.
NEARLY = st.sampled_from(
    ["²", "١٢", "0x1", "-1", " 1 ", "1e3", "99999999999999", "\u00a0", "#1", "1.0",
     "2024-02-30", "30/02/2024", "kept", "KEPT ", "in-the-works", "https://", "javascript:alert(1)",
     "confirmed:1", "rejected:selected", "<script>", "\x00"]
)  # fmt: skip
TEXT = st.one_of(ANY, NEARLY)
FIELDS = (
    "text",
    "actor",
    "made_on",
    "source_url",
    "source_name",
    "quote",
    "deadline",
    "tags",
    "query",
    "notes",
)
# Each example is a few requests to a real server: a seventh of the profile's count
# (about 40 in CI; HYPOTHESIS_PROFILE=thorough runs some 700).
FUZZ = settings(
    max_examples=max(10, settings.default.max_examples // 7),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def desk_server(
    tmp_path_factory: pytest.TempPathFactory, prepared_sqlite: Path
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(prepared_sqlite, folder / "pledgewatch.db")
    yield from serve(
        folder,
        f"sqlite:///{folder / 'pledgewatch.db'}",
        EXAMPLES / "feed.xml",
        throttle=Throttle(attempts=1_000_000),
    )


@pytest.fixture(scope="module")
def admin(desk_server: Served) -> httpx.Client:
    return desk_server.client("ada")


def state(served: Served) -> tuple[int, str, int, int]:
    desk = served.desk
    return (
        desk.pledges(archived=False).total,
        desk.pledge(1).pledge.status,
        desk.evidence(review="pending").total,
        len(desk.users()),
    )


@FUZZ
@given(values=st.fixed_dictionaries({}, optional={name: TEXT for name in FIELDS}))
def test_the_pledge_form_takes_any_text(
    desk_server: Served, admin: httpx.Client, values: dict[str, str]
) -> None:
    before = state(desk_server)
    token = csrf_of(admin.get("/pledges/new").text)
    answer = admin.post("/pledges/new", data={"csrf": token, **values})
    assert answer.status_code in (303, 400), answer.text[:300]
    if answer.status_code == 400:
        assert 'role="alert"' in answer.text
        assert state(desk_server) == before
    answer = admin.post("/pledges/2/edit", data={"csrf": token, **values})
    assert answer.status_code in (303, 400), answer.text[:300]


@FUZZ
@given(status=TEXT, note=TEXT, source=TEXT, evidence=st.lists(TEXT, max_size=3))
def test_the_verdict_form_takes_any_text(
    desk_server: Served,
    admin: httpx.Client,
    status: str,
    note: str,
    source: str,
    evidence: list[str],
) -> None:
    before = state(desk_server)
    token = csrf_of(admin.get("/pledges/1/verdict").text)
    answer = admin.post(
        "/pledges/1/verdict",
        data={
            "csrf": token,
            "status": status,
            "note": note,
            "source_url": source,
            "evidence": evidence,
        },
    )
    assert answer.status_code in (303, 400), answer.text[:300]
    if answer.status_code == 400:
        assert state(desk_server) == before


@FUZZ
@given(
    act=TEXT | st.sampled_from(["confirmed:1", "rejected:selected", "confirmed:99999999999"]),
    ids=st.lists(TEXT, max_size=3),
    stance=TEXT,
    note=TEXT,
)
def test_the_review_form_takes_any_text(
    desk_server: Served, admin: httpx.Client, act: str, ids: list[str], stance: str, note: str
) -> None:
    token = csrf_of(admin.get("/review").text)
    answer = admin.post(
        "/review", data={"csrf": token, "act": act, "ids": ids, "stance-1": stance, "note": note}
    )
    assert answer.status_code == 303, answer.text[:300]
    assert admin.get(answer.headers["location"]).status_code == 200


@FUZZ
@given(
    act=st.sampled_from(["add", "disable", "enable", "reset", "role", ""]) | TEXT,
    name=TEXT,
    role=TEXT,
    password=TEXT,
)
def test_the_people_form_takes_any_text(
    desk_server: Served, admin: httpx.Client, act: str, name: str, role: str, password: str
) -> None:
    token = csrf_of(admin.get("/users").text)
    answer = admin.post(
        "/users", data={"csrf": token, "act": act, "name": name, "role": role, "password": password}
    )
    assert answer.status_code in (200, 400), answer.text[:300]
    ada = desk_server.desk.find_user("ada")
    assert ada is not None and ada.role == "admin" and not ada.disabled


@FUZZ
@given(name=TEXT, password=TEXT, target=TEXT)
def test_the_log_in_form_takes_any_text(
    desk_server: Served, name: str, password: str, target: str
) -> None:
    visitor = httpx.Client(base_url=desk_server.url, timeout=30)
    try:
        token = csrf_of(visitor.get("/login").text)
        answer = visitor.post(
            "/login", data={"csrf": token, "name": name, "password": password, "next": target}
        )
        assert answer.status_code in (303, 400, 401), answer.text[:300]
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/")
            assert not answer.headers["location"].startswith("//")
    finally:
        visitor.close()
    assert PASSWORDS  # the people of the prepared database are untouched by guesses


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["status", "flag", "tag", "actor", "q", "offset", "pledge", "query", "fragment"]
        ),
        TEXT,
        max_size=4,
    ),
    path=st.sampled_from(["/", "/review", "/pledges/1/preview", "/feeds"]),
)
def test_every_filter_takes_any_text(
    desk_server: Served, admin: httpx.Client, params: dict[str, str], path: str
) -> None:
    answer = admin.get(path, params=params)
    assert answer.status_code == 200, answer.text[:300]
