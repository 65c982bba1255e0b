"""The pledge registry: validate, add, edit, list, show, import and export pledges.

Every function takes an open session and plain values (the caller gives the
clock and the person), and raises a pledgewatch error a journalist can act on.
Nothing is written unless everything given is valid.

Values at the edges are refused where they enter, with the field named: dates
from 1900-01-01 (a pledge cannot be made later than today, nor fall due after
2200-12-31), text that a database cannot store or a terminal cannot show
(lone surrogates, control characters), URLs that do not parse or need
escaping, names longer than their columns, ids beyond the id columns' range,
and import files larger than ``MAX_IMPORT_BYTES`` or nested beyond reason.

May import: pledgewatch.characters, pledgewatch.db, pledgewatch.errors,
pledgewatch.feeds.urls, pledgewatch.matching.query and .derive, pledgewatch.models.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pledgewatch.characters import first_unsafe, quoted
from pledgewatch.db import lock_pledges
from pledgewatch.errors import (
    DuplicatePledgeError,
    ImportFileError,
    InputError,
    NotFoundError,
    NothingToChange,
    QuerySyntaxError,
    ValidationError,
)
from pledgewatch.feeds.urls import http_url_problem
from pledgewatch.matching.derive import derive_query
from pledgewatch.matching.query import parse as parse_query
from pledgewatch.models import (
    MAX_ID,
    STATUS_VALUES,
    Pledge,
    PledgeRevision,
    PledgeTag,
    Status,
    StatusChange,
)

# The columns shared by `pledge import` and `pledge export`, in this order.
COLUMNS = (
    "text",
    "actor",
    "made_on",
    "source_url",
    "source_name",
    "quote",
    "reported_by",
    "deadline",
    "tags",
    "query",
    "notes",
)
REQUIRED_COLUMNS = ("text", "actor", "made_on", "source_url")

MAX_LENGTHS = {
    "text": 1000,
    "actor": 200,
    "reported_by": 200,
    "source_url": 2000,
    "source_name": 200,
    "quote": 5000,
    "query": 2000,
    "notes": 10000,
}
# Fields that may hold line breaks; every other field is one line.
MULTILINE = frozenset({"text", "quote", "notes", "query"})
MAX_PERSON = 100  # who logged, edited or reviewed: the *_by columns
EARLIEST = date(1900, 1, 1)
LATEST_DEADLINE = date(2200, 12, 31)
MAX_IMPORT_BYTES = 50_000_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
_TAG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class PledgeData:
    """A validated pledge, as a journalist gives it."""

    text: str
    actor: str
    made_on: date
    source_url: str
    source_name: str | None = None
    quote: str | None = None
    reported_by: str | None = None
    deadline: date | None = None
    tags: tuple[str, ...] = ()
    query: str | None = None
    notes: str | None = None


# -- normalising and validating --------------------------------------------------------------


def normalise_key(text: str) -> str:
    """Case, accents, punctuation and spacing folded: the identity of a pledge's words."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    folded = folded.replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def dedupe_key(actor: str, text: str) -> str:
    """The indexed identity of a pledge: a hash of its normalised actor and text."""
    digest = f"{normalise_key(actor)}\x1f{normalise_key(text)}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(digest).hexdigest()


def parse_date(field: str, value: Any) -> date:
    """A date as YYYY-MM-DD, between 1900-01-01 and 2200-12-31."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(
                field, f"must be a date as YYYY-MM-DD, not {type(value).__name__}"
            )
        text = str(value).strip() if not isinstance(value, str) else value.strip()
        if not _ISO_DATE.fullmatch(text):
            shown = quoted(text)
            raise ValidationError(field, f'"{shown}" is not a date; {_date_hint(text)}')
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationError(field, f'"{text}" is not a real calendar date') from None
    if day < EARLIEST:
        raise ValidationError(
            field, f"{day.isoformat()} is before 1900-01-01, the earliest date pledgewatch takes"
        )
    if day > LATEST_DEADLINE:
        raise ValidationError(
            field, f"{day.isoformat()} is after 2200-12-31, the latest date pledgewatch takes"
        )
    return day


_NUMERIC_DATE = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")


def _date_hint(text: str) -> str:
    """How to write a date given as 14/06/2024: the ISO form when only one reading
    is a real date, both when day and month could be either."""
    m = _NUMERIC_DATE.fullmatch(text)
    readings = []
    if m:
        first, second, year = (int(g) for g in m.groups())
        for day, month in ((first, second), (second, first)):
            try:
                readings.append(date(year, month, day).isoformat())
            except ValueError:
                continue
    readings = list(dict.fromkeys(readings))
    if len(readings) == 1:
        return f"write it as YYYY-MM-DD: {readings[0]}"
    if len(readings) == 2:
        return f"write it as YYYY-MM-DD: {readings[0]} (day first) or {readings[1]} (month first)"
    return "write it as YYYY-MM-DD, e.g. 2024-06-14"


def _optional_text(raw: Mapping[str, Any], field: str) -> str | None:
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    limit = MAX_LENGTHS.get(field)
    if limit and len(text) > limit:
        raise ValidationError(field, f"is {len(text):,} characters long; the limit is {limit:,}")
    problem = first_unsafe(text, multiline=field in MULTILINE)
    if problem is not None:
        raise ValidationError(field, problem)
    return text


def _required_text(raw: Mapping[str, Any], field: str) -> str:
    text = _optional_text(raw, field)
    if text is None:
        raise ValidationError(field, "is required")
    return text


def check_url(field: str, value: str) -> str:
    problem = http_url_problem(value)
    if problem is not None:
        detail = "" if "http(s)" in problem else f": it {problem}"
        raise ValidationError(
            field,
            f'"{quoted(value, 80)}" is not an absolute http(s) URL{detail}; '
            "e.g. https://www.reuters.com/...",
        )
    return value


def check_person(field: str, value: str) -> str:
    """A name of who logs, edits or reviews: one line, at most 100 characters."""
    name = value.strip()
    if not name:
        raise ValidationError(field, "is empty; say who is acting")
    if len(name) > MAX_PERSON:
        raise ValidationError(
            field, f"is {len(name):,} characters long; the limit is {MAX_PERSON:,}"
        )
    problem = first_unsafe(name, multiline=False)
    if problem is not None:
        raise ValidationError(field, problem)
    return name


def in_id_range(ident: int) -> bool:
    """Whether ``ident`` can be a row id at all (ids beyond the column's range are
    refused by the database with an error, not a miss)."""
    return 1 <= ident <= MAX_ID


def parse_tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValidationError("tags", "must be text separated by ';' or a list")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError("tags", f"{quoted(repr(item))} is not text")
        tag = item.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not _TAG.fullmatch(tag):
            suggestion = "-".join(re.findall(r"[a-z0-9]+", normalise_key(tag)))[:MAX_TAG_LENGTH]
            hint = f'; use "{suggestion}"' if suggestion else ""
            raise ValidationError(
                "tags",
                f'"{quoted(tag)}" is not a tag: use lowercase letters, digits and hyphens'
                f" (at most {MAX_TAG_LENGTH}){hint}",
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError("tags", f"{len(tags)} tags given; the limit is {MAX_TAGS}")
    return tuple(sorted(tags))


def validate(raw: Mapping[str, Any], *, today: date) -> PledgeData:
    """Check every field of one pledge; raise ValidationError on the first bad one."""
    data, errors = check_fields(raw, today=today)
    if errors:
        raise errors[0]
    assert data is not None
    return data


def check_fields(
    raw: Mapping[str, Any], *, today: date
) -> tuple[PledgeData | None, list[ValidationError]]:
    """Check every field of one pledge: the pledge, or every field's error."""
    errors: list[ValidationError] = []

    def checked(check: Any, *args: Any) -> Any:
        try:
            return check(*args)
        except ValidationError as exc:
            errors.append(exc)
            return None

    unknown = sorted(set(raw) - set(COLUMNS))
    if unknown:
        return None, [
            ValidationError(
                quoted(unknown[0]), f"is not a pledge field; known fields: {', '.join(COLUMNS)}"
            )
        ]
    text = checked(_required_text, raw, "text")
    actor = checked(_required_text, raw, "actor")
    made_on = None
    if raw.get("made_on") in (None, ""):
        errors.append(ValidationError("made_on", "is required"))
    else:
        made_on = checked(parse_date, "made_on", raw["made_on"])
    if made_on is not None and made_on > today:
        errors.append(
            ValidationError(
                "made_on",
                f"{made_on.isoformat()} is in the future (today is {today.isoformat()})",
            )
        )
    source = checked(_required_text, raw, "source_url")
    source_url = checked(check_url, "source_url", source) if source is not None else None
    deadline = None
    if raw.get("deadline") not in (None, ""):
        deadline = checked(parse_date, "deadline", raw["deadline"])
        if deadline is not None and made_on is not None and deadline < made_on:
            errors.append(
                ValidationError(
                    "deadline",
                    f"{deadline.isoformat()} is before the pledge was made ({made_on.isoformat()})",
                )
            )
    query = checked(_optional_text, raw, "query")
    if query is not None:
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            errors.append(ValidationError("query", str(exc)))
    elif text is not None and actor is not None and "query" not in {e.field for e in errors}:
        # A pledge without words has no query to find evidence by.
        checked(derive_query, text, actor)
    optional = {
        name: checked(_optional_text, raw, name)
        for name in ("source_name", "quote", "reported_by", "notes")
    }
    tags = checked(parse_tags, raw.get("tags"))
    if errors:
        return None, errors
    assert made_on is not None and source_url is not None
    return (
        PledgeData(
            text=text,
            actor=actor,
            made_on=made_on,
            source_url=source_url,
            source_name=optional["source_name"],
            quote=optional["quote"],
            reported_by=optional["reported_by"],
            deadline=deadline,
            tags=tags,
            query=query,
            notes=optional["notes"],
        ),
        [],
    )


def data_of(pledge: Pledge) -> PledgeData:
    return PledgeData(
        text=pledge.text,
        actor=pledge.actor,
        made_on=pledge.made_on,
        source_url=pledge.source_url,
        source_name=pledge.source_name,
        quote=pledge.quote,
        reported_by=pledge.reported_by,
        deadline=pledge.deadline,
        tags=tuple(pledge.tags),
        # A derived query is the pledge's, recorded; it is not what the journalist wrote.
        query=None if pledge.query_derived else pledge.query,
        notes=pledge.notes,
    )


def _field_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ";".join(value) if value else None
    return str(value)


# -- reading ---------------------------------------------------------------------------------


def get_pledge(session: Session, pledge_id: int, *, for_update: bool = False) -> Pledge:
    """One pledge; with ``for_update`` its row stays locked until the transaction
    ends, so changes to it (verdicts, edits) form one chain however many run at once."""
    pledge = None
    if in_id_range(pledge_id):
        # FOR NO KEY UPDATE: evidence rows may still be inserted for it meanwhile.
        lock = {"key_share": True} if for_update else None
        # populate_existing: the row as it is once the lock is ours, not as first read.
        pledge = session.get(Pledge, pledge_id, with_for_update=lock, populate_existing=for_update)
    if pledge is None:
        raise NotFoundError("pledge", f"#{pledge_id}")
    return pledge


def find_duplicate(session: Session, data: PledgeData, *, exclude: int | None = None) -> int | None:
    query = select(Pledge.id).where(
        Pledge.dedupe_key == dedupe_key(data.actor, data.text),
        Pledge.actor_key == normalise_key(data.actor),
        Pledge.text_key == normalise_key(data.text),
    )
    if exclude is not None:
        query = query.where(Pledge.id != exclude)
    return session.scalars(query.order_by(Pledge.id).limit(1)).first()


def list_pledges(
    session: Session,
    *,
    status: str | None = None,
    tag: str | None = None,
    actor: str | None = None,
) -> list[Pledge]:
    """Pledges newest first (by date made, then by id), filtered."""
    query = select(Pledge)
    if status is not None:
        query = query.where(Pledge.status == check_status(status))
    if tag is not None:
        query = query.where(
            Pledge.id.in_(select(PledgeTag.pledge_id).where(PledgeTag.tag == tag.strip().lower()))
        )
    if actor is not None and actor.strip():
        needle = "%" + actor.strip().lower().replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(func.lower(Pledge.actor).like(needle, escape="\\"))
    query = query.order_by(Pledge.made_on.desc(), Pledge.id.desc())
    return list(session.scalars(query))


def check_status(status: str) -> str:
    value = status.strip().lower().replace("-", "_").replace(" ", "_")
    if value not in STATUS_VALUES:
        raise InputError(f'"{status}" is not a status; use one of {", ".join(STATUS_VALUES)}')
    return value


def history(session: Session, pledge_id: int) -> tuple[list[StatusChange], list[PledgeRevision]]:
    changes = session.scalars(
        select(StatusChange).where(StatusChange.pledge_id == pledge_id).order_by(StatusChange.id)
    )
    revisions = session.scalars(
        select(PledgeRevision)
        .where(PledgeRevision.pledge_id == pledge_id)
        .order_by(PledgeRevision.id)
    )
    return list(changes), list(revisions)


# -- writing ---------------------------------------------------------------------------------


# Who a derived query is recorded by, in a pledge's history.
DERIVER = "pledgewatch"


def _new_pledge(data: PledgeData, *, by: str, now: datetime) -> Pledge:
    pledge = Pledge(
        text=data.text,
        actor=data.actor,
        reported_by=data.reported_by,
        made_on=data.made_on,
        source_url=data.source_url,
        source_name=data.source_name,
        quote=data.quote,
        deadline=data.deadline,
        query=data.query,
        query_derived=False,
        notes=data.notes,
        status=Status.NOT_YET_RATED.value,
        actor_key=normalise_key(data.actor),
        text_key=normalise_key(data.text),
        dedupe_key=dedupe_key(data.actor, data.text),
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )
    pledge.tag_rows = [PledgeTag(tag=tag) for tag in data.tags]
    pledge.status_changes = [
        StatusChange(
            from_status=None,
            to_status=Status.NOT_YET_RATED.value,
            at=now,
            by=by,
            note="pledge logged",
        )
    ]
    pledge.revisions = []
    if data.query is None:
        _record_derived(pledge, derive_query(data.text, data.actor), now=now)
    return pledge


def _record_derived(pledge: Pledge, query: str, *, now: datetime, by: str = DERIVER) -> None:
    """Store a derived query on the pledge, as a revision: a later derivation rule
    never changes silently which evidence the pledge collects."""
    pledge.revisions.append(
        PledgeRevision(at=now, by=by, field="query", old_value=pledge.query, new_value=query)
    )
    pledge.query = query
    pledge.query_derived = True


def store_derived_query(
    session: Session, pledge: Pledge, query: str, *, by: str, now: datetime
) -> None:
    """Replace a pledge's derived query with a new derivation (``pledge rederive``)."""
    by = check_person("by", by)
    session.add(
        PledgeRevision(
            pledge_id=pledge.id,
            at=now,
            by=by,
            field="query",
            old_value=pledge.query,
            new_value=query,
        )
    )
    pledge.query = query
    pledge.query_derived = True
    pledge.updated_at = now
    pledge.updated_by = by
    session.flush()


def add_pledge(
    session: Session, data: PledgeData, *, by: str, now: datetime, force: bool = False
) -> Pledge:
    """Log one pledge; refuse one that repeats an existing pledge unless ``force``.

    Holds the pledges lock, so identical pledges logged at once are one pledge
    and a sweep running meanwhile matches it (see ``evidence``).
    """
    by = check_person("by", by)
    lock_pledges(session, exclusive=True)
    if not force:
        existing = find_duplicate(session, data)
        if existing is not None:
            raise DuplicatePledgeError(existing, data.actor)
    pledge = _new_pledge(data, by=by, now=now)
    session.add(pledge)
    session.flush()
    return pledge


def preview_edit(
    session: Session,
    pledge: Pledge,
    changes: Mapping[str, Any],
    *,
    today: date,
    force: bool = False,
) -> tuple[PledgeData, list[str]]:
    """The pledge as ``changes`` would make it, and the fields that would change;
    the same checks as an edit, nothing written."""
    if not changes:
        raise NothingToChange
    before = data_of(pledge)
    merged: dict[str, Any] = {
        key: value for key, value in asdict(before).items() if value not in (None, ())
    }
    merged.update(changes)
    after = validate(merged, today=today)
    changed = [
        f.name for f in fields(PledgeData) if getattr(before, f.name) != getattr(after, f.name)
    ]
    if changed and ("text" in changed or "actor" in changed) and not force:
        existing = find_duplicate(session, after, exclude=pledge.id)
        if existing is not None:
            raise DuplicatePledgeError(existing, after.actor)
    return after, changed


def edit_pledge(
    session: Session,
    pledge_id: int,
    changes: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    today: date,
    force: bool = False,
) -> tuple[Pledge, list[str]]:
    """Change some fields; every changed field's old value is kept as a revision.

    An empty string clears an optional field. Returns the pledge and the names of
    the fields that changed (empty when the values were already so).
    """
    by = check_person("by", by)
    lock_pledges(session, exclusive=True)
    pledge = get_pledge(session, pledge_id, for_update=True)
    before = data_of(pledge)
    after, changed = preview_edit(session, pledge, changes, today=today, force=force)
    if not changed:
        return pledge, []
    stored_query = pledge.query
    for name in changed:
        old = stored_query if name == "query" else _field_text(getattr(before, name))
        session.add(
            PledgeRevision(
                pledge_id=pledge.id,
                at=now,
                by=by,
                field=name,
                old_value=old,
                new_value=_field_text(getattr(after, name)),
            )
        )
        if name == "tags":
            pledge.tag_rows = [PledgeTag(tag=tag) for tag in after.tags]
        else:
            setattr(pledge, name, getattr(after, name))
    if after.query is not None:
        pledge.query_derived = False
    elif {"text", "actor", "query"} & set(changed):
        # Derived from the new wording (or instead of the query the journalist
        # cleared), and recorded as the pledge's.
        derived = derive_query(after.text, after.actor)
        if derived != pledge.query or not pledge.query_derived:
            session.add(
                PledgeRevision(
                    pledge_id=pledge.id,
                    at=now,
                    by=DERIVER,
                    field="query",
                    old_value=pledge.query,
                    new_value=derived,
                )
            )
            pledge.query = derived
            pledge.query_derived = True
    pledge.actor_key = normalise_key(after.actor)
    pledge.text_key = normalise_key(after.text)
    pledge.dedupe_key = dedupe_key(after.actor, after.text)
    pledge.updated_at = now
    pledge.updated_by = by
    session.flush()
    return pledge, changed


# -- import and export -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    imported: list[int]
    skipped: list[tuple[int, int]]  # (line, id of the existing pledge)
    warnings: list[str] = field(default_factory=list)


Rows = list[tuple[int, dict[str, Any]]]
Problems = list[tuple[int, str]]


def read_rows(path: Path) -> tuple[Rows, Problems, list[str]]:
    """Rows of a CSV (header row) or JSON Lines file, each with its line number, and
    the lines that are not rows at all (bad JSON, wrong cell counts).

    A file that cannot be read as a whole (too large, not UTF-8, a bad header)
    raises; bad lines are returned, so that they are listed with the rows that
    fail validation.
    """
    try:
        with path.open("rb") as handle:
            # Read one byte past the cap: /dev/zero or a mistaken disk image must
            # not be read without end.
            raw = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_IMPORT_BYTES:
        raise InputError(
            f"{path} is larger than {MAX_IMPORT_BYTES // 1_000_000} MB; an import file of "
            "pledges is far smaller: check the file, or split it"
        )
    if path.suffix.lower() in (".xlsx", ".xls", ".ods", ".numbers") or raw[:4] == b"PK\x03\x04":
        raise InputError(
            f"{path} is a spreadsheet, not CSV: in Excel or LibreOffice choose "
            '"Save as" > "CSV UTF-8" and import that file'
        )
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            str(path), [(raw[: exc.start].count(b"\n") + 1, "not UTF-8 text; save it as UTF-8")]
        ) from None
    if _looks_like_jsonl(path, content):
        rows, problems = _read_jsonl(path, content)
        return rows, problems, []
    return _read_csv(path, content)


def _looks_like_jsonl(path: Path, content: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return True
    if suffix == ".csv":
        return False
    return content.lstrip().startswith("{")


def _read_jsonl(path: Path, content: str) -> tuple[Rows, Problems]:
    rows: Rows = []
    problems: Problems = []
    # Lines end at "\n" only: U+2028 and friends may sit inside a JSON string.
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except RecursionError:
            problems.append((number, "not a pledge: the JSON is nested too deeply"))
            continue
        except ValueError:
            # Python refuses integers of thousands of digits with a plain ValueError.
            problems.append((number, "not a pledge: a number of more than 4,300 digits"))
            continue
        if not isinstance(value, dict):
            problems.append((number, "is not a JSON object"))
            continue
        rows.append((number, value))
    return rows, problems


def _listed(names: list[str], most: int = 5) -> str:
    shown = ", ".join(f'"{quoted(name)}"' for name in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


# Header names people give a column, by their normalised form ("Made On",
# "Source URL", "made-on" all normalise to the column's name itself).
HEADER_NAMES = {
    "pledge": "text",
    "promise": "text",
    "by": "actor",
    "who": "actor",
    "speaker": "actor",
    "date": "made_on",
    "made": "made_on",
    "url": "source_url",
    "link": "source_url",
    "source": "source_name",
    "outlet": "source_name",
    "due": "deadline",
    "due_date": "deadline",
    "tag": "tags",
    "note": "notes",
}


def header_column(name: str) -> str:
    """The column a header names: case, spaces, hyphens and accents folded."""
    folded = normalise_key(name).replace(" ", "_")
    return HEADER_NAMES.get(folded, folded)


def _delimiter(content: str) -> str:
    """ "," or ";" (as European spreadsheets save CSV), read off the header row."""
    first = content.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _read_csv(path: Path, content: str) -> tuple[Rows, Problems, list[str]]:
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_delimiter(content))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            str(path), [(1, "the file is empty; expected a header row")]
        ) from None
    except csv.Error as exc:
        raise ImportFileError(str(path), [(1, f"not valid CSV: {exc}")]) from None
    names = [header_column(name) for name in header]
    counts = Counter(name for name in names if name in COLUMNS)
    extra = [
        header[i].strip() or f"column {i + 1}" for i, n in enumerate(names) if n not in COLUMNS
    ]
    missing = [name for name in REQUIRED_COLUMNS if name not in counts]
    duplicated = sorted(name for name, n in counts.items() if n > 1)
    warnings = []
    if extra and not missing:
        warnings.append(f"{path}: ignored column {_listed(extra)} (not a pledge field)")
    if missing or duplicated:
        parts = []
        if extra:
            parts.append(f"unknown column {_listed(extra)}")
        if missing:
            parts.append(f"missing column {_listed(missing)}")
        if duplicated:
            parts.append(f"repeated column {_listed(duplicated)}")
        raise ImportFileError(
            str(path),
            [(1, "; ".join(parts) + f" (the header row may use: {', '.join(COLUMNS)})")],
        )
    rows: Rows = []
    problems: Problems = []
    line_end = reader.line_num
    while True:
        start = line_end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((start, f"not valid CSV: {exc}"))
            break
        line_end = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(names) and not any(c.strip() for c in record[len(names) :]):
            record = record[: len(names)]  # a spreadsheet's trailing empty cells
        if len(record) != len(names):
            problems.append(
                (start, f"has {len(record)} cells; the header has {len(names)} columns")
            )
            continue
        rows.append(
            (
                start,
                {name: value for name, value in zip(names, record, strict=True) if name in COLUMNS},
            )
        )
    return rows, problems, warnings


def import_pledges(
    session: Session,
    path: Path,
    *,
    by: str,
    now: datetime,
    today: date,
    skip_existing: bool = False,
) -> ImportResult:
    """Validate every row first; write all of them or, if any row is bad, none."""
    by = check_person("by", by)
    rows, problems, warnings = read_rows(path)
    lock_pledges(session, exclusive=True)
    valid: list[tuple[int, PledgeData]] = []
    seen: dict[tuple[str, str], int] = {}
    skipped: list[tuple[int, int]] = []
    duplicates: list[tuple[int, int]] = []
    for line, raw in rows:
        data, errors = check_fields(raw, today=today)
        if data is None:
            # Every bad field of the row, so one pass over the file fixes it.
            problems.append((line, "; ".join(str(exc) for exc in errors)))
            continue
        key = (normalise_key(data.actor), normalise_key(data.text))
        if key in seen:
            problems.append((line, f"repeats the pledge on line {seen[key]}"))
            continue
        seen[key] = line
        existing = find_duplicate(session, data)
        if existing is not None:
            if skip_existing:
                skipped.append((line, existing))
                continue
            problems.append((line, f"pledge #{existing} already records this pledge"))
            duplicates.append((line, existing))
            continue
        valid.append((line, data))
    if problems:
        raise ImportFileError(str(path), sorted(problems), duplicates=duplicates)
    pledges = [_new_pledge(data, by=by, now=now) for _line, data in valid]
    session.add_all(pledges)
    session.flush()
    return ImportResult(imported=[p.id for p in pledges], skipped=skipped, warnings=warnings)


def export_row(pledge: Pledge) -> dict[str, Any]:
    """One pledge as the import/export columns (tags as a list)."""
    return export_row_of(data_of(pledge))


def export_row_of(data: PledgeData) -> dict[str, Any]:
    """Pledge values, stored or not, as the import/export columns (tags as a list)."""
    return {
        "text": data.text,
        "actor": data.actor,
        "made_on": data.made_on.isoformat(),
        "source_url": data.source_url,
        "source_name": data.source_name,
        "quote": data.quote,
        "reported_by": data.reported_by,
        "deadline": data.deadline.isoformat() if data.deadline else None,
        "tags": list(data.tags),
        "query": data.query,
        "notes": data.notes,
    }


def export_pledges(pledges: Iterable[Pledge], fmt: str, out: io.TextIOBase | Any) -> int:
    """Write pledges as CSV (header row) or JSON Lines; returns the count."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for pledge in pledges:
            row = export_row(pledge)
            row["tags"] = ";".join(row["tags"])
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    elif fmt == "jsonl":
        for pledge in pledges:
            out.write(json.dumps(export_row(pledge), ensure_ascii=False) + "\n")
            count += 1
    else:
        raise InputError(f'"{fmt}" is not an export format; use csv or jsonl')
    return count


def all_pledges(session: Session) -> Sequence[Pledge]:
    return list(session.scalars(select(Pledge).order_by(Pledge.id)))


def pledge_to_dict(pledge: Pledge) -> dict[str, Any]:
    """The JSON shape of one pledge."""
    row = export_row(pledge)
    return {
        "id": pledge.id,
        **row,
        "status": pledge.status,
        "created_at": pledge.created_at.isoformat(),
        "created_by": pledge.created_by,
        "updated_at": pledge.updated_at.isoformat(),
        "updated_by": pledge.updated_by,
    }
