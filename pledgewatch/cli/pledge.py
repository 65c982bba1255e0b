"""`pledgewatch pledge ...`: the pledge registry commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pledgewatch import evidence, pledges
from pledgewatch.cli.context import current_user, now, option_error, state, today
from pledgewatch.cli.output import cell, print_json, progress, say, shorten, stdout
from pledgewatch.cli.query import print_trial
from pledgewatch.db import lock_pledges
from pledgewatch.errors import DuplicatePledgeError, InputError, ValidationError

app = typer.Typer(
    help="Log, list, show, edit, import and export pledges.",
    no_args_is_help=True,
)

# How each field is spelled on the command line, for error messages.
OPTION_NAMES = {
    "text": "TEXT",
    "actor": "--by",
    "made_on": "--made-on",
    "source_url": "--source-url",
    "source_name": "--source-name",
    "quote": "--quote",
    "reported_by": "--reported-by",
    "deadline": "--deadline",
    "tags": "--tag",
    "query": "--query",
    "notes": "--note",
    "by": "--user",
}

Actor = Annotated[str | None, typer.Option("--by", help="Who pledged: a person or a body.")]
MadeOn = Annotated[
    str | None, typer.Option("--made-on", help="When the pledge was made (YYYY-MM-DD).")
]
SourceUrl = Annotated[
    str | None, typer.Option("--source-url", help="Where it was reported (http(s) URL).")
]
SourceName = Annotated[str | None, typer.Option("--source-name", help="e.g. Reuters.")]
Quote = Annotated[str | None, typer.Option("--quote", help="The words as reported.")]
ReportedBy = Annotated[
    str | None, typer.Option("--reported-by", help="Who relayed it, if not first-hand.")
]
Deadline = Annotated[str | None, typer.Option("--deadline", help="Due date (YYYY-MM-DD).")]
Query = Annotated[
    str | None, typer.Option("--query", help="Search query for evidence (default: derived).")
]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="A lowercase tag; repeat for more.")]
Note = Annotated[str | None, typer.Option("--note", help="Notes for the newsroom.")]
User = Annotated[
    str | None,
    typer.Option("--user", help="Who is logging this (default: $PLEDGEWATCH_USER, OS user)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check it and show what its query finds in stored articles; write nothing.",
    ),
]


def _as_option_error(exc: ValidationError, *, editing: bool = False) -> InputError:
    return option_error(exc, {**OPTION_NAMES, "text": "--text"} if editing else OPTION_NAMES)


@app.command("add")
def add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The pledge, in plain words.")],
    actor: Actor = None,
    made_on: MadeOn = None,
    source_url: SourceUrl = None,
    source_name: SourceName = None,
    quote: Quote = None,
    reported_by: ReportedBy = None,
    deadline: Deadline = None,
    query: Query = None,
    tag: Tags = None,
    note: Note = None,
    force: Annotated[
        bool, typer.Option("--force", help="Log it even if the same pledge exists.")
    ] = False,
    user: User = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Log a pledge.

    Example: pledgewatch pledge add "China will not sell weapons to Russia"
    --by "Xi Jinping" --reported-by "Volodymyr Zelensky" --made-on 2024-06-13
    --source-url https://www.reuters.com/... --source-name Reuters --tag ukraine
    """
    raw: dict[str, Any] = {
        "text": text,
        "actor": actor,
        "made_on": made_on,
        "source_url": source_url,
        "source_name": source_name,
        "quote": quote,
        "reported_by": reported_by,
        "deadline": deadline,
        "query": query,
        "tags": list(tag or []),
        "notes": note,
    }
    try:
        data = pledges.validate(raw, today=today())
    except ValidationError as exc:
        raise _as_option_error(exc) from None
    by = current_user(user)
    database = state(ctx).database()
    if dry_run:
        with database.session(write=False) as session:
            if not force:
                existing = pledges.find_duplicate(session, data)
                if existing is not None:
                    raise DuplicatePledgeError(existing, data.actor)
            _show_dry_run(session, data, as_json, heading="would log")
        return
    # The pledge and the evidence found for it in stored articles are one
    # transaction: either both are stored, or neither and the error says why.
    with database.session() as session, progress("matching", "articles") as update:
        pledge = pledges.add_pledge(session, data, by=by, now=now(), force=force)
        found = evidence.rematch(session, now(), pledge_id=pledge.id, progress=update)
        document = pledges.pledge_to_dict(pledge)
    document["evidence_new"] = found
    if as_json:
        print_json(document)
    else:
        say(f"logged pledge #{document['id']}: {shorten(data.text, 70)} ({data.actor})")
        say(f"  {_found(found)} in stored articles")


def _show_dry_run(session: Any, data: pledges.PledgeData, as_json: bool, *, heading: str) -> None:
    query, derived = evidence.effective_query(data)
    trial = evidence.try_query(
        session,
        query,
        since=evidence.earliest_publication(data.made_on),
        actor=data.actor,
        pledge_text=data.text,
    )
    if as_json:
        print_json(
            {
                "dry_run": True,
                "pledge": pledges.export_row_of(data),
                "query": query,
                "query_derived": derived,
                "trial": trial.to_json(),
            }
        )
        return
    say(f"{heading}: {shorten(data.text, 70)} ({data.actor}); nothing was written")
    say(f"  query{' (derived)' if derived else ''}: {query}")
    print_trial(trial)


def _found(count: int) -> str:
    return f"{count} evidence item{'s' if count != 1 else ''} found"


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only pledges with this tag.")] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only actors whose name contains this.")
    ] = None,
    as_json: Json = False,
) -> None:
    """List pledges, newest first.

    Example: pledgewatch pledge list --status not_yet_rated --tag ukraine
    """
    database = state(ctx).database()
    with database.session(write=False) as session:
        rows = pledges.list_pledges(session, status=status, tag=tag, actor=actor)
        documents = [pledges.pledge_to_dict(p) for p in rows]
    if as_json:
        print_json(documents)
        return
    if not documents:
        say('no pledges match; log one with "pledgewatch pledge add"')
        return
    table = Table(show_lines=False, header_style="bold")
    for column in ("id", "made on", "actor", "pledge", "status", "deadline", "tags"):
        wraps = column in ("pledge", "actor", "tags")
        table.add_column(column, no_wrap=not wraps, overflow="fold")
    for doc in documents:
        table.add_row(
            cell(str(doc["id"])),
            cell(doc["made_on"]),
            cell(shorten(doc["actor"], 28)),
            cell(shorten(doc["text"], 70)),
            cell(doc["status"]),
            cell(doc["deadline"] or ""),
            cell(", ".join(doc["tags"])),
        )
    stdout.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge's id.")],
    as_json: Json = False,
) -> None:
    """Show one pledge: its fields, query and history.

    Example: pledgewatch pledge show 3
    """
    database = state(ctx).database()
    with database.session(write=False) as session:
        pledge = pledges.get_pledge(session, pledge_id)
        document = pledges.pledge_to_dict(pledge)
        query, derived = evidence.effective_query(pledge)
        document["effective_query"] = query
        document["query_derived"] = derived
        items = evidence.list_evidence(session, pledge_id=pledge_id)
        feeds = evidence.feeds_of(session, [item.article_id for item in items])
        document["evidence"] = [
            evidence.evidence_to_dict(item, feeds[item.article_id]) for item in items
        ]
        changes, revisions = pledges.history(session, pledge_id)
        document["history"] = [
            {
                "at": c.at.isoformat(),
                "by": c.by,
                "from": c.from_status,
                "to": c.to_status,
                "note": c.note,
            }
            for c in changes
        ]
        document["revisions"] = [
            {
                "at": r.at.isoformat(),
                "by": r.by,
                "field": r.field,
                "old": r.old_value,
                "new": r.new_value,
            }
            for r in revisions
        ]
    if as_json:
        print_json(document)
        return
    say(f"#{document['id']}  {document['text']}")
    for label, key in (
        ("actor", "actor"),
        ("reported by", "reported_by"),
        ("made on", "made_on"),
        ("deadline", "deadline"),
        ("status", "status"),
        ("source", "source_name"),
        ("source url", "source_url"),
        ("quote", "quote"),
        ("tags", "tags"),
        ("notes", "notes"),
        ("logged", "created_at"),
    ):
        value = document[key]
        if key == "tags":
            value = ", ".join(value)
        if key == "created_at":
            value = f"{value[:16].replace('T', ' ')} UTC by {document['created_by']}"
        if value:
            say(f"  {label + ':':<13}{value}")
    label = (
        "query (derived; refine it with pledge edit --query):"
        if document["query_derived"]
        else "query:"
    )
    say(f"  {label}")
    say(f"    {document['effective_query']}")
    say("history:")
    for item in document["history"]:
        moved = f"{item['from'] or '-'} -> {item['to']}" if item["from"] else f"{item['to']}"
        say(f"  {item['at'][:16].replace('T', ' ')}  {moved}  by {item['by']}: {item['note']}")
    for item in document["revisions"]:
        say(
            f"  {item['at'][:16].replace('T', ' ')}  edited {item['field']} by {item['by']}: "
            f"{shorten(item['old'] or '(empty)', 60)} -> {shorten(item['new'] or '(empty)', 60)}"
        )
    say(f"evidence: {len(document['evidence'])}")
    for review in ("pending", "confirmed", "rejected"):
        group = [e for e in document["evidence"] if e["review"] == review]
        if not group:
            continue
        say(f"  {review} ({len(group)}):")
        for item in group:
            article = item["article"]
            say(
                f"    #{item['id']}  {article['published_at'][:10]}  {item['stance']:<7} "
                f"{shorten(article['title'], 80)}"
            )
            say(f"          {shorten(item['snippet'], 110)}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge's id.")],
    text: Annotated[str | None, typer.Option("--text", help="New wording.")] = None,
    actor: Actor = None,
    made_on: MadeOn = None,
    source_url: SourceUrl = None,
    source_name: SourceName = None,
    quote: Quote = None,
    reported_by: ReportedBy = None,
    deadline: Deadline = None,
    query: Query = None,
    tag: Tags = None,
    note: Note = None,
    force: Annotated[
        bool, typer.Option("--force", help="Allow wording that repeats another pledge.")
    ] = False,
    user: User = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Change a pledge's fields; old values are kept in its history.

    An empty value clears an optional field; --tag replaces all tags.

    Example: pledgewatch pledge edit 3 --deadline 2025-06-30 --note "date per Reuters"
    """
    given = {
        "text": text,
        "actor": actor,
        "made_on": made_on,
        "source_url": source_url,
        "source_name": source_name,
        "quote": quote,
        "reported_by": reported_by,
        "deadline": deadline,
        "query": query,
        "tags": list(tag) if tag is not None else None,
        "notes": note,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    by = current_user(user)
    database = state(ctx).database()
    found = 0
    unmatched: list[int] = []
    try:
        if dry_run:
            with database.session(write=False) as session:
                current = pledges.get_pledge(session, pledge_id)
                after, _ = pledges.preview_edit(
                    session, current, changes, today=today(), force=force
                )
                _show_dry_run(session, after, as_json, heading=f"pledge #{pledge_id} would be")
            return
        with database.session() as session, progress("matching", "articles") as update:
            pledge, changed = pledges.edit_pledge(
                session, pledge_id, changes, by=by, now=now(), today=today(), force=force
            )
            if set(changed) & {"text", "actor", "query", "made_on"}:
                found = evidence.rematch(session, now(), pledge_id=pledge_id, progress=update)
                unmatched = evidence.unmatched_pending(session, pledge)
            document = pledges.pledge_to_dict(pledge)
    except ValidationError as exc:
        raise _as_option_error(exc, editing=True) from None
    if as_json:
        print_json(
            {**document, "changed": changed, "evidence_new": found, "pending_unmatched": unmatched}
        )
    elif changed:
        say(f"pledge #{pledge_id}: changed {', '.join(changed)}")
        if found:
            say(f"  {_found(found)} with the new wording")
        if unmatched:
            count = len(unmatched)
            ids = " ".join(str(i) for i in unmatched)
            say(
                f"  {count} pending evidence item{'s' if count != 1 else ''} no longer "
                f"match{'es' if count == 1 else ''} the query; to reject "
                f"{'it' if count == 1 else 'them'}: pledgewatch evidence reject {ids} "
                '--note "no longer matches the query"'
            )
    else:
        say(f"pledge #{pledge_id}: nothing changed")


@app.command("rederive")
def rederive(
    ctx: typer.Context,
    pledge_id: Annotated[
        int | None, typer.Argument(help="The pledge's id (or --all).", show_default=False)
    ] = None,
    all_pledges: Annotated[
        bool, typer.Option("--all", help="Every pledge whose query was derived.")
    ] = False,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Record the new queries and match them; else only show."),
    ] = False,
    user: User = None,
    as_json: Json = False,
) -> None:
    """Derive queries again with today's rules: show the old and the new query and what
    the new one would add or drop among stored articles; --apply records them.

    A derived query is recorded on its pledge, so a new rule never changes
    silently which evidence a pledge collects; this is how it changes openly.

    Example: pledgewatch pledge rederive --all, then pledgewatch pledge rederive 3 --apply
    """
    if (pledge_id is None) == (not all_pledges):
        raise InputError("give a pledge id or --all, e.g. pledgewatch pledge rederive 3")
    by = current_user(user) if apply else ""
    database = state(ctx).database()
    applied: dict[int, int] = {}
    if apply:
        with database.session() as session:
            lock_pledges(session, exclusive=True)
            found = evidence.rederivations(session, pledge_id)
            for item in found:
                pledge = pledges.get_pledge(session, item.pledge_id, for_update=True)
                pledges.store_derived_query(session, pledge, item.new, by=by, now=now())
                applied[item.pledge_id] = evidence.rematch(session, now(), pledge_id=item.pledge_id)
    else:
        with database.session(write=False) as session:
            found = evidence.rederivations(session, pledge_id)
    if as_json:
        print_json(
            [
                {**item.to_json(), "applied": apply, "evidence_new": applied.get(item.pledge_id)}
                for item in found
            ]
        )
        return
    if not found:
        say("every derived query is what today's rules derive; nothing to change")
        return
    for item in found:
        say(f"pledge #{item.pledge_id}:")
        say(f"  old: {item.old or '(none recorded)'}")
        say(f"  new: {item.new}")
        say(f"  among stored articles: {item.adds} more, {item.drops} fewer")
        for title in item.added:
            say(f"    + {shorten(title, 90)}")
        for title in item.dropped:
            say(f"    - {shorten(title, 90)}")
        if apply:
            say(f"  recorded; {_found(applied[item.pledge_id])}")
    if not apply:
        say("nothing was written; add --apply to record these queries")


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A CSV file with a header row, or JSON Lines.")],
    skip_existing: Annotated[
        bool,
        typer.Option("--skip-existing", help="Skip rows that repeat a pledge already logged."),
    ] = False,
    user: User = None,
    as_json: Json = False,
) -> None:
    """Import pledges: every row is checked first, and nothing is written if any is bad.

    Columns: text, actor, made_on, source_url (required), source_name, quote,
    reported_by, deadline, tags (separated by ;), query, notes.

    Example: pledgewatch pledge import examples/pledges.csv
    """
    by = current_user(user)
    database = state(ctx).database()
    # Like `add`, the pledges and the evidence found for them are one transaction.
    with database.session() as session, progress("matching", "articles") as update:
        result = pledges.import_pledges(
            session, path, by=by, now=now(), today=today(), skip_existing=skip_existing
        )
        found = (
            evidence.rematch(session, now(), pledge_ids=result.imported, progress=update)
            if result.imported
            else 0
        )
    if as_json:
        print_json(
            {
                "imported": result.imported,
                "skipped": [{"line": line, "existing_id": pid} for line, pid in result.skipped],
                "evidence_new": found,
            }
        )
        return
    count = len(result.imported)
    ids = f" (#{result.imported[0]}-#{result.imported[-1]})" if count else ""
    say(f"imported {count} pledge{'s' if count != 1 else ''} from {path}{ids}")
    if count:
        say(f"  {_found(found)} in stored articles")
    for line, pid in result.skipped:
        say(f"  skipped line {line}: already logged as pledge #{pid}")


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export every pledge as CSV or JSON Lines (the columns `import` reads).

    Example: pledgewatch pledge export --format jsonl --output pledges.jsonl
    """
    if fmt not in ("csv", "jsonl"):
        raise InputError(f'--format: "{fmt}" is not an export format; use csv or jsonl')
    database = state(ctx).database()
    with database.session(write=False) as session:
        rows = pledges.all_pledges(session)
        if output is None:
            pledges.export_pledges(rows, fmt, sys.stdout)
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = pledges.export_pledges(rows, fmt, handle)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"exported {count} pledges to {output}", file=sys.stderr)
