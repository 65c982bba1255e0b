"""pledgewatch: track public pledges until they are kept or broken.

The public API, for Python callers and front ends::

    from pledgewatch import load_config, open_desk

    with open_desk(load_config("config.toml"), user="ana") as desk:
        for row in desk.status_board():
            print(row.id, row.status, ", ".join(row.flags))

``open_desk`` returns a ``Desk`` with one method per command (see
``pledgewatch.desk``); its methods return the frozen values of
``pledgewatch.views`` and raise the errors of ``pledgewatch.errors``.
Names are imported on first use, so that ``import pledgewatch`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "open_desk": "pledgewatch.desk",
    "Desk": "pledgewatch.desk",
    "FixedClock": "pledgewatch.clock",
    "SystemClock": "pledgewatch.clock",
    "load_config": "pledgewatch.config",
    "Config": "pledgewatch.config",
    "PledgewatchError": "pledgewatch.errors",
    "InputError": "pledgewatch.errors",
    "ValidationError": "pledgewatch.errors",
    "NotFoundError": "pledgewatch.errors",
    "DuplicatePledgeError": "pledgewatch.errors",
    "ImportFileError": "pledgewatch.errors",
    "QuerySyntaxError": "pledgewatch.errors",
    "FeedError": "pledgewatch.errors",
    "SweepLocked": "pledgewatch.errors",
    "PledgeView": "pledgewatch.views",
    "PledgeDetail": "pledgewatch.views",
    "EvidenceView": "pledgewatch.views",
    "VerdictView": "pledgewatch.views",
    "TimelineEntry": "pledgewatch.views",
    "FeedView": "pledgewatch.views",
    "Page": "pledgewatch.views",
}

__all__ = [
    "Config",
    "Desk",
    "DuplicatePledgeError",
    "EvidenceView",
    "FeedError",
    "FeedView",
    "FixedClock",
    "ImportFileError",
    "InputError",
    "NotFoundError",
    "Page",
    "PledgeDetail",
    "PledgeView",
    "PledgewatchError",
    "QuerySyntaxError",
    "SweepLocked",
    "SystemClock",
    "TimelineEntry",
    "ValidationError",
    "VerdictView",
    "__version__",
    "load_config",
    "open_desk",
]

if TYPE_CHECKING:
    from pledgewatch.clock import FixedClock, SystemClock
    from pledgewatch.config import Config, load_config
    from pledgewatch.desk import Desk, open_desk
    from pledgewatch.errors import (
        DuplicatePledgeError,
        FeedError,
        ImportFileError,
        InputError,
        NotFoundError,
        PledgewatchError,
        QuerySyntaxError,
        SweepLocked,
        ValidationError,
    )
    from pledgewatch.views import (
        EvidenceView,
        FeedView,
        Page,
        PledgeDetail,
        PledgeView,
        TimelineEntry,
        VerdictView,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pledgewatch' has no attribute {name!r}")
    return getattr(import_module(module), name)
