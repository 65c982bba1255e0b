"""Every entry of the stance lexicon (pledgewatch/data/stance.toml) does what its example says.

For each cue: it is found in its example sentence, and, for its group's
example pledge of each polarity the group votes for, the example gets the
group's vote. The lexicon's data is checked too: cues unique in a group,
every scope and word list read, inflections generated.
"""

from __future__ import annotations

import pytest

from pledgewatch.matching import stance

LEX = stance.lexicon()
CUES = [(group, cue) for group in LEX.groups for cue in group.cues]


@pytest.mark.parametrize(("group", "cue"), CUES, ids=[f"{g.name}:{c.text}" for g, c in CUES])
def test_each_cue_is_found_in_its_example_and_votes_as_its_group_does(
    group: stance.Group, cue: stance.Cue
) -> None:
    found = stance.cues_in("An example.", cue.example)
    assert (group.name, cue.text) in [(g, c) for g, c, _ in found], found
    for polarity, vote in (("positive", group.positive), ("negative", group.negative)):
        if vote is None:
            continue
        pledge = group.pledge[polarity]
        assert stance.pledge_polarity(pledge) == polarity or group.trend, pledge
        got = stance.suggest_stance(pledge, cue.example, [])
        assert got.label == vote, (pledge, cue.example, got)


def test_cues_are_unique_within_a_group_and_inflected() -> None:
    for group in LEX.groups:
        texts = [c.text for c in group.cues]
        assert len(texts) == len(set(texts)), group.name
    miss = next(c for g in LEX.groups for c in g.cues if c.text == "miss")
    assert {("missed",), ("misses",), ("missing",)} <= set(miss.patterns)
    fall_short = next(c for g in LEX.groups for c in g.cues if c.text == "fall short")
    assert ("fell", "short") in fall_short.patterns


def test_scopes_and_word_lists_are_read() -> None:
    assert {"negation", "hedge", "restatement", "background", "undoing"} <= set(LEX.scopes)
    assert all(scope.triggers for scope in LEX.scopes.values())
    assert {"bad", "good", "commitment", "goal"} <= set(LEX.words)


def test_an_ablated_lexicon_changes_only_what_it_names() -> None:
    smaller = LEX.without_cue("failure", "miss")
    assert smaller.cue_count() == LEX.cue_count() - 1
    assert (
        stance.suggest_stance(
            "We will spend 2% of GDP on defence.", "Germany misses its defence goal", [], smaller
        ).label
        != "broken"
    )
    assert LEX.without("negation").scopes.keys() == LEX.scopes.keys() - {"negation"}
    assert "own act" in LEX.without("own act").off
