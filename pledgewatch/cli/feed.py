"""`pledgewatch feed list|check`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from pledgewatch.cli.context import state
from pledgewatch.cli.output import cell, print_json, say, shorten, stdout
from pledgewatch.config import FeedConfig, normalise_feed_url
from pledgewatch.errors import ConfigError, FeedError, InputError
from pledgewatch.feeds.fetch import FeedRequest, Fetcher, FetchSettings
from pledgewatch.feeds.parse import parse_feed
from pledgewatch.sweep import feed_states

app = typer.Typer(help="Show the configured feeds and check one.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """The configured feeds with their state: last poll, result, errors, next poll.

    Example: pledgewatch feed list
    """
    st = state(ctx)
    config = st.config()
    with st.database().session(write=False) as session:
        states = {feed.name: (feed, count) for feed, count in feed_states(session)}
    rows: list[dict[str, Any]] = []
    for conf in config.feeds:
        feed, articles = states.get(conf.name, (None, 0))
        rows.append(_row(conf, feed, articles))
    for name, (feed, articles) in states.items():
        if config.feed(name) is None:
            rows.append(_row(None, feed, articles))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no feeds configured; add [[feeds]] tables to the config")
        return
    table = Table(header_style="bold")
    for column in ("feed", "last poll (UTC)", "result", "errors", "next poll (UTC)", "articles"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            cell(f"{row['name']}\n{row['url']}"),
            cell(_when(_parse(row["last_polled_at"]))),
            cell(row["result"]),
            cell(str(row["consecutive_errors"])),
            cell(row["next"]),
            cell(str(row["articles"])),
        )
    stdout.print(table)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _row(conf: FeedConfig | None, feed: Any, articles: int) -> dict[str, Any]:
    url = conf.url if conf else feed.url
    result = "not polled yet"
    next_text = "now"
    if feed is not None and feed.url == url:
        if feed.last_outcome == "ok":
            result = f"ok ({feed.last_status})" if feed.last_status else "ok"
        elif feed.last_outcome == "not_modified":
            result = "not modified (304)"
        elif feed.last_outcome:
            result = f"error: {feed.last_error}"
        if feed.last_warning and feed.last_outcome == "ok":
            result += f"; warning: {feed.last_warning}"
        if feed.redirect_url:
            result += f"; moved permanently to {feed.redirect_url}: update the config"
        next_text = _when(feed.next_poll_at) if feed.next_poll_at else "now"
        if feed.gone_at:
            next_text = "never (410 Gone: the publisher removed it; change or remove it)"
    if conf is None:
        next_text = "never (removed from the config; its articles stay)"
    elif not conf.enabled:
        next_text = "never (disabled in the config)"
    same = feed is not None and feed.url == url
    return {
        "name": conf.name if conf else feed.name,
        "url": url,
        "enabled": bool(conf and conf.enabled),
        "last_polled_at": _iso(feed.last_polled_at) if same else None,
        "last_status": feed.last_status if same else None,
        "last_outcome": feed.last_outcome if same else None,
        "consecutive_errors": feed.consecutive_errors if same else 0,
        "last_error": feed.last_error if same else None,
        "last_warning": feed.last_warning if same else None,
        "next_poll_at": _iso(feed.next_poll_at) if same else None,
        "redirect_url": feed.redirect_url if same else None,
        "gone": bool(same and feed.gone_at),
        "articles": articles,
        "result": result,
        "next": next_text,
    }


@app.command("check")
def check(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A feed URL, a local file, or a configured name.")],
    limit: Annotated[int, typer.Option("--limit", help="Entries to print.")] = 10,
    as_json: Json = False,
) -> None:
    """Fetch and parse one feed once and print what was found; nothing is stored.

    Example: pledgewatch feed check https://feeds.bbci.co.uk/news/world/rss.xml
    """
    st = state(ctx)
    settings = FetchSettings()
    target = url
    try:
        config = st.config()
    except ConfigError:
        config = None
    if config is not None:
        s = config.sweep
        settings = FetchSettings(
            concurrency=1,
            per_host=1,
            timeout=s.timeout,
            connect_timeout=min(10.0, s.timeout),
            max_bytes=s.max_bytes,
            user_agent=s.user_agent,
        )
        named = config.feed(url)
        if named is not None:
            target = named.url
    if target == url:
        from pathlib import Path

        try:
            target = normalise_feed_url(url, Path.cwd(), "URL", "the command line")
        except ConfigError as exc:
            raise InputError(f'"{url}" is not an http(s) URL, a file: URL or a path') from exc

    async def fetch() -> Any:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(FeedRequest(name="check", url=target))

    result = asyncio.run(fetch())
    if result.outcome != "ok":
        raise FeedError(target, f"{target}: {result.error or result.outcome}")
    assert result.body is not None
    parsed = parse_feed(
        result.body, url=target, fetched_at=datetime.now(UTC), content_type=result.content_type
    )
    document = {
        "url": target,
        "http_status": result.http_status,
        "content_type": result.content_type,
        "bytes": len(result.body),
        "seconds": round(result.elapsed, 3),
        "title": parsed.title,
        "entries": [
            {
                "url": e.url,
                "title": e.title,
                "published_at": e.published_at.isoformat(),
                "summary": e.summary,
            }
            for e in parsed.entries
        ],
        "warnings": parsed.warnings,
        "permanent_redirect": result.permanent_redirect,
    }
    if as_json:
        print_json(document)
        return
    say(
        f"{parsed.title or '(untitled feed)'}: {len(parsed.entries)} entries "
        f"({len(result.body):,} bytes in {result.elapsed:.2f}s)"
    )
    if result.permanent_redirect:
        say(f"moved permanently to {result.permanent_redirect}: update the config")
    for warning in parsed.warnings:
        say(f"warning: {warning}")
    for entry in parsed.entries[:limit]:
        say(f"  {entry.published_at:%Y-%m-%d %H:%M}  {shorten(entry.title, 90)}")
        say(f"                    {entry.url}")
