"""Sessions, CSRF tokens, log-in throttling and the headers on every response.

A session is a cookie signed with the desk's key (Starlette's SessionMiddleware,
itsdangerous underneath), HttpOnly and SameSite=Lax, Secure when ``[web].https``.
It holds the person's name, when the log-in began and a CSRF token; the person is
read again on every request, so a disabled person or a reset password ends their
sessions at once, and a log-in older than ``[web].session`` is over.

Every form carries the session's CSRF token and every POST is refused without
it (compared in constant time). Log-ins are throttled per client address, on top
of the per-name lock-out the Desk keeps.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledgewatch.views import UserView

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


class SecurityHeaders:
    """Adds the policy and the hardening headers to every response that has not set
    its own policy (the report page allows its own inline style, no script)."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cache-Control", "no-store")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, sending)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    expected = request.session.get("csrf")
    given = form.get("csrf")
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def start_session(request: Request, person: UserView, now: datetime) -> None:
    """A fresh session for ``person``: nothing of the one before is kept (no fixation)."""
    request.session.clear()
    request.session["user"] = person.name
    request.session["started"] = now.timestamp()
    csrf_token(request)


def session_person(
    request: Request,
    find: Callable[[str], UserView | None],
    *,
    now: datetime,
    lifetime_seconds: float,
) -> UserView | None:
    """The logged-in person, or None when there is none, the log-in is older than
    the lifetime, or began before the person's sessions were ended (a log-out, a
    reset, being disabled), or the person is disabled."""
    name = request.session.get("user")
    started = request.session.get("started")
    if not isinstance(name, str) or not isinstance(started, int | float):
        return None
    if now.timestamp() - started > lifetime_seconds or started > now.timestamp() + 60:
        return None
    person = find(name)
    if person is None or person.disabled:
        return None
    if started < person.sessions_valid_after.timestamp():
        return None
    return person


class Throttle:
    """At most ``attempts`` failed log-ins per ``window`` seconds from one client
    address (successful ones do not count: a newsroom behind one address logs in
    freely); then that address waits."""

    def __init__(
        self,
        attempts: int = 10,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failed: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def _recent(self, address: str, now: float) -> deque[float]:
        seen = self._failed.setdefault(address, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def retry_after(self, address: str) -> int:
        """0 when ``address`` may try, else the seconds it must wait."""
        now = self.clock()
        with self._lock:
            seen = self._recent(address, now)
            if len(seen) >= self.attempts:
                return int(seen[0] + self.window - now) + 1
            if not seen:
                del self._failed[address]
            return 0

    def failed(self, address: str) -> None:
        """Count a failed log-in from ``address``."""
        now = self.clock()
        with self._lock:
            self._recent(address, now).append(now)
            self._calls += 1
            if self._calls % 1000 == 0:  # forget addresses quiet for a window
                stale = now - self.window
                for key in [k for k, v in self._failed.items() if not v or v[-1] <= stale]:
                    del self._failed[key]


def client_address(request: Request) -> str:
    """The client's address as uvicorn gives it (behind a proxy, run uvicorn with
    --forwarded-allow-ips so this is the visitor's, not the proxy's)."""
    return request.client.host if request.client else "unknown"
