"""Errors a user can fix, as one tree.

Every error pledgewatch raises on purpose derives from PledgewatchError and
carries what failed as fields (the config key, the field, the pledge id, the
feed URL, the rows) and a message in the library's words. Each front end says
it in its own: the command line maps classes to exit codes and fields to its
option names (``cli/errors.py``). Anything else is a bug and keeps its traceback.

    PledgewatchError
    ├── InputError                    what was typed or given is wrong; nothing written
    │   ├── NothingToChange           an edit that names no field
    │   ├── FinalStatusNeedsSource    kept/compromise/broken citing nothing confirmed
    │   ├── UnchangedStatus           a verdict that would change nothing
    │   ├── ConfigError               a bad config file or key
    │   ├── ValidationError           one field of a pledge (or other record)
    │   ├── ImportFileError           bad rows of an import file, all of them
    │   ├── DuplicatePledgeError      same actor and text as an existing pledge
    │   ├── NotFoundError             no pledge, evidence or feed with that id/name
    │   └── QuerySyntaxError          a query that does not parse, with its position
    ├── DatabaseError                 the database cannot be used
    │   ├── DatabaseBusy              another process kept the write lock: try again
    │   └── DatabaseNotReady          missing or behind the code: run init
    ├── FeedError                     one feed could not be fetched or parsed
    └── SweepLocked                   another sweep holds the lock
        └── SweepLockLost             another sweep took the lock over; this one stopped

Every message is one line (line breaks and control characters in a value it
quotes are shown as escapes), except an ImportFileError's, which is a head
line and one line per bad row.

May import pledgewatch.characters (pure), nothing else from pledgewatch.
"""

from __future__ import annotations

from collections.abc import Sequence

from pledgewatch.characters import printable


class PledgewatchError(Exception):
    """Root of every error a user can act on."""

    multiline = False

    def __init__(self, message: str) -> None:
        if not self.multiline:
            message = printable(message, one_line=True)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(PledgewatchError):
    """Bad input: nothing was written."""


class ConfigError(InputError):
    """A configuration file that is missing, unreadable or holds a bad key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = []
        if key:
            where.append(key)
        if path:
            where.append(f"in {path}")
        prefix = " ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.key = key
        # For a config file that is not there: where its path came from
        # ("given", "environment" or "default"), so a front end can say how to fix it.
        self.missing: str | None = None


class ValidationError(InputError):
    """One field of a record is invalid."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


SHOWN_PROBLEMS = 20  # an import file's bad rows listed at most, so a wrong file is not a flood


class ImportFileError(InputError):
    """An import file with bad rows; every bad row is listed by line number."""

    multiline = True

    def __init__(
        self,
        path: str,
        problems: Sequence[tuple[int, str]],
        *,
        duplicates: Sequence[tuple[int, int]] = (),
    ) -> None:
        count = len(problems)
        head = (
            f"{path}: {count} bad row{'s' if count != 1 else ''}, nothing imported"
            if problems
            else f"{path}: nothing imported"
        )
        shown = [
            f"  line {line}: {printable(problem, one_line=True)}"
            for line, problem in problems[:SHOWN_PROBLEMS]
        ]
        if count > SHOWN_PROBLEMS:
            shown.append(f"  ... and {count - SHOWN_PROBLEMS:,} more bad rows")
        super().__init__("\n".join([printable(head, one_line=True), *shown]))
        self.path = path
        self.problems = list(problems)
        # (line, id of the logged pledge it repeats): rows a caller may choose to skip.
        self.duplicates = list(duplicates)


class DuplicatePledgeError(InputError):
    """A pledge with the same actor and normalised text already exists."""

    def __init__(self, existing_id: int, actor: str) -> None:
        super().__init__(f"pledge #{existing_id} already records this pledge by {actor}")
        self.existing_id = existing_id
        self.actor = actor


class NotFoundError(InputError):
    """No record with the given id or name."""

    def __init__(self, kind: str, ident: object, hint: str = "") -> None:
        message = f"no {kind} {ident}"
        super().__init__(f"{message}; {hint}" if hint else message)
        self.kind = kind
        self.ident = ident


class NothingToChange(InputError):
    """An edit that names no field to change."""

    def __init__(self) -> None:
        super().__init__("give at least one field to change")


class FinalStatusNeedsSource(InputError):
    """A final status (kept, compromise, broken) that cites no confirmed evidence
    and no source."""

    def __init__(self, status: str) -> None:
        super().__init__(
            f'"{status}" is a final status: cite at least one confirmed evidence item '
            "or give a source URL"
        )
        self.status = status


class UnchangedStatus(InputError):
    """A verdict that would leave the status as it is, not asked for on purpose."""

    def __init__(self, pledge_id: int, status: str) -> None:
        super().__init__(f"pledge #{pledge_id} is already {status}; a verdict would change nothing")
        self.pledge_id = pledge_id
        self.status = status


class QuerySyntaxError(InputError):
    """A query that does not parse; ``position`` is 0-based in the query text."""

    def __init__(self, query: str, position: int, expected: str) -> None:
        # A stretch of the query around the position, on one line, so a long or
        # multi-line query still gives a one-line error.
        before = query[max(0, position - 60) : position]
        after = query[position : position + 60]
        flat = str.maketrans({"\n": " ", "\r": " ", "\t": " "})
        pointer = (
            ("…" if position > 60 else "")
            + before.translate(flat)
            + "⟨here⟩"
            + after.translate(flat)
            + ("…" if len(query) > position + 60 else "")
        )
        super().__init__(
            f"query does not parse at position {position + 1}: {expected} (in: {pointer})"
        )
        self.query = query
        self.position = position
        self.expected = expected


class DatabaseError(PledgewatchError):
    """The database cannot be reached or used."""


class DatabaseBusy(DatabaseError):
    """Another process held the database's write lock for longer than a command waits."""


class DatabaseNotReady(DatabaseError):
    """The database is missing or its schema is behind (or ahead of) the code."""


class FeedError(PledgewatchError):
    """One feed failed; ``url`` says which."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url


class SweepLocked(PledgewatchError):
    """Another sweep holds the lock on this database."""


class SweepLockLost(SweepLocked):
    """Another sweep took the lock over (this one was presumed dead); this one stopped
    before its next write."""


class LogInRefused(InputError):
    """A name and password that do not let anyone in. The words are the same for
    a wrong name, a wrong password, a disabled person and a name locked after
    failed tries, so that they do not tell which names exist."""

    def __init__(self) -> None:
        super().__init__(
            "that name and password do not match an active person "
            "(after five failed tries a name must wait a while)"
        )


class NotAllowed(InputError):
    """The acting person's role does not allow this action."""

    def __init__(self, role: str, action: str) -> None:
        super().__init__(f"a {role} may not {action}")
        self.role = role
        self.action = action


class AlertFailed(PledgewatchError):
    """One alert message could not be delivered (it is retried later)."""

    def __init__(self, alert: str, reason: str) -> None:
        super().__init__(f"alert {alert}: {reason}")
        self.alert = alert
        self.reason = reason
