"""The public pages (``[public] enabled = true``): no log-in, read only.

A page per pledge with its status and ruling history and schema.org ClaimReview
JSON-LD (escaped so that no text can end its element), an embeddable SVG status
badge, an Atom feed of status changes, and an index. Archived pledges are not
shown; editors' working notes and names are not either.
"""

from __future__ import annotations

from markupsafe import escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pledgewatch.errors import NotFoundError
from pledgewatch.report.data import STATUS_LABELS
from pledgewatch.report.render import STATUS_COLOURS, STATUS_TEXT

CACHE = "public, max-age=300"


def _number(request: Request) -> int | None:
    text = request.path_params["pledge_id"]
    return int(text) if text.isdigit() and len(text) < 12 else None


def _page(request: Request, template: str, status: int = 200, **values: object) -> HTMLResponse:
    web = request.app.state.web
    html = web.templates.get_template(template).render(
        request=request, public=web.config.public, base=web.config.web.public_url, **values
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": CACHE})


def _missing(request: Request) -> HTMLResponse:
    return _page(request, "public_missing.html.j2", 404)


async def index(request: Request) -> Response:
    desk = request.app.state.web.desk
    pledges = await run_in_threadpool(lambda: desk.pledges(limit=1000))
    return _page(request, "public_index.html.j2", pledges=pledges)


async def pledge(request: Request) -> Response:
    web = request.app.state.web
    pledge_id = _number(request)
    if pledge_id is None:
        return _missing(request)
    url = f"{web.config.web.public_url}/public/pledges/{pledge_id}"
    try:
        shown = await run_in_threadpool(web.desk.public_pledge, pledge_id, url=url)
    except NotFoundError:
        return _missing(request)
    return _page(request, "public_pledge.html.j2", shown=shown, p=shown.pledge, url=url)


async def badge(request: Request) -> Response:
    """An SVG badge of the pledge's status, for embedding in articles."""
    web = request.app.state.web
    pledge_id = _number(request)
    if pledge_id is None:
        return Response("not found", status_code=404, media_type="text/plain")
    try:
        shown = await run_in_threadpool(web.desk.public_pledge, pledge_id)
    except NotFoundError:
        return Response("not found", status_code=404, media_type="text/plain")
    status = shown.pledge.status
    left, right = f"pledge #{pledge_id}", STATUS_LABELS[status]
    # Glyph widths vary; 7 px a character in 11 px Verdana is the usual estimate.
    lw, rw = 10 + 7 * len(left), 10 + 7 * len(right)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + rw}" height="20" role="img" '
        f'aria-label="{escape(left)}: {escape(right)}">'
        f"<title>{escape(left)}: {escape(right)}</title>"
        f'<rect width="{lw}" height="20" fill="#4a4f57"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{STATUS_COLOURS[status]}"/>'
        '<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14" fill="#fff" text-anchor="middle">{escape(left)}</text>'
        f'<text x="{lw + rw / 2}" y="14" fill="{STATUS_TEXT[status]}" '
        f'text-anchor="middle">{escape(right)}</text></g></svg>'
    )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={
            "Cache-Control": CACHE,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


async def changes(request: Request) -> Response:
    """An Atom feed of status changes, newest first."""
    web = request.app.state.web
    found = await run_in_threadpool(web.desk.status_changes)
    xml = web.templates.get_template("public_changes.atom.j2").render(
        changes=found,
        public=web.config.public,
        base=web.config.web.public_url,
        updated=found[0].verdict.at if found else web.desk.clock.now(),
        labels=STATUS_LABELS,
    )
    return Response(
        xml, media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": CACHE}
    )
