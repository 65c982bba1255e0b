"""`pledgewatch evidence ...` and `pledgewatch rematch`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pledgewatch import evidence
from pledgewatch.cli.context import now, state
from pledgewatch.cli.output import print_json, progress, say, shorten, stdout
from pledgewatch.cli.parsing import since_option

app = typer.Typer(help="List and review the evidence found for pledges.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


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
    as_json: Json = False,
) -> None:
    """List evidence, newest article first.

    Example: pledgewatch evidence list --pledge 1 --review pending
    """
    found_since = since_option(since, now()) if since else None
    with state(ctx).database().session() as session:
        items = evidence.list_evidence(
            session, pledge_id=pledge, review=review, stance=stance, since=found_since
        )
        feeds = evidence.feeds_of(session, [item.article_id for item in items])
        documents = [evidence.evidence_to_dict(item, feeds[item.article_id]) for item in items]
    if as_json:
        print_json(documents)
        return
    if not documents:
        say("no evidence matches")
        return
    table = Table(header_style="bold")
    for column in ("id", "pledge", "published", "stance", "review", "score", "article"):
        table.add_column(column, overflow="fold", no_wrap=column not in ("article",))
    for doc in documents:
        article = doc["article"]
        table.add_row(
            str(doc["id"]),
            f"#{doc['pledge_id']}",
            article["published_at"][:10],
            doc["stance"],
            doc["review"],
            f"{doc['score']:.2f}",
            f"{shorten(article['title'], 90)}\n{shorten(doc['snippet'], 160)}\n"
            f"{article['url']}\nstance: {doc['stance_reason']}",
        )
    stdout.print(table)


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
    with (
        state(ctx).database().session() as session,
        progress("matching", "articles") as update,
    ):
        found = evidence.rematch(session, now(), pledge_id=pledge_id, progress=update)
    if as_json:
        print_json({"evidence_new": found})
    else:
        say(f"{found} new evidence item{'s' if found != 1 else ''}")
