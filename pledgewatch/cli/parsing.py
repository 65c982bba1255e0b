"""Turning what people type into values: dates and spans like "7d"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from pledgewatch.config import parse_duration
from pledgewatch.errors import InputError

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def since_option(text: str, now: datetime) -> datetime:
    """--since: a date (YYYY-MM-DD, from its start in UTC) or a span back from now (7d, 12h)."""
    value = text.strip()
    if _ISO_DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InputError(f'--since: "{text}" is not a real calendar date') from None
        return datetime.combine(day, time(0, 0), tzinfo=UTC)
    try:
        return now - parse_duration(value)
    except ValueError:
        raise InputError(
            f'--since: "{text}" is neither a date (YYYY-MM-DD) nor a span like 7d or 12h'
        ) from None
