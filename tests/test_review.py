"""Editorial review: confirm/reject, verdicts, append-only history, flags and the status board."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pledgewatch.board import FLAG_ORDER, PledgeFacts, flags
from pledgewatch.states import STATUS_VALUES
from tests.conftest import Cli

ROOT = Path(__file__).parent.parent


def evidence_of(cli: Cli, pledge: int) -> list[dict]:  # type: ignore[type-arg]
    return json.loads(cli("evidence", "list", "--pledge", str(pledge), "--json").out)  # type: ignore[no-any-return]


def test_confirm_reject_and_re_review_are_all_kept(desk: Cli) -> None:
    item = evidence_of(desk, 1)[0]
    first = desk(
        "evidence", "confirm", str(item["id"]), "--note", "checked", "--by", "ed", "--json"
    )
    assert first.code == 0, first.err
    assert json.loads(first.out)["review"] == "confirmed"
    second = desk(
        "evidence", "reject", str(item["id"]), "--note", "wrong pledge", "--by", "chief", "--json"
    )
    document = json.loads(second.out)
    assert document["review"] == "rejected"
    assert document["reviewed_by"] == "chief"
    assert [(r["review"], r["by"], r["note"]) for r in document["reviews"]] == [
        ("confirmed", "ed", "checked"),
        ("rejected", "chief", "wrong pledge"),
    ]
    text = desk("evidence", "confirm", str(item["id"]), "--stance", "kept")
    assert "reviewed 2 times before; kept in its history" in text.out


def test_the_reviewer_defaults_to_pledgewatch_user(desk: Cli) -> None:
    item = evidence_of(desk, 1)[0]
    document = json.loads(desk("evidence", "confirm", str(item["id"]), "--json").out)
    assert document["reviewed_by"] == "test-editor"


def test_confirm_can_correct_the_stance(desk: Cli) -> None:
    item = evidence_of(desk, 1)[0]
    document = json.loads(
        desk("evidence", "confirm", str(item["id"]), "--stance", "neutral", "--json").out
    )
    assert document["stance"] == "neutral"
    bad = desk("evidence", "confirm", str(item["id"]), "--stance", "sure")
    assert bad.code == 2
    assert (
        bad.err.strip()
        == 'error: --stance: "sure" is not a stance; use one of kept, broken, neutral'
    )


def test_unknown_evidence_and_pledge_ids_are_clear_errors(desk: Cli) -> None:
    result = desk("evidence", "confirm", "9999")
    assert result.code == 2
    assert result.err.strip() == 'error: no evidence #9999; see "pledgewatch evidence list"'
    result = desk("verdict", "9999", "kept", "--note", "x", "--source-url", "https://x.org")
    assert result.code == 2
    assert result.err.strip() == 'error: no pledge #9999; see "pledgewatch pledge list"'


def test_a_bad_status_lists_the_valid_ones(desk: Cli) -> None:
    result = desk("verdict", "1", "done", "--note", "x")
    assert result.code == 2
    assert result.err.strip() == (
        'error: "done" is not a status; use one of not_yet_rated, in_the_works, stalled, kept, '
        "compromise, broken"
    )


def test_a_final_status_needs_confirmed_evidence_or_a_source(desk: Cli) -> None:
    item = evidence_of(desk, 1)[0]
    refused = desk(
        "verdict", "1", "broken", "--note", "parts in drones", "--evidence", str(item["id"])
    )
    assert refused.code == 2
    assert '"broken" is a final status: cite at least one confirmed evidence item' in refused.err
    assert json.loads(desk("pledge", "show", "1", "--json").out)["status"] == "not_yet_rated"
    no_note = desk("verdict", "1", "stalled")
    assert no_note.code == 2
    assert "note: is required" in no_note.err
    interim = desk("verdict", "1", "in_the_works", "--note", "watching")
    assert interim.code == 0, interim.err
    desk("evidence", "confirm", str(item["id"]))
    done = desk(
        "verdict",
        "1",
        "broken",
        "--note",
        "parts in drones",
        "--evidence",
        str(item["id"]),
        "--json",
    )
    assert done.code == 0, done.err
    change = json.loads(done.out)
    assert (change["from"], change["to"], change["evidence"]) == (
        "in_the_works",
        "broken",
        [item["id"]],
    )
    sourced = desk(
        "verdict", "2", "kept", "--note", "signed", "--source-url", "https://www.whitehouse.gov/"
    )
    assert sourced.code == 0, sourced.err


def test_history_is_append_only_and_a_correction_is_a_new_verdict(desk: Cli) -> None:
    desk("verdict", "3", "in_the_works", "--note", "first look")
    desk("verdict", "3", "stalled", "--note", "no meeting after the strike")
    desk("verdict", "3", "in_the_works", "--note", "correction: the meeting did happen")
    history = json.loads(desk("pledge", "show", "3", "--json").out)["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "not_yet_rated"),
        ("not_yet_rated", "in_the_works"),
        ("in_the_works", "stalled"),
        ("stalled", "in_the_works"),
    ]
    assert history[-1]["note"] == "correction: the meeting did happen"
    # Nothing in the tool edits or deletes history: no such command exists.
    assert desk("verdict", "--help").code == 0
    for args in (("history", "delete"), ("verdict", "delete", "3")):
        assert desk(*args).code == 2


def test_evidence_cited_by_a_verdict_must_belong_to_the_pledge(desk: Cli) -> None:
    other = evidence_of(desk, 4)[0]
    result = desk("verdict", "1", "stalled", "--note", "x", "--evidence", str(other["id"]))
    assert result.code == 2
    assert f"evidence #{other['id']} is about pledge #4, not #1" in result.err


NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
TODAY = NOW.date()


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (PledgeFacts("not_yet_rated", date(2026, 1, 1), NOW, 0, NOW), ["overdue"]),
        (PledgeFacts("kept", date(2026, 1, 1), NOW, 0, NOW), []),
        (
            PledgeFacts("stalled", TODAY + timedelta(days=10), NOW, 2, NOW),
            ["needs_review", "due_soon"],
        ),
        (PledgeFacts("in_the_works", TODAY + timedelta(days=31), NOW, 0, NOW), []),
        (
            PledgeFacts(
                "in_the_works", None, NOW - timedelta(days=200), 0, NOW - timedelta(days=91)
            ),
            ["stale"],
        ),
        (PledgeFacts("in_the_works", None, NOW - timedelta(days=200), 0, None), ["stale"]),
        (PledgeFacts("broken", None, NOW - timedelta(days=200), 1, None), ["needs_review"]),
    ],
)
def test_flags_from_a_fixed_clock(facts: PledgeFacts, expected: list[str]) -> None:
    assert (
        flags(facts, today=TODAY, stale_after=timedelta(days=90), due_soon=timedelta(days=30))
        == expected
    )


@settings(max_examples=500, deadline=None)
@given(
    status=st.sampled_from(STATUS_VALUES),
    deadline=st.none() | st.integers(-40, 40).map(lambda d: TODAY + timedelta(days=d)),
    pending=st.integers(0, 3),
    created=st.integers(0, 400).map(lambda d: NOW - timedelta(days=d, hours=d % 24)),
    last=st.none() | st.integers(-1, 400).map(lambda d: NOW - timedelta(days=d, minutes=d)),
    stale_days=st.integers(0, 200),
    soon_days=st.integers(0, 60),
)
def test_flags_are_their_definitions_in_the_boards_order(
    status: str,
    deadline: date | None,
    pending: int,
    created: datetime,
    last: datetime | None,
    stale_days: int,
    soon_days: int,
) -> None:
    """Each flag as the README defines it, listed in FLAG_ORDER."""
    open_ = status not in ("kept", "compromise", "broken")
    latest = (last or created).date()
    wanted = {
        "overdue": open_ and deadline is not None and deadline < TODAY,
        "needs_review": pending > 0,
        "due_soon": open_
        and deadline is not None
        and TODAY <= deadline <= TODAY + timedelta(days=soon_days),
        "stale": open_ and latest < TODAY - timedelta(days=stale_days),
    }
    facts = PledgeFacts(status, deadline, created, pending, last)
    got = flags(
        facts,
        today=TODAY,
        stale_after=timedelta(days=stale_days),
        due_soon=timedelta(days=soon_days),
    )
    assert got == [flag for flag in FLAG_ORDER if wanted[flag]]


def test_status_json_puts_what_needs_attention_first(desk: Cli) -> None:
    item = evidence_of(desk, 1)[0]
    desk("evidence", "confirm", str(item["id"]), "--stance", "broken")
    rows = json.loads(desk("status", "--json").out)
    assert len(rows) == 9
    assert set(rows[0]) == {
        "id",
        "actor",
        "text",
        "status",
        "flags",
        "evidence",
        "last_evidence_at",
        "deadline",
    }
    by_id = {row["id"]: row for row in rows}
    assert "overdue" in by_id[4]["flags"]  # G7 loan: deadline 2024-12-31, no final verdict
    assert by_id[1]["evidence"]["broken"] == 1
    assert by_id[1]["evidence"]["pending"] == len(evidence_of(desk, 1)) - 1
    ranks = [
        min([["overdue", "needs_review", "due_soon", "stale"].index(f) for f in r["flags"]] or [4])
        for r in rows
    ]
    assert ranks == sorted(ranks)
    table = desk("status")
    assert "overdue" in table.out


def test_text_from_people_and_feeds_is_never_read_as_markup(desk: Cli) -> None:
    desk(
        "pledge",
        "add",
        "[red]Nothing[/red] [link=https://evil.example]here[/link]",
        "--by",
        "Tester",
        "--made-on",
        "2024-01-01",
        "--source-url",
        "https://example.org",
    )
    out = desk("pledge", "list").out
    assert "[red]Nothing[/red]" in out
