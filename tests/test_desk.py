"""The library: everything the command line does, through open_desk and its Desk.

Real databases on each backend, the example pledges and the example feed; no
command line in sight. The CLI's own tests keep parsing, exit codes, messages
and JSON shape.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import pledgewatch
from pledgewatch import open_desk
from pledgewatch.config import load_config
from pledgewatch.desk import Desk, FixedClock, fold
from pledgewatch.errors import (
    DuplicatePledgeError,
    FinalStatusNeedsSource,
    InputError,
    NotFoundError,
    PledgewatchError,
    UnchangedStatus,
    ValidationError,
)
from pledgewatch.models import Evidence, Pledge
from pledgewatch.views import PledgeView

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
SOURCE = "https://www.reuters.com/world/example-2024-06-14/"


def new_pledge(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "text": "Beijing will not supply lethal weapons to Moscow",
        "actor": "Wang Yi",
        "made_on": "2024-06-14",
        "source_url": SOURCE,
        "query": "@china AND @russia AND weapons",
    }
    fields.update(changes)
    return fields


@pytest.fixture
def library(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """A Desk over an initialised database with the example pledges, swept once."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[[feeds]]\nname = "example"\nurl = "{EXAMPLES / "feed.xml"}"\n',
        encoding="utf-8",
    )
    setup = Desk(load_config(str(config)), user="setup")
    setup.init()
    setup.close()
    with open_desk(load_config(str(config)), user="ana") as desk:
        desk.import_pledges(EXAMPLES / "pledges.csv")
        desk.sweep()
        yield desk


def count(desk: Desk, model: type) -> int:
    with desk.database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


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


def test_the_timeline_is_in_time_order_with_what_each_verdict_cites(
    tmp_path: Path, library: Desk
) -> None:
    clock = [datetime(2026, 11, 2, 9, 0, tzinfo=UTC)]

    def at(hour: int) -> Desk:
        clock[0] = clock[0].replace(hour=hour)
        return Desk(
            library.config, user=f"ed{hour}", clock=FixedClock(clock[0]), database=library.database
        )

    added = at(9).add_pledge(new_pledge())
    item = library.evidence(pledge_id=added.pledge.id).items[0]
    at(10).review_evidence([item.id], "confirmed", stance="broken", note="components")
    at(11).edit_pledge(added.pledge.id, {"deadline": "2026-12-31"})
    at(12).record_verdict(added.pledge.id, "broken", note="parts shipped", evidence_ids=[item.id])
    detail = library.pledge(added.pledge.id)
    kinds = [entry.kind for entry in detail.timeline]
    assert kinds[0] == "logged" and detail.timeline[0].source_url == SOURCE
    assert kinds.index("review") < kinds.index("edit") < kinds.index("verdict")
    times = [entry.at for entry in detail.timeline]
    assert times == sorted(times)
    verdict = detail.timeline[kinds.index("verdict")]
    assert verdict.cites == (item.id,) and verdict.by == "ed12"
    assert detail.verdicts[-1].evidence == (item.id,)


def test_verdicts_refuse_what_changes_nothing_and_finals_without_a_source(
    library: Desk,
) -> None:
    with pytest.raises(FinalStatusNeedsSource) as caught:
        library.record_verdict(1, "broken", note="looks broken")
    assert caught.value.status == "broken" and "--" not in str(caught.value)
    library.record_verdict(1, "In_The_Works", note="talks")
    with pytest.raises(UnchangedStatus) as same:
        library.record_verdict(1, "in_the_works", note="talks again")
    assert same.value.pledge_id == 1
    again = library.record_verdict(1, "in_the_works", note="talks again", same_status=True)
    assert again.from_status == again.to_status == "in_the_works"


def test_rejecting_evidence_a_verdict_cites_is_said(library: Desk) -> None:
    pending = library.evidence(review="pending").items
    assert len(pending) >= 3
    chosen = pending[0]
    library.review_evidence([chosen.id], "confirmed", stance="broken")
    change = library.record_verdict(chosen.pledge_id, "broken", note="n", evidence_ids=[chosen.id])
    many = [item.id for item in pending[1:3] if item.id != chosen.id]
    done = library.review_evidence([chosen.id, *many], "rejected", note="not about it")
    assert done.cited_rejections == ((chosen.id, (change.id,)),)
    assert all(item.review == "rejected" for item in done.items)
    assert len(done.items[0].reviews) == 2


def test_a_review_of_a_missing_item_writes_none_of_the_batch(library: Desk) -> None:
    pending = library.evidence(review="pending").items
    with pytest.raises(NotFoundError) as caught:
        library.review_evidence([pending[0].id, 999_999], "rejected")
    assert caught.value.kind == "evidence"
    assert library.evidence(review="pending").total == len(pending)


def test_the_pending_queue_comes_first_and_never_reads_bodies(library: Desk) -> None:
    pending = library.evidence(review="pending").items
    library.review_evidence([pending[0].id], "confirmed")
    queue = library.evidence(limit=100).items
    reviews = [item.review for item in queue]
    assert reviews == sorted(reviews, key=lambda r: r != "pending")
    assert library.evidence(tag="ukraine").total > 0
    assert library.evidence(tag="no-such-tag").total == 0
    by_xi = library.evidence(actor="XI JINPING")
    assert by_xi.total >= library.evidence(pledge_id=1).total > 0
    assert all("xi jinping" in fold(item.pledge_actor) for item in by_xi)
    with pytest.raises(ValidationError) as caught:
        library.evidence(review="maybe")
    assert caught.value.field == "review"


def test_evidence_found_outside_the_feeds_is_pending(library: Desk) -> None:
    item = library.add_evidence(
        1, "https://apnews.com/article/example-1", title="China ships parts", note="tip"
    )
    assert item.review == "pending" and item.pledge_id == 1
    assert item.article.title == "China ships parts"
    with pytest.raises(InputError, match="already links"):
        library.add_evidence(1, "https://apnews.com/article/example-1")
    with pytest.raises(ValidationError) as caught:
        library.add_evidence(1, "not a url")
    assert caught.value.field == "url"


def test_the_board_feeds_report_and_export_are_plain_values(library: Desk) -> None:
    board = library.status_board()
    assert {row.id for row in board} == {p.id for p in library.pledges()}
    feeds = library.feeds()
    assert [f.name for f in feeds] == ["example"] and feeds[0].articles > 0
    assert feeds[0].to_json()["last_polled_at"] is not None
    report = library.report(datetime(2020, 1, 1, tzinfo=UTC))
    assert report["title"].startswith("Pledge tracker")
    out = io.StringIO()
    assert library.export_pledges("CSV", out) == library.pledges().total
    with pytest.raises(ValidationError) as caught:
        library.export_pledges("xlsx", io.StringIO())
    assert caught.value.field == "format"
    with pytest.raises(ValidationError) as bad:
        library.claimreview(publisher="", url_template=None)
    assert bad.value.field == "publisher"


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
