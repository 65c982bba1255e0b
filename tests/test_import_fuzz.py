"""Property-based: the importer, pledge dates and --since on whatever they may be given.

An import file can hold anything: bytes that are not text, text that is not
CSV, JSON whose values are huge integers, NaN, nested lists or lone
surrogates. Whatever it holds, importing it either stores pledges that pass
the validators again, field for field, or raises a pledgewatch input error
and stores nothing. Dates and --since starts are always within the range the
rest of pledgewatch can compute with, or refused.

The database is one SQLite file for the module (hypothesis runs many examples
in one test call, so function-scoped fixtures cannot give one per example);
every example starts from empty tables.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pledgewatch.cli import main
from pledgewatch.cli.parsing import since_option
from pledgewatch.db import Database
from pledgewatch.errors import InputError, ValidationError
from pledgewatch.models import Base
from pledgewatch.pledges import (
    COLUMNS,
    ImportResult,
    all_pledges,
    data_of,
    export_row,
    import_pledges,
    parse_date,
    validate,
)

TODAY = date.today()
NOW = datetime.now(UTC)
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


@dataclass
class Store:
    database: Database
    folder: Path
    config: Path

    def empty(self) -> None:
        with self.database.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())

    def row_counts(self) -> dict[str, int]:
        with self.database.session(write=False) as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'fuzz.db'}"
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    database = Database(url)
    database.migrate()
    yield Store(database, folder, config)
    database.dispose()


def import_file(store: Store, content: bytes, suffix: str) -> ImportResult | None:
    """Import ``content``; check the promise either way; None when it was refused."""
    store.empty()
    path = store.folder / f"rows{suffix}"
    path.write_bytes(content)
    try:
        with store.database.session() as session:
            result = import_pledges(session, path, by="fuzz", now=NOW, today=TODAY)
    except InputError as exc:
        assert str(exc).strip(), "an error says what is wrong"
        assert not any(store.row_counts().values()), "a refused import wrote rows"
        return None
    assert isinstance(result, ImportResult)
    with store.database.session(write=False) as session:
        stored = all_pledges(session)
        assert [p.id for p in stored] == result.imported
        for pledge in stored:
            # What was stored is what the validators make of its own export.
            assert validate(export_row(pledge), today=TODAY) == data_of(pledge)
    return result


# -- strategies ------------------------------------------------------------------------------

# Every code point, lone surrogates and controls included (hypothesis leaves
# surrogates out unless told).
ANY_CHAR = st.characters(exclude_categories=())
NASTY = st.sampled_from(
    [
        "\x00",
        "\x1b[31m",
        "\x07",
        "\ud800",
        "\udcff",
        "\ufffe",
        "\u2028",
        "\r\n",
        "\t",
        "\x85",
        "\u0301",
    ]
)
ANY_TEXT = st.lists(st.one_of(ANY_CHAR, NASTY), max_size=30).map("".join)


@dataclass(frozen=True)
class Digits:
    """An integer written out in JSON with this many digits (json.dumps refuses
    integers past Python's 4,300-digit limit, and so does json.loads)."""

    count: int


def dumps(value: Any) -> str:
    """JSON text for ``value``, lone surrogates as \\u escapes, NaN and Infinity as
    Python's json writes them."""
    if isinstance(value, Digits):
        return "9" * value.count
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.sampled_from([Digits(4000), Digits(4301), Digits(5000)]),
    st.floats(allow_nan=True, allow_infinity=True),
    ANY_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)

# Values that pass, so that some rows get through and are stored.
GOOD = {
    # Numbered, so that the rows of one file are seldom the same pledge.
    "text": st.builds(
        "{} ({})".format,
        st.sampled_from(
            [
                "Ethiopia will finish the Tana dam by 2030",
                "China will not sell weapons to Russia",
                "  The UK will halve small boat crossings  ",
            ]
        ),
        st.integers(0, 10**6),
    ),
    "actor": st.sampled_from(["Abiy Ahmed", "Xi Jinping", "Rishi Sunak", "Ólafur Ragnar"]),
    "made_on": st.dates(min_value=date(1895, 1, 1), max_value=TODAY + timedelta(days=3)).map(
        date.isoformat
    ),
    "source_url": st.sampled_from(
        ["https://example.org/source", "http://news.example.org/a?b=1#c", "https://e.org/%22"]
    ),
    "source_name": st.sampled_from(["Reuters", "", "BBC News"]),
    "quote": st.sampled_from(["We will finish it.", "line one\nline two", ""]),
    "reported_by": st.sampled_from(["Volodymyr Zelensky", ""]),
    "deadline": st.dates(min_value=date(1990, 1, 1), max_value=date(2205, 1, 1)).map(
        date.isoformat
    ),
    "tags": st.lists(
        st.sampled_from(["ukraine", "small-boats", "dams", "Big Tag", ""]), max_size=4
    ),
    "query": st.sampled_from(["@china AND @russia", "dam* OR reservoir", "", "(unclosed"]),
    "notes": st.sampled_from(["relayed at the G7", ""]),
}


# A row with a few fields made arbitrary (or left out), the others good: a row
# made wholly of arbitrary values would be refused at its first field every time.
BROKEN = st.sets(st.sampled_from(COLUMNS), max_size=3)


@st.composite
def json_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A pledge row: some fields arbitrary JSON or left out; now and then a key
    that is no column."""
    broken = draw(BROKEN)
    row: dict[str, Any] = {}
    for column in COLUMNS:
        if column not in broken:
            row[column] = draw(GOOD[column])
        elif draw(st.booleans()):
            row[column] = draw(JSON_VALUES)
    if draw(st.integers(0, 9)) == 0:
        row[draw(ANY_TEXT)] = draw(JSON_VALUES)
    return row


@st.composite
def csv_rows(draw: st.DrawFn) -> list[str]:
    broken = draw(BROKEN)
    cells = []
    for column in COLUMNS:
        if column in broken:
            cells.append(draw(ANY_TEXT))
        else:
            value = draw(GOOD[column])
            cells.append(";".join(value) if isinstance(value, list) else value)
    return cells


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


# -- the importer ----------------------------------------------------------------------------


@given(content=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".jsonl", ".txt"]))
def test_import_of_arbitrary_bytes_stores_valid_pledges_or_refuses_and_writes_nothing(
    store: Store, content: bytes, suffix: str
) -> None:
    import_file(store, content, suffix)


HEADER = ",".join(COLUMNS) + "\n"


@given(
    content=ANY_TEXT,
    prefix=st.sampled_from(["", HEADER, "text,actor,made_on,source_url\n", "{"]),
    suffix=st.sampled_from([".csv", ".jsonl", ".txt"]),
)
def test_import_of_arbitrary_text_stores_valid_pledges_or_refuses_and_writes_nothing(
    store: Store, content: str, prefix: str, suffix: str
) -> None:
    import_file(store, (prefix + content).encode("utf-8", "surrogatepass"), suffix)


@given(rows=st.lists(json_rows(), min_size=1, max_size=4))
def test_jsonl_rows_of_arbitrary_json_values_import_validly_or_not_at_all(
    store: Store, rows: list[dict[str, Any]]
) -> None:
    content = "\n".join(dumps(row) for row in rows) + "\n"
    result = import_file(store, content.encode("utf-8"), ".jsonl")
    if result is not None:
        assert len(result.imported) == len(rows)


@given(rows=st.lists(csv_rows(), min_size=1, max_size=4))
def test_csv_rows_of_arbitrary_text_import_validly_or_not_at_all(
    store: Store, rows: list[list[str]]
) -> None:
    import_file(store, csv_bytes(rows), ".csv")


def spreadsheet_bytes(rows: list[list[str]], extra: str) -> bytes:
    """Rows as European Excel saves them: ";" between cells, headers as people
    write them ("Made On"), and a column pledgewatch does not know."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([*(c.replace("_", " ").title() for c in COLUMNS), extra])
    writer.writerows([*row, "x"] for row in rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@given(rows=st.lists(csv_rows(), min_size=1, max_size=4), extra=ANY_TEXT)
def test_a_spreadsheets_rows_import_validly_or_not_at_all(
    store: Store, rows: list[list[str]], extra: str
) -> None:
    import_file(store, spreadsheet_bytes(rows, extra), ".csv")


def test_the_row_strategies_reach_both_outcomes(store: Store) -> None:
    # Properties that only ever see refused files would prove little.
    seen: set[bool] = set()

    @settings(max_examples=200, database=None, derandomize=True)
    @given(rows=st.lists(json_rows(), min_size=1, max_size=2))
    def record(rows: list[dict[str, Any]]) -> None:
        content = "\n".join(dumps(row) for row in rows) + "\n"
        seen.add(import_file(store, content.encode("utf-8"), ".jsonl") is not None)

    record()
    assert seen == {True, False}


@settings(max_examples=max(20, settings.default.max_examples // 5))
@given(rows=st.lists(json_rows(), min_size=1, max_size=3))
def test_pledge_import_prints_a_head_line_and_numbered_problems_or_imports(
    store: Store, rows: list[dict[str, Any]]
) -> None:
    store.empty()
    path = store.folder / "cli.jsonl"
    path.write_text("\n".join(dumps(row) for row in rows) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(
            ["--config", str(store.config), "pledge", "import", str(path), "--user", "fuzz"]
        )
    text = err.getvalue()
    assert "Traceback" not in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", text), (
        "raw control on stderr"
    )
    if code == 0:
        assert store.row_counts()["pledges"] == len(rows)
        return
    assert code == 2, text
    assert not any(store.row_counts().values())
    lines = text.splitlines()
    assert lines[0].startswith("error: ")
    head = re.search(r": (\d+) bad rows?, nothing imported$", lines[0])
    if head is None:
        assert len(lines) == 1, text
    else:
        # The head counts the bad rows, and each is one line naming its line number.
        assert len(lines) == 1 + int(head.group(1)), text
        assert all(re.match(r"  line \d+: ", line) for line in lines[1:]), text


# -- dates and --since -----------------------------------------------------------------------

DATE_LIKE = st.one_of(
    st.dates().map(date.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.from_regex(r"\A\s*\d{1,5}-\d{1,3}-\d{1,3}\s*\Z"),
)
ANY_VALUE = st.one_of(
    DATE_LIKE,
    ANY_TEXT,
    st.dates(),
    st.datetimes(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.sampled_from([Digits(5000)]),
)


@given(value=ANY_VALUE)
def test_parse_date_gives_a_date_from_1900_to_2200_or_a_validation_error(value: Any) -> None:
    try:
        day = parse_date("made_on", value)
    except ValidationError as exc:
        assert exc.field == "made_on"
        # The command line prints an error line by line: a message is one line.
        assert len(str(exc).splitlines()) == 1, str(exc)
        return
    assert isinstance(day, date) and not isinstance(day, datetime)
    assert EARLIEST <= day <= LATEST


@given(
    made_on=ANY_VALUE, deadline=st.one_of(st.none(), ANY_VALUE), today=st.dates(EARLIEST, LATEST)
)
def test_validate_keeps_dates_in_range_and_in_order_or_raises_a_validation_error(
    made_on: Any, deadline: Any, today: date
) -> None:
    raw = {
        "text": "Ethiopia will finish the Tana dam by 2030",
        "actor": "Abiy Ahmed",
        "made_on": made_on,
        "source_url": "https://example.org/source",
        "deadline": deadline,
    }
    try:
        data = validate(raw, today=today)
    except ValidationError as exc:
        assert exc.field in ("made_on", "deadline")
        return
    assert EARLIEST <= data.made_on <= today
    if data.deadline is not None:
        assert data.made_on <= data.deadline <= LATEST


SPANS = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 10**6), st.integers(0, 10**30)), st.sampled_from("smhdwSMHDWxy")
    ),
    min_size=1,
    max_size=3,
).map(lambda parts: "".join(f"{n}{unit}" for n, unit in parts))


# The report's periods: months, minutes and the bare "m" that could be either.
PERIODS = st.from_regex(
    r"\A\s*[0-9]{1,6}\s*(mo|mos|month|months|min|mins|minute|minutes|m|M|MO)\s*\Z"
)


@given(
    text=st.one_of(SPANS, DATE_LIKE, PERIODS, ANY_TEXT),
    now=st.one_of(
        st.just(NOW),
        st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 31)).map(
            lambda d: d.replace(tzinfo=UTC)
        ),
    ),
)
def test_since_gives_a_start_from_1900_to_now_or_an_input_error(text: str, now: datetime) -> None:
    try:
        start = since_option(text, now)
    except InputError as exc:
        message = str(exc)
        assert message.startswith("--since: ")
        assert len(message.splitlines()) == 1 and "\x1b" not in message, message
        return
    assert datetime(1900, 1, 1, tzinfo=UTC) <= start <= now


def test_nan_and_infinity_in_jsonl_are_refused_not_stored(store: Store) -> None:
    # json.loads takes NaN and Infinity; neither is a date, a text or a tag.
    for value in (math.nan, math.inf, -math.inf):
        for column in ("made_on", "deadline", "text", "tags"):
            row = {
                "text": "Ethiopia will finish the Tana dam by 2030",
                "actor": "Abiy Ahmed",
                "made_on": "2024-06-13",
                "source_url": "https://example.org/source",
                column: value,
            }
            assert import_file(store, (dumps(row) + "\n").encode(), ".jsonl") is None, column
