"""`pledgewatch evidence ...` and `pledgewatch rematch`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from pledgewatch.cli.context import now, options, state
from pledgewatch.cli.output import (
    PAGE,
    listing_format,
    listing_table,
    more_line,
    print_json,
    print_rows,
    progress,
    say,
    stdout,
)
from pledgewatch.cli.parsing import since_option

if TYPE_CHECKING:
    from rich.table import Table

    from pledgewatch.views import EvidenceView

app = typer.Typer(
    rich_markup_mode=None,
    help="List, add and review the evidence found for pledges.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

LIST_OPTIONS = {
    "review": "--review",
    "stance": "--stance",
    "limit": "--limit",
    "since": "--since",
}


def evidence_table(items: list[EvidenceView]) -> Table:
    """Evidence at any width: the pledge and the article's title give way first."""
    columns = [
        ("id", 0),
        ("pledge", 2),
        ("published", 0),
        ("stance", 0),
        ("review", 0),
        ("article", 3),
    ]
    values = [
        [
            str(item.id),
            f"#{item.pledge_id} {item.pledge_text}",
            f"{item.article.published_at:%Y-%m-%d}",
            item.stance,
            item.review,
            item.article.title,
        ]
        for item in items
    ]
    return listing_table(columns, values, right=("id",))  # type: ignore[no-any-return]


@app.command("list")
def list_(
    ctx: typer.Context,
    pledge: Annotated[int | None, typer.Option("--pledge", help="Only this pledge's.")] = None,
    review: Annotated[
        str | None, typer.Option("--review", help="pending, confirmed or rejected.")
    ] = None,
    stance: Annotated[str | None, typer.Option("--stance", help="kept, broken or neutral.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Found since: a date or a span like 7d.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only pledges with this tag.")] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only pledges by actors whose name has this.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help=f"Rows to show (a table shows {PAGE} by default).", min=0),
    ] = None,
    as_json: Json = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print every row as CSV.")] = False,
    as_nl: Annotated[bool, typer.Option("--nl", help="Print every row as a line of JSON.")] = False,
) -> None:
    """List evidence: pending first, then the newest article first.

    Example: pledgewatch evidence list --review pending --tag ukraine
    """
    fmt = listing_format(as_json, as_csv, as_nl)
    found_since = since_option(since, now()) if since else None
    shown = limit if limit is not None or fmt != "table" else PAGE
    with options(LIST_OPTIONS):
        page = (
            state(ctx)
            .desk()
            .evidence(
                pledge_id=pledge,
                review=review,
                stance=stance,
                since=found_since,
                tag=tag,
                actor=actor,
                limit=shown,
            )
        )
    if fmt != "table":
        print_rows(page.to_json(), fmt)
        return
    if not page.items:
        say("no evidence matches")
        return
    stdout.print(evidence_table(list(page.items)))
    more_line(len(page.items), page.total, "evidence items", exact=page.exact)
    say('"pledgewatch pledge show ID" shows an item\'s snippet, address and stance reason')


def rematch(
    ctx: typer.Context,
    pledge_id: Annotated[
        int | None, typer.Argument(help="Only this pledge (default: every pledge).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Match stored articles against pledges again and store any new evidence.

    Use it after changing alias data or upgrading pledgewatch. Evidence already
    found, and every review of it, is kept as it is.

    Example: pledgewatch rematch 3
    """
    desk = state(ctx).desk()
    with progress("matching", "articles") as update, options({"query": "the pledge's query"}):
        found = desk.rematch(pledge_id, progress=update)
    if as_json:
        print_json({"evidence_new": found})
    else:
        say(f"{found} new evidence item{'s' if found != 1 else ''}")


REVIEW_OPTIONS = {"note": "--note", "stance": "--stance", "by": "--by", "url": "URL"}

Note = Annotated[str | None, typer.Option("--note", help="Why, for the record.")]
By = Annotated[
    str | None,
    typer.Option("--by", help="Who reviews (default: $PLEDGEWATCH_USER, else the OS user)."),
]


@app.command("add")
def add(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge it is evidence for.")],
    url: Annotated[str, typer.Argument(help="The article's address.")],
    title: Annotated[str | None, typer.Option("--title", help="The article's headline.")] = None,
    note: Note = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Add evidence found outside the feeds; it waits for review like any other.

    Example: pledgewatch evidence add 3 https://apnews.com/article/... --title "..."
    """
    with options({**REVIEW_OPTIONS, "title": "--title"}):
        item = state(ctx).desk(by, "--by").add_evidence(pledge_id, url, title=title, note=note)
    if as_json:
        print_json(item.to_json())
        return
    say(f"added evidence #{item.id} for pledge #{item.pledge_id}, pending review")


def _review(
    ctx: typer.Context,
    evidence_ids: list[int],
    decision: str,
    stance: str | None,
    note: str | None,
    by: str | None,
    as_json: bool,
) -> None:
    desk = state(ctx).desk(by, "--by")
    # Several items are reviewed in one transaction: all of them, or none.
    with options(REVIEW_OPTIONS):
        done = desk.review_evidence(evidence_ids, decision, stance=stance, note=note)
    for evidence_id, changes in done.cited_rejections:
        cited = ", ".join(f"#{i}" for i in changes)
        print(
            f"warning: evidence #{evidence_id} is cited by verdict {cited}; the verdict keeps "
            "its record, but it now rests on rejected evidence: record a new verdict if it "
            "no longer holds",
            file=sys.stderr,
        )
    if as_json:
        documents = [item.to_json() for item in done.items]
        print_json(documents[0] if len(documents) == 1 else documents)
        return
    for item in done.items:
        earlier = len(item.reviews) - 1
        again = (
            f" (reviewed {earlier} time{'s' if earlier != 1 else ''} before; kept in its history)"
        )
        say(
            f"evidence #{item.id} {decision} as {item.stance} for pledge "
            f"#{item.pledge_id}{again if earlier > 0 else ''}"
        )


EvidenceIds = Annotated[
    list[int], typer.Argument(help="The evidence items' ids (one or more).", show_default=False)
]


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    evidence_ids: EvidenceIds,
    stance: Annotated[
        str | None,
        typer.Option("--stance", help="kept, broken or neutral (default: as suggested)."),
    ] = None,
    note: Note = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Confirm that evidence items are about their pledge, optionally correcting the stance.

    Several ids are reviewed together: all of them, or none if one is wrong.

    Example: pledgewatch evidence confirm 2 --stance broken --note "components, not weapons"
    """
    _review(ctx, evidence_ids, "confirmed", stance, note, by, as_json)


@app.command("reject")
def reject(
    ctx: typer.Context,
    evidence_ids: EvidenceIds,
    note: Note = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Reject evidence items that are not about their pledge (many at once: 14 15 16).

    Example: pledgewatch evidence reject 13 14 --note "not about the pledge"
    """
    _review(ctx, evidence_ids, "rejected", None, note, by, as_json)
