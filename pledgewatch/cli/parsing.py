"""Turning what people type into values: dates and spans like "7d"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from pledgewatch.characters import printable, quoted
from pledgewatch.config import parse_duration
from pledgewatch.errors import InputError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPAN = re.compile(r"(?:[0-9]+[smhdw])+")
_MONTHS = re.compile(r"([0-9]{1,4})\s*(?:mo|mos|month|months)")
_MINUTES = re.compile(r"([0-9]+)\s*(?:min|mins|minutes?)")
_BARE_M = re.compile(r"[0-9]+m")


def months_back(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day
    when it has fewer days)."""
    import calendar

    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    if year < 1:
        return datetime.min.replace(tzinfo=moment.tzinfo)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def since_option(text: str, now: datetime) -> datetime:
    """--since: a date (YYYY-MM-DD, from its start in UTC) or a span back from now
    (7d, 12h, 1w, 1mo, 90min), from 1900-01-01 to now. A bare "1m" is refused: a
    minute or a month, people mean both."""
    value = text.strip()
    shown = quoted(value)
    lowered = value.lower().replace(" ", "")
    if _BARE_M.fullmatch(lowered):
        number = lowered[:-1]
        raise InputError(
            f'--since: "{shown}" could be {number} minutes or {number} months; '
            f"write {number}mo for months or {number}min for minutes"
        )
    months = _MONTHS.fullmatch(lowered)
    minutes = _MINUTES.fullmatch(lowered)
    if minutes:
        value = f"{minutes.group(1)}m"  # the duration syntax's minutes
    if months:
        start = months_back(now, int(months.group(1)))
    elif _ISO_DATE.fullmatch(value):
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
                f'--since: "{shown}" is neither a date (YYYY-MM-DD) nor a span like 7d, 1w or 1mo'
            ) from None
    if start < EARLIEST:
        raise InputError(f'--since: "{shown}" reaches back before 1900-01-01; give a later start')
    if start > now:
        raise InputError(f'--since: "{shown}" is in the future; give a date up to today')
    return start
