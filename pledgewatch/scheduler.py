"""`pledgewatch watch`: APScheduler runs the sweep on the configured interval
and writes the weekly report on [report].weekday at [report].time.

The sweep job has ``max_instances=1`` and coalescing, so a slow sweep never
overlaps the next one and missed runs collapse into one. SIGINT and SIGTERM
set a stop flag: the sweep finishes the feeds in hand, records its run and the
process exits cleanly. SIGHUP reads the config again: the next sweep polls the
feeds it names, on its interval, and the report moves to its time; a config
that does not load is logged and the old one kept (the database URL takes
effect at the next start).

May import: pledgewatch.config, pledgewatch.db, pledgewatch.errors, pledgewatch.report,
pledgewatch.sweep.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from tzlocal import get_localzone

from pledgewatch.config import Config
from pledgewatch.db import Database
from pledgewatch.errors import PledgewatchError, SweepLocked, SweepLockLost
from pledgewatch.report.weekly import weekly_name, write_weekly
from pledgewatch.sweep import Sweep, SweepSummary, claim_report, holder_id, release_report
from pledgewatch.views import SweepView

log = logging.getLogger("pledgewatch.watch")

SweepFactory = Callable[[threading.Event], Sweep]
DELIVER_EVERY = 20  # seconds between rounds of sending queued alerts


def describe(summary: SweepSummary | SweepView) -> str:
    """The one line a sweep leaves in the log."""
    line = (
        f"sweep #{summary.run_id}: {summary.feeds_polled} of {summary.feeds_due} feeds polled, "
        f"{summary.feeds_not_modified} not modified, {summary.feeds_failed} failed; "
        f"{summary.articles_new} new articles, {summary.articles_updated} updated; "
        f"{summary.evidence_new} new evidence; {summary.seconds:.1f}s"
    )
    if summary.errors:
        line += "; failed: " + ", ".join(e["feed"] for e in summary.errors)
    if summary.interrupted:
        line += "; interrupted"
    return line


class Watcher:
    """The long-running process: sweeps on schedule until told to stop."""

    def __init__(
        self,
        database: Database,
        config: Config,
        make_sweep: SweepFactory,
        *,
        reload: Callable[[], Config] | None = None,
        deliver: Callable[[threading.Event], None] | None = None,
    ) -> None:
        self.database = database
        self.config = config
        self.make_sweep = make_sweep
        self.reload = reload
        self.deliver = deliver
        self.stop = threading.Event()
        self.reload_requested = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self.worker = holder_id(os.getpid(), uuid.uuid4().hex[:16])

    def sweep_job(self) -> None:
        if self.stop.is_set():
            return
        try:
            summary = self.make_sweep(self.stop).run()
        except SweepLockLost as exc:
            log.error("sweep stopped: %s", exc)
            return
        except SweepLocked as exc:
            log.warning("sweep skipped: %s", exc)
            return
        except PledgewatchError as exc:
            log.error("sweep failed: %s", exc)
            return
        except Exception:
            # The watcher must outlive one bad sweep; the traceback goes to the log.
            log.exception("sweep crashed")
            return
        log.info(describe(summary))
        for item in summary.errors:
            log.warning("feed %s failed: %s", item["feed"], item["error"])
        if self.deliver is not None and self.scheduler.running:
            # What the sweep queued goes out now, in the alerts job's own thread.
            self.scheduler.modify_job("alerts", next_run_time=datetime.now(UTC))

    def deliver_job(self) -> None:
        """Send queued alerts: a job of its own, so a slow service never delays a sweep."""
        if self.deliver is None or self.stop.is_set():
            return
        try:
            self.deliver(self.stop)
        except Exception:
            log.exception("alerts not sent")

    def report_job(self) -> None:
        now = datetime.now(UTC)
        period = weekly_name(now)
        try:
            if not claim_report(self.database, period, self.worker, now):
                log.info("weekly report %s: written by another worker", period)
                return
        except PledgewatchError as exc:
            log.error("weekly report failed: %s", exc)
            return
        try:
            written = write_weekly(self.database, self.config, now=now)
        except (PledgewatchError, OSError) as exc:
            log.error("weekly report failed: %s", exc)
            # The period is free again: the next worker to try writes it.
            release_report(self.database, period, self.worker)
            return
        log.info("weekly report written: %s", ", ".join(str(p) for p in written))

    def report_trigger(self) -> CronTrigger:
        """[report].weekday at [report].time, in the machine's local time."""
        report = self.config.report
        return CronTrigger(
            day_of_week=report.weekday[:3],
            hour=report.time.hour,
            minute=report.time.minute,
            timezone=get_localzone(),
        )

    def schedule(self) -> None:
        self.scheduler.add_job(
            self.report_job,
            self.report_trigger(),
            id="weekly-report",
            name="weekly report",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=6 * 3600,
        )
        self.scheduler.add_job(
            self.sweep_job,
            self.sweep_trigger(),
            id="sweep",
            name="sweep",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )

        if self.deliver is not None:
            self.scheduler.add_job(
                self.deliver_job,
                IntervalTrigger(seconds=DELIVER_EVERY, timezone=UTC),
                id="alerts",
                name="alerts",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )

    def sweep_trigger(self) -> IntervalTrigger:
        return IntervalTrigger(seconds=self.config.sweep.interval.total_seconds(), timezone=UTC)

    def request_reload(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        self.reload_requested.set()

    def reload_config(self) -> bool:
        """Read the config again and reschedule; False (logged) when it does not load."""
        if self.reload is None:
            return False
        try:
            config = self.reload()
        except PledgewatchError as exc:
            log.error("config not reloaded; the one in use stays: %s", exc)
            return False
        if config.database.url != self.config.database.url:
            log.warning("the database URL changed; it takes effect at the next start")
            config = dataclasses.replace(config, database=self.config.database)
        self.config = config
        if self.scheduler.running:
            self.scheduler.reschedule_job("sweep", trigger=self.sweep_trigger())
            self.scheduler.reschedule_job("weekly-report", trigger=self.report_trigger())
        log.info(
            "config reloaded: %d feeds; sweeping every %s",
            len(config.feeds),
            config.sweep.interval,
        )
        return True

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info(
                "received %s: finishing the feeds in hand, then stopping",
                signal.Signals(signum).name,
            )
        self.stop.set()

    def run(self, *, install_signals: bool = True) -> None:
        if install_signals:
            signal.signal(signal.SIGINT, self.request_stop)
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGHUP, self.request_reload)
        self.schedule()
        self.scheduler.start()
        log.info(
            "watching %d feeds; sweeping every %s",
            len(self.config.feeds),
            self.config.sweep.interval,
        )
        try:
            while not self.stop.wait(0.5):
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload_config()
        finally:
            self.scheduler.shutdown(wait=True)
            log.info("stopped")
