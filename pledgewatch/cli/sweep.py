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

if TYPE_CHECKING:
    from pledgewatch.sweep import Sweep
    from pledgewatch.views import SweepView


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
    if as_json:
        print_json(summary.to_json())
    else:
        _print_summary(summary)


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
    from pledgewatch.sweep import Sweep

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

    def make_sweep(stop: threading.Event) -> Sweep:
        return Sweep(database, watcher.config, stop=stop)

    watcher = Watcher(database, config, make_sweep, reload=lambda: load_config(st.config_path))
    watcher.run()
