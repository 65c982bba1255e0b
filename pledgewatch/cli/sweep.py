"""`pledgewatch sweep` and `pledgewatch watch`."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from pledgewatch.cli.context import state
from pledgewatch.cli.output import print_json, say

log = logging.getLogger("pledgewatch.watch")

if TYPE_CHECKING:
    from pledgewatch.sweep import Sweep
    from pledgewatch.views import AlertsDelivered, SweepView


def sweep(
    ctx: typer.Context,
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="Poll this feed now; repeat for more.")
    ] = None,
    all_feeds: Annotated[
        bool, typer.Option("--all", help="Poll every enabled feed, due or not.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """One pass over the feeds that are due: fetch, parse, store (the cron entry point).

    Exits 0 when the sweep ran (failed feeds are listed and recorded), 1 when it
    could not run, 75 when another sweep holds the lock.

    Example: */15 * * * * cd /srv/pledgewatch && pledgewatch sweep >> sweep.log 2>&1
    """
    desk = state(ctx).desk()
    show_progress = sys.stderr.isatty() and not as_json
    if show_progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("sweeping"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("feeds"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            transient=True,
            console=None,
        ) as progress:
            task = progress.add_task("", total=None)

            def advance(done: int, total: int, name: str) -> None:
                progress.update(task, completed=done, total=total, description=name)

            summary = desk.sweep(names=feed or (), all_feeds=all_feeds, on_progress=advance)
    else:
        summary = desk.sweep(names=feed or (), all_feeds=all_feeds)
    # Alerts queued by the sweep go out after it, its lock released and its work
    # stored: a slow service costs this command at most the budget, never the sweep.
    delivered = desk.deliver_alerts(budget=ALERT_BUDGET) if desk.config.alerts else None
    if as_json:
        document = summary.to_json()
        if delivered is not None:
            document["alerts"] = delivered.to_json()
        print_json(document)
    else:
        _print_summary(summary)
        if delivered is not None and (delivered.sent or delivered.retrying or delivered.given_up):
            say(f"{_stamp()} {describe_alerts(delivered)}")


ALERT_BUDGET = 30.0  # seconds a cron sweep spends sending alerts; the rest wait


def describe_alerts(delivered: AlertsDelivered) -> str:
    line = f"alerts: {delivered.sent} sent, {delivered.retrying} to retry"
    if delivered.given_up:
        line += f", {delivered.given_up} given up"
    reasons = dict(delivered.errors)
    if reasons:
        line += "; " + "; ".join(f"{name}: {why}" for name, why in reasons.items())
    return line


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_summary(summary: SweepView) -> None:
    """Lines for a cron log: each with the time, each failed feed with its reason."""
    from pledgewatch.scheduler import describe

    stamp = _stamp()
    if summary.feeds_due == 0:
        say(f'{stamp} no feeds are due; "pledgewatch feed list" shows when each is next polled')
        return
    say(f"{stamp} {describe(summary)}")
    for item in summary.errors:
        say(f"{stamp}   {item['feed']} failed: {item['error']}")
    for item in summary.warnings:
        say(f"{stamp}   {item['feed']} (warning): {item['warning']}")


def watch(ctx: typer.Context) -> None:
    """Run sweeps on the configured schedule until stopped (SIGINT or SIGTERM).

    Each sweep logs one line, and one more for each feed that failed; a stop
    finishes the feeds in hand and exits cleanly. SIGHUP reads the config again
    (feeds, interval, report time), keeping the old one if the new does not load.

    Example: pledgewatch --config /srv/pledgewatch/config.toml watch
    """
    from pledgewatch.scheduler import Watcher
    from pledgewatch.sweep import MatcherCache, Sweep

    st = state(ctx)
    config = st.config()
    database = st.desk().database
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from pledgewatch.config import load_config

    matchers = MatcherCache()

    def make_sweep(stop: threading.Event) -> Sweep:
        return Sweep(database, watcher.config, stop=stop, matchers=matchers)

    desk = st.desk()

    def deliver(stop: threading.Event) -> None:
        if not watcher.config.alerts:
            return
        delivered = desk.with_config(watcher.config).deliver_alerts(stop=stop)
        if delivered.sent or delivered.retrying or delivered.given_up:
            log.info(describe_alerts(delivered))

    watcher = Watcher(
        database,
        config,
        make_sweep,
        reload=lambda: load_config(st.config_path),
        deliver=deliver,
    )
    watcher.run()


def prune(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say how many would go; drop nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Drop stored articles older than [retention].articles_days that are no evidence.

    Evidence and the articles it cites are kept whatever their age; with
    articles_days = 0 (the default) nothing is dropped. Runs in batches, each a
    short transaction, alongside sweeps.

    Example: pledgewatch prune --dry-run
    """
    desk = state(ctx).desk()
    pruned = desk.prune(dry_run=dry_run)
    if as_json:
        print_json(pruned.to_json())
    elif pruned.before is None:
        say("[retention].articles_days is 0: every article is kept")
    else:
        verb = "would drop" if dry_run else "dropped"
        say(
            f"{verb} {pruned.articles:,} articles fetched before "
            f"{pruned.before:%Y-%m-%d %H:%M} UTC that are no evidence"
        )
