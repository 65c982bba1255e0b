"""What every command shares: the config, the database, the clock and the user."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import typer

from pledgewatch.config import Config, load_config
from pledgewatch.db import Database
from pledgewatch.errors import InputError, ValidationError
from pledgewatch.pledges import check_person

USER_ENV = "PLEDGEWATCH_USER"


@dataclass
class State:
    config_path: str | None = None
    verbose: bool = False
    _config: Config | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def database(self, *, check: bool = True) -> Database:
        """The configured database; with ``check`` it must be initialised and current."""
        if self._database is None:
            self._database = Database(self.config().database.url)
        if check:
            self._database.ensure_ready()
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


def option_error(exc: ValidationError, names: Mapping[str, str]) -> InputError:
    """A library error about a field, in the words of the command line: its option."""
    return InputError(f"{names.get(exc.field, exc.field)}: {exc.reason}")


@contextmanager
def options(names: Mapping[str, str]) -> Iterator[None]:
    """Say a library error about a field with the option that gave it."""
    try:
        yield
    except ValidationError as exc:
        raise option_error(exc, names) from None


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today where the journalist is or in UTC, whichever is later (no false "future")."""
    return max(date.today(), now().date())  # noqa: DTZ011


def current_user(explicit: str | None = None, option: str = "--user") -> str:
    """Who is acting: --user (or --by), else $PLEDGEWATCH_USER, else the OS user.

    The name is checked here so that the error names where it came from.
    """
    if explicit is not None and explicit.strip():
        name, source = explicit, option
    elif os.environ.get(USER_ENV, "").strip():
        name, source = os.environ[USER_ENV], f"${USER_ENV}"
    else:
        try:
            name, source = getpass.getuser(), "the login name"
        except (KeyError, OSError):
            return "unknown"
    try:
        return check_person(source, name)
    except ValidationError as exc:
        raise InputError(f"{source}: {exc.reason}") from None
