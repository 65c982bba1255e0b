"""`pledgewatch alert test|send|list`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pledgewatch.cli.context import state
from pledgewatch.cli.output import listing_table, print_json, say, stdout

app = typer.Typer(
    help="Alerts configured in [[alerts]]: test one, send what is queued, list them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("test")
def test(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The alert's name.")]
) -> None:
    """Send a sample message to one alert now, and say whether it arrived.

    Example: pledgewatch alert test desk-slack
    """
    where = state(ctx).desk().test_alert(name)
    say(f"alert {name}: a sample message was delivered ({where})")


@app.command("send")
def send(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Send the queued messages that are due (a sweep does this after itself, and
    watch every 20 seconds); failures are retried later with backoff.

    Example: pledgewatch alert send
    """
    from pledgewatch.cli.sweep import describe_alerts

    delivered = state(ctx).desk().deliver_alerts()
    if as_json:
        print_json(delivered.to_json())
    else:
        say(describe_alerts(delivered))


@app.command("list")
def list_alerts(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The configured alerts with their messages waiting, sent and given up.

    Example: pledgewatch alert list
    """
    desk = state(ctx).desk()
    counts = desk.alert_counts()
    rows: list[dict[str, Any]] = [
        {
            "name": alert.name,
            "to": "webhook" if alert.webhook else "apprise",
            "events": list(alert.events),
            **counts[alert.name],
        }
        for alert in desk.config.alerts
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no alerts are configured; add an [[alerts]] table to the config (see the README)")
        return
    stdout.print(
        listing_table(
            [("name", 0), ("to", 0), ("events", 1), ("waiting", 0), ("sent", 0), ("given up", 0)],
            [
                [
                    r["name"],
                    r["to"],
                    ", ".join(r["events"]),
                    str(r["waiting"]),
                    str(r["sent"]),
                    str(r["given_up"]),
                ]
                for r in rows
            ],
            right=("waiting", "sent", "given up"),
        )
    )
