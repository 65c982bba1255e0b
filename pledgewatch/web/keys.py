"""The secret that signs the web desk's session cookies.

Kept in a file (``[web].secret_key_file``) so that sessions outlive a restart and
several ``serve`` processes behind one proxy accept each other's cookies. Made on
first use with 32 random bytes, readable by its owner only; an existing file is
never overwritten (two processes starting at once agree on the first one written).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pledgewatch.errors import ConfigError

MIN_KEY = 32  # characters


def secret_key(path: Path) -> str:
    """The key in ``path``, made there first if the file does not exist."""
    if not path.exists():
        # Written whole to a file of its own, then linked into place: a second
        # process starting at once reads either nothing (and makes its own, which
        # loses the race to link) or the whole key, never half of one.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the session key file: {exc.strerror}",
                key="web.secret_key_file",
                path=str(path),
            ) from None
        finally:
            draft.unlink(missing_ok=True)
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the session key file: {exc}", key="web.secret_key_file", path=str(path)
        ) from None
    if len(key) < MIN_KEY:
        raise ConfigError(
            f"the session key file holds {len(key)} characters; it needs at least {MIN_KEY} "
            "(delete it and one is made)",
            key="web.secret_key_file",
            path=str(path),
        )
    return key
