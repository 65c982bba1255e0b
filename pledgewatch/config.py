"""Load config.toml and the environment into frozen dataclasses.

Lookup order: an explicit path (``--config``), else ``$PLEDGEWATCH_CONFIG``,
else ``./config.toml``. ``$PLEDGEWATCH_DATABASE_URL`` overrides
``[database].url``. A relative SQLite path or feed path is relative to the
config file's folder. Every unknown key, wrong type or bad value is a
ConfigError naming the key and the file. No business logic lives here.

May import: pledgewatch.errors.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pledgewatch.errors import ConfigError

CONFIG_ENV = "PLEDGEWATCH_CONFIG"
DATABASE_URL_ENV = "PLEDGEWATCH_DATABASE_URL"
DEFAULT_CONFIG_NAME = "config.toml"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REPORT_FORMATS = ("md", "html", "json", "csv")

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

DEFAULT_USER_AGENT = "pledgewatch/0.1 (+https://example.org/pledgewatch)"


@dataclass(frozen=True)
class DatabaseConfig:
    url: str


@dataclass(frozen=True)
class SweepConfig:
    interval: timedelta = timedelta(minutes=30)
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 20.0
    max_bytes: int = 15_000_000
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True)
class ReportConfig:
    weekday: str = "monday"
    time: time = time(8, 0)
    output_dir: Path = Path("reports")
    formats: tuple[str, ...] = ("html", "md")


@dataclass(frozen=True)
class ReviewConfig:
    stale_after: timedelta = timedelta(days=90)  # no new evidence for this long: "stale"
    due_soon: timedelta = timedelta(days=30)  # deadline within this: "due_soon"


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    interval: timedelta | None = None
    enabled: bool = True


@dataclass(frozen=True)
class Config:
    path: Path | None
    database: DatabaseConfig
    sweep: SweepConfig = field(default_factory=SweepConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    feeds: tuple[FeedConfig, ...] = ()

    def feed(self, name: str) -> FeedConfig | None:
        return next((f for f in self.feeds if f.name == name), None)


def parse_duration(text: str) -> timedelta:
    """Parse "30m", "2h", "1h30m", "7d", "90s" into a timedelta; ValueError if bad."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _DURATION.match(cleaned):
        raise ValueError(f'"{text}" is not a duration; write it like "30m", "2h", "1h30m" or "7d"')
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f'"{text}" is not a positive duration')
    return timedelta(seconds=seconds)


def resolve_config_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """The config file the lookup order selects (which may not exist)."""
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return Path(DEFAULT_CONFIG_NAME)


def load_config(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Find, read and validate the configuration."""
    env = os.environ if env is None else env
    path = resolve_config_path(explicit, env)
    if not path.is_file():
        looked = (
            "given with --config"
            if explicit
            else f"from ${CONFIG_ENV}"
            if env.get(CONFIG_ENV)
            else f"./{DEFAULT_CONFIG_NAME}; set --config or ${CONFIG_ENV} to use another"
        )
        raise ConfigError(
            f"no configuration file at {path} ({looked}); "
            'run "pledgewatch init" to write a commented default'
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=str(path)) from None
    return config_from_dict(data, path=path, env=env)


def config_from_dict(
    data: Mapping[str, Any], *, path: Path | None, env: Mapping[str, str] | None = None
) -> Config:
    """Validate an already parsed TOML document."""
    env = os.environ if env is None else env
    reader = _Reader(str(path) if path else "<config>")
    base = path.resolve().parent if path else Path.cwd()
    reader.only(data, "", {"database", "sweep", "report", "review", "feeds"})

    db = reader.table(data, "database")
    reader.only(db, "database", {"url"})
    url_text = env.get(DATABASE_URL_ENV) or reader.get(db, "database.url", str, None)
    if url_text is None:
        raise ConfigError(
            f"is required (or set ${DATABASE_URL_ENV})", path=reader.path, key="database.url"
        )
    key = "database.url" if not env.get(DATABASE_URL_ENV) else f"${DATABASE_URL_ENV}"
    database = DatabaseConfig(url=normalise_database_url(url_text, base, key, reader.path))

    sw = reader.table(data, "sweep")
    reader.only(sw, "sweep", {f for f in SweepConfig.__dataclass_fields__})
    defaults = SweepConfig()
    sweep = SweepConfig(
        interval=reader.duration(sw, "sweep.interval", defaults.interval),
        concurrency=reader.positive_int(sw, "sweep.concurrency", defaults.concurrency, 1000),
        per_host=reader.positive_int(sw, "sweep.per_host", defaults.per_host, 100),
        timeout=reader.positive_number(sw, "sweep.timeout", defaults.timeout),
        max_bytes=reader.positive_int(sw, "sweep.max_bytes", defaults.max_bytes, 1_000_000_000),
        user_agent=reader.nonempty_str(sw, "sweep.user_agent", defaults.user_agent),
    )

    rp = reader.table(data, "report")
    reader.only(rp, "report", {"weekday", "time", "output_dir", "formats"})
    weekday = reader.get(rp, "report.weekday", str, "monday").strip().lower()
    if weekday not in WEEKDAYS:
        raise ConfigError(
            f'"{weekday}" is not a weekday; use one of {", ".join(WEEKDAYS)}',
            path=reader.path,
            key="report.weekday",
        )
    time_text = reader.get(rp, "report.time", str, "08:00")
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", time_text.strip())
    if not match:
        raise ConfigError(
            f'"{time_text}" is not a time of day; write it as HH:MM, e.g. "08:00"',
            path=reader.path,
            key="report.time",
        )
    output_dir = Path(reader.nonempty_str(rp, "report.output_dir", "reports"))
    formats = reader.get(rp, "report.formats", list, ["html", "md"])
    for fmt in formats:
        if fmt not in REPORT_FORMATS:
            raise ConfigError(
                f'"{fmt}" is not a report format; use any of {", ".join(REPORT_FORMATS)}',
                path=reader.path,
                key="report.formats",
            )
    report = ReportConfig(
        weekday=weekday,
        time=time(int(match.group(1)), int(match.group(2))),
        output_dir=output_dir if output_dir.is_absolute() else base / output_dir,
        formats=tuple(dict.fromkeys(formats)),
    )

    rv = reader.table(data, "review")
    reader.only(rv, "review", {"stale_after", "due_soon"})
    review_defaults = ReviewConfig()
    review = ReviewConfig(
        stale_after=reader.duration(rv, "review.stale_after", review_defaults.stale_after),
        due_soon=reader.duration(rv, "review.due_soon", review_defaults.due_soon),
    )

    feeds_raw = data.get("feeds", [])
    if not isinstance(feeds_raw, list):
        raise ConfigError("must be a list of [[feeds]] tables", path=reader.path, key="feeds")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(feeds_raw):
        where = f"feeds[{i}]"
        if not isinstance(item, dict):
            raise ConfigError("must be a table", path=reader.path, key=where)
        reader.only(item, where, {"name", "url", "interval", "enabled"})
        name = reader.nonempty_str(item, f"{where}.name", None)
        if not _FEED_NAME.match(name):
            raise ConfigError(
                f'"{name}" is not a feed name; use lowercase letters, digits, ".", "-" or "_"',
                path=reader.path,
                key=f"{where}.name",
            )
        if name in seen:
            raise ConfigError(
                f'feed name "{name}" is used twice', path=reader.path, key=f"{where}.name"
            )
        seen.add(name)
        url = normalise_feed_url(
            reader.nonempty_str(item, f"{where}.url", None), base, f"{where}.url", reader.path
        )
        interval = reader.duration(item, f"{where}.interval", None)
        enabled = reader.get(item, f"{where}.enabled", bool, True)
        feeds.append(FeedConfig(name=name, url=url, interval=interval, enabled=enabled))

    return Config(
        path=path,
        database=database,
        sweep=sweep,
        report=report,
        review=review,
        feeds=tuple(feeds),
    )


def normalise_database_url(text: str, base: Path, key: str, path: str) -> str:
    """Validate a database URL; make a relative SQLite path absolute from ``base``."""
    try:
        url: URL = make_url(text.strip())
    except ArgumentError:
        raise ConfigError(
            f'"{text}" is not a database URL; use e.g. "sqlite:///pledgewatch.db" or '
            '"postgresql+psycopg://user@host/db"',
            path=path,
            key=key,
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            db_path = Path(database).expanduser()
            if not db_path.is_absolute():
                db_path = base / db_path
            url = url.set(database=str(db_path))
        return url.render_as_string(hide_password=False)
    if backend == "postgresql":
        if url.get_driver_name() in ("psycopg2", "") or "+" not in url.drivername:
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    raise ConfigError(
        f'"{backend}" databases are not supported; use sqlite or postgresql',
        path=path,
        key=key,
    )


def normalise_feed_url(text: str, base: Path, key: str, path: str) -> str:
    """http(s) URLs stay as they are; file: URLs and paths become absolute file: URLs."""
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.netloc:
            raise ConfigError(f'"{text}" has no host', path=path, key=key)
        return text
    if scheme == "file":
        local = Path(parts.path)
    elif scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        local = Path(text).expanduser()
    else:
        raise ConfigError(f'"{text}" is not an http(s) URL, file: URL or path', path=path, key=key)
    if not local.is_absolute():
        local = base / local
    return local.resolve().as_uri()


class _Reader:
    """Typed access to TOML tables that names the key and file in every error."""

    def __init__(self, path: str) -> None:
        self.path = path

    def only(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                full = f"{where}.{key}" if where else key
                raise ConfigError(
                    f"unknown key; known keys here: {', '.join(sorted(allowed))}",
                    path=self.path,
                    key=full,
                )

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"must be a table ([{key}])", path=self.path, key=key)
        return value

    def get(self, table: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            if default is None and kind is not type(None):
                return None
            return default
        value = table[name]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise ConfigError(
                f"must be {_KIND_NAMES.get(kind, kind.__name__)}, not {type(value).__name__} "
                f"({value!r})",
                path=self.path,
                key=key,
            )
        return value

    def nonempty_str(self, table: Mapping[str, Any], key: str, default: str | None) -> str:
        value = self.get(table, key, str, default)
        if value is None or not value.strip():
            raise ConfigError("is required and must not be empty", path=self.path, key=key)
        return str(value.strip())

    def positive_int(self, table: Mapping[str, Any], key: str, default: int, upper: int) -> int:
        value = self.get(table, key, int, default)
        if not 1 <= value <= upper:
            raise ConfigError(
                f"must be between 1 and {upper:,}, not {value}", path=self.path, key=key
            )
        return int(value)

    def positive_number(self, table: Mapping[str, Any], key: str, default: float) -> float:
        name = key.rsplit(".", 1)[-1]
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(
                f"must be a positive number of seconds, not {value!r}", path=self.path, key=key
            )
        return float(value)

    def duration(self, table: Mapping[str, Any], key: str, default: timedelta | None) -> Any:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, str):
            raise ConfigError(
                f'must be a duration string like "30m", not {value!r}', path=self.path, key=key
            )
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ConfigError(str(exc), path=self.path, key=key) from None


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}


DEFAULT_CONFIG_TEXT = """\
# pledgewatch configuration. Every key is optional except [database].url.
# Lookup: --config PATH, else $PLEDGEWATCH_CONFIG, else ./config.toml.
# $PLEDGEWATCH_DATABASE_URL overrides [database].url.

[database]
# A relative SQLite path is relative to this file's folder.
# For a newsroom: url = "postgresql+psycopg://user@host/pledgewatch"
url = "sqlite:///pledgewatch.db"

[sweep]
interval = "30m"        # how often `pledgewatch watch` sweeps
concurrency = 16        # feeds fetched at once
per_host = 2            # requests at once to one host
timeout = 20            # seconds for one request
max_bytes = 15_000_000  # body cap after decompression
user_agent = "pledgewatch/0.1 (+https://example.org/pledgewatch)"

[report]
weekday = "monday"      # `pledgewatch watch` writes the weekly report then
time = "08:00"
output_dir = "reports"
formats = ["html", "md"]

[review]
stale_after = "90d"     # a pledge with no new evidence for this long is flagged "stale"
due_soon = "30d"        # a deadline within this is flagged "due_soon"

# One [[feeds]] table per news feed; url may be http(s), file: or a local path.
# [[feeds]]
# name = "bbc-world"
# url = "https://feeds.bbci.co.uk/news/world/rss.xml"
# interval = "15m"
# enabled = true
"""
