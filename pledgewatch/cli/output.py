"""Printing: JSON documents, tables and messages.

Everything printed passes through ``characters.printable`` (or, in JSON, is
written as escapes): text from feeds, files or people never reaches a terminal
as a raw escape sequence.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from pledgewatch.characters import printable

# Tables get room when piped (cron mail, files); a terminal keeps its own width.
stdout = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# json.dumps escapes C0 controls but writes DEL, C1 controls and lone
# surrogates as they are; these characters only occur inside JSON strings.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def json_text(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, indent=2, default=_default)
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
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def cell(text: str) -> Text:
    """Table text from feeds or people, shown as written: never read as rich markup."""
    return Text(printable(text))
