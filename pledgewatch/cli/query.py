"""`pledgewatch query test`: see what a query finds before trusting it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pledgewatch.cli.context import now, options, state
from pledgewatch.cli.output import print_json, say, shorten
from pledgewatch.cli.parsing import since_option
from pledgewatch.errors import InputError, QuerySyntaxError

if TYPE_CHECKING:
    from pledgewatch import evidence

app = typer.Typer(
    rich_markup_mode=None, help="Try a search query on the stored articles.", no_args_is_help=True
)


def print_trial(trial: evidence.QueryTrial) -> None:
    noun = "article" if trial.articles == 1 else "articles"
    say(f"{trial.matched:,} of {trial.articles:,} stored {noun} match: {trial.query}")
    for item in trial.sample:
        words = ", ".join(item.words[:6])
        say(f"  {item.published_at:%Y-%m-%d}  {shorten(item.title, 90)}")
        if words:
            say(f"              matched: {words}")
    for warning in trial.warnings:
        say(f"warning: {warning}")


@app.command("test")
def test(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A query, as for pledge add --query.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only articles published since (date or 30d).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Matching articles to show.")] = 10,
    pledge: Annotated[
        int | None,
        typer.Option("--pledge", help="Check it for this pledge: its actor and its date."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Run a query over the stored articles and show what it matches; nothing is written.

    Warns when the query matches a large share of all articles, or (with
    --pledge) asks for nothing of the pledge's actor.

    Example: pledgewatch query test '@china AND @russia AND drone*' --since 90d
    """
    start = since_option(since, now()) if since else None
    try:
        with options({"limit": "--limit"}):
            trial = state(ctx).desk().test_query(query, since=start, limit=limit, pledge_id=pledge)
    except QuerySyntaxError as exc:
        raise InputError(f"QUERY: {exc}") from None
    if as_json:
        print_json(trial.to_json())
    else:
        print_trial(trial)
