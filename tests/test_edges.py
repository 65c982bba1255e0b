"""Bad input at the edges, on SQLite and PostgreSQL: one line, the right exit code, nothing written.

Every family of bad value a journalist (or a wrong file) can hand the command
line: dates out of range, ids beyond the id columns, files that are not pledges,
control characters, URLs that do not parse, names longer than their columns,
queries nested without end, and text that could break out of the HTML element
a ClaimReview export is pasted into. Each case asserts what the user sees: the
message, the exit code (2 for bad input), that stderr is exactly that message
with no traceback, and that every table holds the rows it held before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import html5lib
import pytest
from sqlalchemy import create_engine, select

from pledgewatch.models import Base
from tests.conftest import ROOT, Cli, Result

ESC = "\x1b[31m"
BEL = "\x07"


# -- helpers ---------------------------------------------------------------------------------


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every pledgewatch table, in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@contextmanager
def unchanged(url: str) -> Iterator[None]:
    """Asserts that the block leaves every table's rows as they were."""
    before = snapshot(url)
    yield
    after = snapshot(url)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"tables changed: {changed}"


def one_line_error(result: Result, code: int = 2) -> str:
    """The one line on stderr of a command that failed with ``code``."""
    assert result.code == code, f"exit {result.code}, expected {code}; stderr: {result.err!r}"
    assert "Traceback" not in result.err, result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {result.err[:2000]!r}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def add_args(text: str = "Ethiopia will finish the Tana dam by 2030", *extra: str) -> list[str]:
    return [
        "pledge",
        "add",
        text,
        "--by",
        "Abiy Ahmed",
        "--made-on",
        "2024-06-13",
        "--source-url",
        "https://example.org/source",
        *extra,
    ]


def today() -> date:
    return max(date.today(), datetime.now(UTC).date())


def run_process(config: Path, *args: str | bytes, env: dict[str, Any] | None = None) -> Result:
    """The CLI in a real process (argv bytes, /dev/zero), killed if it hangs."""
    done = subprocess.run(
        [sys.executable, "-m", "pledgewatch", "--config", str(config), *args],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    return Result(
        done.returncode,
        done.stdout.decode("utf-8", "backslashreplace"),
        done.stderr.decode("utf-8", "backslashreplace"),
    )


@pytest.fixture
def logged(cli: Cli) -> Cli:
    """The CLI with one pledge, #1, so that "unchanged" has rows to compare."""
    result = cli(*add_args())
    assert result.code == 0, result.err
    return cli


def evidence_ids(cli: Cli, pledge_id: int | None = None) -> list[int]:
    args = ["evidence", "list", "--json"]
    if pledge_id is not None:
        args += ["--pledge", str(pledge_id)]
    result = cli(*args)
    assert result.code == 0, result.err
    return [item["id"] for item in json.loads(result.out)]


# -- 1. dates --------------------------------------------------------------------------------

BAD_DATES = [
    (
        "--made-on",
        "0001-01-01",
        "0001-01-01 is before 1900-01-01, the earliest date pledgewatch takes",
    ),
    (
        "--made-on",
        "1899-12-31",
        "1899-12-31 is before 1900-01-01, the earliest date pledgewatch takes",
    ),
    ("--made-on", "future", "{future} is in the future (today is {today})"),
    (
        "--deadline",
        "2201-01-01",
        "2201-01-01 is after 2200-12-31, the latest date pledgewatch takes",
    ),
    (
        "--deadline",
        "9999-12-31",
        "9999-12-31 is after 2200-12-31, the latest date pledgewatch takes",
    ),
    (
        "--made-on",
        "２０２４-０１-０１",
        '"２０２４-０１-０１" is not a date; write it as YYYY-MM-DD, e.g. 2024-06-14',
    ),
    ("--made-on", "2024-02-30", '"2024-02-30" is not a real calendar date'),
    ("--deadline", "2024-02-30", '"2024-02-30" is not a real calendar date'),
]


def _bad_date(value: str, reason: str) -> tuple[str, str]:
    future = (today() + timedelta(days=2)).isoformat()
    if value == "future":
        value = future
    return value, reason.format(future=future, today=today().isoformat())


@pytest.mark.parametrize(("option", "value", "reason"), BAD_DATES, ids=lambda v: str(v)[:12])
def test_dates_out_of_range_are_refused_and_sweeps_still_run(
    newsroom: Cli, database_url: str, option: str, value: str, reason: str
) -> None:
    value, reason = _bad_date(value, reason)
    with unchanged(database_url):
        added = newsroom(*add_args("Ethiopia will finish the Tana dam", option, value))
        edited = newsroom("pledge", "edit", "1", option, value)
    assert one_line_error(added) == f"error: {option}: {reason}"
    assert one_line_error(edited) == f"error: {option}: {reason}"
    # Nothing of the refused date reached the database, so matching still works.
    swept = newsroom("sweep")
    assert swept.code == 0, swept.err
    rematched = newsroom("rematch")
    assert rematched.code == 0, rematched.err


def _date_rows() -> list[tuple[dict[str, str], str]]:
    """One import row for each bad date, and the problem reported for it."""
    rows = []
    for n, (option, value, reason) in enumerate(BAD_DATES):
        value, reason = _bad_date(value, reason)
        row = {
            "text": f"Ethiopia will finish dam number {n}",
            "actor": "Abiy Ahmed",
            "made_on": "2024-06-13",
            "source_url": "https://example.org/source",
            "deadline": "",
        }
        field = option.removeprefix("--").replace("-", "_")
        row[field] = value
        rows.append((row, f"{field}: {reason}"))
    return rows


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_bad_dates_in_an_import_file_are_listed_by_line_and_nothing_is_imported(
    newsroom: Cli, database_url: str, tmp_path: Path, fmt: str
) -> None:
    rows = _date_rows()
    path = tmp_path / f"dates.{fmt}"
    if fmt == "csv":
        lines = ["text,actor,made_on,source_url,deadline"]
        lines += [",".join(row.values()) for row, _ in rows]
        first = 2
    else:
        lines = [json.dumps(row, ensure_ascii=False) for row, _ in rows]
        first = 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with unchanged(database_url):
        result = newsroom("pledge", "import", str(path))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"error: {path}: {len(rows)} bad rows, nothing imported",
        *(f"  line {first + i}: {problem}" for i, (_, problem) in enumerate(rows)),
    ]


SINCE_DATES = {
    "9999-12-31": '"9999-12-31" is in the future; give a date up to today',
    "1899-12-31": '"1899-12-31" reaches back before 1900-01-01; give a later start',
    "0001-01-01": '"0001-01-01" reaches back before 1900-01-01; give a later start',
}


@pytest.mark.parametrize(
    "value",
    ["999999d", "1000000000d", "99999999999999999999d", "9999-12-31", "1899-12-31", "0001-01-01"],
)
@pytest.mark.parametrize("command", [("evidence", "list"), ("report",)], ids=" ".join)
def test_since_out_of_range_is_one_line_naming_since(
    cli: Cli, command: tuple[str, ...], value: str
) -> None:
    line = one_line_error(cli(*command, "--since", value))
    assert line.startswith("error: --since: ")
    if value in SINCE_DATES:
        assert line == f"error: --since: {SINCE_DATES[value]}"
    else:
        assert f'"{value}"' in line


# -- 2. ids beyond the id columns ------------------------------------------------------------

IDS = [2**31, 2**63, 2**64, 10**30, 0, -1]


@pytest.mark.parametrize("ident", IDS, ids=str)
def test_ids_beyond_the_id_columns_are_no_such_record(
    desk: Cli, database_url: str, ident: int
) -> None:
    n = str(ident)
    no_pledge = f'error: no pledge #{n}; see "pledgewatch pledge list"'
    no_evidence = f'error: no evidence #{n}; see "pledgewatch evidence list"'
    # "--" lets a negative id through as an argument rather than an option.
    expected = {
        ("pledge", "show", "--", n): no_pledge,
        ("pledge", "edit", "--note", "why", "--", n): no_pledge,
        ("rematch", "--", n): no_pledge,
        ("verdict", "--note", "why", "--", n, "stalled"): no_pledge,
        ("evidence", "confirm", "--", n): no_evidence,
        ("evidence", "reject", "--", n): no_evidence,
        ("verdict", "1", "kept", "--note", "why", "--evidence", n): no_evidence,
    }
    wrong = []
    with unchanged(database_url):
        for args, message in expected.items():
            result = desk(*args)
            lines = result.err.splitlines()
            if (result.code, lines) != (2, [message]):
                wrong.append((" ".join(args), result.code, result.err[-500:]))
        listed = desk("evidence", "list", "--json", "--pledge", n)
    assert not wrong, "\n".join(map(repr, wrong))
    assert (listed.code, json.loads(listed.out), listed.err) == (0, [], "")
    assert evidence_ids(desk), "the desk has evidence, so an empty list means a miss"


def test_a_negative_id_without_dashes_is_a_one_line_usage_error(cli: Cli) -> None:
    line = one_line_error(cli("pledge", "show", "-1"))
    assert line == 'error: no such option: -1 (see "pledgewatch pledge show --help")'


# -- 3. JSON Lines that are not pledges ------------------------------------------------------

GOOD = {
    "text": "Ethiopia will finish the Tana dam",
    "actor": "Abiy Ahmed",
    "made_on": "2024-06-13",
    "source_url": "https://example.org/source",
}
HUGE = "9" * 5000


def _huge_int_lines() -> tuple[list[str], list[str]]:
    lines, problems = [], []
    for field in (
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
    ):
        row = json.dumps({**GOOD, "text": f"Pledge about {field}", field: 0})
        lines.append(row.replace(f'"{field}": 0', f'"{field}": {HUGE}'))
        problems.append("not a pledge: a number of more than 4,300 digits")
    return lines, problems


def _text_field_lines(char: str) -> tuple[list[str], list[str]]:
    lines, problems = [], []
    for field in ("text", "actor", "source_name", "quote", "reported_by", "notes"):
        value = f"Tana {char} dam" if field != "text" else f"Ethiopia will {char} finish"
        lines.append(json.dumps({**GOOD, "text": f"Pledge {field}", field: value}))
        problems.append(f"{field}: ")
    return lines, problems


JSONL_CASES: dict[str, tuple[list[str], list[str]]] = {
    "integer-of-5000-digits": _huge_int_lines(),
    "nested-lists": (
        ["[" * 100_000 + "]" * 100_000],
        ["not a pledge: the JSON is nested too deeply"],
    ),
    "nested-objects": (
        ['{"a":' * 100_000 + "1" + "}" * 100_000],
        ["not a pledge: the JSON is nested too deeply"],
    ),
    "not-objects": (
        ["[]", '"text"', "1", "null", "true", "[" + json.dumps(GOOD) + "]"],
        ["is not a JSON object"] * 6,
    ),
    # json.dumps writes these as \\u escapes, so the lines are valid JSON.
    # json.dumps writes these as \\u escapes, so each line is still valid JSON.
    "lone-surrogates": _text_field_lines("\ud800"),
    "esc": _text_field_lines(ESC),
    "bel": _text_field_lines(BEL),
}


@pytest.mark.parametrize("case", list(JSONL_CASES))
def test_jsonl_rows_that_are_not_pledges_are_listed_by_line_and_nothing_is_imported(
    newsroom: Cli, database_url: str, tmp_path: Path, case: str
) -> None:
    lines, problems = JSONL_CASES[case]
    path = tmp_path / "bad.jsonl"
    # A good row first: a file is refused whole, not row by row.
    text = "\n".join([json.dumps(GOOD), *lines]) + "\n"
    path.write_text(text, encoding="utf-8")
    with unchanged(database_url):
        result = newsroom("pledge", "import", str(path))
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    err = result.err.splitlines()
    assert (
        err[0]
        == f"error: {path}: {len(lines)} bad row{'s' if len(lines) > 1 else ''}, nothing imported"
    )
    assert len(err) == 1 + len(lines), result.err[:3000]
    for number, (line, problem) in enumerate(zip(err[1:], problems, strict=True), start=2):
        assert line.startswith(f"  line {number}: {problem}"), line[:300]
        assert len(line) < 400, "a problem is one short line, not the row echoed back"
        assert "\x1b" not in line and "\x07" not in line


def test_jsonl_with_bytes_that_are_not_utf8_names_the_line(
    newsroom: Cli, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b'\n{"text": "caf\xe9 \xff\xfe", "actor": "A"}\n')
    with unchanged(database_url):
        result = newsroom("pledge", "import", str(path))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"error: {path}: 1 bad row, nothing imported",
        "  line 2: not UTF-8 text; save it as UTF-8",
    ]


def test_every_bad_row_is_listed_when_json_and_field_errors_mix(
    logged: Cli, database_url: str, tmp_path: Path
) -> None:
    # The README promises every bad row listed by its line; a row that is not
    # JSON must not hide a row whose date is wrong.
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(GOOD),
                "{not json",
                json.dumps({**GOOD, "text": "Another pledge", "made_on": "1899-12-31"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with unchanged(database_url):
        result = logged("pledge", "import", str(path))
    assert result.code == 2
    err = result.err.splitlines()
    assert err[0] == f"error: {path}: 2 bad rows, nothing imported", result.err
    assert [line.split(":")[0] for line in err[1:]] == ["  line 2", "  line 3"]


def test_a_file_of_100000_bad_lines_lists_20_and_counts_the_rest(
    logged: Cli, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "flood.jsonl"
    path.write_text("[]\n" * 100_000, encoding="utf-8")
    with unchanged(database_url):
        result = logged("pledge", "import", str(path))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"error: {path}: 100000 bad rows, nothing imported",
        *(f"  line {n}: is not a JSON object" for n in range(1, 21)),
        "  ... and 99,980 more bad rows",
    ]


@pytest.mark.parametrize("source", ["dev-zero", "sparse-60mb"])
def test_an_import_file_over_50mb_is_refused_without_reading_it_all(
    logged: Cli, config_path: Path, database_url: str, tmp_path: Path, source: str
) -> None:
    if source == "dev-zero":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "disk.img"
        with path.open("wb") as handle:
            handle.truncate(60_000_000)  # sparse: no disk space, 60 MB to read
    with unchanged(database_url):
        # A real process with a timeout: reading /dev/zero to its end never returns.
        result = run_process(config_path, "pledge", "import", str(path))
    line = one_line_error(result)
    assert line == (
        f"error: {path} is larger than 50 MB; an import file of pledges is far smaller: "
        "check the file, or split it"
    )


# -- 4. text that a terminal or a database cannot take ----------------------------------------

ADD_TEXT_OPTIONS = ["TEXT", "--by", "--source-name", "--note", "--quote", "--reported-by"]


def _add_with(option: str, value: str) -> list[str]:
    if option == "TEXT":
        return add_args(f"Ethiopia will {value} finish the dam")
    return add_args("Ethiopia will finish a second dam", option, value)


@pytest.mark.parametrize("option", ADD_TEXT_OPTIONS)
@pytest.mark.parametrize("char", [ESC, BEL], ids=["esc", "bel"])
def test_control_characters_in_pledge_add_are_refused_naming_the_option(
    logged: Cli, database_url: str, option: str, char: str
) -> None:
    with unchanged(database_url):
        line = one_line_error(logged(*_add_with(option, f"A{char}B")))
    assert (
        line == f"error: {option}: contains the control character U+{ord(char[0]):04X}; remove it"
    )


@pytest.mark.parametrize("char", [ESC, BEL], ids=["esc", "bel"])
def test_a_tag_with_a_control_character_is_echoed_escaped(
    logged: Cli, database_url: str, char: str
) -> None:
    with unchanged(database_url):
        line = one_line_error(
            logged(*add_args("Ethiopia will finish a dam", "--tag", f"dam{char}"))
        )
    shown = char.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert line.startswith(f'error: --tag: "dam{shown}" is not a tag: ')
    assert "\x1b" not in line and "\x07" not in line


@pytest.mark.parametrize(
    "option", ["--text", "--by", "--source-name", "--note", "--quote", "--tag"]
)
def test_control_characters_in_pledge_edit_are_refused_naming_the_option(
    logged: Cli, database_url: str, option: str
) -> None:
    value = "dam\x1b[31m" if option == "--tag" else f"Ethiopia will {ESC} finish"
    with unchanged(database_url):
        line = one_line_error(logged("pledge", "edit", "1", option, value))
    assert line.startswith(f"error: {option}: ")
    assert "\x1b" not in line


def test_control_characters_in_reviews_and_verdicts_are_refused_naming_the_option(
    desk: Cli, database_url: str
) -> None:
    item = evidence_ids(desk, 1)[0]
    control = f"C {ESC}"
    cases = {
        ("verdict", "1", "stalled", "--note", control): "--note",
        ("verdict", "1", "stalled", "--note", "why", "--by", control): "--by",
        ("evidence", "confirm", str(item), "--note", control): "--note",
        ("evidence", "confirm", str(item), "--by", control): "--by",
        ("evidence", "reject", str(item), "--note", control): "--note",
    }
    wrong = []
    with unchanged(database_url):
        for args, option in cases.items():
            result = desk(*args)
            expected = f"error: {option}: contains the control character U+001B; remove it"
            if (result.code, result.err.splitlines()) != (2, [expected]):
                wrong.append((args[:2], option, result.code, result.err))
    assert not wrong, "\n".join(map(repr, wrong))


@pytest.mark.parametrize("where", ["TEXT", "--source-name"])
def test_an_argument_that_is_not_utf8_is_refused_in_a_real_process(
    logged: Cli, config_path: Path, database_url: str, where: str
) -> None:
    args: list[str | bytes] = list(add_args("Ethiopia will finish another dam"))
    if where == "TEXT":
        args[2] = b"\xff\xfe bad"
        position, shown = 5, "\\udcff\\udcfe bad"
    else:
        args += ["--source-name", b"Reuters \xc3"]
        position, shown = len(args) + 2, "Reuters \\udcc3"
    with unchanged(database_url):
        result = run_process(config_path, *args)
    assert one_line_error(result) == (
        f'error: argument {position} ("{shown}") is not valid UTF-8 text '
        "(check the encoding of the terminal or the file)"
    )


def test_pledgewatch_user_that_is_not_utf8_is_refused_naming_the_variable(
    logged: Cli, config_path: Path, database_url: str
) -> None:
    env = dict(os.environb)
    env[b"PLEDGEWATCH_USER"] = b"mar\xeda"
    with unchanged(database_url):
        result = run_process(config_path, *add_args("Ethiopia will finish a dam"), env=env)
    assert one_line_error(result) == (
        "error: $PLEDGEWATCH_USER: is not valid UTF-8 text "
        "(check the encoding of the terminal or the file)"
    )


def test_list_status_and_show_print_no_escape_sequence_a_user_tried_to_store(
    logged: Cli,
) -> None:
    # Every field a user can type is refused with ESC in it, so nothing printed
    # afterwards can carry one.
    for option in ADD_TEXT_OPTIONS:
        assert logged(*_add_with(option, f"A{ESC}B")).code == 2
    for option in ("--text", "--by", "--note", "--quote", "--source-name", "--reported-by"):
        assert logged("pledge", "edit", "1", option, f"A{ESC}B").code == 2
    for command in (("pledge", "list"), ("status",), ("pledge", "show", "1")):
        for extra in ((), ("--json",)):
            result = logged(*command, *extra)
            assert result.code == 0, result.err
            assert "\x1b" not in result.out + result.err, command


def test_text_stored_before_the_validators_is_shown_escaped(logged: Cli, database_url: str) -> None:
    # A row written by an older pledgewatch, or straight into the database.
    engine = create_engine(database_url)
    with engine.begin() as conn:
        table = Base.metadata.tables["pledges"]
        conn.execute(
            table.update().values(
                text=f"Ethiopia {ESC}will{BEL} finish the dam", actor=f"Abiy {ESC}Ahmed", notes=ESC
            )
        )
    engine.dispose()
    for command in (("pledge", "list"), ("status",), ("pledge", "show", "1")):
        for extra in ((), ("--json",)):
            result = logged(*command, *extra)
            assert result.code == 0, result.err
            assert "\x1b" not in result.out and "\x07" not in result.out, command
            assert "Ethiopia" in result.out


LINE_BREAKS = {"line-feed": "\n", "line-separator": "\u2028", "paragraph-separator": "\u2029"}


@pytest.mark.parametrize("brk", list(LINE_BREAKS.values()), ids=list(LINE_BREAKS))
def test_values_with_line_breaks_are_echoed_on_one_line(
    logged: Cli, database_url: str, tmp_path: Path, brk: str
) -> None:
    # An echoed value is shown in quotes; a line break inside it must not start
    # a second line of the message (terminals and log readers break there).
    csv_path = tmp_path / "breaks.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("text,actor,made_on,source_url\n")
        handle.write(f'Ethiopia will finish a dam,Abiy Ahmed,"2024{brk}06-13",https://e.org/\n')
    jsonl_path = tmp_path / "breaks.jsonl"
    jsonl_path.write_text(json.dumps({**GOOD, f"made{brk}on": "2024-06-13"}) + "\n")
    one_line = [
        [
            *("pledge", "add", "Ethiopia will finish a dam", "--by", "Abiy Ahmed"),
            *("--made-on", f"2024{brk}06-13", "--source-url", "https://example.org/source"),
        ],
        ["pledge", "edit", "1", "--deadline", f"2030{brk}01-01"],
        ["pledge", "edit", "1", "--tag", f"dams{brk}water"],
        ["pledge", "list", "--status", f"kept{brk}broken"],
        ["verdict", "1", f"kept{brk}broken", "--note", "why"],
        ["evidence", "list", "--since", f"7{brk}d"],
        ["report", "--since", f"7{brk}d"],
    ]
    wrong = []
    with unchanged(database_url):
        for args in one_line:
            result = logged(*args)
            if result.code != 2 or len(result.err.splitlines()) != 1:
                wrong.append((args[:3], result.code, result.err))
        for path in (csv_path, jsonl_path):
            result = logged("pledge", "import", str(path))
            lines = result.err.splitlines()
            head = f"error: {path}: 1 bad row, nothing imported"
            if result.code != 2 or len(lines) != 2 or lines[0] != head:
                wrong.append((path.name, result.code, result.err))
    assert not wrong, "\n".join(map(repr, wrong))


# -- 5. URLs ---------------------------------------------------------------------------------

BAD_URLS = [
    "http://[::1",
    'https://e.org/"><script>',
    "https://e.org/a b",
    "https://e.org:99999/",
    "javascript:alert(1)",
    "https://e.org/" + "a" * 2486,
]


@pytest.mark.parametrize("url", BAD_URLS, ids=lambda u: u[:24])
@pytest.mark.parametrize("command", ["pledge add", "verdict"])
def test_bad_source_urls_are_refused_naming_the_option(
    logged: Cli, database_url: str, command: str, url: str
) -> None:
    if command == "pledge add":
        args = add_args("Ethiopia will finish a second dam", "--source-url", url)
    else:
        args = ["verdict", "1", "kept", "--note", "done", "--source-url", url]
    with unchanged(database_url):
        line = one_line_error(logged(*args))
    assert line.startswith("error: --source-url: "), line[:300]
    assert len(line) < 400, "the URL is shown shortened"


# -- 6. names longer than their columns --------------------------------------------------------

U101 = "u" * 101
A201 = "a" * 201


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            add_args("Ethiopia will finish a dam", "--user", U101),
            "--user: is 101 characters long; the limit is 100",
        ),
        (
            ("pledge", "edit", "1", "--note", "why", "--user", U101),
            "--user: is 101 characters long; the limit is 100",
        ),
        (
            ("pledge", "import", str(ROOT / "examples" / "pledges.csv"), "--user", U101),
            "--user: is 101 characters long; the limit is 100",
        ),
        (
            ("verdict", "1", "stalled", "--note", "why", "--by", U101),
            "--by: is 101 characters long; the limit is 100",
        ),
        (
            add_args("Ethiopia will finish a dam", "--by", A201),
            "--by: is 201 characters long; the limit is 200",
        ),
        (
            add_args("Ethiopia will finish a dam", "--source-name", A201),
            "--source-name: is 201 characters long; the limit is 200",
        ),
        (
            add_args("Ethiopia will finish a dam", "--reported-by", A201),
            "--reported-by: is 201 characters long; the limit is 200",
        ),
    ],
    ids=[
        "add-user",
        "edit-user",
        "import-user",
        "verdict-by",
        "add-actor",
        "add-source-name",
        "add-reported-by",
    ],
)
def test_names_over_their_column_limit_are_refused_on_both_backends(
    logged: Cli, database_url: str, args: tuple[str, ...], message: str
) -> None:
    with unchanged(database_url):
        line = one_line_error(logged(*args))
    assert line == f"error: {message}"


@pytest.mark.parametrize(
    "args",
    [
        add_args("Ethiopia will finish a dam"),
        ("pledge", "edit", "1", "--note", "why"),
        ("pledge", "import", str(ROOT / "examples" / "pledges.csv")),
        ("verdict", "1", "stalled", "--note", "why"),
    ],
    ids=["add", "edit", "import", "verdict"],
)
def test_pledgewatch_user_over_100_characters_is_refused_naming_the_variable(
    logged: Cli, database_url: str, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv("PLEDGEWATCH_USER", U101)
    with unchanged(database_url):
        line = one_line_error(logged(*args))
    assert line == "error: $PLEDGEWATCH_USER: is 101 characters long; the limit is 100"


def test_reviewers_over_100_characters_are_refused(
    desk: Cli, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = str(evidence_ids(desk, 1)[0])
    wrong = []
    with unchanged(database_url):
        for decision in ("confirm", "reject"):
            result = desk("evidence", decision, item, "--by", U101)
            if result.err.splitlines() != ["error: --by: is 101 characters long; the limit is 100"]:
                wrong.append((decision, "--by", result.code, result.err))
        monkeypatch.setenv("PLEDGEWATCH_USER", U101)
        for decision in ("confirm", "reject"):
            result = desk("evidence", decision, item)
            expected = "error: $PLEDGEWATCH_USER: is 101 characters long; the limit is 100"
            if result.code != 2 or result.err.splitlines() != [expected]:
                wrong.append((decision, "env", result.code, result.err))
    assert not wrong, "\n".join(map(repr, wrong))


def test_names_at_their_column_limit_are_stored_whole_on_both_backends(cli: Cli) -> None:
    # PostgreSQL enforces VARCHAR lengths; the limits must be the columns'.
    result = cli(
        *add_args("Ethiopia will finish a dam", "--by", "a" * 200, "--source-name", "s" * 200),
        "--reported-by",
        "r" * 200,
        "--user",
        "u" * 100,
        "--json",
    )
    assert result.code == 0, result.err
    stored = json.loads(cli("pledge", "show", "1", "--json").out)
    assert (stored["actor"], stored["source_name"], stored["reported_by"]) == (
        "a" * 200,
        "s" * 200,
        "r" * 200,
    )
    assert stored["created_by"] == "u" * 100


def test_an_actor_over_200_characters_in_an_import_file_is_a_bad_row(
    logged: Cli, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "long.csv"
    path.write_text(
        f"text,actor,made_on,source_url\nEthiopia will finish a dam,{A201},2024-06-13,https://e.org/\n",
        encoding="utf-8",
    )
    with unchanged(database_url):
        result = logged("pledge", "import", str(path))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"error: {path}: 1 bad row, nothing imported",
        "  line 2: actor: is 201 characters long; the limit is 200",
    ]


# -- 7. queries nested without end ------------------------------------------------------------

DEEP_QUERIES = {"parentheses-200": "(" * 200 + "a" + ")" * 200, "not-300": "NOT " * 300 + "a"}


@pytest.mark.parametrize("query", list(DEEP_QUERIES))
@pytest.mark.parametrize("command", ["add", "edit"])
def test_a_query_nested_hundreds_deep_is_one_line_naming_query(
    logged: Cli, database_url: str, command: str, query: str
) -> None:
    text = DEEP_QUERIES[query]
    if command == "add":
        args = add_args("Ethiopia will finish a dam", "--query", text)
    else:
        args = ["pledge", "edit", "1", "--query", text]
    with unchanged(database_url):
        line = one_line_error(logged(*args))
    assert line.startswith("error: --query: query does not parse at position "), line[:200]
    assert "nested more than" in line


# -- 8. ClaimReview safe to embed in a page ---------------------------------------------------

SCRIPT_TEXT = "China will not sell weapons to Russia </script><script>alert(1)</script> & more"
PUBLISHER = "</script><script>alert(2)</script>"


def test_claimreview_holds_no_markup_and_embeds_as_one_script_element(
    desk: Cli, database_url: str
) -> None:
    logged = desk(
        "pledge",
        "add",
        SCRIPT_TEXT,
        "--by",
        "Xi <b>Jinping</b>",
        "--made-on",
        "2024-06-13",
        "--source-url",
        "https://example.org/xi?a=1&b=2",
        "--source-name",
        "<i>Reuters</i> & co",
        "--query",
        "@china AND @russia",
        "--json",
    )
    assert logged.code == 0, logged.err  # markup is text: it has no control characters
    pledge_id = json.loads(logged.out)["id"]
    item = evidence_ids(desk, pledge_id)[0]
    assert desk("evidence", "confirm", str(item)).code == 0
    note = "Engines found </script><!-- & -->"
    recorded = desk("verdict", str(pledge_id), "broken", "--evidence", str(item), "--note", note)
    assert recorded.code == 0, recorded.err

    exported = desk("export", "claimreview", "--publisher", PUBLISHER)
    assert exported.code == 0, exported.err
    output = exported.out
    assert not set("<>&") & set(output), "markup characters must be JSON escapes"
    reviews = json.loads(output)
    review = next(r for r in reviews if r["claimReviewed"] == SCRIPT_TEXT)
    assert review["author"]["name"] == PUBLISHER
    assert review["itemReviewed"]["author"]["name"] == "Xi <b>Jinping</b>"
    assert review["itemReviewed"]["appearance"]["url"] == "https://example.org/xi?a=1&b=2"
    assert review["itemReviewed"]["appearance"]["publisher"]["name"] == "<i>Reuters</i> & co"
    assert review["reviewRating"]["ratingExplanation"] == note

    page = (
        "<!DOCTYPE html><html><head><title>Verdicts</title>"
        f'<script type="application/ld+json">{output}</script>'
        "</head><body><p>Our verdicts</p></body></html>"
    )
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    scripts = tree.findall(".//script")
    assert len(scripts) == 1
    assert scripts[0].text == output
    assert json.loads(scripts[0].text) == reviews


@pytest.mark.parametrize("url", ['https://example.org/a"b', "https://example.org/<script>"])
def test_a_verdict_source_url_with_markup_is_refused(
    logged: Cli, database_url: str, url: str
) -> None:
    with unchanged(database_url):
        line = one_line_error(logged("verdict", "1", "kept", "--note", "done", "--source-url", url))
    assert "is not an absolute http(s) URL" in line
