"""One delivery of one alert message: a signed webhook, or an apprise service.

May import pledgewatch.config, errors, alerts.messages, httpx and apprise.
"""

from __future__ import annotations

import json
from typing import Any

from pledgewatch.alerts import messages
from pledgewatch.config import AlertConfig
from pledgewatch.errors import AlertFailed


def send(alert: AlertConfig, payload: dict[str, Any], *, delivery: str, user_agent: str) -> None:
    """Deliver ``payload``; ``AlertFailed`` says why it could not be."""
    if alert.webhook is not None:
        _webhook(alert, payload, delivery=delivery, user_agent=user_agent)
    else:
        _apprise(alert, payload)


def _webhook(
    alert: AlertConfig, payload: dict[str, Any], *, delivery: str, user_agent: str
) -> None:
    import httpx

    assert alert.webhook is not None
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": user_agent,
        "X-Pledgewatch-Event": payload["event"],
        # The same message keeps its delivery id through retries: a receiver that
        # sees one twice (a sender died after sending) can tell.
        "X-Pledgewatch-Delivery": delivery,
    }
    if alert.secret is not None:
        headers[messages.SIGNATURE_HEADER] = messages.sign(alert.secret, body)
    try:
        response = httpx.post(
            alert.webhook,
            content=body,
            headers=headers,
            timeout=httpx.Timeout(alert.timeout, connect=min(alert.timeout, 5.0)),
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        raise AlertFailed(alert.name, f"no answer within {alert.timeout:g} seconds") from None
    except httpx.HTTPError as exc:
        raise AlertFailed(alert.name, f"could not connect: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise AlertFailed(alert.name, f"the receiver answered HTTP {response.status_code}")


def _apprise(alert: AlertConfig, payload: dict[str, Any]) -> None:
    # Imported here: apprise loads its many services on import.
    import apprise

    assert alert.apprise is not None
    title, body = messages.text_of(payload)
    service = apprise.Apprise()
    if not service.add(alert.apprise):
        raise AlertFailed(alert.name, "apprise does not know this URL; see its list of services")
    capture = apprise.LogCapture(level=apprise.logging.WARNING)  # type: ignore[no-untyped-call]
    with capture as log:
        ok = service.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN)
    if not ok:
        lines = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
        raise AlertFailed(alert.name, lines[-1] if lines else "the service refused the message")
