"""`pledgewatch feed list|check`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pledgewatch.cli.context import options, state
from pledgewatch.cli.output import (
    PAGE,
    listing_format,
    listing_table,
    more_line,
    print_json,
    print_rows,
    say,
    shorten,
    stdout,
)
from pledgewatch.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from pledgewatch.views import FeedView

app = typer.Typer(
    rich_markup_mode=None, help="Show the configured feeds and check one.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def feed_table(rows: list[FeedView]) -> Table:
    from pledgewatch.feeds.state import when

    columns = [
        ("feed", 1),
        ("last poll (UTC)", 0),
        ("errors", 0),
        ("next poll (UTC)", 0),
        ("articles", 0),
        ("result", 2),
    ]
    values = [
        [
            row.name,
            when(row.last_polled_at),
            str(row.consecutive_errors),
            when(row.next_poll_at) if row.next_poll_at and not row.removed else row.next[:16],
            str(row.articles),
            row.result,
        ]
        for row in rows
    ]
    return listing_table(columns, values, right=("errors", "articles"))  # type: ignore[no-any-return]


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help=f"Rows to show (a table shows {PAGE} by default).", min=0),
    ] = None,
    as_json: Json = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print every row as CSV.")] = False,
    as_nl: Annotated[bool, typer.Option("--nl", help="Print every row as a line of JSON.")] = False,
) -> None:
    """The configured feeds with their state: last poll, result, errors, next poll;
    then every feed that needs the admin (failing, gone, moved or removed).

    Example: pledgewatch feed list
    """
    fmt = listing_format(as_json, as_csv, as_nl)
    shown = limit if limit is not None or fmt != "table" else PAGE
    desk = state(ctx).desk()
    with options({"limit": "--limit"}):
        page = desk.feeds(limit=shown)
    if fmt != "table":
        print_rows(page.to_json(), fmt)
        return
    if not page.items:
        if page.total:
            more_line(0, page.total, "feeds")
        else:
            say("no feeds configured; add [[feeds]] tables to the config")
        return
    stdout.print(feed_table(list(page.items)))
    more_line(len(page.items), page.total, "feeds")
    # Every feed the admin must see, on the first page or not.
    for row in desk.feeds(attention=True):
        say(f"{row.name}: {row.url}")
        say(f"  {row.result}; next poll: {row.next}")


@app.command("check")
def check(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A feed URL, a local file, or a configured name.")],
    limit: Annotated[int, typer.Option("--limit", help="Entries to print.", min=0)] = 10,
    as_json: Json = False,
) -> None:
    """Fetch and parse one feed once and print what was found; nothing is stored.

    Example: pledgewatch feed check https://feeds.bbci.co.uk/news/world/rss.xml
    """
    from pledgewatch.desk import check_feed

    try:
        config = state(ctx).config()
    except ConfigError:
        config = None  # a feed can be checked before there is a config
    with options({"url": "URL"}):
        found = check_feed(config, url)
    if as_json:
        print_json(found.to_json())
        return
    say(
        f"{found.title or '(untitled feed)'}: {len(found.entries)} entries "
        f"({found.bytes:,} bytes in {found.seconds:.2f}s)"
    )
    if found.permanent_redirect:
        say(f"moved permanently to {found.permanent_redirect}: update the config")
    for warning in found.warnings:
        say(f"warning: {warning}")
    for entry in found.entries[:limit]:
        say(f"  {entry.published_at:%Y-%m-%d %H:%M}  {shorten(entry.title, 90)}")
        say(f"                    {entry.url}")
