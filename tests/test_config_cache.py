"""A long config's parse kept for the next command: the same Config as a fresh
read, whatever changed (the text, the environment, the kept file itself)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledgewatch import config as config_module
from pledgewatch.config import load_config
from pledgewatch.errors import ConfigError

FEEDS = [
    ("wire", "https://wire.example.org/rss"),
    ("local", "feeds/local.xml"),  # a file: path, read relative to the config
    ("slow", "https://slow.example.org/rss", "2h"),
    ("off", "https://off.example.org/rss", None, False),
]


def config_text(feeds: list[tuple[object, ...]], database: str = "sqlite:///pw.db") -> str:
    parts = [f'[database]\nurl = "{database}"\n']
    for feed in feeds:
        name, url, *rest = feed
        parts.append(f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n')
        if rest and rest[0]:
            parts.append(f'interval = "{rest[0]}"\n')
        if len(rest) > 1:
            parts.append(f"enabled = {str(rest[1]).lower()}\n")
    return "".join(parts)


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every config counts as long; the kept parses go to a folder of the test's."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", str(folder))
    monkeypatch.setattr(config_module, "PARSE_CACHE_FROM", 1)
    return folder


def fresh(path: Path, env: dict[str, str] | None = None) -> config_module.Config:
    """The config read without any kept parse."""
    saved = config_module.PARSE_CACHE_FROM
    config_module.PARSE_CACHE_FROM = 10**12
    try:
        return load_config(path, env=env or {})
    finally:
        config_module.PARSE_CACHE_FROM = saved


def kept_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("config-*.pickle")) if folder.exists() else []


def test_a_kept_parse_gives_the_config_a_fresh_read_gives(kept: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(FEEDS), encoding="utf-8")
    first = load_config(path, env={})
    assert len(kept_files(kept)) == 1
    again = load_config(path, env={})
    assert first == again == fresh(path)
    assert [f.name for f in again.feeds] == ["wire", "local", "slow", "off"]
    assert again.feeds[1].url.startswith("file:") and again.feeds[2].interval is not None


def test_the_environment_of_each_command_applies_to_a_kept_parse(
    kept: Path, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(FEEDS), encoding="utf-8")
    load_config(path, env={})
    other = {"PLEDGEWATCH_DATABASE_URL": "postgresql+psycopg://news@db.example.org/pw"}
    assert load_config(path, env=other).database.url.startswith("postgresql+psycopg://news@")
    assert load_config(path, env=other) == fresh(path, other)


def test_an_edit_of_the_same_length_is_read_afresh(kept: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(FEEDS), encoding="utf-8")
    load_config(path, env={})
    stat = path.stat()
    path.write_text(config_text(FEEDS).replace("wire", "wirx"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time
    assert load_config(path, env={}).feeds[0].name == "wirx"


def test_a_mistake_in_a_long_config_is_reported_every_time(kept: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text([*FEEDS, ("wire", "https://again.example.org/rss")]), "utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError, match='feed name "wire" is used twice'):
            load_config(path, env={})


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(damage=st.binary(max_size=300))
def test_a_damaged_kept_file_is_never_trusted(kept: Path, tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(FEEDS), encoding="utf-8")
    load_config(path, env={})
    [file] = kept_files(kept)
    file.write_bytes(damage)
    assert load_config(path, env={}) == fresh(path)


def test_a_kept_file_another_user_could_write_or_a_link_is_not_read(
    kept: Path, tmp_path: Path
) -> None:
    """A kept parse is a pickle: one that claims this very text, but that anyone
    else could have written or that is a link, is not opened."""
    import pickle

    path = tmp_path / "config.toml"
    text = config_text(FEEDS)
    path.write_text(text, encoding="utf-8")
    load_config(path, env={})
    [file] = kept_files(kept)
    planted_doc = {"database": {"url": "sqlite:///pw.db"}, "feeds": []}
    forged = tmp_path / "forged.pickle"
    with forged.open("wb") as stream:
        pickle.dump(config_module._parse_key(text), stream)
        pickle.dump((planted_doc, []), stream)
    forged.chmod(0o600)

    file.unlink()
    file.symlink_to(forged)
    assert len(load_config(path, env={}).feeds) == 4
    file.unlink()
    forged.rename(file)
    assert load_config(path, env={}).feeds == ()  # the forged file, trusted: it is ours
    file.chmod(0o666)
    assert len(load_config(path, env={}).feeds) == 4


def test_no_parse_is_kept_when_the_cache_is_off(
    kept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", "off")
    path = tmp_path / "config.toml"
    path.write_text(config_text(FEEDS), encoding="utf-8")
    assert load_config(path, env={}) == fresh(path)
    assert kept_files(kept) == []


def test_a_short_config_keeps_no_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "config.toml"
    path.write_text(config_text(FEEDS), encoding="utf-8")
    load_config(path, env={})
    assert kept_files(tmp_path / "cache") == []
