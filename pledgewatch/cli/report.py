"""`pledgewatch report` and `pledgewatch export claimreview`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pledgewatch.cli.context import now, options, state
from pledgewatch.cli.parsing import since_option
from pledgewatch.errors import InputError

export_app = typer.Typer(
    rich_markup_mode=None, help="Export verdicts for other systems.", no_args_is_help=True
)

Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
]


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}", file=sys.stderr)


def report(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option("--since", help="Start of the period: a span like 7d, 1w or 1mo, or a date."),
    ] = "7d",
    fmt: Annotated[str, typer.Option("--format", help="md, html, json or csv.")] = "md",
    output: Output = None,
) -> None:
    """The report: statuses and changes, verdicts, new evidence, new, overdue and due-soon
    pledges, and feed health, for the period up to now.

    The title names the period (weekly for 7d or 1w, monthly for 1mo); a missing
    folder for --output is made.

    Example: pledgewatch report --since 7d --format html --output reports/week.html
    """
    from pledgewatch.report.render import FORMATS, render

    chosen = fmt.strip().lower()
    if chosen not in FORMATS:
        raise InputError(
            f'--format: "{fmt}" is not a report format; use one of {", ".join(FORMATS)}'
        )
    until = now()
    start = since_option(since, until)
    data = state(ctx).desk().report(start, until)
    _write(render(data.to_json(), chosen), output)


@export_app.command("claimreview")
def claimreview(
    ctx: typer.Context,
    output: Output = None,
    publisher: Annotated[
        str, typer.Option("--publisher", help="The newsroom named as the reviews' author.")
    ] = "pledgewatch",
    url_template: Annotated[
        str | None,
        typer.Option(
            "--url-template",
            help="Where each verdict is published, {id} for the pledge id "
            "(aggregators such as Google require it).",
        ),
    ] = None,
) -> None:
    """schema.org ClaimReview JSON-LD for every pledge with a final verdict.

    Rating: 3 Promise Kept, 2 Compromise, 1 Promise Broken (best 3, worst 1).

    Example: pledgewatch export claimreview --publisher "The Daily Example"
    --url-template "https://news.example.org/pledges/{id}" -o claims.jsonld
    """
    with options({"publisher": "--publisher", "url_template": "--url-template"}):
        text = state(ctx).desk().claimreview(publisher=publisher, url_template=url_template)
    _write(text, output)
