"""The desk's pages: each handler reads the request, makes one Desk call as the
logged-in person, and renders a template.

``page(action)`` wraps a handler: a visitor who is not logged in is sent to the
log-in page (a POST is refused), a POST without the session's CSRF token is
refused, and a person whose role does not allow ``action`` gets a page saying
so. Handlers are plain functions run in Starlette's thread pool, since the Desk
is synchronous.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pledgewatch.desk import Desk
from pledgewatch.errors import (
    ImportFileError,
    InputError,
    LogInRefused,
    NotFoundError,
    PledgewatchError,
    ValidationError,
)
from pledgewatch.roles import ACTIONS, ROLES, allowed
from pledgewatch.views import EvidenceView, UserView
from pledgewatch.web.security import (
    client_address,
    csrf_ok,
    csrf_token,
    session_person,
    start_session,
)

REVIEW_PAGE = 25
BOARD_PAGE = 200
PLEDGE_FIELDS = (
    "text",
    "actor",
    "made_on",
    "source_url",
    "source_name",
    "quote",
    "reported_by",
    "deadline",
    "tags",
    "query",
    "notes",
)
MAX_UPLOAD = 5_000_000  # bytes of a CSV or JSON Lines import


@dataclass
class Ctx:
    """What a handler is given: the request, who is asking, their Desk and the form."""

    request: Request
    person: UserView
    desk: Desk
    form: FormData | None

    @property
    def web(self) -> Any:
        return self.request.app.state.web

    def value(self, name: str, default: str = "") -> str:
        """A form field (POST) or query parameter (GET) as text."""
        if self.form is not None:
            got = self.form.get(name)
            return got if isinstance(got, str) else default
        return self.request.query_params.get(name, default)

    def values(self, name: str) -> list[str]:
        source = self.form if self.form is not None else self.request.query_params
        return [v for v in source.getlist(name) if isinstance(v, str)]

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, template, status, person=self.person, **values)


Handler = Callable[[Ctx], Response]


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page this person sees ("done" or "error"); kept in the
    session, never in the address, so nobody can put words on the desk's pages."""
    request.session["flash"] = [*request.session.get("flash", []), [kind, text[:2000]]]


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    web = request.app.state.web
    values.setdefault("person", None)
    person = values["person"]
    html = web.templates.get_template(template).render(
        request=request,
        flashes=request.session.pop("flash", []) if "flash" in request.session else [],
        csrf=csrf_token(request),
        can=(lambda action: person is not None and allowed(person.role, action)),
        **values,
    )
    return HTMLResponse(html, status_code=status)


def page(action: str = "read") -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            web = request.app.state.web
            person = await run_in_threadpool(
                session_person,
                request,
                web.desk.find_user,
                now=web.desk.clock.now(),
                lifetime_seconds=web.config.web.session.total_seconds(),
            )
            if person is None:
                request.session.pop("user", None)
                if request.method == "GET":
                    target = request.url.path
                    if request.url.query:
                        target += "?" + request.url.query
                    return RedirectResponse(
                        "/login?" + urlencode({"next": target}), status_code=303
                    )
                return render(request, "refused.html.j2", 403, reason="Log in first.")
            form = None
            if request.method == "POST":
                form = await request.form(max_part_size=MAX_UPLOAD)
                if not csrf_ok(request, form):
                    return render(
                        request,
                        "refused.html.j2",
                        403,
                        person=person,
                        reason="This form has expired or did not come from the desk. "
                        "Go back, reload the page and send it again.",
                    )
            if not allowed(person.role, action):
                return render(
                    request,
                    "refused.html.j2",
                    403,
                    person=person,
                    reason=f"Your role ({person.role}) does not allow you to {action}.",
                )
            ctx = Ctx(request, person, web.desk.acting(person.name), form)
            try:
                return await run_in_threadpool(handler, ctx)
            except NotFoundError as error:
                return ctx.render("refused.html.j2", 404, reason=str(error).capitalize() + ".")

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


def see(path: str, **params: Any) -> RedirectResponse:
    """After a POST, the page that shows its result (303: the browser GETs it)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return RedirectResponse(path + ("?" + query if query else ""), status_code=303)


def safe_next(target: str) -> str:
    """Where to go after log-in: a path on this site only."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


_NUMBER = re.compile(r"[0-9]{1,11}")


def number(text: str) -> int | None:
    """An id or offset typed in ASCII digits (``"²".isdigit()`` is true, ``int`` refuses it)."""
    text = text.strip().lstrip("#")
    return int(text) if _NUMBER.fullmatch(text) else None


def errors_by_field(error: PledgewatchError) -> dict[str, str]:
    if isinstance(error, ValidationError):
        return {error.field: error.reason}
    return {"": str(error)}


# -- log-in ---------------------------------------------------------------------------


async def login(request: Request) -> Response:
    web = request.app.state.web
    target = safe_next(request.query_params.get("next", "/"))
    if request.method == "GET":
        return render(request, "login.html.j2", next=target)
    form = await request.form()
    if not csrf_ok(request, form):
        return render(
            request,
            "login.html.j2",
            403,
            next=target,
            error="The log-in form had expired; it is fresh now, please try again.",
        )
    wait = web.throttle.retry_after(client_address(request))
    if wait:
        response = render(
            request,
            "login.html.j2",
            429,
            next=target,
            error=f"Too many log-in attempts from here; wait {wait} seconds.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    name = form.get("name")
    password = form.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        return render(request, "login.html.j2", 400, next=target, error="Give a name and password.")
    try:
        person = await run_in_threadpool(web.desk.log_in, name, password)
    except LogInRefused as error:
        web.throttle.failed(client_address(request))
        return render(
            request, "login.html.j2", 401, next=target, name=name, error=str(error).capitalize()
        )
    except InputError as error:
        return render(request, "login.html.j2", 400, next=target, name=name, error=str(error))
    start_session(request, person, web.desk.clock.now())
    return RedirectResponse(safe_next(str(form.get("next") or target)), status_code=303)


async def logout(request: Request) -> Response:
    """Log out: this person's sessions end everywhere (a copied cookie too)."""
    form = await request.form()
    if csrf_ok(request, form):
        name = request.session.get("user")
        if isinstance(name, str):
            await run_in_threadpool(request.app.state.web.desk.end_sessions, name)
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- the board and a pledge ------------------------------------------------------------


@page()
def board(ctx: Ctx) -> Response:
    filters = {
        name: ctx.value(name).strip() or None for name in ("status", "flag", "tag", "actor", "q")
    }
    error = None
    try:
        rows = ctx.desk.status_board(
            status=filters["status"],
            flag=filters["flag"],
            tag=filters["tag"],
            actor=filters["actor"],
            search=filters["q"],
        )
    except InputError as exc:
        rows, error = [], str(exc)
    return ctx.render(
        "board.html.j2",
        rows=rows[:BOARD_PAGE],
        total=len(rows),
        filters=filters,
        error=error,
        filtered=any(filters.values()),
    )


@page()
def pledge(ctx: Ctx) -> Response:
    pledge_id = number(ctx.request.path_params["pledge_id"])
    if pledge_id is None:
        raise NotFoundError("pledge", ctx.request.path_params["pledge_id"])
    detail = ctx.desk.pledge(pledge_id)
    groups: dict[str, list[EvidenceView]] = {"pending": [], "confirmed": [], "rejected": []}
    for item in detail.evidence:
        groups.setdefault(item.review, []).append(item)
    return ctx.render(
        "pledge.html.j2",
        detail=detail,
        p=detail.pledge,
        groups=groups,
        words=ctx.desk.matched_words(detail.evidence),
    )


@page()
def preview(ctx: Ctx) -> Response:
    """What a query would match (the pledge page's live preview; a page of its own
    without JavaScript)."""
    pledge_id = number(ctx.request.path_params["pledge_id"])
    if pledge_id is None:
        raise NotFoundError("pledge", ctx.request.path_params["pledge_id"])
    query = ctx.value("query").strip()
    trial = error = None
    if query:
        try:
            trial = ctx.desk.test_query(query, pledge_id=pledge_id, limit=10)
        except InputError as exc:
            error = str(exc)
    template = "_preview.html.j2" if ctx.value("fragment") == "1" else "preview.html.j2"
    return ctx.render(template, pledge_id=pledge_id, query=query, trial=trial, error=error)


def _pledge_form(ctx: Ctx) -> dict[str, str]:
    return {name: ctx.value(name) for name in PLEDGE_FIELDS}


@page("log and edit pledges")
def new_pledge(ctx: Ctx) -> Response:
    if ctx.form is None:
        return ctx.render("pledge_form.html.j2", values={}, errors={}, editing=None)
    values = _pledge_form(ctx)
    fields = {k: v.strip() for k, v in values.items() if v.strip()}
    try:
        added = ctx.desk.add_pledge(fields, force=ctx.value("force") == "1")
    except InputError as error:
        return ctx.render(
            "pledge_form.html.j2",
            400,
            values=values,
            errors=errors_by_field(error),
            editing=None,
            duplicate=getattr(error, "existing_id", None),
        )
    flash(
        ctx.request,
        "done",
        f"Pledge logged; {added.evidence_new} stored article(s) found as evidence.",
    )
    return see(f"/pledges/{added.pledge.id}")


@page("log and edit pledges")
def edit_pledge(ctx: Ctx) -> Response:
    pledge_id = number(ctx.request.path_params["pledge_id"])
    if pledge_id is None:
        raise NotFoundError("pledge", ctx.request.path_params["pledge_id"])
    current = ctx.desk.pledge(pledge_id).pledge
    stored = {
        name: "; ".join(current.tags)
        if name == "tags"
        else ("" if getattr(current, name) is None else str(getattr(current, name)))
        for name in PLEDGE_FIELDS
    }
    if ctx.form is None:
        return ctx.render("pledge_form.html.j2", values=stored, errors={}, editing=current)
    assert ctx.form is not None
    # A field the form did not send is left as it is; one sent empty is cleared.
    values = {name: ctx.value(name) if name in ctx.form else stored[name] for name in PLEDGE_FIELDS}
    changes = {k: v.strip() for k, v in values.items() if v.strip() != stored[k].strip()}
    try:
        ctx.desk.edit_pledge(pledge_id, changes, force=ctx.value("force") == "1")
    except InputError as error:
        errors = errors_by_field(error)
        return ctx.render("pledge_form.html.j2", 400, values=values, errors=errors, editing=current)
    return see(f"/pledges/{pledge_id}")


@page("record verdicts")
def verdict(ctx: Ctx) -> Response:
    pledge_id = number(ctx.request.path_params["pledge_id"])
    if pledge_id is None:
        raise NotFoundError("pledge", ctx.request.path_params["pledge_id"])
    detail = ctx.desk.pledge(pledge_id)
    confirmed = [e for e in detail.evidence if e.review == "confirmed"]
    values: dict[str, Any] = {
        "status": ctx.value("status"),
        "note": ctx.value("note"),
        "source_url": ctx.value("source_url"),
        "evidence": ctx.values("evidence"),
        "same_status": ctx.value("same_status"),
    }
    if ctx.form is None:
        return ctx.render(
            "verdict.html.j2", detail=detail, confirmed=confirmed, values=values, error=None
        )
    cited = [n for n in (number(v) for v in values["evidence"]) if n is not None]
    try:
        ctx.desk.record_verdict(
            pledge_id,
            values["status"],
            note=values["note"],
            evidence_ids=cited,
            source_url=values["source_url"].strip() or None,
            same_status=values["same_status"] == "1",
        )
    except InputError as error:
        return ctx.render(
            "verdict.html.j2",
            400,
            detail=detail,
            confirmed=confirmed,
            values=values,
            error=str(error),
        )
    flash(ctx.request, "done", "Verdict recorded.")
    return see(f"/pledges/{pledge_id}")


# -- the review queue -----------------------------------------------------------------

_ACT = re.compile(r"(confirmed|rejected):(\d{1,11}|selected)")


@page()
def review(ctx: Ctx) -> Response:
    if ctx.form is not None:
        return _decide(ctx)
    offset = number(ctx.value("offset", "0")) or 0
    pledge_id = number(ctx.value("pledge"))
    queue = ctx.desk.evidence(
        review="pending", pledge_id=pledge_id, limit=REVIEW_PAGE, offset=offset
    )
    return ctx.render(
        "review.html.j2",
        queue=queue,
        words=ctx.desk.matched_words(queue.items),
        offset=offset,
        page_size=REVIEW_PAGE,
        pledge_id=pledge_id,
    )


def _decide(ctx: Ctx) -> Response:
    if not allowed(ctx.person.role, "review evidence"):
        return ctx.render(
            "refused.html.j2",
            403,
            reason=f"Your role ({ctx.person.role}) does not allow you to review evidence.",
        )
    act = _ACT.fullmatch(ctx.value("act"))
    back = {"pledge": ctx.value("pledge") or None}
    if act is None:
        flash(ctx.request, "error", "Choose confirm or reject.")
        return see("/review", **back)
    decision, which = act.groups()
    if which == "selected":
        ids = [n for n in (number(v) for v in ctx.values("ids")) if n is not None]
        stance = None
    else:
        ids = [int(which)]
        stance = ctx.value(f"stance-{which}").strip() or None
    if not ids:
        flash(ctx.request, "error", "Select at least one item first.")
        return see("/review", **back)
    note = ctx.value("note").strip() or None
    try:
        done = ctx.desk.review_evidence(ids, decision, stance=stance, note=note)
    except InputError as error:
        flash(ctx.request, "error", str(error))
        return see("/review", **back)
    said = f"{decision.capitalize()} {len(done.items)} item{'s' if len(done.items) != 1 else ''}."
    for item_id, verdicts in done.cited_rejections:
        cited = ", ".join(f"#{v}" for v in verdicts)
        said += f" Evidence #{item_id} is cited by verdict {cited}; the verdict keeps its record."
    flash(ctx.request, "done", said)
    return see("/review", **back)


# -- import and export ----------------------------------------------------------------


@page("log and edit pledges")
def import_pledges(ctx: Ctx) -> Response:
    if ctx.form is None:
        return ctx.render("import.html.j2", result=None, problems=None, error=None)
    upload = ctx.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return ctx.render(
            "import.html.j2", 400, result=None, problems=None, error="Choose a file to import."
        )
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".csv", ".jsonl", ".xlsx"):
        return ctx.render(
            "import.html.j2",
            400,
            result=None,
            problems=None,
            error="Import a .csv or .jsonl file (from a spreadsheet: File, Save as, CSV).",
        )
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return ctx.render(
            "import.html.j2",
            400,
            result=None,
            problems=None,
            error=f"The file is larger than {MAX_UPLOAD // 1_000_000} MB.",
        )
    with tempfile.TemporaryDirectory() as folder:
        # The upload's own name is only shown, never used as a path.
        path = Path(folder) / f"import{suffix}"
        path.write_bytes(data)
        try:
            result = ctx.desk.import_pledges(path, skip_existing=ctx.value("skip") == "1")
        except ImportFileError as error:
            return ctx.render(
                "import.html.j2",
                400,
                result=None,
                problems=error.problems,
                error=str(error).splitlines()[0].replace(str(path), upload.filename),
                lines=_lines(data),
            )
        except InputError as error:
            message = str(error).replace(str(path), upload.filename)
            return ctx.render("import.html.j2", 400, result=None, problems=None, error=message)
    return ctx.render("import.html.j2", result=result, problems=None, error=None)


def _lines(data: bytes) -> dict[int, str]:
    """The file's lines by number, to show each bad row beside its error."""
    text = data.decode("utf-8-sig", errors="replace")
    return {n: line[:300] for n, line in enumerate(text.splitlines(), start=1) if n <= 100_000}


@page()
def export(ctx: Ctx) -> Response:
    fmt = ctx.request.path_params["fmt"]
    if fmt not in ("csv", "jsonl"):
        return ctx.render(
            "refused.html.j2", 404, reason="Exports are pledges.csv or pledges.jsonl."
        )
    out = io.StringIO()
    try:
        ctx.desk.export_pledges(fmt, out)
    except InputError as error:
        return ctx.render("refused.html.j2", 404, reason=str(error))
    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        out.getvalue(),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pledges.{fmt}"'},
    )


# -- feeds and the report -------------------------------------------------------------


@page()
def feeds(ctx: Ctx) -> Response:
    return ctx.render("feeds.html.j2", feeds=ctx.desk.feeds())


_SPANS = {"1w": timedelta(days=7), "2w": timedelta(days=14), "1mo": timedelta(days=30)}


@page()
def report(ctx: Ctx) -> Response:
    from pledgewatch.report.render import render as render_report

    span = ctx.value("since", "1w")
    since = ctx.desk.clock.now() - _SPANS.get(span, _SPANS["1w"])
    view = ctx.desk.report(since)
    html = render_report(view.to_json(), "html")
    # The report is one self-contained file with its own inline style; no script.
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


# -- people ---------------------------------------------------------------------------


@page("manage people")
def users(ctx: Ctx) -> Response:
    message = error = None
    values: Mapping[str, str] = {}
    if ctx.form is not None:
        act = ctx.value("act")
        name = ctx.value("name").strip()
        values = {"name": name, "role": ctx.value("role")}
        try:
            if act == "add":
                ctx.desk.add_user(name, ctx.value("role"), ctx.value("password"))
                message = f"Added {name.strip()} as {ctx.value('role').strip().lower()}."
                values = {}
            elif act in ("disable", "enable"):
                if name == ctx.person.name:
                    raise InputError("you cannot disable yourself; ask another admin")
                ctx.desk.disable_user(name, disabled=act == "disable")
                message = f"{name} is {act}d."
            elif act == "reset":
                ctx.desk.reset_password(name, ctx.value("password"))
                message = f"{name}'s password is reset; their open sessions have ended."
            elif act == "role":
                if name == ctx.person.name:
                    raise InputError("you cannot change your own role; ask another admin")
                ctx.desk.set_user_role(name, ctx.value("role"))
                message = f"{name} is now {ctx.value('role').strip().lower()}."
            else:
                raise InputError("choose what to do")
        except InputError as exc:
            error = str(exc)
    return ctx.render(
        "users.html.j2",
        400 if error else 200,
        people=ctx.desk.users(),
        roles=ROLES,
        message=message,
        error=error,
        values=values,
    )


def highlight(text: str, words: tuple[str, ...]) -> Markup:
    """``text`` escaped, with the words a query matched marked (case and accents
    aside; a matched phrase marks each of its words)."""
    from pledgewatch.desk import fold

    wanted = {fold(w) for phrase in words for w in phrase.split()}
    if not wanted:
        return escape(text)
    out = []
    for piece in re.split(r"(\w[\w'’-]*)", text):
        if piece and fold(piece) in wanted:
            out.append(Markup("<mark>%s</mark>") % piece)
        else:
            out.append(escape(piece))
    return Markup("").join(out)
