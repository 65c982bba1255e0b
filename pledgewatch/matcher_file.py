"""The matcher a cron sweep keeps on disk between runs.

A `watch` keeps its matcher in memory from one sweep to the next; a sweep run by
cron is a new process each time, and building the matcher (parsing every
pledge's query, indexing it for the presearch) grows with the pledges: most of
a second at 10,000. So a sweep saves the matcher it built to a file, and the
next one loads it, an eighth of that, and brings it up to date.

What makes a saved matcher safe to use is what it is checked against, never
where it came from:

- each pledge's matching fields (text, query, whether derived, actor, date),
  as a digest per pledge: a pledge logged, edited, archived or deleted since
  the file was written is matched afresh, whatever the database (a file left by
  another database at the same address is corrected pledge by pledge);
- the code and data matching is made of (every file of ``pledgewatch/matching``,
  ``pledgewatch/data`` and this module, by content, the versions of lemminflect and
  pyahocorasick, and Python's): after an upgrade the file is rebuilt;
- its age: after a day it is rebuilt, so the presearcher's sample of common
  terms follows the news (the same as a `watch`'s ``MatcherCache``).

A file that cannot be read, written or trusted is no error: the matcher is
built as if there were none. The files live in ``$PLEDGEWATCH_CACHE_DIR``, else
``$XDG_CACHE_HOME/pledgewatch``, else ``~/.cache/pledgewatch``, readable by
their owner only; ``PLEDGEWATCH_CACHE_DIR=off`` keeps none.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
import time
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from pledgewatch.cache_files import cache_dir, open_own, write_own
from pledgewatch.db import sqlite_path
from pledgewatch.evidence import (
    PledgeMatcher,
    active_pledges,
    collector_paused,
    outgrew_sample,
    pledge_version,
)
from pledgewatch.models import Pledge

log = logging.getLogger("pledgewatch.evidence")

FORMAT = 1
MAX_AGE = 24 * 3600.0  # seconds
REWRITE_AFTER = 50  # pledges changed since the file was written
_PACKAGE = Path(__file__).resolve().parent


@cache
def fingerprint() -> str:
    """The code and data a matcher is built from, and the Python that pickled it."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}".encode())
    for library in ("lemminflect", "pyahocorasick"):
        try:
            digest.update(f"{library}\0{metadata.version(library)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}\0-\0".encode())
    paths = [Path(__file__).resolve(), _PACKAGE / "evidence.py"]
    for folder in (_PACKAGE / "matching", _PACKAGE / "data"):
        paths += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pyc")
    for path in paths:
        # By content: an edit that keeps a file's size and time still counts.
        digest.update(f"{path.relative_to(_PACKAGE)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def file_for(database_url: str, folder: Path) -> Path:
    """The matcher file of one database (a SQLite file by its full path)."""
    path = sqlite_path(database_url)
    where = str(path.resolve()) if path is not None else database_url
    return folder / f"matcher-{hashlib.sha256(where.encode()).hexdigest()[:24]}.pickle"


def _digest(fields: tuple[object, ...]) -> bytes:
    # repr keeps None, "None" and a field holding the separator apart.
    return hashlib.blake2b(repr(fields).encode(), digest_size=16).digest()


def digest_of(pledge: Pledge) -> bytes:
    """The digest of the fields a pledge's matching reads, from the row matched."""
    return _digest((pledge.text, pledge.query, pledge.query_derived, pledge.actor, pledge.made_on))


def pledge_digests(session: Session) -> dict[int, bytes]:
    """For each pledge in the sweep, the digest of the fields its matching reads
    (as ``digest_of``, read as plain rows)."""
    rows = session.execute(
        select(
            Pledge.id,
            Pledge.text,
            Pledge.query,
            Pledge.query_derived,
            Pledge.actor,
            Pledge.made_on,
        ).where(Pledge.archived_at.is_(None))
    )
    return {row[0]: _digest(tuple(row[1:])) for row in rows}


def _read(path: Path) -> tuple[float, dict[int, bytes], PledgeMatcher] | None:
    """When the matcher saved in ``path`` was built, the digests it was built from,
    and the matcher, if it is this code's and fresh."""
    stream = open_own(path)
    if stream is None:
        return None
    try:
        with stream:
            header = pickle.load(stream)
            if (
                not isinstance(header, dict)
                or header.get("fingerprint") != fingerprint()
                or not 0 <= time.time() - float(header.get("built", 0)) < MAX_AGE
            ):
                return None
            with collector_paused():
                digests, matcher = pickle.load(stream)
    except Exception as exc:  # a damaged or foreign file: built afresh
        log.debug("matcher file %s not used: %s", path, exc)
        return None
    if not isinstance(matcher, PledgeMatcher) or not isinstance(digests, dict):
        return None
    return float(header["built"]), digests, matcher


def _write(path: Path, built: float, digests: dict[int, bytes], matcher: PledgeMatcher) -> None:
    """Save atomically (a temporary file renamed), readable by its owner only."""

    def write(stream: IO[bytes]) -> None:
        pickle.dump({"fingerprint": fingerprint(), "built": built}, stream, protocol=5)
        pickle.dump((digests, matcher), stream, protocol=5)

    write_own(path, write, prefix=".matcher-")


def load_matcher(session: Session, database_url: str) -> PledgeMatcher:
    """Every pledge's query in one matcher: the saved one brought up to date when
    there is one to trust, else built (and saved for the next sweep)."""
    folder = cache_dir()
    if folder is None:
        return PledgeMatcher.load(session)
    path = file_for(database_url, folder)
    # The version before any pledge is read (see PledgeMatcher.load). Every digest
    # saved is made from the very row its pledge was matched from: on PostgreSQL
    # each statement sees what committed before it, so a digest read apart from
    # the row could describe another edit of the pledge.
    version = pledge_version(session)
    saved = _read(path)
    if saved is not None and outgrew_sample(session, saved[2]):
        saved = None
    if saved is None:
        built = time.time()
        pledges = active_pledges(session)
        matcher = PledgeMatcher.of(session, pledges, version)
        digests = {pledge.id: digest_of(pledge) for pledge in pledges}
        _write(path, built, _trusted(digests, matcher), matcher)
        return matcher
    built, known, matcher = saved
    current = pledge_digests(session)
    changed = [pid for pid, digest in current.items() if known.get(pid) != digest]
    matcher.skipped.clear()
    # Read again, as rows, for their digests: one edited or archived meanwhile is
    # taken as it is now, one archived or deleted meanwhile is left out.
    pledges = active_pledges(session, changed)
    digests = {pid: digest for pid, digest in known.items() if current.get(pid) == digest}
    digests.update((pledge.id, digest_of(pledge)) for pledge in pledges)
    # Out: every pledge the matcher holds or skipped that is not in the sweep now.
    gone = (set(known) | set(matcher.targets) | matcher.skipped_ids).difference(digests)
    matcher.forget(gone)
    matcher.refresh(pledges, version)
    matcher.version = version
    # Saving costs more than bringing a few pledges up to date: a file is written
    # again once enough changed, and those few are refreshed by each sweep meanwhile.
    stale = len(gone) + sum(1 for pledge in pledges if pledge.id not in matcher.skipped_ids)
    if stale >= REWRITE_AFTER:
        _write(path, built, _trusted(digests, matcher), matcher)
    return matcher


def _trusted(digests: dict[int, bytes], matcher: PledgeMatcher) -> dict[int, bytes]:
    """The digests saved with a matcher: not those of pledges whose query did not
    parse, which are tried (and reported) again by every sweep."""
    return {pid: d for pid, d in digests.items() if pid not in matcher.skipped_ids}


__all__ = ["cache_dir", "file_for", "fingerprint", "load_matcher", "pledge_digests"]
