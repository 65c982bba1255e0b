"""A derived query is a recorded fact: stored on the pledge as a revision, changed
only in the open by `pledge rederive`; on both databases."""

from __future__ import annotations

import json

from sqlalchemy import text

from pledgewatch.db import Database
from pledgewatch.matching.derive import derive_query
from tests.conftest import Cli

DRONES = ("Beijing will not supply drones to Moscow", "Chinese government")


def show(cli: Cli, pledge_id: int) -> dict[str, object]:
    result = cli("pledge", "show", str(pledge_id), "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def add_drones(cli: Cli) -> int:
    result = cli(
        "pledge", "add", DRONES[0], "--by", DRONES[1], "--made-on", "2024-06-01",
        "--source-url", "https://example.org/x", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    return int(json.loads(result.out)["id"])


def test_a_derived_query_is_recorded_on_the_pledge_as_a_revision(desk: Cli) -> None:
    pledge_id = add_drones(desk)
    shown = show(desk, pledge_id)
    assert shown["query_derived"] is True
    assert shown["query"] is None, "the export columns keep only what the journalist wrote"
    (revision,) = [r for r in shown["revisions"] if r["field"] == "query"]  # type: ignore[union-attr]
    assert revision["by"] == "pledgewatch" and revision["old"] is None
    assert revision["new"] == shown["effective_query"] == derive_query(*DRONES)


def _age_the_query(database_url: str, pledge_id: int, older: str) -> None:
    """The pledge as an older derivation rule left it."""
    database = Database(database_url)
    with database.session() as session:
        session.execute(
            text("UPDATE pledges SET query = :q WHERE id = :id"), {"q": older, "id": pledge_id}
        )
    database.dispose()


def test_rederive_shows_what_a_new_derivation_adds_and_writes_nothing(
    desk: Cli, database_url: str
) -> None:
    pledge_id = add_drones(desk)
    _age_the_query(database_url, pledge_id, "@china AND @russia AND weapons")
    before = show(desk, pledge_id)
    result = desk("pledge", "rederive", str(pledge_id), "--json")
    assert result.code == 0, result.err
    (change,) = json.loads(result.out)
    assert change["old"] == "@china AND @russia AND weapons"
    assert change["new"] == derive_query(*DRONES)
    assert change["adds"] >= 1 and change["applied"] is False
    assert (
        "Chinese-made drone parts found in Russian attack drones, Ukraine says" in change["added"]
    )
    assert show(desk, pledge_id) == before, "without --apply nothing is written"
    assert "add --apply" in desk("pledge", "rederive", str(pledge_id)).out


def test_rederive_apply_records_the_new_query_by_the_user_and_matches_it(
    newsroom: Cli, database_url: str
) -> None:
    # Logged, and swept, under an older rule that found nothing.
    desk = newsroom
    pledge_id = add_drones(desk)
    _age_the_query(database_url, pledge_id, "@china AND @russia AND weapons AND nothingelse")
    assert desk("sweep").code == 0
    assert json.loads(desk("evidence", "list", "--pledge", str(pledge_id), "--json").out) == []
    result = desk("pledge", "rederive", "--all", "--apply", "--user", "maria", "--json")
    assert result.code == 0, result.err
    changes = {c["pledge_id"]: c for c in json.loads(result.out)}
    assert changes[pledge_id]["applied"] is True and changes[pledge_id]["evidence_new"] >= 1
    shown = show(desk, pledge_id)
    last = [r for r in shown["revisions"] if r["field"] == "query"][-1]  # type: ignore[union-attr]
    assert (last["by"], last["new"]) == ("maria", derive_query(*DRONES))
    assert shown["query_derived"] is True
    again = json.loads(desk("pledge", "rederive", "--all", "--json").out)
    assert again == [], "every derived query is now today's derivation"


def test_rederive_refuses_a_written_query_and_needs_an_id_or_all(desk: Cli) -> None:
    logged = desk(
        "pledge", "add", "Beijing will not sell drones to Moscow", "--by", "Xi Jinping",
        "--made-on", "2024-06-01", "--source-url", "https://example.org/w",
        "--query", "@china AND drone*", "--json",
    )  # fmt: skip
    written = desk("pledge", "rederive", str(json.loads(logged.out)["id"]))
    assert written.code == 2 and "query was written, not derived" in written.err
    neither = desk("pledge", "rederive")
    assert neither.code == 2 and "give a pledge id or --all" in neither.err


def test_a_new_wording_is_derived_again_and_recorded(desk: Cli) -> None:
    pledge_id = add_drones(desk)
    result = desk(
        "pledge", "edit", str(pledge_id), "--text", "Beijing will not supply drones to Iran"
    )
    assert result.code == 0, result.err
    queries = [r for r in show(desk, pledge_id)["revisions"] if r["field"] == "query"]  # type: ignore[union-attr]
    assert [r["by"] for r in queries] == ["pledgewatch", "pledgewatch"]
    assert queries[-1]["new"] == derive_query("Beijing will not supply drones to Iran", DRONES[1])


def test_upgrading_records_the_derived_queries_of_pledges_logged_before(
    database_url: str,
) -> None:
    database = Database(database_url)
    database.migrate("5b2e9c41d7a3")
    with database.session() as session:
        session.execute(
            text(
                "INSERT INTO pledges (text, actor, made_on, source_url, status, actor_key, "
                "text_key, dedupe_key, created_at, created_by, updated_at, updated_by) VALUES "
                "(:t, :a, '2024-06-01', 'https://example.org/s', 'not_yet_rated', 'k', 'k', "
                "'k', '2026-11-30 10:00:00', 'maria', '2026-11-30 10:00:00', 'maria')"
            ),
            {"t": DRONES[0], "a": DRONES[1]},
        )
    database.migrate()
    with database.session(write=False) as session:
        query, derived = session.execute(text("SELECT query, query_derived FROM pledges")).one()
        by = session.scalar(text("SELECT by FROM pledge_revisions WHERE field = 'query'"))
    database.dispose()
    assert (query, bool(derived), by) == (derive_query(*DRONES), True, "pledgewatch")
