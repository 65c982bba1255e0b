"""The library's pledges: log, edit, list, search, archive, and the errors it raises,
through open_desk and its Desk on each backend (no command line)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pledgewatch
from pledgewatch import open_desk
from pledgewatch.clock import FixedClock
from pledgewatch.desk import Desk, fold
from pledgewatch.errors import (
    DuplicatePledgeError,
    InputError,
    PledgewatchError,
    ValidationError,
)
from pledgewatch.models import Evidence, Pledge
from pledgewatch.views import PledgeView
from tests.desk_support import SOURCE, count, new_pledge

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


def test_the_public_api_is_the_package() -> None:
    assert pledgewatch.open_desk is open_desk
    assert pledgewatch.FixedClock is FixedClock
    with pytest.raises(AttributeError):
        _ = pledgewatch.no_such_name  # type: ignore[attr-defined]


def test_adding_a_pledge_stores_it_and_its_evidence_as_frozen_values(library: Desk) -> None:
    added = library.add_pledge(new_pledge())
    assert added.pledge.created_by == "ana"
    assert added.evidence_new >= 1, "the stored article about Beijing and weapons"
    with pytest.raises(dataclasses.FrozenInstanceError):
        added.pledge.text = "changed"  # type: ignore[misc]
    document = added.to_json()
    assert document["id"] == added.pledge.id and document["made_on"] == "2024-06-14"
    json.dumps(document)  # plain values only
    page = library.evidence(pledge_id=added.pledge.id)
    assert page.total == added.evidence_new
    assert all(item.pledge_text == added.pledge.text for item in page)


def test_a_bad_pledge_names_its_field_and_writes_nothing(library: Desk) -> None:
    before = count(library, Pledge)
    with pytest.raises(ValidationError) as caught:
        library.add_pledge(new_pledge(made_on="14/06/2024"))
    assert caught.value.field == "made_on"
    assert "2024-06-14" in caught.value.reason
    assert "--" not in str(caught.value), "the library names fields, not options"
    assert count(library, Pledge) == before


def test_a_repeated_pledge_carries_the_existing_id(library: Desk) -> None:
    first = library.add_pledge(new_pledge()).pledge
    with pytest.raises(DuplicatePledgeError) as caught:
        library.add_pledge(new_pledge(text="Beijing will NOT supply lethal weapons to Moscow."))
    assert caught.value.existing_id == first.id
    assert "--force" not in str(caught.value)
    again = library.add_pledge(new_pledge(), force=True)
    assert again.pledge.id != first.id


def test_a_near_duplicate_by_a_variant_of_the_actor_is_named(library: Desk) -> None:
    first = library.add_pledge(new_pledge(actor="Macron")).pledge
    second = library.add_pledge(new_pledge(actor="President Macron"))
    assert [p.id for p in second.similar] == [first.id]
    other = library.add_pledge(new_pledge(actor="Olaf Scholz"))
    assert other.similar == ()


def test_an_edit_of_the_query_matches_again_and_names_pending_it_no_longer_matches(
    library: Desk,
) -> None:
    added = library.add_pledge(new_pledge())
    assert added.evidence_new >= 1
    edited = library.edit_pledge(added.pledge.id, {"query": "@china AND @russia AND noodles"})
    assert edited.changed == ("query",)
    assert len(edited.pending_unmatched) == added.evidence_new
    notes = library.edit_pledge(added.pledge.id, {"notes": "per the ministry"})
    assert notes.evidence_new == 0 and notes.pending_unmatched == ()


def test_listing_pages_in_sql_and_searches_without_accents(library: Desk) -> None:
    library.add_pledge(
        new_pledge(
            actor="Luiz Inácio Lula da Silva",
            text="Brazil will end illegal deforestation in the Amazon by 2030",
            query="@brazil AND deforestation",
        )
    )
    everything = library.pledges()
    assert everything.total == len(everything.items) >= 5
    first = library.pledges(limit=2)
    assert len(first.items) == 2 and first.total == everything.total
    assert first.more == everything.total - 2
    rest = library.pledges(limit=2, offset=2)
    assert {p.id for p in first}.isdisjoint({p.id for p in rest})
    for needle in ("Inacio", "INÁCIO", "lula da"):
        found = library.pledges(actor=needle)
        assert [p.actor for p in found] == ["Luiz Inácio Lula da Silva"], needle
    assert [p.actor for p in library.pledges(search="amazon DEFORESTATION")] == [
        "Luiz Inácio Lula da Silva"
    ]
    assert library.pledges(search="amazon weapons").total == 0
    assert fold("Zelenskyy Ñandú") == "zelenskyy nandu"


def test_an_archived_pledge_leaves_the_board_and_the_sweep_and_keeps_its_history(
    library: Desk,
) -> None:
    added = library.add_pledge(new_pledge())
    evidence_before = count(library, Evidence)
    done = library.archive_pledge(added.pledge.id, "logged twice; see the Xi pledge")
    assert done.pledge.archived and done.pledge.archived_by == "ana"
    assert added.pledge.id not in {row.id for row in library.status_board()}
    assert added.pledge.id not in {p.id for p in library.pledges()}
    assert [p.id for p in library.pledges(archived=True)] == [added.pledge.id]
    # Its evidence stays; a rematch finds none for it.
    assert count(library, Evidence) == evidence_before
    library.rematch()
    assert library.evidence(pledge_id=added.pledge.id).total == added.evidence_new
    detail = library.pledge(added.pledge.id)
    assert detail.timeline[-1].kind == "archived"
    assert detail.timeline[-1].note == "logged twice; see the Xi pledge"
    with pytest.raises(InputError, match="was archived"):
        library.archive_pledge(added.pledge.id, "again")
    with pytest.raises(ValidationError) as caught:
        library.archive_pledge(1, "  ")
    assert caught.value.field == "reason"


def test_every_error_the_library_raises_is_a_pledgewatch_error_without_flags(
    library: Desk,
) -> None:
    written = library.add_pledge(new_pledge()).pledge.id
    attempts = [
        lambda: library.pledge(10**12),
        lambda: library.edit_pledge(1, {}),
        lambda: library.record_verdict(1, "maybe", note="x"),
        lambda: library.test_query("china AND (", limit=3),
        lambda: library.test_query("china", limit=-1),
        lambda: library.pledges(limit=-1),
        lambda: library.review_evidence([1], "confirmed", stance="sure"),
        lambda: library.rederive(written),
        lambda: library.check_feed(str(EXAMPLES / "missing.xml")),
    ]
    for attempt in attempts:
        with pytest.raises(PledgewatchError) as caught:
            attempt()
        assert "--" not in str(caught.value), str(caught.value)


def test_a_fixed_clock_dates_what_the_desk_writes(library: Desk) -> None:
    moment = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)
    desk = Desk(
        library.config, user="night-desk", clock=FixedClock(moment), database=library.database
    )
    added = desk.add_pledge(new_pledge())
    assert added.pledge.created_at == moment and added.pledge.created_by == "night-desk"
    with pytest.raises(ValidationError, match="in the future"):
        desk.add_pledge(new_pledge(made_on="2025-03-05"))
    other = desk.acting("day-desk")
    assert other.user == "day-desk" and other.database is desk.database
    assert isinstance(desk.pledges().items[0], PledgeView)


def test_a_spreadsheet_imports_through_the_desk_with_its_warnings(
    library: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "newsroom.csv"
    path.write_text(
        "Pledge;Actor;Made On;Source URL;Desk\n"
        f"Le port ouvrira en 2027;Ville de Marseille;2024-03-01;{SOURCE};local\n",
        encoding="utf-8",
    )
    done = library.import_pledges(path)
    assert len(done.imported) == 1
    assert any('"Desk"' in w for w in done.warnings)
    assert library.pledges(actor="marseille").items[0].text == "Le port ouvrira en 2027"


def test_a_query_is_tried_and_a_written_one_is_not_rederived(library: Desk) -> None:
    trial = library.test_query("@china AND weapons", limit=2)
    assert trial.matched >= 1 and len(trial.sample) <= 2
    written = library.add_pledge(new_pledge()).pledge
    with pytest.raises(ValidationError) as caught:
        library.rederive(written.id)
    assert caught.value.field == "query"
    # Derived queries are what today's rules derive: nothing to apply.
    assert library.rederive(apply=True) == []
