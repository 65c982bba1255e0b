"""Lemmas and inflections of English words, from lemminflect, imported on first use.

lemminflect (and the numpy it needs) takes a quarter of a second to import;
a sweep or a command that never reads a pledge or suggests a stance should
not pay it. Results are cached: the same few thousand words come back.

May import lemminflect only.
"""

from __future__ import annotations

import functools
from types import ModuleType


@functools.cache
def _lemminflect() -> ModuleType:
    import lemminflect

    module: ModuleType = lemminflect
    return module


@functools.lru_cache(maxsize=16384)
def all_inflections(word: str, upos: str | None = None) -> dict[str, tuple[str, ...]]:
    """Penn tag -> inflected forms, for one part of speech or all of them."""
    module = _lemminflect()
    found = module.getAllInflections(word, upos=upos) if upos else module.getAllInflections(word)
    return dict(found)


@functools.lru_cache(maxsize=16384)
def all_lemmas(word: str, upos: str | None = None) -> dict[str, tuple[str, ...]]:
    """Part of speech -> lemmas of ``word`` lemminflect knows (empty when none)."""
    module = _lemminflect()
    found = module.getAllLemmas(word, upos=upos) if upos else module.getAllLemmas(word)
    return dict(found)


@functools.lru_cache(maxsize=16384)
def lemma(word: str, upos: str) -> tuple[str, ...]:
    """Lemmas of ``word`` as one part of speech, by rule when not in the dictionary."""
    return tuple(_lemminflect().getLemma(word, upos=upos))
