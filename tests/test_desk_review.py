"""The library's evidence, reviews and verdicts, through the Desk on each backend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pledgewatch.clock import FixedClock
from pledgewatch.desk import Desk, fold
from pledgewatch.errors import (
    FinalStatusNeedsSource,
    InputError,
    NotFoundError,
    UnchangedStatus,
    ValidationError,
)
from tests.desk_support import SOURCE, new_pledge

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


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


def test_a_batch_across_pledges_comes_back_in_the_order_given(library: Desk) -> None:
    """Items are reviewed in pledge order (the lock order of the board's counts), and
    returned in the order asked; a missing item is named as the first one given."""
    pending = library.evidence(review="pending").items
    by_pledge = sorted(pending, key=lambda item: (item.pledge_id, item.id))
    assert by_pledge[0].pledge_id != by_pledge[-1].pledge_id
    asked = [by_pledge[-1].id, by_pledge[0].id, *(item.id for item in by_pledge[1:-1])]
    done = library.review_evidence(asked, "confirmed", stance="kept")
    assert [item.id for item in done.items] == asked
    counts = {row.id: row.evidence for row in library.status_board()}
    for item in pending:
        assert counts[item.pledge_id]["pending"] == 0 and counts[item.pledge_id]["kept"] >= 1
    with pytest.raises(NotFoundError) as caught:
        library.review_evidence([by_pledge[0].id, 999_998, 999_997], "rejected")
    assert caught.value.ident == "#999998"


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


@pytest.mark.parametrize("cap", [10_000, 1, 4])
def test_every_page_of_the_queue_is_a_slice_of_one_order(
    library: Desk, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pending first, then the newest article first, whichever way the items came
    # (a sweep, a rematch, by hand), at every offset and page size; whether the
    # total was counted in full or stopped at the cap.
    from sqlalchemy import select

    from pledgewatch import desk as desk_module

    monkeypatch.setattr(desk_module, "COUNT_CAP", cap)

    from pledgewatch.models import Article, Evidence

    library.add_evidence(1, "https://apnews.com/article/by-hand", title="China ships parts")
    items = library.evidence().items
    library.review_evidence([items[1].id, items[-1].id], "rejected")
    library.review_evidence([items[2].id], "confirmed")
    whole = library.evidence().items
    assert len(whole) >= 6
    key = [(item.review != "pending", -item.article.published_at.timestamp()) for item in whole]
    assert key == sorted(key)
    # Counted up to the cap: the total is exact below it, "more than the cap" past it.
    counted = (len(whole), True) if len(whole) <= cap else (cap, False)
    for size in (1, 2, 3, 5):
        for offset in range(len(whole) + 2):
            page = library.evidence(limit=size, offset=offset)
            assert [i.id for i in page] == [i.id for i in whole[offset : offset + size]]
            assert (page.total, page.exact) == counted
    for review in ("pending", "rejected"):
        some = [i for i in whole if i.review == review]
        page = library.evidence(review=review, limit=2)
        assert [i.id for i in page] == [i.id for i in some[:2]]
        assert (page.total, page.exact) == (min(len(some), cap), len(some) <= cap)
    with library.database.session(write=False) as session:
        pairs = session.execute(
            select(Evidence.published_at, Article.published_at).join(
                Article, Article.id == Evidence.article_id
            )
        ).all()
    assert pairs and all(mine == theirs for mine, theirs in pairs)


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
