"""What every command shares: the config, the Desk, the clock and the user.

Imports of the library happen on first use, so that ``--help`` and a typo
answer at once.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import typer

from pledgewatch.cli.errors import option_error, options
from pledgewatch.errors import InputError, ValidationError

if TYPE_CHECKING:
    from pledgewatch.config import Config
    from pledgewatch.desk import Desk

USER_ENV = "PLEDGEWATCH_USER"

__all__ = ["State", "current_user", "now", "option_error", "options", "state", "today"]


@dataclass
class State:
    config_path: str | None = None
    verbose: bool = False
    _config: Config | None = field(default=None, repr=False)
    _desk: Desk | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            from pledgewatch.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def desk(self, user: str | None = None, option: str = "--user", *, check: bool = True) -> Desk:
        """The Desk over the configured database, acting as the user given with
        ``option`` (else $PLEDGEWATCH_USER, else the login name); with ``check`` the
        database must be initialised and current."""
        from pledgewatch.desk import Desk

        if self._desk is None:
            self._desk = Desk(self.config())
        if check:
            self._desk.database.ensure_ready()
        return self._desk.acting(current_user(user, option))

    def close(self) -> None:
        if self._desk is not None:
            self._desk.close()


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
    from pledgewatch.desk import check_user

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
        return check_user(source, name)
    except ValidationError as exc:
        raise InputError(f"{source}: {exc.reason}") from None
