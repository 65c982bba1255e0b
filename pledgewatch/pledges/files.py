"""Pledges as files: import CSV (, or ;) and JSON Lines, export both.

May import: pledgewatch.characters, pledgewatch.db, pledgewatch.errors, pledgewatch.models,
pledgewatch.pledges.validation and .registry.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pledgewatch.characters import quoted
from pledgewatch.db import lock_pledges
from pledgewatch.errors import (
    ImportFileError,
    InputError,
)
from pledgewatch.models import (
    Pledge,
)
from pledgewatch.pledges.registry import export_row, find_duplicate, new_pledge
from pledgewatch.pledges.validation import (
    COLUMNS,
    MAX_IMPORT_BYTES,
    REQUIRED_COLUMNS,
    PledgeData,
    check_fields,
    check_person,
    normalise_key,
)

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
    pledges = [new_pledge(data, by=by, now=now) for _line, data in valid]
    session.add_all(pledges)
    session.flush()
    return ImportResult(imported=[p.id for p in pledges], skipped=skipped, warnings=warnings)


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
