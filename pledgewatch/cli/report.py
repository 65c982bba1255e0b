"""`pledgewatch report` and `pledgewatch export claimreview`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from pledgewatch.characters import first_unsafe
from pledgewatch.cli.context import now, state, today
from pledgewatch.cli.parsing import since_option
from pledgewatch.errors import InputError
from pledgewatch.feeds.urls import http_url_problem
from pledgewatch.report.claimreview import claim_review, to_json_ld
from pledgewatch.report.collect import final_verdicts
from pledgewatch.report.render import FORMATS, render
from pledgewatch.report.weekly import report_data

export_app = typer.Typer(help="Export verdicts for other systems.", no_args_is_help=True)

Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
]


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}", file=sys.stderr)


def report(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="Start of the period: a span like 7d, or a date.")
    ] = "7d",
    fmt: Annotated[str, typer.Option("--format", help="md, html, json or csv.")] = "md",
    output: Output = None,
) -> None:
    """The report: statuses and changes, verdicts, new evidence, new, overdue and due-soon
    pledges, and feed health, for the period up to now.

    Example: pledgewatch report --since 7d --format html --output week.html
    """
    if fmt not in FORMATS:
        raise InputError(
            f'--format: "{fmt}" is not a report format; use one of {", ".join(FORMATS)}'
        )
    st = state(ctx)
    until = now()
    start = since_option(since, until)
    with st.database().session(write=False) as session:
        data = report_data(
            session, since=start, until=until, today=today(), review=st.config().review
        )
    _write(render(data, fmt), output)


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
    problem = first_unsafe(publisher, multiline=False)
    if problem is not None or not publisher.strip():
        raise InputError(f"--publisher: {problem or 'is empty'}")
    if url_template is not None and (
        "{id}" not in url_template or http_url_problem(url_template.replace("{id}", "1"))
    ):
        raise InputError(
            "--url-template: give an http(s) address with {id}, e.g. "
            '"https://news.example.org/pledges/{id}"'
        )
    with state(ctx).database().session(write=False) as session:
        verdicts = final_verdicts(session)
    if url_template is not None:
        verdicts = [
            replace(v, url=url_template.replace("{id}", str(v.pledge_id))) for v in verdicts
        ]
    reviews = [claim_review(v, publisher=publisher) for v in verdicts]
    _write(to_json_ld(reviews), output)
