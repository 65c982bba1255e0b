"""The web desk's Starlette application.

    from pledgewatch.web.app import create_app
    app = create_app(load_config("config.toml"))   # then: uvicorn.run(app)

``pledgewatch serve`` runs it with uvicorn. The app opens one Desk over the
config's database for its lifetime and acts, on every request, as the person
logged in (``Desk.acting``), so every pledge, review and verdict records who
did it exactly as the command line's ``--by`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pledgewatch.clock import FixedClock, SystemClock
from pledgewatch.config import Config
from pledgewatch.desk import Desk, open_desk
from pledgewatch.report.data import STATUS_LABELS
from pledgewatch.report.render import STATUS_COLOURS, STATUS_TEXT
from pledgewatch.web import pages, public
from pledgewatch.web.keys import secret_key
from pledgewatch.web.security import SecurityHeaders, Throttle

HERE = Path(__file__).parent
COOKIE = "pledgewatch_session"


@dataclass
class WebState:
    config: Config
    desk: Desk
    templates: jinja2.Environment
    throttle: Throttle


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        status_labels=STATUS_LABELS,
        statuses=tuple(STATUS_LABELS),
        flags=("overdue", "needs_review", "due_soon", "stale"),
        stances=("kept", "broken", "neutral"),
    )
    env.filters["highlight"] = pages.highlight
    env.filters["day"] = lambda value: value.strftime("%Y-%m-%d") if value else ""
    env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M") if value else ""
    return env


def status_css(request: Request) -> Response:
    """The badges' colours, from the report's palette (a file, so that the policy
    needs no inline style)."""
    rules = [
        f".status-{name} {{ background: {colour}; color: {STATUS_TEXT[name]}; }}"
        for name, colour in STATUS_COLOURS.items()
    ]
    return Response(
        "\n".join(rules) + "\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def create_app(
    config: Config,
    *,
    desk: Desk | None = None,
    clock: SystemClock | FixedClock | None = None,
    throttle: Throttle | None = None,
) -> Starlette:
    """The desk over ``config``'s database (or over ``desk``, for tests and embedding)."""
    own = desk or open_desk(config, user="web", clock=clock)
    state = WebState(config, own, templates(), throttle or Throttle())
    key = secret_key(config.web.secret_key_file)
    routes: list[Any] = [
        Route("/", pages.board),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/review", pages.review, methods=["GET", "POST"]),
        Route("/pledges/new", pages.new_pledge, methods=["GET", "POST"]),
        Route("/pledges/{pledge_id}", pages.pledge),
        Route("/pledges/{pledge_id}/preview", pages.preview),
        Route("/pledges/{pledge_id}/edit", pages.edit_pledge, methods=["GET", "POST"]),
        Route("/pledges/{pledge_id}/verdict", pages.verdict, methods=["GET", "POST"]),
        Route("/import", pages.import_pledges, methods=["GET", "POST"]),
        Route("/export/pledges.{fmt}", pages.export),
        Route("/feeds", pages.feeds),
        Route("/report", pages.report),
        Route("/users", pages.users, methods=["GET", "POST"]),
        Route("/status.css", status_css),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    if config.public.enabled:
        routes += [
            Route("/public/", public.index),
            Route("/public/pledges/{pledge_id}", public.pledge),
            Route("/public/pledges/{pledge_id}/badge.svg", public.badge),
            Route("/public/changes.atom", public.changes),
        ]
    middleware = [
        Middleware(SecurityHeaders, https=config.web.https),
        Middleware(
            SessionMiddleware,
            secret_key=key,
            session_cookie=COOKIE,
            max_age=int(config.web.session.total_seconds()),
            same_site="lax",
            https_only=config.web.https,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.web = state
    return app
