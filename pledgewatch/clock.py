"""The clocks a Desk is given: the system's, or one that stands still.

May import: nothing in pledgewatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


class SystemClock:
    """Now in UTC; today where the journalist is or in UTC, whichever is later (so a
    pledge made today is never "in the future" on either side of midnight)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return max(date.today(), self.now().date())  # noqa: DTZ011


@dataclass(frozen=True)
class FixedClock:
    """A clock that stands still (for tests, replays and reports as of a date)."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


Clock = SystemClock | FixedClock
