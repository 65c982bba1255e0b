"""The sweep lock: one sweep at a time per database, a heartbeat, takeover of a dead holder's lock.

Part of the sweep package (see its docstring).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pledgewatch.db import Database
from pledgewatch.errors import (
    SweepLocked,
    SweepLockLost,
)
from pledgewatch.models import SweepLock, SweepRun
from pledgewatch.sweep.summary import utcnow

# A holder that has not beaten for this long is presumed dead, wherever it ran.
LOCK_STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = 30.0  # seconds
LOCK_ROW = 1
log = logging.getLogger("pledgewatch.sweep")
Clock = Callable[[], datetime]


# -- the lock ------------------------------------------------------------------------------------


class Beats:
    """What the sweep lock's holder and a worker's feed claims share: a holder id of
    their own, a record of the sweep's progress, and a heartbeat thread."""

    def __init__(self, database: Database, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock
        self.holder = holder_id(os.getpid(), uuid.uuid4().hex[:16])
        self.lost = False
        self._beating: Heartbeat | None = None
        self._progress_at = time.monotonic()

    def progress(self) -> None:
        """The sweep moved on: the heartbeat may go on beating."""
        self._progress_at = time.monotonic()

    def idle_for(self) -> float:
        return time.monotonic() - self._progress_at

    def heartbeat(self) -> bool:
        raise NotImplementedError

    def start_heartbeat(
        self, every: float = HEARTBEAT_EVERY, on_lost: Callable[[], None] | None = None
    ) -> None:
        """Beat from a thread of its own, whatever the sweep is doing meanwhile."""
        self._beating = Heartbeat(self, every, on_lost)
        self._beating.start()

    def stop_heartbeat(self) -> None:
        if self._beating is not None:
            self._beating.finish()
            self._beating = None


class SweepLockHolder(Beats):
    """Holds the one sweep lock row of a database for the length of a sweep.

    The holder is ``host:pid:namespace:token``. The token is this holder's own
    (a uuid), so no other process, however alike, mistakes the lock for its
    own. A lock is taken over from a holder that has not beaten for
    ``LOCK_STALE_AFTER``, or at once from one whose process is gone, and that
    only when it ran on this host, in this PID namespace, since this boot
    (two containers may share a hostname and reuse each other's PIDs).
    """

    def acquire(self) -> None:
        now = self.clock()
        with self.database.session() as session:
            conn = session.connection()
            taken = conn.execute(
                update(SweepLock)
                .where(
                    SweepLock.id == LOCK_ROW,
                    or_(
                        SweepLock.holder.is_(None),
                        SweepLock.heartbeat_at < now - LOCK_STALE_AFTER,
                    ),
                )
                .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
            ).rowcount
            if not taken:
                row = session.get(SweepLock, LOCK_ROW)
                assert row is not None and row.holder is not None
                if _holder_is_dead(row.holder):
                    taken = conn.execute(
                        update(SweepLock)
                        .where(SweepLock.id == LOCK_ROW, SweepLock.holder == row.holder)
                        .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
                    ).rowcount
                if not taken:
                    host, pid = _holder_parts(row.holder)[:2]
                    since = f"{row.acquired_at:%Y-%m-%d %H:%M} UTC" if row.acquired_at else "?"
                    raise SweepLocked(
                        f"another sweep is running on this database (process {pid} on {host}, "
                        f"since {since}); this one did nothing"
                    )
            self.progress()
            # Any run still marked running was left by a sweep that died.
            session.execute(
                update(SweepRun)
                .where(SweepRun.state == "running")
                .values(state="abandoned", finished_at=now)
                .execution_options(synchronize_session=False)
            )
        self.lost = False

    def check(self, session: Session) -> None:
        """Raise SweepLockLost unless this holder still holds the lock.

        Called first in every write transaction of the sweep. On PostgreSQL the
        row is read FOR SHARE, so no one can take the lock over before this
        transaction ends; on SQLite the transaction's write lock does the same.
        """
        query = select(SweepLock.holder).where(SweepLock.id == LOCK_ROW)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        if session.scalar(query) != self.holder:
            self.lost = True
            raise SweepLockLost(
                "another sweep took this database's sweep lock over (this one was presumed "
                "dead); this sweep stopped without writing more: what it committed is kept"
            )

    def heartbeat(self) -> bool:
        """Beat; False when the lock is no longer this holder's."""
        with self.database.session() as session:
            beaten = (
                session.connection()
                .execute(
                    update(SweepLock)
                    .where(SweepLock.id == LOCK_ROW, SweepLock.holder == self.holder)
                    .values(heartbeat_at=self.clock())
                )
                .rowcount
            )
        if not beaten:
            self.lost = True
        return bool(beaten)

    def release(self) -> None:
        if self.lost:
            return
        with self.database.session() as session:
            session.execute(
                update(SweepLock)
                .where(SweepLock.id == LOCK_ROW, SweepLock.holder == self.holder)
                .values(holder=None, acquired_at=None, heartbeat_at=None)
                .execution_options(synchronize_session=False)
            )


class Beating(Protocol):
    """What a heartbeat keeps alive: the sweep lock, or a worker's feed claims."""

    def idle_for(self) -> float: ...

    def heartbeat(self) -> bool: ...


class Heartbeat(threading.Thread):
    """Beats every ``every`` seconds from a thread of its own while the sweep makes progress."""

    def __init__(self, holder: Beating, every: float, on_lost: Callable[[], None] | None) -> None:
        super().__init__(name="sweep-heartbeat", daemon=True)
        self.holder = holder
        self.every = every
        self.on_lost = on_lost
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            if self.holder.idle_for() > LOCK_STALE_AFTER.total_seconds():
                log.warning("this sweep made no progress for 10 minutes; not beating its lock")
                continue
            try:
                held = self.holder.heartbeat()
            except Exception:
                # A busy or briefly unreachable database: beat again next time.
                # The lock goes stale only after many missed beats.
                log.warning("sweep heartbeat failed", exc_info=True)
                continue
            if not held:
                log.error("this sweep lost its lock to another sweep; stopping")
                if self.on_lost is not None:
                    self.on_lost()
                return

    def finish(self) -> None:
        self._done.set()
        self.join()


def holder_id(pid: int, token: str) -> str:
    """How a lock holder is written: ``host:pid:namespace:token``."""
    return f"{socket.gethostname()}:{pid}:{_namespace()}:{token}"


def _holder_parts(holder: str) -> list[str]:
    return [*holder.split(":"), "", "", ""][:4]


def _namespace() -> str:
    """This boot and PID namespace, or "" when the system does not say."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        pid_namespace = os.stat("/proc/self/ns/pid").st_ino
    except (OSError, UnicodeError):
        return ""
    return hashlib.sha256(f"{boot}/{pid_namespace}".encode()).hexdigest()[:12]


def _holder_is_dead(holder: str) -> bool:
    """True when the holder ran in this host's PID namespace and its process is gone."""
    host, pid_text, namespace, _token = _holder_parts(holder)
    if host != socket.gethostname() or not namespace or namespace != _namespace():
        return False
    if not pid_text.isascii() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return False
