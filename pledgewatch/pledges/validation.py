"""Validating a pledge: every field checked, and refused with its name.

Pure: plain values in, a PledgeData or ValidationErrors out.

May import: pledgewatch.characters, pledgewatch.errors, pledgewatch.feeds.urls,
pledgewatch.matching.query and .derive, pledgewatch.models (its vocabulary).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pledgewatch.characters import first_unsafe, quoted
from pledgewatch.errors import (
    InputError,
    QuerySyntaxError,
    ValidationError,
)
from pledgewatch.feeds.urls import http_url_problem
from pledgewatch.models import (
    MAX_ID,
    STATUS_VALUES,
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
    # Imported here, so code that lists pledges does not load the matching stack.
    from pledgewatch.matching.derive import derive_query
    from pledgewatch.matching.query import parse as parse_query

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


def check_status(status: str) -> str:
    value = status.strip().lower().replace("-", "_").replace(" ", "_")
    if value not in STATUS_VALUES:
        raise InputError(f'"{status}" is not a status; use one of {", ".join(STATUS_VALUES)}')
    return value


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
