"""`watch` schedules: the sweep every interval, the weekly report on its day and time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update
from werkzeug import Request, Response

from pledgewatch.config import config_from_dict
from pledgewatch.db import Database
from pledgewatch.models import Article, SweepLock
from pledgewatch.scheduler import Watcher
from pledgewatch.sweep import Sweep
from tests.test_sweep import rss


def make_watcher(tmp_path: Path) -> Watcher:
    config = config_from_dict(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'pw.db'}"},
            "sweep": {"interval": "15m"},
            "report": {
                "weekday": "friday",
                "time": "07:30",
                "output_dir": "out",
                "formats": ["md", "json"],
            },
        },
        path=tmp_path / "config.toml",
        env={},
    )
    database = Database(config.database.url)
    database.migrate()

    def make_sweep(stop: threading.Event) -> Sweep:
        return Sweep(database, config, stop=stop)

    return Watcher(database, config, make_sweep)


def test_watch_schedules_the_sweep_and_the_weekly_report(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path)
    watcher.schedule()
    jobs = {job.id: job for job in watcher.scheduler.get_jobs()}
    assert set(jobs) == {"sweep", "weekly-report"}
    assert jobs["sweep"].trigger.interval.total_seconds() == 900
    assert jobs["sweep"].max_instances == 1 and jobs["sweep"].coalesce is True
    fields = {f.name: str(f) for f in jobs["weekly-report"].trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("fri", "7", "30")
    watcher.database.dispose()


def test_the_report_job_writes_files_named_by_iso_week(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path)
    watcher.report_job()
    year, week, _ = datetime.now(UTC).isocalendar()
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"pledgewatch-{year}-W{week:02d}.json", f"pledgewatch-{year}-W{week:02d}.md"]
    assert (tmp_path / "out" / names[1]).read_text().startswith("# ")
    watcher.database.dispose()


def test_a_sweep_that_loses_its_lock_leaves_watch_running(tmp_path: Path) -> None:
    # The feed's server takes the sweep lock over while answering, as a second
    # sweeper would after presuming this one dead.
    database = Database(f"sqlite:///{tmp_path / 'pw.db'}")
    database.migrate()

    def steal_then_answer(_request: Request) -> Response:
        with database.session() as session:
            session.execute(
                update(SweepLock).values(holder="elsewhere:1:x:y", heartbeat_at=datetime.now(UTC))
            )
        return Response(rss([("a", "Alpha")]), content_type="application/rss+xml")

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/a.xml").respond_with_handler(steal_then_answer)
    server.start()
    try:
        config = config_from_dict(
            {
                "database": {"url": database.url},
                "feeds": [{"name": "a", "url": server.url_for("/a.xml")}],
            },
            path=tmp_path / "config.toml",
            env={},
        )
        watcher = Watcher(database, config, lambda stop: Sweep(database, config, stop=stop))
        watcher.sweep_job()
        assert not watcher.stop.is_set(), "one sweep's lost lock does not stop the watch"
        with database.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Article)) == 0
        # Once the other sweeper is gone, the next scheduled sweep does the work.
        with database.session() as session:
            session.execute(update(SweepLock).values(holder=None, heartbeat_at=None))
        server.clear()
        server.expect_request("/a.xml").respond_with_data(rss([("a", "Alpha")]))
        watcher.sweep_job()
        with database.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Article)) == 1
    finally:
        server.stop()
        database.dispose()
