"""Library errors in the command line's words: exit codes, option names, hints.

The library's errors carry fields (the field, the id, the URL, the rows) and
no flags; this is the one place that knows which option or command a user
reaches for to fix each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pledgewatch.errors import (
    ConfigError,
    DuplicatePledgeError,
    FinalStatusNeedsSource,
    ImportFileError,
    InputError,
    NotFoundError,
    NothingToChange,
    PledgewatchError,
    SweepLocked,
    UnchangedStatus,
    ValidationError,
)

BAD_INPUT = 2
FAILED = 1
LOCKED = 75  # EX_TEMPFAIL: another sweep holds the lock; cron tries again later

# Where to look for the ids of each kind of record.
_LISTS = {
    "pledge": "pledgewatch pledge list",
    "evidence": "pledgewatch evidence list",
}


def exit_code(exc: PledgewatchError) -> int:
    if isinstance(exc, SweepLocked):
        return LOCKED
    if isinstance(exc, InputError):
        return BAD_INPUT
    return FAILED


def message(exc: PledgewatchError) -> str:
    """The error as the command line says it: the library's words and a hint."""
    text = str(exc)
    if isinstance(exc, DuplicatePledgeError):
        return f"{text}; use --force to log it again"
    if isinstance(exc, NotFoundError) and exc.kind in _LISTS:
        return f'{text}; see "{_LISTS[exc.kind]}"'
    if isinstance(exc, NothingToChange):
        return "give at least one option to change, e.g. --deadline 2025-12-31"
    if isinstance(exc, FinalStatusNeedsSource):
        return (
            f'"{exc.status}" is a final status: cite at least one confirmed evidence item '
            "(--evidence ID, after pledgewatch evidence confirm ID) or give --source-url"
        )
    if isinstance(exc, UnchangedStatus):
        return f"{text}; add --same to record it anyway"
    if isinstance(exc, ConfigError) and exc.missing is not None:
        looked = {
            "given": "given with --config",
            "environment": "from $PLEDGEWATCH_CONFIG",
            "default": "./config.toml; set --config or $PLEDGEWATCH_CONFIG to use another",
        }[exc.missing]
        return f'{text} ({looked}); run "pledgewatch init" to write a commented default'
    if isinstance(exc, ImportFileError) and exc.duplicates:
        return f"{text}\n  (rows that repeat a logged pledge can be skipped with --skip-existing)"
    return text


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
