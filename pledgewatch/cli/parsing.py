"""Turning what people type into values: dates and spans like "7d"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from pledgewatch.characters import printable, quoted
from pledgewatch.config import parse_duration
from pledgewatch.errors import InputError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPAN = re.compile(r"(?:[0-9]+[smhdw])+")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def since_option(text: str, now: datetime) -> datetime:
    """--since: a date (YYYY-MM-DD, from its start in UTC) or a span back from now
    (7d, 12h), from 1900-01-01 to now."""
    value = text.strip()
    shown = quoted(value)
    if _ISO_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InputError(f'--since: "{shown}" is not a real calendar date') from None
        start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    else:
        try:
            start = now - parse_duration(value)
        except (ValueError, OverflowError) as exc:
            if _SPAN.fullmatch(value.replace(" ", "").lower()):
                # A span, but a wrong one (too long): say what parse_duration said.
                raise InputError(f"--since: {printable(str(exc))}") from None
            raise InputError(
                f'--since: "{shown}" is neither a date (YYYY-MM-DD) nor a span like 7d or 12h'
            ) from None
    if start < EARLIEST:
        raise InputError(f'--since: "{shown}" reaches back before 1900-01-01; give a later start')
    if start > now:
        raise InputError(f'--since: "{shown}" is in the future; give a date up to today')
    return start
