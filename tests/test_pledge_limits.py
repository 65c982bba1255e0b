"""Pledges at their length limits in scripts that grow when normalised, on both backends.

The duplicate check compares a pledge's normalised actor and text. NFKD can
make a normalised value many times longer than what was typed (U+FDFA is one
character and eighteen once decomposed), and PostgreSQL refuses index entries
over about 2,700 bytes (1,000 characters of Chinese). Every pledge the
validators accept must be storable, and still refused when logged twice.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import text

from pledgewatch.db import Database
from pledgewatch.pledges import dedupe_key
from tests.conftest import Cli


def _random_han(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(count))


def _add(cli: Cli, pledge: str, actor: str) -> tuple[int, str]:
    result = cli(
        "pledge",
        "add",
        pledge,
        "--by",
        actor,
        "--made-on",
        "2024-06-13",
        "--source-url",
        "https://example.org/source",
        "--query",
        "china",
        "--json",
    )
    return result.code, result.err if result.code else result.out


@pytest.mark.parametrize(
    ("pledge", "actor"),
    [
        (_random_han(1000, 1), "Xi Jinping"),  # 3,000 bytes of text that does not compress
        ("Build the dam by 2030", "\ufdfa" * 200),  # 200 characters, 3,600 once normalised
        ("\ufb01" * 1000, "\u3392" * 200),  # ligatures and squared units expand too
    ],
    ids=["han-text", "expanding-actor", "expanding-both"],
)
def test_the_longest_pledges_are_stored_and_refused_when_repeated(
    cli: Cli, pledge: str, actor: str
) -> None:
    code, out = _add(cli, pledge, actor)
    assert code == 0, out
    stored = json.loads(out)
    assert (stored["text"], stored["actor"]) == (pledge, actor)
    code, err = _add(cli, pledge, actor)
    assert code == 2
    assert err.startswith(f"error: pledge #{stored['id']} already records this pledge by ")
    assert len(err.strip().splitlines()) == 1


def test_pledges_logged_before_the_dedupe_key_are_still_refused_when_repeated(
    database_url: str,
) -> None:
    # A database at the previous revision, holding a pledge, upgraded in place.
    database = Database(database_url)
    database.migrate("0cdb60d8a9e9")
    with database.session() as session:
        session.execute(
            text(
                "INSERT INTO pledges (text, actor, made_on, source_url, status, actor_key, "
                "text_key, created_at, created_by, updated_at, updated_by) VALUES "
                "('China will not sell weapons to Russia', 'Xi Jinping', '2024-06-13', "
                "'https://example.org/s', 'not_yet_rated', 'xi jinping', "
                "'china will not sell weapons to russia', :now, 'maria', :now, 'maria')"
            ),
            {"now": "2026-11-30 10:00:00"},
        )
    database.migrate()
    with database.session(write=False) as session:
        key = session.scalar(text("SELECT dedupe_key FROM pledges"))
    database.dispose()
    assert key == dedupe_key("Xi Jinping", "China will not sell weapons to Russia")
