"""People of the web desk: who they are, their passwords and log-in (what each
role may do is ``roles``).

Passwords are kept only as argon2id hashes (argon2-cffi, its default
parameters, rehashed on log-in when those change). Failed log-ins lock a name
for a while that doubles with each failure past the fifth, up to an hour; an
unknown name costs the same hash as a known one, so timing does not tell
which names exist.

May import pledgewatch.errors, models, roles, characters and pledges.validation.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from pledgewatch.characters import first_unsafe
from pledgewatch.errors import InputError, NotFoundError, ValidationError
from pledgewatch.models import User
from pledgewatch.pledges.validation import check_person
from pledgewatch.roles import ROLES

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 10
MAX_PASSWORD = 1000
FREE_FAILURES = 5  # failed log-ins before a name is locked
MAX_LOCK = timedelta(hours=1)


def check_name(name: str) -> str:
    """A log-in name: what ``check_person`` allows, without invisible format
    characters (a name that reads as another's is a way to impersonate)."""
    value = check_person("name", name)
    for ch in value:
        if unicodedata.category(ch) in ("Cf", "Co", "Cn") or (ch.isspace() and ch != " "):
            raise ValidationError(
                "name", f"holds the invisible character U+{ord(ch):04X}; type the name plainly"
            )
    return value


def check_role(role: str) -> str:
    value = role.strip().lower()
    if value not in ROLES:
        raise ValidationError("role", f'"{role}" is not a role; use one of {", ".join(ROLES)}')
    return value


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            "password", f"is {len(password)} characters long; use at least {MIN_PASSWORD}"
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError("password", f"is longer than {MAX_PASSWORD:,} characters")
    if password != password.strip():
        raise ValidationError("password", "starts or ends with a space")
    problem = first_unsafe(password, multiline=False)
    if problem is not None:
        raise ValidationError("password", problem)
    return password


@cache
def _hasher() -> PasswordHasher:
    # Imported here: the command line's other commands never pay for argon2.
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not anyone's password")


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


def verify(digest: str | None, password: str) -> tuple[bool, bool]:
    """Whether ``password`` matches ``digest`` and whether the hash should be made
    again with today's parameters. With no digest (no such person) a dummy hash is
    checked, so the answer takes as long either way."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(digest or _dummy_hash(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False, False
    if digest is None or len(password) > MAX_PASSWORD:
        return False, False
    return True, _hasher().check_needs_rehash(digest)


def lock_after(failures: int, now: datetime) -> datetime | None:
    """Until when a name with this many failed log-ins in a row is locked."""
    beyond = failures - FREE_FAILURES
    if beyond < 0:
        return None
    return now + min(MAX_LOCK, timedelta(seconds=30 * 2**beyond))


def get_user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name.strip())).first()
    if user is None:
        raise NotFoundError("person", f'"{name.strip()}"', "see pledgewatch user list")
    return user


def add_user(
    session: Session, name: str, role: str, digest: str, *, by: str, now: datetime
) -> User:
    """Store a person; ``digest`` is ``hash_password``'s, made before the transaction
    (hashing takes a tenth of a second, too long to hold a write lock for)."""
    name = check_name(name)
    role = check_role(role)
    if session.scalars(select(User.id).where(User.name == name)).first() is not None:
        raise InputError(f'a person named "{name}" already exists')
    user = User(
        name=name,
        role=role,
        password_hash=digest,
        disabled=False,
        created_at=now,
        created_by=by,
        password_changed_at=now,
        sessions_valid_after=now,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def reset_password(session: Session, name: str, digest: str, *, now: datetime) -> User:
    """A new password hash; every session begun before now ends, and a lock is lifted."""
    user = get_user(session, name)
    user.password_hash = digest
    user.password_changed_at = now
    user.sessions_valid_after = now
    user.failed_logins = 0
    user.locked_until = None
    return user


def _keeps_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active admin to manage people."""
    if user.role != "admin" or user.disabled:
        return
    others = session.scalars(
        select(User.id).where(User.role == "admin", User.disabled.is_(False), User.id != user.id)
    ).first()
    if others is None:
        raise InputError(f"{user.name} is the only active admin; make another admin first")


def set_role(session: Session, name: str, role: str) -> User:
    user = get_user(session, name)
    new_role = check_role(role)
    if new_role != "admin":
        _keeps_an_admin(session, user)
    user.role = new_role
    return user


def set_disabled(session: Session, name: str, disabled: bool, *, now: datetime) -> User:
    """Disable (their sessions end at once) or enable a person."""
    user = get_user(session, name)
    if disabled:
        _keeps_an_admin(session, user)
        user.sessions_valid_after = now
    user.disabled = disabled
    return user


def end_sessions(session: Session, name: str, *, now: datetime) -> None:
    """Every session of this person begun before now is over (a log-out)."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is not None:
        user.sessions_valid_after = now
