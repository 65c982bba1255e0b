"""`pledgewatch pledge ...`: the pledge registry commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pledgewatch.cli.context import option_error, options, state
from pledgewatch.cli.output import (
    PAGE,
    listing_format,
    listing_table,
    more_line,
    print_json,
    print_rows,
    progress,
    say,
    shorten,
    stdout,
)
from pledgewatch.cli.query import print_trial
from pledgewatch.errors import InputError, ValidationError

if TYPE_CHECKING:
    from rich.table import Table

    from pledgewatch.views import DryRun, PledgeDetail, PledgeView

app = typer.Typer(
    rich_markup_mode=None,
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
    "reason": "--reason",
    "limit": "--limit",
    "format": "--format",
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
# The same options as `add` takes them, where they are required.
RequiredActor = Annotated[
    str | None, typer.Option("--by", help="Who pledged: a person or a body. [required]")
]
RequiredMadeOn = Annotated[
    str | None,
    typer.Option("--made-on", help="When the pledge was made (YYYY-MM-DD). [required]"),
]
RequiredSourceUrl = Annotated[
    str | None,
    typer.Option("--source-url", help="Where it was reported (http(s) URL). [required]"),
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
Csv = Annotated[bool, typer.Option("--csv", help="Print every row as CSV.")]
Nl = Annotated[bool, typer.Option("--nl", help="Print every row as a line of JSON.")]
Limit = Annotated[
    int | None,
    typer.Option("--limit", help=f"Rows to show (a table shows {PAGE} by default).", min=0),
]
DryRunOption = Annotated[
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
    actor: RequiredActor = None,
    made_on: RequiredMadeOn = None,
    source_url: RequiredSourceUrl = None,
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
    dry_run: DryRunOption = False,
    as_json: Json = False,
) -> None:
    """Log a pledge (--by, --made-on and --source-url are required).

    Example: pledgewatch pledge add "China will not sell weapons to Russia"
    --by "Xi Jinping" --reported-by "Volodymyr Zelensky" --made-on 2024-06-13
    --source-url https://www.reuters.com/... --source-name Reuters --tag ukraine
    """
    fields: dict[str, Any] = {
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
    desk = state(ctx).desk(user)
    if dry_run:
        with options(OPTION_NAMES):
            trial = desk.preview_pledge(fields, force=force)
        _show_dry_run(trial, as_json, heading="would log")
        return
    # The pledge and the evidence found for it in stored articles are one
    # transaction: either both are stored, or neither and the error says why.
    with options(OPTION_NAMES), progress("matching", "articles") as update:
        added = desk.add_pledge(fields, force=force, progress=update)
    if as_json:
        print_json(added.to_json())
        return
    pledge = added.pledge
    say(f"logged pledge #{pledge.id}: {shorten(pledge.text, 70)} ({pledge.actor})")
    say(f"  {_found(added.evidence_new)} in stored articles")
    _matching_line(added.matching)
    for other in added.similar:
        say(
            f"  note: pledge #{other.id} by {shorten(other.actor, 40)} reads much the same: "
            f"{shorten(other.text, 60)}"
        )


def _show_dry_run(trial: DryRun, as_json: bool, *, heading: str) -> None:
    if as_json:
        print_json(trial.to_json())
        return
    say(
        f"{heading}: {shorten(trial.pledge['text'], 70)} ({trial.pledge['actor']}); "
        "nothing was written"
    )
    say(f"  query{' (derived)' if trial.query_derived else ''}: {trial.query}")
    print_trial(trial.trial)


def _matching_line(progress: tuple[int, int] | None, indent: str = "  ") -> None:
    """The rest of a large store, matched by the sweeps (or `rematch`) in the background."""
    if progress is not None:
        done, total = progress
        say(
            f"{indent}matched against the newest {done:,} of {total:,} stored articles; "
            "the sweeps match the rest in the background (or run `pledgewatch rematch`)"
        )


def _found(count: int) -> str:
    return f"{count} evidence item{'s' if count != 1 else ''} found"


def pledge_table(rows: list[PledgeView]) -> Table:
    """Pledges at any width: who and what give way first, never the id or the status."""
    columns = [
        ("id", 0),
        ("made on", 0),
        ("status", 0),
        ("deadline", 0),
        ("pledge", 4),
        ("tags", 1),
    ]
    values = [
        [
            str(p.id),
            p.made_on.isoformat(),
            p.status,
            p.deadline.isoformat() if p.deadline else "",
            f"{p.actor}: {p.text}",
            ", ".join(p.tags),
        ]
        for p in rows
    ]
    return listing_table(columns, values, right=("id",))  # type: ignore[no-any-return]


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only pledges with this tag.")] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Only actors whose name contains this (any accents)."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search", help="Only pledges with all these words (text, actor, quote, notes)."
        ),
    ] = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="Archived pledges instead of current ones.")
    ] = False,
    limit: Limit = None,
    as_json: Json = False,
    as_csv: Csv = False,
    as_nl: Nl = False,
) -> None:
    """List pledges, newest first.

    Example: pledgewatch pledge list --search "weapons russia" --status not_yet_rated
    """
    fmt = listing_format(as_json, as_csv, as_nl)
    shown = limit if limit is not None or fmt != "table" else PAGE
    desk = state(ctx).desk()
    with options({"status": "--status", "limit": "--limit"}):
        page = desk.pledges(
            status=status, tag=tag, actor=actor, search=search, archived=archived, limit=shown
        )
    if fmt != "table":
        print_rows(page.to_json(), fmt)
        return
    if not page.items:
        filtered = any(v for v in (status, tag, actor, search))
        if filtered:
            say("no pledges match these filters; pledgewatch pledge list shows them all")
        elif archived:
            say("no pledges are archived")
        else:
            say('no pledges yet; log one with "pledgewatch pledge add"')
        return
    stdout.print(pledge_table(list(page.items)))
    more_line(len(page.items), page.total, "pledges")


@app.command("show")
def show(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge's id.")],
    as_json: Json = False,
) -> None:
    """Show one pledge: its fields, query, evidence and one timeline of its story.

    Example: pledgewatch pledge show 3
    """
    detail = state(ctx).desk().pledge(pledge_id)
    if as_json:
        print_json(detail.to_json())
        return
    _print_detail(detail)


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


def _print_detail(detail: PledgeDetail) -> None:
    p = detail.pledge
    say(f"#{p.id}  {p.text}")
    values = (
        ("actor", p.actor),
        ("reported by", p.reported_by),
        ("made on", p.made_on.isoformat()),
        ("deadline", p.deadline.isoformat() if p.deadline else None),
        ("status", p.status),
        (
            "archived",
            f"{_when(p.archived_at)} UTC by {p.archived_by}: {p.archive_reason}"
            if p.archived_at
            else None,
        ),
        ("source", p.source_name),
        ("source url", p.source_url),
        ("quote", p.quote),
        ("tags", ", ".join(p.tags)),
        ("notes", p.notes),
        ("logged", f"{_when(p.created_at)} UTC by {p.created_by}"),
    )
    for label, value in values:
        if value:
            say(f"  {label + ':':<13}{value}")
    label = (
        "query (derived; refine it with pledge edit --query):" if detail.query_derived else "query:"
    )
    say(f"  {label}")
    say(f"    {detail.effective_query}")
    _matching_line(detail.matching, "  ")
    say("timeline:")
    for entry in detail.timeline:
        line = f"  {_when(entry.at)}  {shorten(entry.summary, 90)}"
        if entry.by:
            line += f"  by {entry.by}"
        say(line)
        if entry.note:
            say(f"                    note: {shorten(entry.note, 100)}")
        if entry.cites:
            say(f"                    cites evidence {', '.join(f'#{i}' for i in entry.cites)}")
        if entry.source_url and entry.kind in ("verdict", "logged"):
            say(f"                    source: {entry.source_url}")
    say(f"evidence: {len(detail.evidence)}")
    for review in ("pending", "confirmed", "rejected"):
        group = [e for e in detail.evidence if e.review == review]
        if not group:
            continue
        say(f"  {review} ({len(group)}):")
        for item in group:
            say(
                f"    #{item.id}  {item.article.published_at:%Y-%m-%d}  {item.stance:<7} "
                f"{shorten(item.article.title, 80)}"
            )
            say(f"          {shorten(item.snippet, 110)}")


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
    dry_run: DryRunOption = False,
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
    desk = state(ctx).desk(user)
    try:
        if dry_run:
            trial = desk.preview_edit(pledge_id, changes, force=force)
            _show_dry_run(trial, as_json, heading=f"pledge #{pledge_id} would be")
            return
        with progress("matching", "articles") as update:
            edited = desk.edit_pledge(pledge_id, changes, force=force, progress=update)
    except ValidationError as exc:
        raise _as_option_error(exc, editing=True) from None
    if as_json:
        print_json(edited.to_json())
        return
    if not edited.changed:
        say(f"pledge #{pledge_id}: nothing changed")
        return
    say(f"pledge #{pledge_id}: changed {', '.join(edited.changed)}")
    if edited.evidence_new:
        say(f"  {_found(edited.evidence_new)} with the new wording")
    _matching_line(edited.matching)
    if edited.pending_unmatched:
        count = len(edited.pending_unmatched)
        ids = " ".join(str(i) for i in edited.pending_unmatched)
        say(
            f"  {count} pending evidence item{'s' if count != 1 else ''} no longer "
            f"match{'es' if count == 1 else ''} the query; to reject "
            f"{'it' if count == 1 else 'them'}: pledgewatch evidence reject {ids} "
            '--note "no longer matches the query"'
        )


@app.command("archive")
def archive(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge's id.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, for the record. [required]")
    ] = None,
    user: User = None,
    as_json: Json = False,
) -> None:
    """Archive a pledge: it leaves the status board and the sweep; its verdicts,
    evidence and reviews are kept, and "pledge list --archived" still shows it.

    Example: pledgewatch pledge archive 7 --reason "logged twice; see #6"
    """
    with options(OPTION_NAMES):
        done = state(ctx).desk(user).archive_pledge(pledge_id, reason or "")
    if as_json:
        print_json(done.to_json())
        return
    say(f"archived pledge #{pledge_id}: {shorten(done.pledge.text, 70)}")
    if done.pending_left:
        say(f"  its {done.pending_left} pending evidence items stay, unreviewed, in its history")


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
    desk = state(ctx).desk(user if apply else None)
    try:
        found = desk.rederive(pledge_id, apply=apply)
    except ValidationError as exc:
        raise InputError(f"{exc.reason} (edit it with pledge edit --query)") from None
    if as_json:
        print_json(
            [{**item.to_json(), "applied": apply, "evidence_new": new} for item, new in found]
        )
        return
    if not found:
        say("every derived query is what today's rules derive; nothing to change")
        return
    for item, new in found:
        say(f"pledge #{item.pledge_id}:")
        say(f"  old: {item.old or '(none recorded)'}")
        say(f"  new: {item.new}")
        say(f"  among stored articles: {item.adds} more, {item.drops} fewer")
        for title in item.added:
            say(f"    + {shorten(title, 90)}")
        for title in item.dropped:
            say(f"    - {shorten(title, 90)}")
        if new is not None:
            say(f"  recorded; {_found(new)}")
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
    reported_by, deadline, tags (separated by ;), query, notes. Headers are
    matched loosely ("Made On", "Source URL"), other columns are ignored with a
    warning, and a CSV may be separated by , or ; (as European Excel saves it).
    From Excel (.xlsx): save as "CSV UTF-8" first.

    Example: pledgewatch pledge import examples/pledges.csv
    """
    desk = state(ctx).desk(user)
    # Like `add`, the pledges and the evidence found for them are one transaction.
    with progress("matching", "articles") as update:
        result = desk.import_pledges(path, skip_existing=skip_existing, progress=update)
    if as_json:
        print_json(result.to_json())
        return
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    count = len(result.imported)
    ids = f" (#{result.imported[0]}-#{result.imported[-1]})" if count else ""
    say(f"imported {count} pledge{'s' if count != 1 else ''} from {path}{ids}")
    if count:
        say(f"  {_found(result.evidence_new)} in stored articles")
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

    This is the pledges only, not a backup: statuses, verdicts, evidence and
    reviews are not in it (back up the database itself; see the README).

    Example: pledgewatch pledge export --format jsonl --output pledges.jsonl
    """
    if fmt.strip().lower() not in ("csv", "jsonl"):
        raise InputError(f'--format: "{fmt}" is not an export format; use csv or jsonl')
    desk = state(ctx).desk()
    with options({"format": "--format"}):
        if output is None:
            desk.export_pledges(fmt, sys.stdout)
            return
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = desk.export_pledges(fmt, handle)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"exported {count} pledges to {output}", file=sys.stderr)
