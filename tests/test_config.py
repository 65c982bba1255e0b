"""Configuration: lookup order, overrides, relative paths, and errors that name the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pledgewatch.config import load_config, parse_duration
from pledgewatch.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    path = Path(__file__).parent.parent / "config.toml"
    config = load_config(path, env={})
    assert config.database.url.startswith("sqlite:///")
    assert config.sweep.interval == timedelta(minutes=30)
    assert config.feeds, "the example config declares feeds"


def test_relative_sqlite_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "newsroom"
    folder.mkdir()
    path = write(folder, '[database]\nurl = "sqlite:///data/pw.db"\n')
    config = load_config(path, env={})
    assert config.database.url == f"sqlite:///{folder.resolve() / 'data' / 'pw.db'}"


def test_lookup_order_explicit_then_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n', "a.toml")
    b = write(tmp_path, '[database]\nurl = "sqlite:///b.db"\n', "b.toml")
    write(tmp_path, '[database]\nurl = "sqlite:///c.db"\n')
    monkeypatch.chdir(tmp_path)
    env = {"PLEDGEWATCH_CONFIG": str(b)}
    assert load_config(a, env=env).database.url.endswith("a.db")
    assert load_config(None, env=env).database.url.endswith("b.db")
    assert load_config(None, env={}).database.url.endswith("c.db")


def test_database_url_env_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    env = {"PLEDGEWATCH_DATABASE_URL": "postgresql://newsroom@db.example/pw"}
    config = load_config(path, env=env)
    assert config.database.url == "postgresql+psycopg://newsroom@db.example/pw"


def test_missing_file_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library says which file and where its path came from (a field); the
    command line says which option or variable to set, and how to make one."""
    from pledgewatch.cli.errors import message

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_config(None, env={})
    assert str(err.value) == "no configuration file at config.toml"
    assert err.value.missing == "default"
    said = message(err.value)
    assert "PLEDGEWATCH_CONFIG" in said and "--config" in said and "pledgewatch init" in said
    with pytest.raises(ConfigError) as err:
        load_config(None, env={"PLEDGEWATCH_CONFIG": "/nowhere/pw.toml"})
    assert err.value.missing == "environment"
    assert "/nowhere/pw.toml (from $PLEDGEWATCH_CONFIG)" in message(err.value)
    with pytest.raises(ConfigError) as err:
        load_config("/nowhere/given.toml", env={})
    assert "(given with --config)" in message(err.value)


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('[database]\nurl = "sqlite:///a.db"\ncolour = 1\n', "database.colour", "unknown key"),
        ('[database]\nurl = "sqlite:///a.db"\n[sweeps]\n', "sweeps", "unknown key"),
        ("[database]\nurl = 5\n", "database.url", "must be a string, not int"),
        (
            '[database]\nurl = "mysql://x/y"\n',
            "database.url",
            '"mysql" databases are not supported',
        ),
        ('[database]\nurl = "not a url"\n', "database.url", "is not a database URL"),
        ("[database]\n", "database.url", "is required"),
        (
            '[database]\nurl = "sqlite:///a.db"\n[sweep]\ninterval = "soon"\n',
            "sweep.interval",
            '"soon" is not a duration',
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[sweep]\ninterval = 30\n',
            "sweep.interval",
            "must be a duration string",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[sweep]\nconcurrency = "16"\n',
            "sweep.concurrency",
            "must be an integer, not str",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[sweep]\nconcurrency = true\n',
            "sweep.concurrency",
            "must be an integer, not bool",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[sweep]\nper_host = 0\n',
            "sweep.per_host",
            "must be between 1 and 100",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[sweep]\ntimeout = -1\n',
            "sweep.timeout",
            "must be a positive number",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[report]\nweekday = "funday"\n',
            "report.weekday",
            '"funday" is not a weekday',
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[report]\ntime = "8am"\n',
            "report.time",
            "is not a time of day",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[report]\nformats = ["pdf"]\n',
            "report.formats",
            '"pdf" is not a report format',
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "a"\nurl = "ftp://x/y"\n',
            "feeds[0].url",
            "is not an http(s) URL, file: URL or path",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "a"\nurl = "https://"\n',
            "feeds[0].url",
            "has no host",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "A B"\nurl = "https://x.org"\n',
            "feeds[0].name",
            "is not a feed name",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "a"\nurl = "https://x.org"\n'
            '[[feeds]]\nname = "a"\nurl = "https://y.org"\n',
            "feeds[1].name",
            "is used twice",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "a"\nurl = "https://x.org"\n'
            'interval = "0m"\n',
            "feeds[0].interval",
            "is not a positive duration",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "a"\nurl = "https://x.org"\n'
            'enabled = "yes"\n',
            "feeds[0].enabled",
            "must be true or false",
        ),
        (
            '[database]\nurl = "sqlite:///a.db"\n[[feeds]]\nname = "a"\nurl = "https://x.org"\n'
            "poll = 1\n",
            "feeds[0].poll",
            "unknown key",
        ),
    ],
)
def test_bad_config_names_the_key_and_the_file(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert str(err.value).startswith(f"{key} in {path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[database\nurl = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert str(err.value).startswith(f"in {path}: not valid TOML")


def test_feed_paths_become_file_urls_relative_to_the_config(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "sqlite:///a.db"\n'
        '[[feeds]]\nname = "local"\nurl = "examples/feed.xml"\ninterval = "15m"\n',
    )
    feed = load_config(path, env={}).feeds[0]
    assert feed.url == (tmp_path.resolve() / "examples" / "feed.xml").as_uri()
    assert feed.interval == timedelta(minutes=15)
    assert feed.enabled is True


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("7d", 604800), ("90s", 90)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_cli_reports_config_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pledgewatch.cli import main

    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n[sweep]\nconcurency = 3\n')
    code = main(["--config", str(path), "pledge", "list"])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err == f"error: sweep.concurency in {path}: unknown key; known keys here: "
        "concurrency, interval, lease, max_bytes, per_host, timeout, user_agent\n"
    )


def test_the_default_config_is_rendered_from_the_defaults(tmp_path: Path) -> None:
    """One place for every default: the written default config loads to the same
    values as a config that names nothing, and the fetcher starts from them."""
    from pledgewatch import defaults
    from pledgewatch.config import DEFAULT_CONFIG_TEXT, ReportConfig, ReviewConfig, SweepConfig
    from pledgewatch.feeds.fetch import FetchSettings

    written = tmp_path / "written.toml"
    written.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    bare = tmp_path / "bare.toml"
    bare.write_text('[database]\nurl = "sqlite:///pledgewatch.db"\n', encoding="utf-8")
    a, b = load_config(written, env={}), load_config(bare, env={})
    assert a.sweep == b.sweep == SweepConfig()
    assert a.review == b.review == ReviewConfig()
    assert a.report.weekday == ReportConfig().weekday and a.report.formats == b.report.formats
    settings = FetchSettings()
    assert (settings.per_host, settings.concurrency) == (defaults.PER_HOST, defaults.CONCURRENCY)
    assert f"per_host = {defaults.PER_HOST} " in DEFAULT_CONFIG_TEXT
