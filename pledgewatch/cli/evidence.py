"""`pledgewatch evidence ...` and `pledgewatch rematch`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pledgewatch import evidence, review
from pledgewatch.cli.context import current_user, now, options, state
from pledgewatch.cli.output import cell, print_json, progress, say, shorten, stdout
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
    with state(ctx).database().session(write=False) as session:
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
            cell(str(doc["id"])),
            cell(f"#{doc['pledge_id']}"),
            cell(article["published_at"][:10]),
            cell(doc["stance"]),
            cell(doc["review"]),
            cell(f"{doc['score']:.2f}"),
            cell(
                f"{shorten(article['title'], 90)}\n{shorten(doc['snippet'], 160)}\n"
                f"{article['url']}\nstance: {doc['stance_reason']}"
            ),
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
    with progress("matching", "articles") as update:
        found = evidence.rematch_stored(
            state(ctx).database(), now(), pledge_id=pledge_id, progress=update
        )
    if as_json:
        print_json({"evidence_new": found})
    else:
        say(f"{found} new evidence item{'s' if found != 1 else ''}")


REVIEW_OPTIONS = {"note": "--note", "stance": "--stance", "by": "--by"}

Note = Annotated[str | None, typer.Option("--note", help="Why, for the record.")]
By = Annotated[
    str | None,
    typer.Option("--by", help="Who reviews (default: $PLEDGEWATCH_USER, else the OS user)."),
]


def _review(
    ctx: typer.Context,
    evidence_ids: list[int],
    decision: str,
    stance: str | None,
    note: str | None,
    by: str | None,
    as_json: bool,
) -> None:
    reviewer = current_user(by, "--by")
    documents = []
    # Several items are reviewed in one transaction: all of them, or none.
    with state(ctx).database().session() as session, options(REVIEW_OPTIONS):
        for evidence_id in dict.fromkeys(evidence_ids):
            item = review.review_evidence(
                session, evidence_id, decision, by=reviewer, now=now(), stance=stance, note=note
            )
            feeds = evidence.feeds_of(session, [item.article_id])
            document = evidence.evidence_to_dict(item, feeds[item.article_id])
            document["reviews"] = [
                {
                    "at": r.at.isoformat(),
                    "by": r.by,
                    "review": r.review,
                    "stance": r.stance,
                    "note": r.note,
                }
                for r in review.review_history(session, evidence_id)
            ]
            documents.append(document)
    if as_json:
        print_json(documents[0] if len(documents) == 1 else documents)
        return
    for document in documents:
        earlier = len(document["reviews"]) - 1
        again = (
            f" (reviewed {earlier} time{'s' if earlier != 1 else ''} before; kept in its history)"
        )
        say(
            f"evidence #{document['id']} {decision} as {document['stance']} for pledge "
            f"#{document['pledge_id']}{again if earlier else ''}"
        )


EvidenceIds = Annotated[
    list[int], typer.Argument(help="The evidence items' ids (one or more).", show_default=False)
]


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    evidence_ids: EvidenceIds,
    stance: Annotated[
        str | None,
        typer.Option("--stance", help="kept, broken or neutral (default: as suggested)."),
    ] = None,
    note: Note = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Confirm that evidence items are about their pledge, optionally correcting the stance.

    Several ids are reviewed together: all of them, or none if one is wrong.

    Example: pledgewatch evidence confirm 12 --stance broken --note "components, not weapons"
    """
    _review(ctx, evidence_ids, "confirmed", stance, note, by, as_json)


@app.command("reject")
def reject(
    ctx: typer.Context,
    evidence_ids: EvidenceIds,
    note: Note = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Reject evidence items that are not about their pledge.

    Example: pledgewatch evidence reject 14 15 --note "a drone light show, not weapons"
    """
    _review(ctx, evidence_ids, "rejected", None, note, by, as_json)
