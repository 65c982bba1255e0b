"""`pledgewatch prune`: old articles that are no evidence go, in batches; evidence
and what it cites stay, whatever their age; nothing goes unless retention asks."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pledgewatch import open_desk
from pledgewatch.config import ConfigError, load_config
from pledgewatch.desk import Desk
from pledgewatch.models import Article, ArticleFeed, Evidence
from tests.conftest import Cli
from tests.web_support import MovableClock

EXAMPLES = Path(__file__).parent.parent / "examples"


def _config(tmp_path: Path, database_url: str, days: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n[retention]\narticles_days = {days}\n'
        f'[[feeds]]\nname = "example"\nurl = "{EXAMPLES / "feed.xml"}"\n',
        encoding="utf-8",
    )
    return path


def _count(desk: Desk, model: type) -> int:
    with desk.database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_prune_drops_old_articles_that_are_no_evidence(tmp_path: Path, database_url: str) -> None:
    config = _config(tmp_path, database_url, 30)
    Desk(load_config(str(config))).init()
    clock = MovableClock()
    with open_desk(load_config(str(config)), clock=clock) as desk:
        desk.import_pledges(EXAMPLES / "pledges.csv")
        desk.sweep()
        total = _count(desk, Article)
        with desk.database.session(write=False) as session:
            cited = set(session.scalars(select(Evidence.article_id)))
        assert 0 < len(cited) < total
        assert desk.prune().articles == 0  # nothing is 30 days old yet
        clock.ahead = timedelta(days=31)
        assert desk.prune(dry_run=True).articles == total - len(cited)
        assert _count(desk, Article) == total
        pruned = desk.prune(batch=2)
        assert pruned.articles == total - len(cited)
        assert pruned.batches == -(-(total - len(cited)) // 2)
        with desk.database.session(write=False) as session:
            assert set(session.scalars(select(Article.id))) == cited
            assert set(session.scalars(select(ArticleFeed.article_id))) == cited
        assert all(e.article.url for e in desk.evidence())
        assert desk.prune().articles == 0


def test_prune_keeps_everything_by_default_and_says_so(cli: Cli) -> None:
    result = cli("prune")
    assert result.code == 0 and "every article is kept" in result.out
    assert json.loads(cli("prune", "--json").out)["articles"] == 0


@pytest.mark.parametrize("value", ["-1", "36501", '"30"', "true"])
def test_a_bad_retention_is_a_clear_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///p.db"\n[retention]\narticles_days = {value}\n')
    with pytest.raises(ConfigError, match=r"retention\.articles_days"):
        load_config(str(path))
