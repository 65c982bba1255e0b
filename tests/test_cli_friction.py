"""The command line as a journalist, an editor and an admin use it every day:
80-column terminals, spreadsheets from Excel, typing names without accents,
undoing a mistake, and the small things that each cost a minute."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from pledgewatch.cli.app import verbose_first
from tests.conftest import Cli

STATUSES = ("not_yet_rated", "in_the_works", "stalled", "kept", "compromise", "broken")
LONG = (
    "The government will build one million new homes for social rent across every region "
    "of the country before the end of the next parliament"
)


def add(cli: Cli, text: str, actor: str, *extra: str) -> int:
    result = cli(
        "pledge",
        "add",
        text,
        "--by",
        actor,
        "--made-on",
        "2024-06-13",
        "--source-url",
        "https://example.org/a",
        "--json",
        *extra,
    )
    assert result.code == 0, result.err
    return int(json.loads(result.out)["id"])


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize(
    "command",
    [("status",), ("pledge", "list"), ("evidence", "list"), ("feed", "list")],
)
def test_tables_read_at_ordinary_widths(
    desk: Cli, monkeypatch: pytest.MonkeyPatch, width: int, command: tuple[str, ...]
) -> None:
    add(desk, LONG, "Ministry of Housing, Communities and Local Government of the Realm")
    monkeypatch.setenv("COLUMNS", str(width))
    result = desk(*command)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    if command[0] == "feed":
        assert "example" in result.out
        return
    rows = json.loads(desk(*command, "--json").out)
    table_rows = [line for line in lines if re.match(r"\s*[0-9]+ ", line)]
    assert len(table_rows) == len(rows), "one line a row, not a word a line"
    for row, line in zip(rows, table_rows, strict=True):
        assert re.match(rf"\s*{row['id']} ", line), (row["id"], line)
        status = row.get("status") or row.get("review")
        assert status in line.split(), (status, line)


def test_a_long_listing_shows_a_page_and_says_how_many_more(cli: Cli) -> None:
    for n in range(7):
        add(cli, f"Pledge number {n} will be kept", f"Actor {n}")
    page = cli("pledge", "list", "--limit", "3")
    assert page.code == 0
    assert "showing 3 of 7 pledges" in page.out
    assert len(json.loads(cli("pledge", "list", "--json", "--limit", "2").out)) == 2
    assert len(json.loads(cli("pledge", "list", "--json").out)) == 7


def test_an_evidence_listing_past_its_count_cap_says_more_than(
    desk: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pledgewatch import desk as desk_module

    every = json.loads(desk("evidence", "list", "--json").out)
    assert len(every) > 4
    monkeypatch.setattr(desk_module, "COUNT_CAP", 4)
    page = desk("evidence", "list", "--limit", "2")
    assert page.code == 0
    assert "showing 2 of more than 4 evidence items" in page.out
    # The cap stops the count, never the rows: every item is still listed.
    assert len(json.loads(desk("evidence", "list", "--json").out)) == len(every)
    monkeypatch.setattr(desk_module, "COUNT_CAP", 10_000)
    assert (
        f"showing 2 of {len(every)} evidence items" in desk("evidence", "list", "--limit", "2").out
    )


def test_every_listing_speaks_csv_and_json_lines(desk: Cli) -> None:
    for command in (("pledge", "list"), ("evidence", "list"), ("status",), ("feed", "list")):
        documents = json.loads(desk(*command, "--json").out)
        nl = desk(*command, "--nl").out.splitlines()
        assert [json.loads(line) for line in nl] == documents, command
        rows = list(csv.DictReader(io.StringIO(desk(*command, "--csv").out)))
        assert len(rows) == len(documents), command
        assert [row.get("id") or row.get("name") for row in rows] == [
            str(d.get("id") or d.get("name")) for d in documents
        ]
    both = desk("status", "--json", "--csv")
    assert both.code == 2 and "give one of --json, --csv and --nl" in both.err


def test_search_and_actor_filters_ignore_accents_and_say_when_filters_hide_all(
    cli: Cli,
) -> None:
    add(cli, "Brazil will end illegal deforestation by 2030", "Luiz Inácio Lula da Silva")
    add(cli, "Mexico will plant a billion trees", "Andrés Manuel López Obrador")
    found = json.loads(cli("pledge", "list", "--actor", "Inacio", "--json").out)
    assert [p["actor"] for p in found] == ["Luiz Inácio Lula da Silva"]
    found = json.loads(cli("pledge", "list", "--search", "lopez trees", "--json").out)
    assert [p["actor"] for p in found] == ["Andrés Manuel López Obrador"]
    none = cli("pledge", "list", "--search", "submarines")
    assert none.code == 0
    assert "no pledges match these filters" in none.out and "pledge add" not in none.out


def test_archive_takes_a_pledge_off_the_board_and_keeps_it_findable(cli: Cli) -> None:
    pid = add(cli, "The council will fix every pothole", "Leeds City Council")
    missing = cli("pledge", "archive", str(pid))
    assert missing.code == 2 and "--reason" in missing.err
    done = cli("pledge", "archive", str(pid), "--reason", "logged by mistake")
    assert done.code == 0, done.err
    assert pid not in [row["id"] for row in json.loads(cli("status", "--json").out)]
    archived = json.loads(cli("pledge", "list", "--archived", "--json").out)
    assert [p["id"] for p in archived] == [pid]
    assert archived[0]["archive_reason"] == "logged by mistake"
    shown = cli("pledge", "show", str(pid))
    assert "archived" in shown.out and "logged by mistake" in shown.out


def test_pledge_show_tells_the_story_in_one_timeline(desk: Cli) -> None:
    item = json.loads(desk("evidence", "list", "--pledge", "1", "--json").out)[0]
    assert desk("evidence", "confirm", str(item["id"]), "--stance", "broken").code == 0
    assert desk("pledge", "edit", "1", "--deadline", "2030-01-01").code == 0
    verdict = desk("verdict", "1", "broken", "--note", "parts", "--evidence", str(item["id"]))
    assert verdict.code == 0, verdict.err
    shown = desk("pledge", "show", "1").out
    timeline = shown.split("timeline:")[1].split("\nevidence:")[0]
    stamps = re.findall(r"^  (\d{4}-\d\d-\d\d \d\d:\d\d)", timeline, re.M)
    assert stamps == sorted(stamps) and len(stamps) >= 4
    assert f"cites evidence #{item['id']}" in timeline
    assert "source: https://www.reuters.com/" in timeline
    document = json.loads(desk("pledge", "show", "1", "--json").out)
    kinds = [entry["kind"] for entry in document["timeline"]]
    assert kinds[0] == "logged" and "review" in kinds and kinds[-1] == "verdict"


def test_a_verdict_that_changes_nothing_is_refused_unless_asked(cli: Cli) -> None:
    pid = add(cli, "The ministry will publish its audit", "Ministry of Finance")
    assert cli("verdict", str(pid), "in_the_works", "--note", "drafting").code == 0
    again = cli("verdict", str(pid), "in_the_works", "--note", "still drafting")
    assert again.code == 2
    assert "already in_the_works" in again.err and "--same" in again.err
    assert cli("verdict", str(pid), "in_the_works", "--note", "x", "--same").code == 0


def test_rejecting_cited_evidence_warns_and_many_go_at_once(desk: Cli) -> None:
    items = json.loads(desk("evidence", "list", "--review", "pending", "--json").out)
    first = items[0]
    assert desk("evidence", "confirm", str(first["id"])).code == 0
    cite = ["--evidence", str(first["id"]), "--source-url", "https://example.org/v"]
    assert desk("verdict", str(first["pledge_id"]), "stalled", "--note", "n", *cite).code == 0
    ids = [str(first["id"]), *(str(i["id"]) for i in items[1:3])]
    rejected = desk("evidence", "reject", *ids, "--note", "off topic")
    assert rejected.code == 0, rejected.err
    assert f"warning: evidence #{first['id']} is cited by verdict" in rejected.err
    assert rejected.out.count("rejected as") == len(ids)


def test_evidence_added_by_hand_waits_for_review(cli: Cli) -> None:
    pid = add(cli, "The port will open by 2026", "Port Authority")
    result = cli("evidence", "add", str(pid), "https://example.org/port-opens", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["review"] == "pending"
    bad = cli("evidence", "add", str(pid), "ftp://example.org/x")
    assert bad.code == 2 and bad.err.startswith("error: URL: ")


EUROPEAN = (
    "Text;Actor;Made On;Source URL;Deadline;Tags;Comments\n"
    "La ville rénovera 500 écoles;Mairie de Paris;14/06/2024;https://example.org/p;;;\n"
    "Die Stadt baut 1000 Wohnungen;Stadt Köln;2024-05-02;https://example.org/k;;;vote\n"
)


def test_a_european_spreadsheet_imports_with_a_hint_for_its_dates(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pledges.csv"
    path.write_text(EUROPEAN, encoding="utf-8")
    first = cli("pledge", "import", str(path))
    assert first.code == 2
    assert 'line 2: made_on: "14/06/2024" is not a date; write it as YYYY-MM-DD: 2024-06-14' in (
        first.err
    )
    assert cli("pledge", "list", "--json").out.strip() == "[]", "nothing written"
    path.write_text(EUROPEAN.replace("14/06/2024", "2024-06-14"), encoding="utf-8")
    second = cli("pledge", "import", str(path))
    assert second.code == 0, second.err
    assert "warning: " in second.err and '"Comments"' in second.err
    actors = sorted(p["actor"] for p in json.loads(cli("pledge", "list", "--json").out))
    assert actors == ["Mairie de Paris", "Stadt Köln"]


def test_an_import_reports_every_error_of_every_row(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "text,actor,made_on,source_url\n,,03/04/2024,not-a-url\nOk,,2024-01-01,https://x.org\n",
        encoding="utf-8",
    )
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    line2 = next(line for line in result.err.splitlines() if "line 2:" in line)
    for field in ("text: is required", "actor: is required", "made_on:", "source_url:"):
        assert field in line2, field
    assert "2024-04-03 (day first) or 2024-03-04 (month first)" in line2
    assert "line 3: actor: is required" in result.err


def test_an_xlsx_file_is_told_how_to_save_as_csv(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pledges.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    result = cli("pledge", "import", str(path))
    assert result.code == 2
    assert "CSV UTF-8" in result.err and len(result.err.strip().splitlines()) == 1


def test_no_arguments_shows_the_help(cli: Cli) -> None:
    for args in ((), ("pledge",), ("evidence",)):
        result = cli(*args)
        assert result.code == 0, (args, result.err)
        assert "Usage:" in result.out and "error" not in result.err


def test_verbose_is_read_after_the_command_too(cli: Cli) -> None:
    assert verbose_first(["sweep", "-v"]) == ["-v", "sweep"]
    assert verbose_first(["pledge", "add", "x", "--note", "-v"]) == [
        "pledge",
        "add",
        "x",
        "--note",
        "-v",
    ]
    assert verbose_first(["status", "--json", "-v"]) == ["-v", "status", "--json"]
    assert cli("status", "-v").code == 0


def test_status_help_keeps_its_words(cli: Cli) -> None:
    result = cli("status", "--help")
    assert "due_soon" in result.out and "stale_after" in result.out
    required = " ".join(cli("pledge", "add", "--help").out.split())
    assert "--by, --made-on and --source-url are required" in required
    # Help is plain text: brackets in it are words, never markup that vanishes.
    assert required.count("[required]") >= 3
    assert "[required]" in " ".join(cli("pledge", "archive", "--help").out.split())


@pytest.mark.parametrize(
    ("since", "title"),
    [
        ("7d", "weekly report"),
        ("1w", "weekly report"),
        ("1mo", "monthly report"),
        ("1d", "daily report"),
        ("90min", "last 2 hours"),
    ],
)
def test_report_periods_name_themselves(cli: Cli, since: str, title: str) -> None:
    result = cli("report", "--since", since, "--format", "JSON")
    assert result.code == 0, result.err
    assert title in json.loads(result.out)["title"]


def test_report_refuses_a_bare_m_and_writes_into_new_folders(cli: Cli, tmp_path: Path) -> None:
    bare = cli("report", "--since", "1m")
    assert bare.code == 2 and "1mo for months or 1min for minutes" in bare.err
    target = tmp_path / "reports" / "2026" / "week.html"
    result = cli("report", "--format", "HTML", "-o", str(target))
    assert result.code == 0, result.err
    assert target.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_feed_check_input_errors_are_input_errors(cli: Cli, tmp_path: Path) -> None:
    assert cli("feed", "check", str(tmp_path / "nope.xml")).code == 2
    assert cli("feed", "check", "gopher://example.org/feed").code == 2


def test_sweep_lines_carry_the_time_and_each_failure(tmp_path: Path, cli_for) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
        '[[feeds]]\nname = "down"\nurl = "http://127.0.0.1:9/feed.xml"\n',
        encoding="utf-8",
    )
    cli = cli_for(config)
    result = cli("sweep")
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in lines), lines
    assert any("down failed: " in line for line in lines)


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`pledgewatch pledge list | head -1`: the reader goes away; no traceback."""
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n', encoding="utf-8")
    base = [sys.executable, "-m", "pledgewatch", "--config", str(config)]
    examples = Path(__file__).parent.parent / "examples" / "pledges.csv"
    for args in (["init"], ["pledge", "import", str(examples)]):
        assert subprocess.run([*base, *args], capture_output=True, check=False).returncode == 0
    for args in (["pledge", "list", "--json"], ["--help"], ["pledge"]):
        proc = subprocess.Popen(
            [*base, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.close()
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, (args, err)
        # 141 from our own handler, 1 where click caught the broken pipe first.
        assert proc.returncode in (0, 1, 141), (args, proc.returncode, err)
