"""What the library's tests share: a pledge's fields and a row count.

The ``library`` fixture (a Desk over the example pledges, swept once) is in
``conftest.py``.
"""

from __future__ import annotations

from sqlalchemy import func, select

from pledgewatch.desk import Desk

SOURCE = "https://www.reuters.com/world/example-2024-06-14/"


def new_pledge(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "text": "Beijing will not supply lethal weapons to Moscow",
        "actor": "Wang Yi",
        "made_on": "2024-06-14",
        "source_url": SOURCE,
        "query": "@china AND @russia AND weapons",
    }
    fields.update(changes)
    return fields


def count(desk: Desk, model: type) -> int:
    with desk.database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
