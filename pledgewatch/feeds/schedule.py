"""When to poll a feed next: the polling policy as one pure function.

:func:`next_poll_at` takes the outcome of the fetch that just finished and
returns when the feed is next due, or None when it must never be polled again.

- ``ok`` and ``not_modified``: ``now + interval``. A 304 is a healthy feed.
- ``error``: exponential backoff. ``consecutive_errors`` already counts the
  failure being scheduled, so 1 waits ``interval``, 2 waits ``2 * interval``,
  3 waits ``4 * interval`` and so on, capped at 24 hours (or at ``interval``
  when the feed's own interval is longer than a day: a failure never makes a
  feed polled more often than a healthy one). The delay is then spread by
  +-10 % jitter from ``rng`` so that feeds that failed together (one host down)
  do not all retry in the same second, and it is never less than one minute.
- ``error`` with ``retry_after`` (a 429 or 503 whose Retry-After the fetcher
  parsed): when that time is later than ``now`` it replaces the backoff, even
  if it is sooner, because the publisher said when to come back. It is capped
  at 7 days and, like every error delay, at least one minute away.
- ``gone`` (HTTP 410): None. The publisher removed the feed on purpose.

Times must be timezone-aware; the result is in the timezone of ``now``.
The caller supplies the clock (``now``) and the randomness (``rng``), so the
result is reproducible in tests.

Pure standard library; may import nothing from pledgewatch.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(days=7)
MIN_ERROR_DELAY = timedelta(minutes=1)
JITTER = 0.10

# 2**20 intervals of even one second is past the cap; stopping the exponent
# there keeps the arithmetic small after thousands of failures.
_MAX_DOUBLINGS = 20


def retry_until(outcome: str, *, now: datetime, retry_after: datetime | None) -> datetime | None:
    """Until when the publisher asked not to be polled (a 429 or 503 with
    Retry-After, capped like the schedule), which even ``sweep --all`` honours;
    None when it did not ask."""
    if outcome != "error" or retry_after is None or retry_after <= now:
        return None
    return now + min(retry_after - now, MAX_RETRY_AFTER)


def next_poll_at(
    outcome: str,
    *,
    now: datetime,
    interval: timedelta,
    consecutive_errors: int,
    retry_after: datetime | None,
    rng: random.Random,
) -> datetime | None:
    """Return when the feed is next due after ``outcome``; None for never (see module doc)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if interval <= timedelta(0):
        raise ValueError(f"interval must be positive, got {interval}")

    if outcome in ("ok", "not_modified"):
        return now + interval
    if outcome == "gone":
        return None
    if outcome != "error":
        raise ValueError(f"unknown fetch outcome {outcome!r}")

    if retry_after is not None:
        if retry_after.tzinfo is None:
            raise ValueError("retry_after must be timezone-aware")
        if retry_after > now:
            delay = min(retry_after - now, MAX_RETRY_AFTER)
            return now + max(delay, MIN_ERROR_DELAY)

    cap = max(MAX_BACKOFF, interval)
    factor = 2 ** min(max(consecutive_errors, 1) - 1, _MAX_DOUBLINGS)
    backoff = cap if interval > cap / factor else interval * factor
    jittered = backoff * rng.uniform(1 - JITTER, 1 + JITTER)
    return now + max(jittered, MIN_ERROR_DELAY)
