"""People of the web desk through the library and the command line: roles,
hashed passwords, log-in with its lock-out, resets and disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pledgewatch import open_desk
from pledgewatch.clock import FixedClock
from pledgewatch.config import load_config
from pledgewatch.desk import Desk
from pledgewatch.errors import InputError, LogInRefused, NotFoundError, ValidationError
from pledgewatch.models import ROLE_VALUES, User
from pledgewatch.people import FREE_FAILURES, MAX_LOCK, lock_after
from pledgewatch.roles import ACTIONS, ROLES, allowed
from tests.conftest import Cli

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    setup = Desk(load_config(str(config)), user="setup")
    setup.init()
    setup.close()
    with open_desk(load_config(str(config)), user="ada", clock=FixedClock(START)) as desk:
        yield desk, config


def test_the_roles_nest_and_match_the_schema() -> None:
    assert ROLES == ROLE_VALUES
    for action in ACTIONS:
        granted = [role for role in ROLES if allowed(role, action)]
        # Each action is allowed from one role upwards.
        assert granted == list(ROLES[ROLES.index(granted[0]) :])
    assert allowed("reporter", "log and edit pledges")
    assert not allowed("reporter", "record verdicts")
    assert allowed("editor", "review evidence") and not allowed("editor", "manage people")
    assert not allowed("visitor", "read")


def test_a_person_is_stored_with_an_argon2id_hash_only(people) -> None:  # type: ignore[no-untyped-def]
    desk, _ = people
    added = desk.add_user("  bea  ", "Editor", "correct horse battery")
    assert (added.name, added.role, added.created_by) == ("bea", "editor", "ada")
    with desk.database.session(write=False) as session:
        digest = session.scalars(select(User.password_hash)).one()
    assert digest.startswith("$argon2id$") and "horse" not in digest
    assert "argon2" not in str(added.to_json())


@pytest.mark.parametrize(
    ("name", "role", "password", "field"),
    [
        ("bea", "boss", "correct horse battery", "role"),
        ("bea", "editor", "short", "password"),
        ("bea", "editor", " leading space here", "password"),
        ("", "editor", "correct horse battery", "name"),
        ("bea\u202e", "editor", "correct horse battery", "name"),
        ("bea", "editor", "x" * 1001, "password"),
    ],
)
def test_a_bad_person_is_refused_and_nothing_is_stored(people, name, role, password, field) -> None:  # type: ignore[no-untyped-def]
    desk, _ = people
    with pytest.raises(ValidationError) as refused:
        desk.add_user(name, role, password)
    assert refused.value.field == field
    assert desk.users() == []


def test_a_name_is_taken_once(people) -> None:  # type: ignore[no-untyped-def]
    desk, _ = people
    desk.add_user("bea", "editor", "correct horse battery")
    with pytest.raises(InputError, match="already exists"):
        desk.add_user("bea", "admin", "another good password")
    assert [(u.name, u.role) for u in desk.users()] == [("bea", "editor")]


def test_log_in_answers_the_same_for_a_wrong_name_password_or_disabled_person(people) -> None:  # type: ignore[no-untyped-def]
    desk, _ = people
    desk.add_user("bea", "editor", "correct horse battery")
    assert desk.log_in("bea", "correct horse battery").last_login_at == START
    messages = set()
    for name, password in (("nobody", "correct horse battery"), ("bea", "wrong horse battery")):
        with pytest.raises(LogInRefused) as refused:
            desk.log_in(name, password)
        messages.add(str(refused.value))
    desk.disable_user("bea")
    with pytest.raises(LogInRefused) as refused:
        desk.log_in("bea", "correct horse battery")
    messages.add(str(refused.value))
    assert len(messages) == 1


def test_failed_log_ins_lock_a_name_for_longer_each_time(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk, config = people
    desk.add_user("bea", "editor", "correct horse battery")
    for _ in range(FREE_FAILURES):
        with pytest.raises(LogInRefused) as wrong:
            desk.log_in("bea", "wrong")
    with pytest.raises(LogInRefused) as locked:  # locked now: the right password waits
        desk.log_in("bea", "correct horse battery")
    # In the same words as a wrong password: a lock does not tell that the name exists.
    assert str(locked.value) == str(wrong.value)
    still = open_desk(load_config(str(config)), clock=FixedClock(START + timedelta(seconds=29)))
    try:
        with pytest.raises(LogInRefused):
            still.log_in("bea", "correct horse battery")
    finally:
        still.close()
    later = open_desk(load_config(str(config)), clock=FixedClock(START + timedelta(seconds=31)))
    try:
        assert later.log_in("bea", "correct horse battery").name == "bea"
    finally:
        later.close()
    waits = [lock_after(n, START) for n in range(FREE_FAILURES + 12)]
    assert waits[:FREE_FAILURES] == [None] * FREE_FAILURES
    spans = [w - START for w in waits[FREE_FAILURES:] if w is not None]
    assert spans == sorted(spans) and spans[-1] == MAX_LOCK


def test_a_reset_lifts_the_lock_and_changes_the_password(people) -> None:  # type: ignore[no-untyped-def]
    desk, _ = people
    desk.add_user("bea", "editor", "correct horse battery")
    for _ in range(FREE_FAILURES + 1):
        with pytest.raises(LogInRefused):
            desk.log_in("bea", "wrong")
    reset = desk.reset_password("bea", "a brand new password")
    assert reset.password_changed_at == START
    assert desk.log_in("bea", "a brand new password").name == "bea"
    with pytest.raises(LogInRefused):
        desk.log_in("bea", "correct horse battery")
    with pytest.raises(NotFoundError):
        desk.reset_password("nobody", "a brand new password")


def test_the_last_active_admin_cannot_be_disabled_or_demoted(people) -> None:  # type: ignore[no-untyped-def]
    desk, _ = people
    desk.add_user("ada", "admin", "correct horse battery")
    desk.add_user("bea", "editor", "correct horse battery")
    for change in (lambda: desk.disable_user(" ada "), lambda: desk.set_user_role("ada", "editor")):
        with pytest.raises(InputError, match="only active admin"):
            change()
    assert desk.find_user("ada").role == "admin" and not desk.find_user("ada").disabled
    desk.set_user_role("bea", "admin")
    assert desk.disable_user("ada").disabled
    with pytest.raises(InputError, match="only active admin"):
        desk.set_user_role("bea", "reporter")


def test_the_command_line_manages_people(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import json

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    result = cli("user", "add", "bea", "--role", "editor", "--password-stdin")
    assert result.code == 0 and result.out.strip() == "added bea (editor)"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    result = cli("user", "add", "cai", "--role", "admin", "--password-stdin")
    assert result.code == 2 and "at least 10" in result.err
    result = cli("user", "add", "cai", "--role", "boss", "--password-stdin")
    assert result.code == 2 and "is not a role" in result.err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = cli("user", "add", "cai", "--role", "admin")
    assert result.code == 2 and "--password-stdin" in result.err
    listed = json.loads(cli("user", "list", "--json").out)
    assert [(p["name"], p["role"], p["disabled"]) for p in listed] == [("bea", "editor", False)]
    assert "argon2" not in cli("user", "list", "--json").out
    assert cli("user", "disable", "bea").code == 0
    assert json.loads(cli("user", "list", "--json").out)[0]["disabled"] is True
    assert cli("user", "enable", "bea").code == 0
    assert cli("user", "role", "bea", "admin").out.strip() == "bea is now admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("another good password\n"))
    assert cli("user", "reset", "bea", "--password-stdin").code == 0
    result = cli("user", "reset", "nobody", "--password-stdin")
    assert result.code == 2 and "pledgewatch user list" in result.err
    table = cli("user", "list").out
    assert "bea" in table and "admin" in table and "never" in table
