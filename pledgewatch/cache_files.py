"""Files a process keeps for the next one: where they live, and how they are read
and written so that no one else's file is ever trusted.

A cache file here is a pickle, and a pickle runs code as it loads: only a plain
file of this user's own that no one else can write is opened, never through a
link, never waiting on a pipe put in its place. Files are written whole (a
temporary file renamed), readable by their owner only, in a folder of the
owner's only. They live in ``$PLEDGEWATCH_CACHE_DIR``, else
``$XDG_CACHE_HOME/pledgewatch``, else ``~/.cache/pledgewatch``;
``PLEDGEWATCH_CACHE_DIR=off`` keeps none. A file that cannot be read or written
is no error: the caller works as if there were none.

May import: nothing in pledgewatch.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

log = logging.getLogger("pledgewatch.cache")

LEFTOVER_AGE = 3600.0  # seconds: a half-written file older than this was left by a killed process


def cache_dir(env: Mapping[str, str] = os.environ) -> Path | None:
    """Where cache files are kept; None when they are not."""
    chosen = env.get("PLEDGEWATCH_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "none") else Path(chosen)
    base = env.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home: a container run as a uid of its own
            return None
    return Path(base) / "pledgewatch"


def open_own(path: Path) -> IO[bytes] | None:
    """``path`` open for reading if it is a plain file of this user's alone, else None."""
    try:
        # Never through a link, and never waiting on a pipe put in its place.
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cache file %s not read: %s", path, exc)
        return None
    stream = os.fdopen(handle, "rb")
    try:
        owner = os.fstat(stream.fileno())
    except OSError:
        stream.close()
        return None
    if not stat.S_ISREG(owner.st_mode) or owner.st_uid != os.geteuid() or owner.st_mode & 0o022:
        log.warning("cache file %s is not this user's alone; not read", path)
        stream.close()
        return None
    return stream


def write_own(path: Path, write: Callable[[IO[bytes]], None], *, prefix: str) -> None:
    """Write ``path`` whole with ``write`` (a temporary file named ``prefix``…, then
    renamed), readable by its owner only; a failure is logged, not raised."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        clear_leftovers(path.parent, prefix)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix)
        try:
            with os.fdopen(handle, "wb") as stream:
                write(stream)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except Exception as exc:  # a read-only home, a full disk: the next one works without
        log.debug("cache file %s not written: %s", path, exc)


def clear_leftovers(folder: Path, prefix: str) -> None:
    """Remove the half-written files of processes killed while saving (an hour old)."""
    for leftover in folder.glob(f"{prefix}*"):
        try:
            if time.time() - leftover.lstat().st_mtime > LEFTOVER_AGE:
                leftover.unlink()
        except OSError:
            pass
