"""Named alias sets: ``@china`` in a query stands for China, Chinese, Beijing, ...

The sets live in ``pledgewatch/data/aliases.toml`` (countries, international
bodies, topics); they are read once, references between sets (``"@aid"``
inside ``funding``) are resolved, and every entry is analysed with the query
analyser, so an entry matches exactly what the same words typed in a query
would match. Broken data is a bug in the package, not a user error, so it
raises ``ValueError``.

May import pledgewatch.matching.analysis only.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

from pledgewatch.matching.analysis import phrase_variants

KINDS = ("countries", "bodies", "topics")

Variants = tuple[tuple[str, ...], ...]


@functools.cache
def _data() -> dict[str, dict[str, list[str]]]:
    text = resources.files("pledgewatch").joinpath("data/aliases.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def _sets() -> dict[str, tuple[str, Variants]]:
    """Name -> (kind, analysed expansions), in file order."""
    data = _data()
    entries: dict[str, tuple[str, list[str]]] = {}
    for kind in KINDS:
        for name, items in data.get(kind, {}).items():
            if name in entries:
                raise ValueError(f"aliases.toml: @{name} is defined twice")
            entries[name] = (kind, items)

    resolved: dict[str, Variants] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> Variants:
        if name in resolved:
            return resolved[name]
        if name in trail:
            raise ValueError(f"aliases.toml: @{name} includes itself via {' -> '.join(trail)}")
        if name not in entries:
            raise ValueError(f"aliases.toml: @{trail[-1]} includes unknown @{name}")
        variants: dict[tuple[str, ...], None] = {}
        for entry in entries[name][1]:
            if entry.startswith("@"):
                found = resolve(entry[1:], (*trail, name))
            else:
                found = phrase_variants(entry)
            if not found:
                raise ValueError(f"aliases.toml: @{name} has an entry without words: {entry!r}")
            variants.update(dict.fromkeys(found))
        if not variants:
            raise ValueError(f"aliases.toml: @{name} is empty")
        resolved[name] = tuple(variants)
        return resolved[name]

    return {name: (kind, resolve(name, ())) for name, (kind, _) in entries.items()}


def alias_names(kind: str | None = None) -> tuple[str, ...]:
    """Names of the alias sets (without "@"), all or of one kind in ``KINDS``."""
    return tuple(name for name, (k, _) in _sets().items() if kind is None or k == kind)


def expand(name: str) -> Variants:
    """The analysed term sequences of set ``name``: ``expand("russia")`` holds
    ``("russia",)``, ``("russian", "federation")``, ``("kremlin",)``, ...
    Raises KeyError for an unknown name."""
    found = _sets().get(name.lower())
    if found is None:
        raise KeyError(name)
    return found[1]


def broader(name: str) -> tuple[str, ...]:
    """Names of the sets that include set ``name`` as an entry ("@small_boats"
    is in ``migration``): the wider subjects it is reported under."""
    entry = "@" + name.lower()
    return tuple(
        other for kind in KINDS for other, items in _data().get(kind, {}).items() if entry in items
    )
