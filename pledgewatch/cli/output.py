"""Printing: JSON documents, tables and messages.

Everything printed passes through ``characters.printable`` (or, in JSON, is
written as escapes): text from feeds, files or people never reaches a terminal
as a raw escape sequence.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.text import Text

from pledgewatch.characters import printable

# Tables get room when piped (cron mail, files); a terminal keeps its own width,
# and $COLUMNS says what it is where it cannot be asked.
PIPED_WIDTH = 160

# A table shows this many rows unless --limit says otherwise; --json, --csv and
# --nl give every row, for scripts.
PAGE = 50


def width() -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if sys.stdout.isatty() else PIPED_WIDTH


class _Stdout:
    """A console on stdout made when printing, so $COLUMNS and a captured stdout
    are seen as they are then."""

    def print(self, *objects: Any) -> None:
        from rich.console import Console

        Console(highlight=False, width=width()).print(*objects)


stdout = _Stdout()


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# json.dumps escapes C0 controls but writes DEL, C1 controls and lone
# surrogates as they are; these characters only occur inside JSON strings.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def json_text(document: Any, *, one_line: bool = False) -> str:
    text = json.dumps(
        document, ensure_ascii=False, indent=None if one_line else 2, default=_default
    )
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json_text(document) + "\n")


def say(message: str) -> None:
    """A plain line on stdout, never interpreted as markup."""
    print(printable(message))


def shorten(text: str, width: int) -> str:
    text = " ".join(printable(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


@contextmanager
def progress(label: str, unit: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (stderr); None under cron, where only results print."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
    )
    stderr = Console(stderr=True, highlight=False)
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def cell(text: str) -> Text:
    """Table text from feeds or people, shown as written: never read as rich markup."""
    from rich.text import Text

    return Text(printable(text))


# -- listings: a table, or every row as JSON, CSV or JSON lines -------------------------------


def listing_format(as_json: bool, as_csv: bool, as_nl: bool) -> str:
    chosen = [name for name, on in (("json", as_json), ("csv", as_csv), ("nl", as_nl)) if on]
    if len(chosen) > 1:
        from pledgewatch.errors import InputError

        raise InputError(f"give one of --json, --csv and --nl, not {' and '.join(chosen)}")
    return chosen[0] if chosen else "table"


def flat(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """One CSV row from a JSON object: nested objects as prefix_key, lists joined by ';'."""
    row: dict[str, Any] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            row.update(flat(value, f"{name}_"))
        elif isinstance(value, list):
            row[name] = ";".join(str(item) for item in value)
        elif value is None:
            row[name] = ""
        else:
            row[name] = value
    return row


def print_rows(documents: list[dict[str, Any]], fmt: str) -> None:
    """Every row as one JSON document, CSV with a header row, or JSON lines."""
    if fmt == "json":
        print_json(documents)
        return
    if fmt == "nl":
        for document in documents:
            sys.stdout.write(json_text(document, one_line=True) + "\n")
        return
    rows = [flat(document) for document in documents]
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: printable_cell(row.get(key, "")) for key in columns})


def printable_cell(value: Any) -> Any:
    return printable(value) if isinstance(value, str) else value


def more_line(shown: int, total: int, noun: str, *, exact: bool = True) -> None:
    """Under a page of a table: how many more there are, and how to see them
    (``exact`` False: more than ``total``, where counting stopped)."""
    if total > shown:
        of = f"{total:,}" if exact else f"more than {total:,}"
        say(
            f"showing {shown:,} of {of} {noun}; --limit {min(total, 10 * max(shown, 1)):,} "
            "shows more, --csv or --json all of them"
        )


def listing_table(
    columns: list[tuple[str, int]], rows: list[list[str]], *, right: tuple[str, ...] = ()
) -> Any:
    """A table that reads at any width, one line a row: columns with a ratio of 0
    keep their values whole (ids, statuses, dates, counts); the others share what
    is left in that ratio and end in "…" when they must."""
    from rich.table import Table

    table = Table(header_style="bold", box=None, padding=(0, 1), pad_edge=False, expand=True)
    for index, (header, ratio) in enumerate(columns):
        justify: Literal["left", "right"] = "right" if header in right else "left"
        if ratio:
            table.add_column(
                header, no_wrap=True, overflow="ellipsis", ratio=ratio, min_width=4, justify=justify
            )
        else:
            widest = max([len(header), *(len(row[index]) for row in rows)])
            table.add_column(header, no_wrap=True, width=widest, justify=justify)
    for row in rows:
        table.add_row(*(cell(" ".join(value.split())) for value in row))
    return table
