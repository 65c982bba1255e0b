"""What alerts say: JSON payloads, their text for chat and email, signatures.

May import the standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

MAX_ITEMS = 50  # evidence items in one digest; the rest are counted
MAX_ATTEMPTS = 12  # about a day of retries with the backoff below
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=4)
SIGNATURE_HEADER = "X-Pledgewatch-Signature"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s, doubling, at most 4 h."""
    wait: timedelta = FIRST_RETRY * 2 ** max(0, min(attempts - 1, 20))
    return min(LONGEST_WAIT, wait)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pledge_link(base_url: str, pledge_id: int) -> str:
    return f"{base_url}/pledges/{pledge_id}"


def evidence_digest(
    alert: str, base_url: str, run_id: int | None, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """One sweep's new pending evidence for an alert, newest first, with links."""
    shown = items[:MAX_ITEMS]
    return {
        "event": "evidence",
        "alert": alert,
        "sweep_run": run_id,
        "count": len(items),
        "review_url": f"{base_url}/review",
        "items": [
            {**item, "review_url": f"{base_url}/review?pledge={item['pledge_id']}"}
            for item in shown
        ],
        "more": len(items) - len(shown),
    }


def deadline_payload(
    event: str, alert: str, base_url: str, pledge: dict[str, Any], days: int
) -> dict[str, Any]:
    """A deadline within ``days`` (event "due") or ``days`` past (event "overdue")."""
    return {
        "event": event,
        "alert": alert,
        "pledge": {**pledge, "url": pledge_link(base_url, pledge["id"])},
        "days": days,
    }


def feed_payload(alert: str, base_url: str, feed: dict[str, Any]) -> dict[str, Any]:
    return {"event": "feed", "alert": alert, "feed": feed, "feeds_url": f"{base_url}/feeds"}


def verdict_payload(
    alert: str, base_url: str, pledge: dict[str, Any], verdict: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event": "verdict",
        "alert": alert,
        "pledge": {**pledge, "url": pledge_link(base_url, pledge["id"])},
        "verdict": verdict,
    }


def sample(alert: str, base_url: str) -> dict[str, Any]:
    """What ``alert test`` sends: a digest with one made-up item, marked as a test."""
    payload = evidence_digest(
        alert,
        base_url,
        None,
        [
            {
                "evidence_id": 0,
                "pledge_id": 0,
                "pledge": "A sample pledge, to test this alert",
                "actor": "pledgewatch",
                "title": "A sample article",
                "url": base_url,
                "stance": "neutral",
                "stance_reason": "a test message",
            }
        ],
    )
    payload["test"] = True
    return payload


def _status(value: str | None) -> str:
    return (value or "none").replace("_", " ")


def text_of(payload: dict[str, Any]) -> tuple[str, str]:
    """The title and Markdown body an apprise service shows for a payload."""
    event = payload["event"]
    prefix = "[test] " if payload.get("test") else ""
    if event == "evidence":
        count = payload["count"]
        title = f"{prefix}{count} new item{'s' if count != 1 else ''} of evidence to review"
        lines = [
            f"- **{_status(i['stance'])}** for #{i['pledge_id']} {i['pledge']} ({i['actor']}): "
            f"[{i['title']}]({i['url']}) · [review]({i['review_url']})"
            for i in payload["items"]
        ]
        if payload["more"]:
            lines.append(f"- and {payload['more']} more: {payload['review_url']}")
        return title, "\n".join(lines)
    if event in ("due", "overdue"):
        pledge = payload["pledge"]
        days = payload["days"]
        when = (
            f"due in {days} day{'s' if days != 1 else ''}"
            if event == "due"
            else f"overdue by {days} day{'s' if days != 1 else ''}"
        )
        title = f"{prefix}Pledge #{pledge['id']} is {when}"
        body = (
            f"{pledge['text']} ({pledge['actor']}); deadline {pledge['deadline']}, "
            f"now {_status(pledge['status'])}. {pledge['url']}"
        )
        return title, body
    if event == "feed":
        feed = payload["feed"]
        title = f"{prefix}Feed {feed['name']} has failed {feed['failures']} times in a row"
        return title, f"{feed['url']}: {feed['error']}. {payload['feeds_url']}"
    if event == "verdict":
        pledge, verdict = payload["pledge"], payload["verdict"]
        title = (
            f"{prefix}Pledge #{pledge['id']}: {_status(verdict['from'])} → {_status(verdict['to'])}"
        )
        body = (
            f"{pledge['text']} ({pledge['actor']}). {verdict['by']}: {verdict['note']} "
            f"{pledge['url']}"
        )
        return title, body
    raise ValueError(f"unknown event {event!r}")
