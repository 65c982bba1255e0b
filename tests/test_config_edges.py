"""Configuration at the edges: whatever the file or the environment holds, loading it
returns a Config or raises ConfigError with one line that names the key and the file."""

from __future__ import annotations

import math
import os
import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from pledgewatch.cli.parsing import since_option
from pledgewatch.config import (
    MAX_DURATION,
    MAX_INTERVAL,
    MAX_REVIEW_SPAN,
    MAX_TIMEOUT,
    Config,
    config_from_dict,
    load_config,
    parse_duration,
)
from pledgewatch.errors import ConfigError, InputError
from pledgewatch.feeds.urls import MAX_URL_LENGTH, http_url_problem

DATABASE_URL_ENV = "$PLEDGEWATCH_DATABASE_URL"
DB = '[database]\nurl = "sqlite:///pw.db"\n'


# A TOML writer small enough to trust: every string is a basic string with
# controls escaped, every table below a section is inline.


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(f"no TOML for {value!r}")


def toml_document(doc: dict[str, Any]) -> str:
    def is_table_list(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)

    lines = [
        f"{toml_string(k)} = {toml_value(v)}"
        for k, v in doc.items()
        if not isinstance(v, dict) and not is_table_list(v)
    ]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"[{toml_string(key)}]")
            lines.extend(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items())
        elif is_table_list(value):
            for item in value:
                lines.append(f"[[{toml_string(key)}]]")
                lines.extend(f"{toml_string(k)} = {toml_value(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


def write(folder: Path, text: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_config(path, env={} if env is None else env)
    return err.value


def assert_one_line_naming(err: ConfigError, key: str | None, path: Path) -> None:
    message = str(err)
    assert len(message.splitlines()) == 1, message
    prefix = f"{key} in {path}: " if key else f"in {path}: "
    assert message.startswith(prefix), message


def feed(url: str, *, name: str = "a", extra: str = "") -> str:
    return f"[[feeds]]\nname = {toml_string(name)}\nurl = {toml_string(url)}\n{extra}"


# Numbers


@pytest.mark.parametrize("value", ["nan", "+nan", "-nan", "inf", "+inf", "-inf"])
def test_timeout_nan_or_infinite_is_a_config_error_naming_the_key(
    tmp_path: Path, value: str
) -> None:
    path = write(tmp_path, f"{DB}[sweep]\ntimeout = {value}\n")
    err = load_error(path)
    assert_one_line_naming(err, "sweep.timeout", path)
    assert "3,600" in str(err)


@pytest.mark.parametrize("value", ["1e300", "3600.5", "10000000000000000000000000000000"])
def test_timeout_over_an_hour_is_a_config_error_naming_the_key(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"{DB}[sweep]\ntimeout = {value}\n")
    assert_one_line_naming(load_error(path), "sweep.timeout", path)


def test_timeout_of_an_hour_loads(tmp_path: Path) -> None:
    path = write(tmp_path, f"{DB}[sweep]\ntimeout = 3600\n")
    assert load_config(path, env={}).sweep.timeout == MAX_TIMEOUT


@pytest.mark.parametrize("key", ["concurrency", "per_host", "max_bytes"])
@pytest.mark.parametrize("value", [10**30, -(10**30)])
def test_integers_far_beyond_their_bound_are_config_errors_naming_the_key(
    tmp_path: Path, key: str, value: int
) -> None:
    path = write(tmp_path, f"{DB}[sweep]\n{key} = {value}\n")
    err = load_error(path)
    assert_one_line_naming(err, f"sweep.{key}", path)
    assert "must be between 1 and" in str(err)


def test_an_integer_of_thousands_of_digits_is_a_config_error_naming_the_file(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, f"{DB}[sweep]\nmax_bytes = 1{'0' * 5000}\n")
    err = load_error(path)
    assert_one_line_naming(err, None, path)
    assert "too many digits" in str(err)


def test_an_integer_too_long_to_print_given_to_config_from_dict_names_the_key(
    tmp_path: Path,
) -> None:
    data = {"database": {"url": "sqlite:///pw.db"}, "sweep": {"concurrency": 10**5000}}
    with pytest.raises(ConfigError) as err:
        config_from_dict(data, path=tmp_path / "config.toml", env={})
    assert_one_line_naming(err.value, "sweep.concurrency", tmp_path / "config.toml")


def test_a_float_where_an_integer_belongs_is_a_config_error_naming_the_key(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, f"{DB}[sweep]\nconcurrency = 16.0\n")
    assert_one_line_naming(load_error(path), "sweep.concurrency", path)


# Durations


@pytest.mark.parametrize(
    ("section", "key", "limit"),
    [
        ("[sweep]\n", "sweep.interval", "7d"),
        (feed("https://example.org/rss"), "feeds[0].interval", "7d"),
        ("[review]\n", "review.stale_after", "3650d"),
        ("[review]\n", "review.due_soon", "3650d"),
    ],
)
@pytest.mark.parametrize("value", ["1000000000d", "9" * 400 + "w", "3651d", "600000h"])
def test_huge_durations_are_config_errors_naming_the_key_and_its_limit(
    tmp_path: Path, section: str, key: str, limit: str, value: str
) -> None:
    name = key.rsplit(".", 1)[-1]
    path = write(tmp_path, f"{DB}{section}{name} = {toml_string(value)}\n")
    err = load_error(path)
    assert_one_line_naming(err, key, path)
    assert f"the limit is {limit}" in str(err)


def test_durations_at_their_limits_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'{DB}[sweep]\ninterval = "7d"\n[review]\nstale_after = "3650d"\ndue_soon = "520w10d"\n'
        + feed("https://example.org/rss", extra='interval = "1w"\n'),
    )
    config = load_config(path, env={})
    assert config.sweep.interval == MAX_INTERVAL
    assert config.review.stale_after == MAX_REVIEW_SPAN
    assert config.review.due_soon == MAX_REVIEW_SPAN
    assert config.feeds[0].interval == MAX_INTERVAL


@pytest.mark.parametrize(
    "text", ["999999d", "36526d", "5219w", "1" * 5000 + "s", "0" * 50 + "9" * 50 + "m"]
)
def test_parse_duration_refuses_over_100_years_with_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="100 years"):
        parse_duration(text)


def test_parse_duration_accepts_100_years_and_leading_zeros() -> None:
    assert parse_duration("36525d") == MAX_DURATION
    assert parse_duration("0007d") == timedelta(days=7)


@pytest.mark.parametrize("text", ["١٢m", "１２m", "12ｍ"])
def test_parse_duration_takes_only_ascii_digits_and_units(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_since_a_span_over_100_years_says_the_limit() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InputError, match="100 years"):
        since_option("999999d", now)
    with pytest.raises(InputError, match="100 years"):
        since_option("9" * 5000 + "d", now)


# The database URL, from the file and from the environment


BAD_DATABASE_URLS = [
    pytest.param("postgresql://u@h:abc/db", "does not parse", id="port-not-a-number"),
    pytest.param("postgresql://u@h:65536/db", "between 1 and 65535", id="port-too-big"),
    pytest.param("postgresql://u@h:0/db", "between 1 and 65535", id="port-zero"),
    pytest.param("postgresql://[::1/db", "does not parse", id="ipv6-bracket"),
    pytest.param("sqlite:///pw\x00.db", "U+0000", id="nul"),
    pytest.param("sqlite:///pw%00.db", "U+0000", id="escaped-nul"),
    pytest.param("postgresql://u@h/db?options=%1b[2J", "U+001B", id="escaped-escape"),
    pytest.param("sqlite:///", "names no file", id="empty-sqlite-path"),
    pytest.param("sqlite:///~nosuchuser/x.db", 'no user "nosuchuser"', id="unknown-user"),
    pytest.param("postgresql+nosuchdriver://h/db", "not a database driver", id="driver"),
    pytest.param("sqlite:///pw.db\r\nx", "one line", id="line-break"),
]


@pytest.mark.parametrize(("url", "message"), BAD_DATABASE_URLS)
def test_bad_database_url_in_the_file_is_a_config_error_naming_the_key(
    tmp_path: Path, url: str, message: str
) -> None:
    path = write(tmp_path, f"[database]\nurl = {toml_string(url)}\n")
    err = load_error(path)
    assert_one_line_naming(err, "database.url", path)
    assert message in str(err)


@pytest.mark.parametrize(("url", "message"), BAD_DATABASE_URLS)
def test_bad_database_url_in_the_environment_is_a_config_error_naming_the_variable(
    tmp_path: Path, url: str, message: str
) -> None:
    path = write(tmp_path, DB)
    err = load_error(path, env={"PLEDGEWATCH_DATABASE_URL": url})
    assert_one_line_naming(err, DATABASE_URL_ENV, path)
    assert message in str(err)


def test_database_url_with_a_surrogate_in_the_environment_names_the_variable(
    tmp_path: Path,
) -> None:
    # What Python makes of a non-UTF-8 byte in an environment variable.
    path = write(tmp_path, DB)
    err = load_error(path, env={"PLEDGEWATCH_DATABASE_URL": "sqlite:///pw\udcff.db"})
    assert_one_line_naming(err, DATABASE_URL_ENV, path)
    assert "\udcff" not in str(err)


def test_database_url_errors_do_not_show_the_password(tmp_path: Path) -> None:
    path = write(tmp_path, DB)
    err = load_error(path, env={"PLEDGEWATCH_DATABASE_URL": "postgresql://u:s3cret@h:abc/db"})
    assert "s3cret" not in str(err)
    assert "postgresql://u:***@h:abc/db" in str(err)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://u@[::1]:5432/db", "postgresql+psycopg://u@[::1]:5432/db"),
        ("postgresql+psycopg2://u@h:65535/db", "postgresql+psycopg://u@h:65535/db"),
    ],
)
def test_good_database_urls_still_load(tmp_path: Path, url: str, expected: str) -> None:
    path = write(tmp_path, f"[database]\nurl = {toml_string(url)}\n")
    # Compared parsed: SQLAlchemy may percent-escape a ":" in the database part.
    assert make_url(load_config(path, env={}).database.url) == make_url(expected)


# Paths


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[database]\nurl = "sqlite:///pw\\u0000.db"\n', "database.url"),
        (DB + feed("feeds/a\x00b.xml"), "feeds[0].url"),
        (DB + feed("file:///feeds/a\x00b.xml"), "feeds[0].url"),
        (DB + '[report]\noutput_dir = "reports\\u0000"\n', "report.output_dir"),
    ],
)
def test_nul_in_a_path_is_a_config_error_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = write(tmp_path, text)
    err = load_error(path)
    assert_one_line_naming(err, key, path)
    assert "U+0000" in str(err)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[database]\nurl = "sqlite:///~nosuchuser/pw.db"\n', "database.url"),
        (DB + feed("~nosuchuser/feed.xml"), "feeds[0].url"),
        (DB + '[report]\noutput_dir = "~nosuchuser/reports"\n', "report.output_dir"),
    ],
)
def test_tilde_of_an_unknown_user_is_a_config_error_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = write(tmp_path, text)
    err = load_error(path)
    assert_one_line_naming(err, key, path)
    assert 'no user "nosuchuser"' in str(err)


def test_report_folder_under_the_home_folder_is_expanded(tmp_path: Path) -> None:
    path = write(tmp_path, DB + '[report]\noutput_dir = "~/reports"\n')
    assert load_config(path, env={}).report.output_dir == Path.home() / "reports"


def test_feed_paths_with_spaces_and_file_urls_still_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        DB + feed("my feeds/a b.xml") + feed(f"file://{tmp_path}/c.xml", name="c"),
    )
    config = load_config(path, env={})
    assert config.feeds[0].url == (tmp_path.resolve() / "my feeds" / "a b.xml").as_uri()
    assert config.feeds[1].url == (tmp_path.resolve() / "c.xml").as_uri()


def test_feed_path_in_a_symlink_loop_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    path = write(tmp_path, DB + feed("a/feed.xml"))
    assert_one_line_naming(load_error(path), "feeds[0].url", path)


def test_feed_path_longer_than_a_url_column_is_a_config_error_naming_the_key(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, DB + feed("/".join(["x" * 200] * 11)))
    err = load_error(path)
    assert_one_line_naming(err, "feeds[0].url", path)
    assert f"the limit is {MAX_URL_LENGTH:,}" in str(err)


# Feed URLs


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1", "does not parse"),
        ("https://[::1/feed", "does not parse"),
        ("http://example.org:99999/rss", "does not parse"),
        ("http://example.org:abc/rss", "does not parse"),
        ("http://example.org/my feed", "a space"),
        ('http://example.org/"rss"', "U+0022"),
        ("http://example.org/'rss'", "U+0027"),
        ("http://example.org/\x07rss", "U+0007"),
        ("https://example.org/" + "a" * 2000, "the limit is 2,000"),
        ("https://", "has no host"),
    ],
)
def test_bad_http_feed_url_is_a_config_error_naming_the_key(
    tmp_path: Path, url: str, message: str
) -> None:
    path = write(tmp_path, DB + feed("https://example.org/ok", name="ok") + feed(url, name="b"))
    err = load_error(path)
    assert_one_line_naming(err, "feeds[1].url", path)
    assert message in str(err)


def test_http_feed_urls_are_kept_as_written(tmp_path: Path) -> None:
    url = "https://[2001:db8::1]:8443/rss?a=1&b=%20"
    path = write(tmp_path, DB + feed(url))
    assert load_config(path, env={}).feeds[0].url == url


# Text values


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('[sweep]\nuser_agent = "pw\\r\\nX-Evil: 1"\n', "sweep.user_agent", "one line"),
        ('[sweep]\nuser_agent = "pw\\u0000"\n', "sweep.user_agent", "U+0000"),
        ('[sweep]\nuser_agent = "pw\\u007f"\n', "sweep.user_agent", "U+007F"),
        ('[sweep]\nuser_agent = "pw/1 \\u00e9"\n', "sweep.user_agent", "ASCII"),
        (f'[sweep]\nuser_agent = "{"a" * 501}"\n', "sweep.user_agent", "the limit is 500"),
        ('[report]\nweekday = "mon\\nday"\n', "report.weekday", "one line"),
        ('[report]\ntime = "08:00\\t"\n', "report.time", "one line"),
        (
            '[report]\nformats = ["md\\u001b"]\n',
            "report.formats",
            '"md\\x1b" is not a report format',
        ),
        ('[[feeds]]\nname = "a\\u001b[2J"\nurl = "f.xml"\n', "feeds[0].name", "U+001B"),
        ('[[feeds]]\nname = "a\\u2028b"\nurl = "f.xml"\n', "feeds[0].name", "one line"),
        ('[[feeds]]\nname = "a"\nurl = "f.xml"\n"\\n" = 1\n', 'feeds[0]."\\n"', "unknown key"),
    ],
)
def test_unsafe_text_is_a_config_error_naming_the_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    path = write(tmp_path, DB + text)
    err = load_error(path)
    assert_one_line_naming(err, key, path)
    assert message in str(err)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"sweep": {"user_agent": "pw\ud800"}}, "sweep.user_agent"),
        ({"report": {"weekday": "mon\udcffday"}}, "report.weekday"),
        ({"feeds": [{"name": "a\ud800", "url": "f.xml"}]}, "feeds[0].name"),
        ({"feeds": [{"name": "a", "url": "feeds/\udcff.xml"}]}, "feeds[0].url"),
    ],
)
def test_lone_surrogates_are_config_errors_naming_the_key(
    tmp_path: Path, data: dict[str, Any], key: str
) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as err:
        config_from_dict({"database": {"url": "sqlite:///pw.db"}, **data}, path=path, env={})
    assert_one_line_naming(err.value, key, path)
    assert "UTF-8" in str(err.value)


def test_an_empty_unknown_key_is_named_as_toml_spells_it(tmp_path: Path) -> None:
    path = write(tmp_path, f'"" = 1\n{DB}')
    assert_one_line_naming(load_error(path), '""', path)


def test_an_unknown_key_full_of_escapes_is_shown_harmlessly(tmp_path: Path) -> None:
    path = write(tmp_path, f'{DB}[sweep]\n"\\u001b]0;pwned\\u0007\\r\\n" = 1\n')
    err = load_error(path)
    assert "\x1b" not in str(err)
    assert_one_line_naming(err, 'sweep."\\x1b]0;pwned\\x07\\r\\n"', path)


# Types


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[database]\nurl = {a = 1}\n", "database.url"),
        ('[database]\nurl = ["sqlite:///pw.db"]\n', "database.url"),
        ("database = 1979-05-27\n", "database"),
        (DB + "[report]\nformats = [1, 2]\n", "report.formats"),
        (DB + "[report]\nformats = [[], {}]\n", "report.formats"),
        ('report = "weekly"\n' + DB, "report"),
        (DB + "[report]\nweekday = 1979-05-27T07:32:00Z\n", "report.weekday"),
        (DB + "[report]\ntime = 08:00:00\n", "report.time"),
        (DB + "[report]\noutput_dir = true\n", "report.output_dir"),
        (DB + "[sweep]\ntimeout = true\n", "sweep.timeout"),
        (DB + "[sweep]\ntimeout = 07:32:00\n", "sweep.timeout"),
        (DB + '[sweep]\ntimeout = "20"\n', "sweep.timeout"),
        (DB + "[sweep]\nper_host = false\n", "sweep.per_host"),
        (DB + "[sweep]\ninterval = 1979-05-27\n", "sweep.interval"),
        (DB + "[sweep]\nuser_agent = {}\n", "sweep.user_agent"),
        (DB + "[review]\ndue_soon = []\n", "review.due_soon"),
        ("feeds = {}\n" + DB, "feeds"),
        ("feeds = [1]\n" + DB, "feeds[0]"),
        (DB + "[[feeds]]\nname = 1\nurl = 'f.xml'\n", "feeds[0].name"),
        (DB + "[[feeds]]\nname = 'a'\nurl = {}\n", "feeds[0].url"),
        (DB + "[[feeds]]\nname = 'a'\nurl = 'f.xml'\nenabled = 1\n", "feeds[0].enabled"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_config_error_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = write(tmp_path, text)
    assert_one_line_naming(load_error(path), key, path)


# The file itself


def test_a_config_file_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(DB.encode() + b'[report]\nweekday = "lundi\xe9"\n')
    err = load_error(path)
    assert_one_line_naming(err, None, path)
    assert "line 4 is not UTF-8" in str(err)


def test_a_config_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DB.encode())
    assert load_config(path, env={}).database.url.endswith("pw.db")


def test_a_folder_given_as_the_config_is_a_config_error(tmp_path: Path) -> None:
    err = load_error(tmp_path)
    assert_one_line_naming(err, None, tmp_path)
    assert "is a folder" in str(err)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, DB)
    path.chmod(0)
    err = load_error(path)
    assert_one_line_naming(err, None, path)
    assert "cannot read the file" in str(err)


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux's /proc")
def test_a_config_file_that_fails_when_read_is_a_config_error() -> None:
    # A regular file by stat whose read fails with EIO, even for root.
    path = Path("/proc/self/mem")
    err = load_error(path)
    assert_one_line_naming(err, None, path)
    assert "cannot read the file" in str(err)


def test_a_config_file_over_64_mb_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, DB)
    with path.open("r+b") as file:
        file.truncate(65 * 1024 * 1024)  # sparse: nothing is written to the disk
    err = load_error(path)
    assert_one_line_naming(err, None, path)
    assert "64 MB" in str(err)


def test_a_config_of_50000_feeds_loads(tmp_path: Path) -> None:
    feeds = "".join(
        f'[[feeds]]\nname = "feed-{i}"\nurl = "https://news{i % 97}.example.org/rss/{i}"\n'
        for i in range(50_000)
    )
    path = write(tmp_path, DB + feeds)
    config = load_config(path, env={})
    assert len(config.feeds) == 50_000
    assert config.feeds[-1].url == f"https://news{49_999 % 97}.example.org/rss/49999"


def test_deeply_nested_lists_are_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, DB + "[report]\nformats = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert_one_line_naming(load_error(path), None, path)


# Properties


EDGE_STRINGS = [
    "",
    " ",
    "30m",
    "7d",
    "8d",
    "3650d",
    "1000000000d",
    "0s",
    "monday",
    "08:00",
    "html",
    "md",
    "pdf",
    "reports",
    "a",
    "bbc-world",
    "sqlite:///pw.db",
    "sqlite:///",
    "sqlite://",
    "sqlite:///~nosuchuser/x.db",
    "postgresql://u@h:abc/db",
    "postgresql://[::1/db",
    "postgresql://u:p@h:5432/db",
    "https://example.org/rss",
    "http://[::1",
    "http://example.org:99999/",
    "file:///tmp/feed.xml",
    "file://[::1",
    "feed.xml",
    "~nosuchuser/feed.xml",
    "~",
    "a\x00b",
    "a\r\nb",
    "\u2028",
    "\x1b[2J",
]

SURROGATE_FREE_TEXT = st.text()
ANY_TEXT = st.text(
    st.characters(exclude_categories=())
    | st.characters(categories=["Cs"])
    | st.sampled_from("\x00\t\r\n\x1b\x7f\x85\u2028\ufffe")
)
OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
SCALARS = st.one_of(
    SURROGATE_FREE_TEXT,
    st.sampled_from(EDGE_STRINGS),
    st.integers(min_value=1990, max_value=2100).map(lambda n: "x" * n),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.booleans(),
    st.datetimes(timezones=st.none() | st.just(UTC) | OFFSETS),
    st.dates(),
    st.times(),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(SURROGATE_FREE_TEXT, inner, max_size=4)
    ),
    max_leaves=10,
)
SHORT_DURATIONS = st.builds(
    "{}{}".format, st.integers(min_value=1, max_value=59), st.sampled_from("smh")
)
DURATIONS = st.one_of(
    SHORT_DURATIONS,
    SHORT_DURATIONS,
    SHORT_DURATIONS,
    st.sampled_from(["1h30m", "7d", "1w", "3650d", "0s", "8d", "3651d", "1000000000d", "soon"]),
)
# Values each known key usually accepts, and a few it does not, so that a
# document gets past its first key often enough to reach the later ones.
PLAUSIBLE: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "database": {
        "url": st.sampled_from(
            [
                "sqlite:///pw.db",
                "sqlite:///data/pw.db",
                "sqlite:////tmp/pw.db",
                "sqlite://",
                "postgresql://u@h/db",
                "postgresql+psycopg://u:p@[::1]:5432/db",
                "sqlite:///~nosuchuser/x.db",
            ]
        )
    },
    "sweep": {
        "interval": DURATIONS,
        "concurrency": st.integers(min_value=-1, max_value=1100),
        "per_host": st.integers(min_value=-1, max_value=110),
        "timeout": st.floats(min_value=-1, max_value=4000) | st.integers(-1, 4000),
        "max_bytes": st.integers(min_value=-1, max_value=11 * 10**8),
        "user_agent": st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1),
    },
    "report": {
        "weekday": st.sampled_from(["monday", "Sunday ", "friday", "funday"]),
        "time": st.builds("{:02d}:{:02d}".format, st.integers(0, 25), st.integers(0, 61)),
        "output_dir": st.sampled_from(["reports", "/tmp/pw", "~/reports", "~nosuchuser/r", "a b"]),
        "formats": st.lists(st.sampled_from(["md", "html", "json", "csv", "pdf"]), max_size=4),
    },
    "review": {"stale_after": DURATIONS, "due_soon": DURATIONS},
    "feeds": {
        "name": st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,3}\Z") | st.just("x" * 65),
        "url": st.sampled_from(
            [
                "https://example.org/rss",
                "http://[::1]:8080/feed",
                "http://[::1",
                "https://example.org:99999/",
                "file:///tmp/feed.xml",
                "feeds/local feed.xml",
                "~nosuchuser/feed.xml",
                "ftp://example.org/rss",
            ]
        ),
        "interval": DURATIONS,
        "enabled": st.booleans(),
    },
}


def plausible_table(section: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=PLAUSIBLE[section])


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {"database": {"url": "sqlite:///pw.db"}}
    doc["database"].update(draw(plausible_table("database")))
    for section in ("sweep", "report", "review"):
        doc[section] = draw(plausible_table(section))
    doc["feeds"] = [
        {"name": f"feed-{i}", "url": "https://example.org/rss", **table}
        for i, table in enumerate(draw(st.lists(plausible_table("feeds"), max_size=3)))
    ]
    # Then a few places get any value at all: a known key, an unknown key, a
    # whole section, or a key beside the sections.
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        section = draw(st.sampled_from([*PLAUSIBLE, "top"]))
        value = draw(TOML_VALUES)
        if section == "top":
            doc[draw(st.sampled_from([*PLAUSIBLE, "unknown"]) | SURROGATE_FREE_TEXT)] = value
            continue
        found = doc[section] if section == "feeds" else [doc[section]]
        tables = [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []
        if not tables:
            continue
        table = draw(st.sampled_from(tables))
        table[draw(st.sampled_from(sorted(PLAUSIBLE[section])) | SURROGATE_FREE_TEXT)] = value
    return doc


def example_folder(factory: pytest.TempPathFactory, name: str) -> Path:
    """One folder per property test, reused by its examples (mktemp would make thousands)."""
    folder = factory.getbasetemp() / name
    folder.mkdir(exist_ok=True)
    return folder


def assert_config_keeps_its_limits(config: Config) -> None:
    make_url(config.database.url)  # db.py parses it again
    assert 0 < config.sweep.timeout <= MAX_TIMEOUT
    assert timedelta(0) < config.sweep.interval <= MAX_INTERVAL
    assert timedelta(0) < config.review.stale_after <= MAX_REVIEW_SPAN
    assert timedelta(0) < config.review.due_soon <= MAX_REVIEW_SPAN
    assert config.sweep.user_agent.isascii() and config.sweep.user_agent.isprintable()
    for each in config.feeds:
        assert each.url.startswith("file:///") or http_url_problem(each.url) is None
        assert each.interval is None or timedelta(0) < each.interval <= MAX_INTERVAL


@given(doc=documents())
def test_any_toml_document_loads_or_is_a_config_error_naming_the_key(
    tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any]
) -> None:
    path = write(example_folder(tmp_path_factory, "documents"), toml_document(doc))
    tomllib.loads(path.read_text(encoding="utf-8"))  # the writer wrote TOML
    try:
        config = load_config(path, env={})
    except ConfigError as err:
        assert err.key, str(err)
        assert_one_line_naming(err, err.key, path)
        section = err.key.split(".")[0].split("[")[0]
        event(f"refused at {section if section in PLAUSIBLE else 'an unknown key'}")
    else:
        assert_config_keeps_its_limits(config)
        event("loaded")


VALID_BYTES = (DB + '[sweep]\ninterval = "30m"\n' + feed("https://example.org/rss")).encode()


@st.composite
def mangled_configs(draw: st.DrawFn) -> bytes:
    at = draw(st.integers(min_value=0, max_value=len(VALID_BYTES)))
    cut = draw(st.integers(min_value=0, max_value=8))
    return VALID_BYTES[:at] + draw(st.binary(max_size=16)) + VALID_BYTES[at + cut :]


@given(content=st.binary() | mangled_configs())
def test_any_bytes_load_or_are_a_config_error_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = example_folder(tmp_path_factory, "bytes") / "config.toml"
    path.write_bytes(content)
    try:
        config = load_config(path, env={})
    except ConfigError as err:
        assert_one_line_naming(err, err.key, path)
    else:
        assert_config_keeps_its_limits(config)


SPANS = st.from_regex(r"\A[ 0-9]{0,30}[smhdwSMHDW ]([0-9]{0,30}[smhdw ]){0,4}\Z")


@given(text=ANY_TEXT | SPANS)
def test_parse_duration_returns_a_span_of_at_most_100_years_or_raises_value_error(
    text: str,
) -> None:
    try:
        span = parse_duration(text)
    except ValueError as exc:
        assert len(str(exc).splitlines()) == 1
    else:
        assert timedelta(0) < span <= MAX_DURATION


URLISH = st.builds(
    "{}://{}{}{}/{}".format,
    st.sampled_from(
        ["sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg2", "mysql", ""]
    ),
    st.sampled_from(["", "u@", "u:p@", "u:p%00@"]) | ANY_TEXT,
    st.sampled_from(["", "localhost", "[::1]", "[::1", "h"]) | ANY_TEXT,
    st.sampled_from(["", ":5432", ":0", ":65536", ":abc", ":"]) | ANY_TEXT,
    st.sampled_from(["pw.db", "", "~nosuchuser/x.db", ":memory:", "db?a=1&a=2"]) | ANY_TEXT,
)


@given(url=ANY_TEXT | URLISH)
def test_any_database_url_in_the_environment_loads_or_is_a_config_error_naming_it(
    tmp_path_factory: pytest.TempPathFactory, url: str
) -> None:
    path = write(example_folder(tmp_path_factory, "environment"), DB)
    try:
        config = load_config(path, env={"PLEDGEWATCH_DATABASE_URL": url})
    except ConfigError as err:
        assert_one_line_naming(err, DATABASE_URL_ENV, path)
    else:
        assert make_url(config.database.url).get_backend_name() in ("sqlite", "postgresql")


# A URL's quick check must say exactly what the full one says. Texts are drawn from
# the characters a URL is made of and the ones that break one, around the shapes the
# quick check accepts, so both sides of its boundary are reached.
url_texts = st.builds(
    lambda scheme, host, port, rest: scheme + host + port + rest,
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:/", "http://@", ""]),
    st.one_of(
        st.sampled_from(["example.org", "a", "127.0.0.1", "news-1.example.co.uk"]),
        st.text(st.sampled_from("abcxyz019.-_[]:@%é "), max_size=12),
    ),
    st.sampled_from(["", ":", ":0", ":80", ":65535", ":65536", ":99999", ":8a", ":008080"]),
    st.one_of(
        st.sampled_from(["", "/", "/feed.xml?a=1#top", "/a(b)[c]~d%20"]),
        st.text(
            st.sampled_from("/?#az09-._~!$&'()*+,;=:@%[]<>\"\\^`{|} \t\u00e9\ud800"), max_size=20
        ),
    ),
)


@given(url_texts)
def test_a_urls_quick_check_agrees_with_the_full_check(text: str) -> None:
    from pledgewatch.feeds.urls import _url_problem

    quick, full = http_url_problem(text), _url_problem(text)
    event("accepted" if full is None else "refused")
    assert (quick is None) == (full is None)
    assert quick == full


feed_tables = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["world", "f1", "f1", "UK", " f2", "a" * 65, "news.x-1"])},
        optional={
            "url": st.one_of(
                st.sampled_from(["https://a.example/f.xml", "http://b:8080/"]), url_texts
            ),
            "enabled": st.sampled_from([True, False, "yes", 1]),
            "interval": st.sampled_from(["1h", "0s", 5]),
            "extra": st.just(1),
        },
    ),
    max_size=4,
)


@given(feed_tables)
def test_a_plain_feed_is_read_as_the_full_checks_read_it(tables: list[dict[str, Any]]) -> None:
    import pledgewatch.config as config_module

    def read() -> tuple[Any, ...] | str:
        try:
            return config_from_dict({"feeds": tables}, path=None, env={}).feeds
        except ConfigError as exc:
            return str(exc)

    quick = read()
    original = config_module._plain_feed
    config_module._plain_feed = lambda item: None  # type: ignore[assignment]
    try:
        full = read()
    finally:
        config_module._plain_feed = original
    event("read" if isinstance(full, tuple) else "refused")
    assert quick == full
