"""Measuring matching and stance on a labelled evaluation set, through a real sweep.

The sets are listed in tests/data/eval/manifest.json. A set's items are served
as an RSS feed on loopback, swept into a real SQLite database holding the
set's pledges, and the evidence found is compared with the labels: precision
and recall of (pledge, article) pairs, for the journalists' queries or the
derived ones, and the suggested stance: on the items labelled kept or broken,
over all three classes, neutral recall, and per pledge. Used by
tests/test_eval.py and bench/eval_bench.py.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select

from pledgewatch.config import load_config
from pledgewatch.db import Database
from pledgewatch.models import Article, Evidence, Pledge
from pledgewatch.pledges import PledgeData, add_pledge
from pledgewatch.sweep import Sweep

EVAL = Path(__file__).parent / "data" / "eval"
MANIFEST = json.loads((EVAL / "manifest.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class EvalSet:
    name: str
    split: str
    pledges: list[dict[str, Any]]
    items: list[dict[str, Any]]
    entry: dict[str, Any]

    @property
    def floors(self) -> dict[str, Any] | None:
        return self.entry.get("floors")


def load_json(relative: str) -> list[dict[str, Any]]:
    data = json.loads((EVAL / relative).read_text(encoding="utf-8"))
    assert isinstance(data, list), relative
    return data


def item_files(entry: dict[str, Any]) -> list[str]:
    """The item files of a manifest entry: one name or a list of them."""
    items = entry["items"]
    return [items] if isinstance(items, str) else list(items)


def eval_sets(split: str | None = None) -> list[EvalSet]:
    """The manifest's sets (of one split), with their pledges and items loaded."""
    found = []
    for entry in MANIFEST["sets"]:
        if split is None or entry["split"] == split:
            found.append(
                EvalSet(
                    entry["name"],
                    entry["split"],
                    load_json(entry["pledges"]),
                    [item for name in item_files(entry) for item in load_json(name)],
                    entry,
                )
            )
    return found


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
    stance: float  # on the items labelled kept or broken
    stance_all: float  # over all three classes
    neutral_recall: float
    found: int
    gold: int
    stance_items: int
    misses: list[str]
    false: list[str]
    wrong_stance: list[str]
    per_pledge: dict[str, dict[str, float | int]] = field(default_factory=dict)


class _Feed(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


def evaluate(
    folder: Path, pledges: list[dict[str, Any]], items: list[dict[str, Any]], *, written: bool
) -> Figures:
    """Sweep ``items`` into a fresh database of ``pledges`` in ``folder`` and score it."""
    handler = type("Feed", (_Feed,), {"body": feed_xml(items).encode("utf-8")})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config_path = folder / "config.toml"
        config_path.write_text(
            f'[database]\nurl = "sqlite:///{folder / "eval.db"}"\n'
            f'[[feeds]]\nname = "eval"\nurl = "http://127.0.0.1:{server.server_port}/eval.xml"\n'
        )
        config = load_config(config_path, env={})
        database = Database(config.database.url)
        database.migrate()
        with database.session() as session:
            for p in pledges:
                data = PledgeData(
                    text=p["text"],
                    actor=p["actor"],
                    made_on=date.fromisoformat(p["made_on"]),
                    source_url=p["source_url"],
                    query=p["query"] if written else None,
                    tags=(p["key"],),
                )
                add_pledge(session, data, by="eval", now=datetime.now(UTC), force=True)
        summary = Sweep(database, config).run()
        assert summary.feeds_failed == 0, summary.errors
        assert summary.articles_new == len(items)
        with database.session(write=False) as session:
            keys = {p.id: p.tags[0] for p in session.scalars(select(Pledge))}
            rows = session.execute(
                select(Evidence.pledge_id, Article.url, Evidence.stance).join(
                    Article, Article.id == Evidence.article_id
                )
            ).all()
        database.dispose()
    finally:
        server.shutdown()
        server.server_close()
    found = {(keys[pid], url.rsplit("/", 1)[1]): stance for pid, url, stance in rows}
    return score(found, items)


def score(found: dict[tuple[str, str], str], items: list[dict[str, Any]]) -> Figures:
    gold: dict[tuple[str, str], str | None] = {
        (i["pledge"], i["id"]): i["stance"] for i in items if i["pledge"]
    }
    # Items that are fair evidence for another pledge too; their stance is not scored.
    gold.update({(key, i["id"]): None for i in items for key in i.get("also", ())})
    hits = found.keys() & gold.keys()
    labelled = [k for k in hits if gold[k] in ("kept", "broken")]
    scored = [k for k in hits if gold[k] is not None]
    right = [k for k in labelled if found[k] == gold[k]]
    right_all = [k for k in scored if found[k] == gold[k]]
    neutral = [k for k in scored if gold[k] == "neutral"]
    per_pledge: dict[str, dict[str, float | int]] = {}
    for key in sorted({k for k, _ in gold}):
        mine_gold = {k for k in gold if k[0] == key}
        mine_found = {k for k in found if k[0] == key}
        mine_hits = mine_found & mine_gold
        mine_scored = [k for k in mine_hits if gold[k] is not None]
        per_pledge[key] = {
            "gold": len(mine_gold),
            "found": len(mine_found),
            "precision": len(mine_hits) / len(mine_found) if mine_found else 0.0,
            "recall": len(mine_hits) / len(mine_gold) if mine_gold else 0.0,
            "stance": (
                sum(found[k] == gold[k] for k in mine_scored) / len(mine_scored)
                if mine_scored
                else 0.0
            ),
        }
    return Figures(
        precision=len(hits) / len(found) if found else 0.0,
        recall=len(hits) / len(gold) if gold else 0.0,
        stance=len(right) / len(labelled) if labelled else 0.0,
        stance_all=len(right_all) / len(scored) if scored else 0.0,
        neutral_recall=(
            sum(found[k] == "neutral" for k in neutral) / len(neutral) if neutral else 0.0
        ),
        found=len(found),
        gold=len(gold),
        stance_items=len(labelled),
        misses=sorted(f"{k[0]}/{k[1]}" for k in gold.keys() - found.keys()),
        false=sorted(f"{k[0]}/{k[1]}" for k in found.keys() - gold.keys()),
        wrong_stance=sorted(
            f"{k[0]}/{k[1]}: {found[k]} not {gold[k]}" for k in scored if found[k] != gold[k]
        ),
        per_pledge=per_pledge,
    )


def summary_line(kind: str, figures: Figures) -> str:
    return (
        f"{kind} queries: precision {figures.precision:.3f}, recall {figures.recall:.3f} "
        f"({figures.found} found, {figures.gold} labelled); stance {figures.stance:.3f} on "
        f"{figures.stance_items} kept/broken items, {figures.stance_all:.3f} over three "
        f"classes, neutral recall {figures.neutral_recall:.3f}"
    )


# --- stance alone, without a sweep ---------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]?\s+(?=[\"'“‘(]?[A-Z0-9À-Ý])")


@dataclass(frozen=True)
class StanceItem:
    key: str
    item: str
    pledge: str
    title: str
    sentences: tuple[str, ...]
    gold: str


def stance_items(evalset: EvalSet) -> list[StanceItem]:
    """The relevant items of a set, as ``suggest_stance`` reads them: the title
    and the summary's sentences (a sweep passes only the sentences that
    matched; this reads them all, which is what a stance-only measure can)."""
    texts = {p["key"]: p["text"] for p in evalset.pledges}
    return [
        StanceItem(
            i["pledge"],
            i["id"],
            texts[i["pledge"]],
            i["title"],
            tuple(s for s in _SENTENCE_END.split(i["summary"]) if s.strip()),
            i["stance"],
        )
        for i in evalset.items
        if i["pledge"]
    ]


@dataclass(frozen=True)
class StanceFigures:
    stance: float  # on kept/broken items
    stance_all: float
    neutral_recall: float
    items: int
    wrong: tuple[str, ...]


def stance_score(items: list[StanceItem], suggest: Any) -> StanceFigures:
    """Score ``suggest(pledge, title, sentences) -> label`` on stance items."""
    right = right_all = neutral = neutral_right = directed = 0
    wrong = []
    for it in items:
        label = suggest(it.pledge, it.title, list(it.sentences))
        if it.gold == "neutral":
            neutral += 1
            neutral_right += label == "neutral"
        else:
            directed += 1
            right += label == it.gold
        right_all += label == it.gold
        if label != it.gold:
            wrong.append(f"{it.key}/{it.item}: {label} not {it.gold}")
    return StanceFigures(
        right / directed if directed else 0.0,
        right_all / len(items) if items else 0.0,
        neutral_right / neutral if neutral else 0.0,
        len(items),
        tuple(wrong),
    )


# --- matching alone, without a sweep -------------------------------------------------


def match_score(evalset: EvalSet, queries: dict[str, str]) -> tuple[float, float, int, int]:
    """(precision, recall, found, labelled) of ``queries`` (pledge key -> query
    text) over a set's items, as the sweep counts them: an item matches a
    pledge when the query matches its title and summary and it was published
    on or after the pledge was made. The same figures as a sweep's, without
    one; for ablations, which run many."""
    from pledgewatch.matching.analysis import Document
    from pledgewatch.matching.query import match, parse

    parsed = {key: parse(text) for key, text in queries.items()}
    made = {p["key"]: p["made_on"] for p in evalset.pledges}
    gold = {(i["pledge"], i["id"]) for i in evalset.items if i["pledge"]}
    gold |= {(key, i["id"]) for i in evalset.items for key in i.get("also", ())}
    found = set()
    for item in evalset.items:
        doc = Document.from_fields(title=item["title"], summary=item["summary"])
        day = item["published_at"][:10]
        for key, node in parsed.items():
            if day >= made[key] and match(node, doc) is not None:
                found.add((key, item["id"]))
    hits = len(found & gold)
    return (
        hits / len(found) if found else 0.0,
        hits / len(gold) if gold else 0.0,
        len(found),
        len(gold),
    )
