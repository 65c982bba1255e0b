"""`pledgewatch verdict` and `pledgewatch status`."""

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
    stdout,
)

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from pledgewatch.board import BoardRow

VERDICT_OPTIONS = {
    "note": "--note",
    "source_url": "--source-url",
    "by": "--by",
    "status": "STATUS",
}


STATUS_STYLES = {
    "not_yet_rated": "dim",
    "in_the_works": "cyan",
    "stalled": "yellow",
    "kept": "green",
    "compromise": "magenta",
    "broken": "red",
}


def verdict(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge's id.")],
    status: Annotated[
        str,
        typer.Argument(help="not_yet_rated, in_the_works, stalled, kept, compromise or broken."),
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Why: kept in the history. [required]")
    ] = None,
    evidence_ids: Annotated[
        list[int] | None, typer.Option("--evidence", help="An evidence id it rests on; repeat.")
    ] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help="A source it rests on, if not evidence.")
    ] = None,
    same: Annotated[
        bool,
        typer.Option("--same", help="Record it even though the status stays as it is."),
    ] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who decides (default: $PLEDGEWATCH_USER, else the OS user)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Record a verdict: a new status for a pledge, with a note and the evidence it rests on.

    A final status (kept, compromise, broken) needs a confirmed evidence item or
    --source-url. The history is append-only: a correction is a new verdict.

    Example: pledgewatch verdict 1 broken --evidence 2 --note "Chinese parts in Russian drones"
    """
    desk = state(ctx).desk(by, "--by")
    with options(VERDICT_OPTIONS):
        change = desk.record_verdict(
            pledge_id,
            status,
            note=note or "",
            evidence_ids=evidence_ids or (),
            source_url=source_url,
            same_status=same,
        )
    if as_json:
        print_json(change.to_json())
    else:
        say(f"pledge #{pledge_id}: {change.from_status} -> {change.to_status} ({change.by})")


def styled_status(status: str) -> Text:
    from rich.text import Text

    return Text(status, style=STATUS_STYLES.get(status, ""))


def board_table(rows: list[BoardRow]) -> Table:
    """The board at any width: who and what give way first, never the id, the status,
    the flags or the dates."""
    columns = [
        ("id", 0),
        ("status", 0),
        ("flags", 0),
        ("pend", 0),
        ("deadline", 0),
        ("pledge", 1),
    ]
    values = [
        [
            str(row.id),
            row.status,
            ", ".join(row.flags),
            str(row.evidence["pending"]) if row.evidence["pending"] else "",
            row.deadline.isoformat() if row.deadline else "",
            f"{row.actor}: {row.text}",
        ]
        for row in rows
    ]
    return listing_table(columns, values, right=("id", "pend"))  # type: ignore[no-any-return]


def status(
    ctx: typer.Context,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help=f"Rows to show (a table shows {PAGE} by default).", min=0),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print every row as CSV.")] = False,
    as_nl: Annotated[bool, typer.Option("--nl", help="Print every row as a line of JSON.")] = False,
) -> None:
    """The status board: one row a pledge, what needs attention first.

    Flags: overdue (deadline passed, no final verdict), needs_review (pending
    evidence), due_soon (deadline within the review settings' due_soon), stale
    (no new evidence for the review settings' stale_after).

    Example: pledgewatch status
    """
    fmt = listing_format(as_json, as_csv, as_nl)
    from pledgewatch.quick import status_board

    rows = status_board(state(ctx).config())
    if fmt != "table":
        chosen = rows if limit is None else rows[:limit]
        print_rows([row.to_json() for row in chosen], fmt)
        return
    if not rows:
        say('no pledges yet; log one with "pledgewatch pledge add"')
        return
    shown = rows[: PAGE if limit is None else limit]
    stdout.print(board_table(shown))
    more_line(len(shown), len(rows), "pledges")
