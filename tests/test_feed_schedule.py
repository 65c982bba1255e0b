"""next_poll_at: the polling policy after each fetch outcome."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pledgewatch.feeds.schedule import next_poll_at

NOW = datetime(2024, 6, 14, 12, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def delay(
    outcome: str,
    *,
    errors: int = 0,
    interval: timedelta = HALF_HOUR,
    retry_after: datetime | None = None,
    seed: int = 1,
) -> timedelta:
    when = next_poll_at(
        outcome,
        now=NOW,
        interval=interval,
        consecutive_errors=errors,
        retry_after=retry_after,
        rng=random.Random(seed),
    )
    assert when is not None
    return when - NOW


@pytest.mark.parametrize("outcome", ["ok", "not_modified"])
def test_healthy_feed_is_polled_again_after_exactly_its_interval(outcome: str) -> None:
    assert delay(outcome) == HALF_HOUR
    assert delay(outcome, interval=timedelta(hours=6)) == timedelta(hours=6)


def test_gone_feed_is_never_polled_again() -> None:
    when = next_poll_at(
        "gone",
        now=NOW,
        interval=HALF_HOUR,
        consecutive_errors=0,
        retry_after=None,
        rng=random.Random(1),
    )
    assert when is None


@pytest.mark.parametrize(
    ("errors", "base"),
    [(1, HALF_HOUR), (2, 2 * HALF_HOUR), (3, 4 * HALF_HOUR), (4, 8 * HALF_HOUR)],
)
def test_error_backoff_doubles_from_the_interval_within_ten_percent(
    errors: int, base: timedelta
) -> None:
    for seed in range(20):
        assert base * 0.9 <= delay("error", errors=errors, seed=seed) <= base * 1.1


def test_error_backoff_is_capped_at_a_day_even_after_thousands_of_failures() -> None:
    for errors in (7, 10, 60, 10_000):
        assert timedelta(hours=21.6) <= delay("error", errors=errors) <= timedelta(hours=26.4)


def test_error_backoff_jitter_spreads_feeds_that_failed_together() -> None:
    delays = {delay("error", errors=2, seed=seed) for seed in range(20)}
    assert len(delays) > 10


def test_same_rng_seed_gives_the_same_time() -> None:
    assert delay("error", errors=3, seed=42) == delay("error", errors=3, seed=42)


def test_error_retry_is_never_sooner_than_one_minute() -> None:
    for seed in range(20):
        assert delay("error", errors=1, interval=timedelta(seconds=5), seed=seed) >= timedelta(
            minutes=1
        )


def test_error_on_a_slow_feed_never_polls_it_more_often_than_its_interval() -> None:
    weekly = timedelta(days=7)
    assert delay("error", errors=5, interval=weekly) >= weekly * 0.9


def test_retry_after_wins_over_backoff_when_it_is_later() -> None:
    later = NOW + timedelta(hours=5)
    assert delay("error", errors=1, retry_after=later) == timedelta(hours=5)


def test_retry_after_wins_over_backoff_when_it_is_sooner() -> None:
    sooner = NOW + timedelta(minutes=10)
    assert delay("error", errors=6, retry_after=sooner) == timedelta(minutes=10)


def test_retry_after_is_capped_at_seven_days() -> None:
    assert delay("error", errors=1, retry_after=NOW + timedelta(days=365)) == timedelta(days=7)


def test_retry_after_in_the_past_falls_back_to_backoff() -> None:
    result = delay("error", errors=2, retry_after=NOW - timedelta(hours=1))
    assert 2 * HALF_HOUR * 0.9 <= result <= 2 * HALF_HOUR * 1.1


def test_zero_consecutive_errors_is_treated_as_the_first_failure() -> None:
    assert HALF_HOUR * 0.9 <= delay("error", errors=0) <= HALF_HOUR * 1.1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": datetime(2024, 6, 14, 12, 0)},
        {"interval": timedelta(0)},
        {"retry_after": datetime(2024, 6, 15)},
    ],
)
def test_naive_times_and_non_positive_intervals_are_refused(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "now": NOW,
        "interval": HALF_HOUR,
        "consecutive_errors": 1,
        "retry_after": None,
        "rng": random.Random(1),
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError):
        next_poll_at("error", **arguments)  # type: ignore[arg-type]


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fetch outcome"):
        delay("exploded")
