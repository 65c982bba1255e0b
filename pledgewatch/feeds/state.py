"""What a feed's polls left it as, in words: its result and when it is next polled.

Pure: a feed's config entry and its stored state (any object with the Feed
columns) in, a FeedView out. "Removed" means the config no longer names it
(its articles stay); "gone" means the publisher answered 410 Gone.

May import pledgewatch.config and pledgewatch.views.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pledgewatch.config import FeedConfig
from pledgewatch.views import FeedView


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def needs_attention(view: FeedView) -> bool:
    """Whether an admin must look at this feed: it fails, is gone, has moved for good,
    or was removed from the config."""
    return view.result.startswith("error") or view.gone or bool(view.redirect_url) or view.removed


def describe_feed(conf: FeedConfig | None, feed: Any, articles: int) -> FeedView:
    """One feed: ``conf`` None for a feed no longer configured, ``feed`` None for one
    never polled. State stored for another URL (the config's URL changed) is not
    this feed's."""
    url = conf.url if conf else feed.url
    result = "not polled yet"
    next_text = "now"
    same = feed is not None and feed.url == url
    if same:
        if feed.last_outcome == "ok":
            result = f"ok ({feed.last_status})" if feed.last_status else "ok"
        elif feed.last_outcome == "not_modified":
            result = "not modified (304)"
        elif feed.last_outcome:
            result = f"error: {feed.last_error}"
        if feed.last_warning and feed.last_outcome == "ok":
            result += f"; warning: {feed.last_warning}"
        if feed.redirect_url:
            result += f"; moved permanently to {feed.redirect_url}: update the config"
        next_text = when(feed.next_poll_at) if feed.next_poll_at else "now"
        if feed.gone_at:
            next_text = "never (410 Gone: the publisher removed it; change or remove it)"
    if conf is None:
        next_text = "never (removed from the config; its articles stay)"
    elif not conf.enabled:
        next_text = "never (disabled in the config)"
    return FeedView(
        name=conf.name if conf else feed.name,
        url=url,
        enabled=bool(conf and conf.enabled),
        last_polled_at=feed.last_polled_at if same else None,
        last_status=feed.last_status if same else None,
        last_outcome=feed.last_outcome if same else None,
        consecutive_errors=feed.consecutive_errors if same else 0,
        last_error=feed.last_error if same else None,
        last_warning=feed.last_warning if same else None,
        next_poll_at=feed.next_poll_at if same else None,
        redirect_url=feed.redirect_url if same else None,
        gone=bool(same and feed.gone_at),
        articles=articles,
        result=result,
        next=next_text,
        removed=conf is None,
    )
