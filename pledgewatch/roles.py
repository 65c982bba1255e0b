"""Roles and what each may do (pure: the web desk and the library both ask here).

A role allows what the one before it allows and more: a reporter logs and
edits pledges; an editor also reviews evidence and records verdicts; an admin
also manages people and feeds. Everyone logged in may read.

May import the standard library only.
"""

from __future__ import annotations

ROLES = ("reporter", "editor", "admin")  # in order of what they allow
ACTIONS = {
    "read": "reporter",
    "log and edit pledges": "reporter",
    "review evidence": "editor",
    "record verdicts": "editor",
    "manage feeds": "admin",
    "manage people": "admin",
}


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (one of ``ACTIONS``)."""
    needed = ACTIONS[action]
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
