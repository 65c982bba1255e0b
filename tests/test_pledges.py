"""The pledge registry through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import Cli

XI = [
    "pledge",
    "add",
    "China will not sell weapons to Russia",
    "--by",
    "Xi Jinping",
    "--reported-by",
    "Volodymyr Zelensky",
    "--made-on",
    "2024-06-13",
    "--source-url",
    "https://www.reuters.com/world/europe/xi-promised-2024-06-13/",
    "--source-name",
    "Reuters",
    "--tag",
    "ukraine",
    "--tag",
    "china",
]


def count(cli: Cli) -> int:
    result = cli("pledge", "list", "--json")
    assert result.code == 0, result.err
    return len(json.loads(result.out))


def add(cli: Cli, text: str, actor: str, made_on: str = "2024-06-13", *extra: str) -> int:
    result = cli(
        "pledge",
        "add",
        text,
        "--by",
        actor,
        "--made-on",
        made_on,
        "--source-url",
        "https://example.org/source",
        "--json",
        *extra,
    )
    assert result.code == 0, result.err
    return int(json.loads(result.out)["id"])


def test_add_prints_one_json_object_with_id(cli: Cli) -> None:
    result = cli(*XI, "--json")
    assert result.code == 0, result.err
    pledge = json.loads(result.out)
    assert isinstance(pledge["id"], int)
    assert pledge["actor"] == "Xi Jinping"
    assert pledge["reported_by"] == "Volodymyr Zelensky"
    assert pledge["tags"] == ["china", "ukraine"]
    assert pledge["status"] == "not_yet_rated"
    assert pledge["created_by"] == "test-editor"


def test_add_list_show_edit_round_trip(cli: Cli) -> None:
    first = add(cli, "The UK will stop the small boats", "Rishi Sunak", "2023-01-04")
    second = json.loads(cli(*XI, "--json").out)["id"]

    listed = json.loads(cli("pledge", "list", "--json").out)
    assert [p["id"] for p in listed] == [second, first], "newest pledge (by date made) first"

    edited = cli(
        "pledge",
        "edit",
        str(second),
        "--text",
        "China will never sell arms to Russia",
        "--deadline",
        "2025-12-31",
        "--query",
        "china AND russia",
        "--user",
        "night-desk",
    )
    assert edited.code == 0, edited.err
    assert "changed text, deadline, query" in edited.out

    shown = json.loads(cli("pledge", "show", str(second), "--json").out)
    assert shown["text"] == "China will never sell arms to Russia"
    assert shown["deadline"] == "2025-12-31"
    assert shown["updated_by"] == "night-desk"
    revisions = {r["field"]: r for r in shown["revisions"]}
    assert revisions["text"]["old"] == "China will not sell weapons to Russia"
    assert revisions["text"]["new"] == "China will never sell arms to Russia"
    # The derived query was recorded when the pledge was logged; the written one replaced it.
    derived = shown["revisions"][0]
    assert (derived["field"], derived["by"], derived["old"]) == ("query", "pledgewatch", None)
    assert (revisions["query"]["old"], revisions["query"]["new"]) == (
        derived["new"],
        "china AND russia",
    )
    assert revisions["text"]["by"] == "night-desk"
    assert shown["history"][0]["to"] == "not_yet_rated"

    again = cli("pledge", "edit", str(second), "--query", "china AND arms")
    assert again.code == 0
    shown = json.loads(cli("pledge", "show", str(second), "--json").out)
    queries = [(r["old"], r["new"]) for r in shown["revisions"] if r["field"] == "query"]
    assert queries[1:] == [
        (derived["new"], "china AND russia"),
        ("china AND russia", "china AND arms"),
    ]

    text = cli("pledge", "show", str(second))
    assert "China will never sell arms to Russia" in text.out
    assert re.search(r"edited text: .* by night-desk", text.out)


def test_edit_with_empty_value_clears_an_optional_field(cli: Cli) -> None:
    pid = add(cli, "A pledge", "Someone", "2024-01-01", "--deadline", "2024-12-31")
    assert cli("pledge", "edit", str(pid), "--deadline", "").code == 0
    shown = json.loads(cli("pledge", "show", str(pid), "--json").out)
    assert shown["deadline"] is None


def test_edit_that_changes_nothing_says_so(cli: Cli) -> None:
    pid = add(cli, "A pledge", "Someone")
    result = cli("pledge", "edit", str(pid), "--by", "Someone")
    assert result.code == 0
    assert "nothing changed" in result.out
    revisions = json.loads(cli("pledge", "show", str(pid), "--json").out)["revisions"]
    assert [(r["field"], r["by"]) for r in revisions] == [("query", "pledgewatch")], (
        "only the derived query recorded when it was logged"
    )


def test_list_filters_by_status_tag_and_actor(cli: Cli) -> None:
    add(cli, "Pledge one", "Xi Jinping", "2024-01-01", "--tag", "china")
    add(cli, "Pledge two", "Joe Biden", "2024-01-02", "--tag", "us")
    by_tag = json.loads(cli("pledge", "list", "--tag", "china", "--json").out)
    assert [p["text"] for p in by_tag] == ["Pledge one"]
    by_actor = json.loads(cli("pledge", "list", "--actor", "biden", "--json").out)
    assert [p["text"] for p in by_actor] == ["Pledge two"]
    by_status = json.loads(cli("pledge", "list", "--status", "kept", "--json").out)
    assert by_status == []
    bad = cli("pledge", "list", "--status", "done")
    assert bad.code == 2
    assert bad.err.startswith('error: "done" is not a status; use one of not_yet_rated')


def test_list_prints_a_readable_table(cli: Cli) -> None:
    add(cli, "China will not sell weapons to Russia", "Xi Jinping")
    result = cli("pledge", "list")
    assert result.code == 0
    assert "Xi Jinping" in result.out
    assert "not_yet_rated" in result.out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({2: ""}, "error: TEXT: is required"),
        ({2: "x" * 1001}, "error: TEXT: is 1,001 characters long; the limit is 1,000"),
        ({8: "14/06/2024"}, 'error: --made-on: "14/06/2024" is not a date; write it as YYYY-MM-DD'),
        ({8: "2024-02-30"}, 'error: --made-on: "2024-02-30" is not a real calendar date'),
        (
            {10: "/world/story"},
            'error: --source-url: "/world/story" is not an absolute http(s) URL',
        ),
        ({10: "ftp://example.org/x"}, "is not an absolute http(s) URL"),
        ({16: "Foreign Policy"}, 'error: --tag: "Foreign Policy" is not a tag'),
        # No query, and no word in the text or the actor to derive one from.
        ({2: "...", 4: "-"}, "error: TEXT: has no words to derive a query from; give it a query"),
    ],
)
def test_add_refuses_bad_input_and_writes_nothing(
    cli: Cli, change: dict[int, str], message: str
) -> None:
    args = list(XI)
    for index, value in change.items():
        args[index] = value
    result = cli(*args)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert count(cli) == 0


def test_add_refuses_a_future_date(cli: Cli) -> None:
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    result = cli(
        "pledge",
        "add",
        "x",
        "--by",
        "A",
        "--made-on",
        tomorrow,
        "--source-url",
        "https://example.org",
    )
    assert result.code == 2
    assert f"error: --made-on: {tomorrow} is in the future" in result.err
    assert count(cli) == 0


def test_add_refuses_a_deadline_before_the_pledge(cli: Cli) -> None:
    result = cli(*XI, "--deadline", "2024-06-12")
    assert result.code == 2
    assert "error: --deadline: 2024-06-12 is before the pledge was made (2024-06-13)" in result.err
    assert count(cli) == 0


def test_add_requires_actor_date_and_source(cli: Cli) -> None:
    result = cli("pledge", "add", "Some pledge")
    assert result.code == 2
    assert "error: --by: is required" in result.err
    assert count(cli) == 0


def test_same_actor_and_normalised_text_is_refused_with_the_existing_id(cli: Cli) -> None:
    first = add(cli, "China will not sell weapons to Russia.", "Xi Jinping")
    result = cli(
        "pledge",
        "add",
        "  china will NOT sell weapons to Russia ",
        "--by",
        "xi jinping",
        "--made-on",
        "2024-06-14",
        "--source-url",
        "https://example.org/b",
    )
    assert result.code == 2
    assert f"pledge #{first} already records this pledge" in result.err
    assert "--force" in result.err
    assert count(cli) == 1
    forced = cli(
        "pledge",
        "add",
        "China will not sell weapons to Russia",
        "--by",
        "Xi Jinping",
        "--made-on",
        "2024-06-14",
        "--source-url",
        "https://example.org/b",
        "--force",
    )
    assert forced.code == 0, forced.err
    assert count(cli) == 2


def test_edit_refuses_bad_input_and_keeps_the_pledge(cli: Cli) -> None:
    pid = add(cli, "A pledge", "Someone", "2024-06-13")
    before = json.loads(cli("pledge", "show", str(pid), "--json").out)
    result = cli("pledge", "edit", str(pid), "--deadline", "2024-01-01", "--text", "Other")
    assert result.code == 2
    assert "--deadline: 2024-01-01 is before the pledge was made" in result.err
    after = json.loads(cli("pledge", "show", str(pid), "--json").out)
    assert after == before


def test_edit_refuses_to_leave_a_pledge_with_nothing_to_search_for(cli: Cli) -> None:
    pid = add(cli, "A pledge", "-", "2024-06-13")
    before = json.loads(cli("pledge", "show", str(pid), "--json").out)
    result = cli("pledge", "edit", str(pid), "--text", "...")
    assert result.code == 2
    assert "has no words to derive a query from" in result.err
    assert json.loads(cli("pledge", "show", str(pid), "--json").out) == before


def test_unknown_pledge_is_a_clear_error(cli: Cli) -> None:
    for args in (("pledge", "show", "99"), ("pledge", "edit", "99", "--text", "x")):
        result = cli(*args)
        assert result.code == 2
        assert result.err.strip() == 'error: no pledge #99; see "pledgewatch pledge list"'


CSV_HEADER = (
    "text,actor,made_on,source_url,source_name,quote,reported_by,deadline,tags,query,notes\n"
)


def test_csv_import_with_bad_rows_writes_nothing_and_lists_every_bad_row(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "pledges.csv"
    path.write_text(
        CSV_HEADER
        + "Good one,Actor A,2024-01-01,https://example.org/a,,,,,,,\n"
        + "Bad date,Actor B,01/02/2024,https://example.org/b,,,,,,,\n"
        + '"Multi\nline text",Actor C,2024-01-01,https://example.org/c,,,,,,,\n'
        + "Bad url,Actor D,2024-01-01,example.org/d,,,,,,,\n"
        + "Bad tag,Actor E,2024-01-01,https://example.org/e,,,,,Big Tag,,\n"
        + ",Actor F,2024-01-01,https://example.org/f,,,,,,,\n",
        encoding="utf-8",
    )
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == f"error: {path}: 4 bad rows, nothing imported"
    assert lines[1].startswith("  line 3: made_on:")
    assert lines[2].startswith("  line 6: source_url:")
    assert lines[3].startswith("  line 7: tags:")
    assert lines[4].startswith("  line 8: text: is required")
    assert count(cli) == 0


def test_jsonl_import_with_a_bad_row_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pledges.jsonl"
    good = {
        "text": "Good",
        "actor": "A",
        "made_on": "2024-01-01",
        "source_url": "https://example.org/a",
        "tags": ["one", "two"],
    }
    path.write_text(
        json.dumps(good)
        + "\n"
        + "{not json\n"
        + json.dumps({**good, "text": "Other", "deadline": "2023-01-01"})
        + "\n"
        + json.dumps({**good, "text": "Third", "colour": "red"})
        + "\n",
        encoding="utf-8",
    )
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    assert "  line 2: not valid JSON" in result.err
    assert count(cli) == 0
    path.write_text(
        json.dumps(good)
        + "\n"
        + json.dumps({**good, "text": "Other", "deadline": "2023-01-01"})
        + "\n"
        + json.dumps({**good, "text": "Third", "colour": "red"})
        + "\n",
        encoding="utf-8",
    )
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    assert "line 2: deadline: 2023-01-01 is before the pledge was made" in result.err
    assert "line 3: colour: is not a pledge field" in result.err
    assert count(cli) == 0


def test_csv_with_an_extra_column_imports_and_warns(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("text,actor,made_on,source_url,colour\nA,B,2024-01-01,https://x.org,red\n")
    result = cli("pledge", "import", str(path))
    assert result.code == 0, result.err
    assert "warning: " in result.err and 'ignored column "colour"' in result.err
    assert count(cli) == 1


def test_csv_missing_a_required_column_names_it_and_the_extra_ones(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    path.write_text("text,who said it,made_on,source_url\nA,B,2024-01-01,https://x.org\n")
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    assert 'line 1: unknown column "who said it"; missing column "actor"' in result.err
    assert count(cli) == 0


def test_import_refuses_duplicates_unless_skipped(cli: Cli, tmp_path: Path) -> None:
    existing = add(cli, "Good one", "Actor A", "2024-01-01")
    path = tmp_path / "p.csv"
    path.write_text(
        CSV_HEADER
        + "Good one,Actor A,2024-01-01,https://example.org/a,,,,,,,\n"
        + "New one,Actor A,2024-01-01,https://example.org/a,,,,,,,\n"
        + "New one,actor a,2024-01-02,https://example.org/b,,,,,,,\n"
    )
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    assert f"line 2: pledge #{existing} already records this pledge" in result.err
    assert "line 4: repeats the pledge on line 3" in result.err
    assert count(cli) == 1
    path.write_text(
        CSV_HEADER
        + "Good one,Actor A,2024-01-01,https://example.org/a,,,,,,,\n"
        + "New one,Actor A,2024-01-01,https://example.org/a,,,,,,,\n"
    )
    result = cli("pledge", "import", str(path), "--skip-existing")
    assert result.code == 0, result.err
    assert f"skipped line 2: already logged as pledge #{existing}" in result.out
    assert count(cli) == 2


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_an_empty_database_round_trips_every_field(
    cli: Cli, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = Path(__file__).parent.parent / "examples" / "pledges.csv"
    assert cli("pledge", "import", str(seed)).code == 0
    add(
        cli,
        'Text with "quotes", commas;\nand a newline',
        "Ünïcödé Actor",
        "2024-01-01",
        "--quote",
        "«Nous tiendrons»",
        "--note",
        "line one\nline two",
        "--tag",
        "a-b",
        "--query",
        "x AND y",
    )
    exported = tmp_path / f"out.{fmt}"
    assert cli("pledge", "export", "--format", fmt, "--output", str(exported)).code == 0
    original = json.loads(cli("pledge", "list", "--json").out)

    other_db = tmp_path / "other.db"
    other_config = tmp_path / "other.toml"
    other_config.write_text(f'[database]\nurl = "sqlite:///{other_db}"\n')
    other = Cli(capsys, other_config)
    assert other("init").code == 0
    result = other("pledge", "import", str(exported))
    assert result.code == 0, result.err
    copied = json.loads(other("pledge", "list", "--json").out)

    fields = [
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
    ]

    def key(p: dict[str, object]) -> str:
        return str(p["text"])

    assert [{f: p[f] for f in fields} for p in sorted(original, key=key)] == [
        {f: p[f] for f in fields} for p in sorted(copied, key=key)
    ]
    assert len(copied) == 10
    # And the export of the copy is byte-identical to the first export.
    second = tmp_path / f"again.{fmt}"
    assert other("pledge", "export", "--format", fmt, "--output", str(second)).code == 0
    assert second.read_text() == exported.read_text()


def test_export_to_stdout_is_csv_with_the_shared_columns(cli: Cli) -> None:
    add(cli, "A pledge", "Someone", "2024-01-01", "--tag", "one", "--tag", "two")
    result = cli("pledge", "export")
    assert result.code == 0
    assert result.out.splitlines()[0] == CSV_HEADER.strip()
    assert "one;two" in result.out


def test_seed_file_imports(cli: Cli) -> None:
    seed = Path(__file__).parent.parent / "examples" / "pledges.csv"
    result = cli("pledge", "import", str(seed))
    assert result.code == 0, result.err
    listed = json.loads(cli("pledge", "list", "--actor", "xi", "--json").out)
    assert any(p["text"] == "China will not sell weapons to Russia" for p in listed)
    assert count(cli) >= 8
