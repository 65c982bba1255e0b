"""The library's board, feeds, report and exports as plain values, through the Desk."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pledgewatch.desk import Desk
from pledgewatch.errors import (
    ValidationError,
)

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


def test_the_board_feeds_report_and_export_are_plain_values(library: Desk) -> None:
    board = library.status_board()
    assert {row.id for row in board} == {p.id for p in library.pledges()}
    feeds = library.feeds()
    assert [f.name for f in feeds] == ["example"] and feeds[0].articles > 0
    assert feeds[0].to_json()["last_polled_at"] is not None
    report = library.report(datetime(2020, 1, 1, tzinfo=UTC))
    assert report.title.startswith("Pledge tracker") and report.to_json()["title"] == report.title
    # A frozen value: changing the document one caller was given changes nothing else.
    given = report.to_json()
    given["counts"].clear()
    assert report.to_json()["counts"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.title = "changed"  # type: ignore[misc]
    out = io.StringIO()
    assert library.export_pledges("CSV", out) == library.pledges().total
    with pytest.raises(ValidationError) as caught:
        library.export_pledges("xlsx", io.StringIO())
    assert caught.value.field == "format"
    with pytest.raises(ValidationError) as bad:
        library.claimreview(publisher="", url_template=None)
    assert bad.value.field == "publisher"


def test_a_final_verdict_reaches_the_report_and_claimreview(library: Desk) -> None:
    item = library.evidence(pledge_id=1, review="pending").items[0]
    library.review_evidence([item.id], "confirmed", stance="broken")
    library.record_verdict(1, "broken", note="parts found", evidence_ids=[item.id])
    data = library.report(datetime(2020, 1, 1, tzinfo=UTC)).to_json()
    assert [c["pledge_id"] for c in data["status_changes"]] == [1]
    document = json.loads(library.claimreview(publisher="The Daily Example"))
    reviews = document if isinstance(document, list) else document.get("@graph", [document])
    assert any("China will not sell weapons" in json.dumps(r) for r in reviews)
    templated = library.claimreview(
        publisher="The Daily Example", url_template="https://news.example.org/p/{id}"
    )
    assert "https://news.example.org/p/1" in templated


def test_an_export_imports_into_an_empty_newsroom_field_for_field(
    library: Desk, tmp_path: Path
) -> None:
    out = io.StringIO()
    library.export_pledges("jsonl", out)
    path = tmp_path / "export.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    config = tmp_path / "other.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "other.db"}"\n')
    from pledgewatch.config import load_config

    other = Desk(load_config(str(config)), user="restore")
    other.init()
    imported = other.import_pledges(path)
    assert len(imported.imported) == library.pledges().total
    mine = {(p.actor, p.text, p.made_on, p.query) for p in library.pledges()}
    theirs = {(p.actor, p.text, p.made_on, p.query) for p in other.pledges()}
    assert mine == theirs
    other.close()
