"""The words of the record: where a pledge stands, what an editor decided about
evidence, which way evidence points. Plain enums, so code that only shows them
(the status board at start-up) needs no database library.

May import: nothing in pledgewatch.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """PolitiFact's vocabulary for where a pledge stands."""

    NOT_YET_RATED = "not_yet_rated"
    IN_THE_WORKS = "in_the_works"
    STALLED = "stalled"
    KEPT = "kept"
    COMPROMISE = "compromise"
    BROKEN = "broken"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.KEPT, Status.COMPROMISE, Status.BROKEN})
STATUS_VALUES = tuple(s.value for s in Status)


class Review(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Stance(StrEnum):
    KEPT = "kept"
    BROKEN = "broken"
    NEUTRAL = "neutral"


REVIEW_VALUES = tuple(r.value for r in Review)
STANCE_VALUES = tuple(s.value for s in Stance)
