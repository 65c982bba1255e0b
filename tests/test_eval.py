"""Matching quality on the labelled evaluation set in tests/data/eval, through a real sweep.

The items are served as an RSS feed on loopback, swept into a real SQLite
database holding the evaluation pledges, and the evidence found is compared
with the labels: precision and recall of (pledge, article) pairs, for the
journalists' queries and for derived ones, and the accuracy of the suggested
stance on the items labelled kept or broken. The figures are printed (run
with -s) and recorded in bench/RESULTS.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from pledgewatch.config import load_config
from pledgewatch.db import Database
from pledgewatch.models import Article, Evidence, Pledge
from pledgewatch.sweep import Sweep

DATA = Path(__file__).parent / "data" / "eval"
PLEDGES = json.loads((DATA / "pledges.json").read_text())
ITEMS = json.loads((DATA / "items.json").read_text())
# Written after matching was tuned, each by someone who had not seen the items
# above, the other sets, the queries' wording, the alias data or the stance cues.
# The stance cues and derived-query rules were then refined on the errors of
# "holdout" to "holdout6", one set at a time (bench/RESULTS.md). "holdout7" and
# "holdout8" (written after all tuning) are still held out: their errors have
# not been looked at.
HOLDOUT = {
    name: json.loads((DATA / f"{name}.json").read_text())
    for name in (
        "holdout",
        "holdout2",
        "holdout3",
        "holdout4",
        "holdout5",
        "holdout6",
        "holdout7",
        "holdout8",
    )
}
GOALS = {"written": (0.95, 0.95), "derived": (0.85, 0.85)}
STANCE_GOAL = 0.80
# Regression floors, each a margin below what the set measured (bench/RESULTS.md):
# (precision, recall) by set and kind of query. They are not the goals.
HOLDOUT_FLOORS = {
    "holdout": {"written": (0.80, 0.85), "derived": (0.80, 0.90)},
    "holdout2": {"written": (0.85, 0.85), "derived": (0.82, 0.85)},
    "holdout3": {"written": (0.85, 0.72), "derived": (0.75, 0.68)},
    "holdout4": {"written": (0.85, 0.75), "derived": (0.80, 0.70)},
    "holdout5": {"written": (0.78, 0.75), "derived": (0.78, 0.75)},
    "holdout6": {"written": (0.88, 0.72), "derived": (0.85, 0.78)},
    "holdout7": {"written": (0.84, 0.84), "derived": (0.80, 0.84)},
    "holdout8": {"written": (0.80, 0.78), "derived": (0.80, 0.75)},
}
HOLDOUT_STANCE_FLOOR = 0.60


def feed_xml(items: list[dict[str, Any]]) -> str:
    entries = []
    for item in items:
        when = datetime.fromisoformat(item["published_at"].replace("Z", "+00:00"))
        entries.append(
            f"<item><title>{escape(item['title'])}</title>"
            f"<link>https://eval.example.org/{item['id']}</link>"
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
            f"<description>{escape(item['summary'])}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Evaluation desk</title><link>https://eval.example.org/</link>"
        + "".join(entries)
        + "</channel></rss>"
    )


@dataclass
class Figures:
    precision: float
    recall: float
    stance: float
    found: int
    gold: int
    stance_items: int
    misses: list[str]
    false: list[str]
    wrong_stance: list[str]


def evaluate(
    tmp_path: Path, server: HTTPServer, *, written: bool, items: list[dict[str, Any]] = ITEMS
) -> Figures:
    server.expect_request("/eval.xml").respond_with_data(
        feed_xml(items), content_type="application/rss+xml"
    )
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "eval.db"}"\n'
        f'[[feeds]]\nname = "eval"\nurl = "{server.url_for("/eval.xml")}"\n'
    )
    config = load_config(config_path, env={})
    database = Database(config.database.url)
    database.migrate()
    from datetime import UTC, date

    from pledgewatch.pledges import PledgeData, add_pledge

    with database.session() as session:
        for p in PLEDGES:
            data = PledgeData(
                text=p["text"],
                actor=p["actor"],
                made_on=date.fromisoformat(p["made_on"]),
                source_url=p["source_url"],
                query=p["query"] if written else None,
                tags=(p["key"],),
            )
            add_pledge(session, data, by="eval", now=datetime.now(UTC))
    summary = Sweep(database, config).run()
    assert summary.feeds_failed == 0, summary.errors
    assert summary.articles_new == len(items)

    with database.session() as session:
        keys = {p.id: p.tags[0] for p in session.scalars(select(Pledge))}
        rows = session.execute(
            select(Evidence.pledge_id, Article.url, Evidence.stance).join(
                Article, Article.id == Evidence.article_id
            )
        ).all()
    found = {(keys[pid], url.rsplit("/", 1)[1]): stance for pid, url, stance in rows}
    gold = {(i["pledge"], i["id"]): i["stance"] for i in items if i["pledge"]}
    # Items that are fair evidence for another pledge too; their stance is not scored.
    gold.update({(key, i["id"]): None for i in items for key in i.get("also", ())})
    hits = found.keys() & gold.keys()
    labelled = [k for k in hits if gold[k] in ("kept", "broken")]
    right = [k for k in labelled if found[k] == gold[k]]
    return Figures(
        precision=len(hits) / len(found) if found else 0.0,
        recall=len(hits) / len(gold),
        stance=len(right) / len(labelled) if labelled else 0.0,
        found=len(found),
        gold=len(gold),
        stance_items=len(labelled),
        misses=sorted(f"{k[0]}/{k[1]}" for k in gold.keys() - found.keys()),
        false=sorted(f"{k[0]}/{k[1]}" for k in found.keys() - gold.keys()),
        wrong_stance=sorted(
            f"{k[0]}/{k[1]}: {found[k]} not {gold[k]}" for k in labelled if found[k] != gold[k]
        ),
    )


def report(kind: str, figures: Figures) -> None:
    print(
        f"\n{kind} queries: precision {figures.precision:.3f}, recall {figures.recall:.3f} "
        f"({figures.found} found, {figures.gold} labelled); stance accuracy {figures.stance:.3f} "
        f"on {figures.stance_items} kept/broken items"
    )
    print("  missed:", ", ".join(figures.misses) or "none")
    print("  false:", ", ".join(figures.false) or "none")
    print("  wrong stance:", "; ".join(figures.wrong_stance) or "none")


@pytest.mark.parametrize("kind", ["written", "derived"])
def test_matching_quality_on_the_labelled_set(
    kind: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    figures = evaluate(tmp_path, httpserver, written=kind == "written")
    report(kind, figures)
    precision_goal, recall_goal = GOALS[kind]
    assert figures.precision >= precision_goal
    assert figures.recall >= recall_goal
    assert figures.stance >= STANCE_GOAL


@pytest.mark.parametrize("kind", ["written", "derived"])
@pytest.mark.parametrize("name", sorted(HOLDOUT))
def test_matching_quality_on_the_held_out_sets(
    name: str, kind: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The figures to trust: bench/RESULTS.md records them. The asserted floors
    are the first measurement less a margin, to catch a regression; they are
    not the goals, which only the tuned set above meets."""
    figures = evaluate(tmp_path, httpserver, written=kind == "written", items=HOLDOUT[name])
    report(f"{name}, {kind}", figures)
    precision_floor, recall_floor = HOLDOUT_FLOORS[name][kind]
    assert figures.precision >= precision_floor
    assert figures.recall >= recall_floor
    assert figures.stance >= HOLDOUT_STANCE_FLOOR
