"""Load config.toml and the environment into frozen dataclasses.

Lookup order: an explicit path (``--config``), else ``$PLEDGEWATCH_CONFIG``,
else ``./config.toml``. ``$PLEDGEWATCH_DATABASE_URL`` overrides
``[database].url``. A relative SQLite path, feed path or report folder is
relative to the config file's folder. Every unknown key, wrong type or bad
value is a ConfigError naming the key and the file, in one line: whatever the
file holds, loading it returns a Config or raises ConfigError. Each kind of
value is checked where it enters (:class:`_Reader` for what the file holds,
:func:`normalise_database_url`, :func:`normalise_feed_url` and
:func:`_local_path` for URLs and paths), and every message is built by
:func:`_error`. No business logic lives here.

May import: pledgewatch.errors, pledgewatch.characters, pledgewatch.feeds.urls
(the last two are pure).
"""

from __future__ import annotations

import gc
import hashlib
import math
import os
import re
import reprlib
from collections.abc import Iterable, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pledgewatch import defaults
from pledgewatch.characters import first_unsafe, printable, quoted
from pledgewatch.errors import ConfigError
from pledgewatch.feeds.urls import MAX_URL_LENGTH, http_url_problem, is_plain_http_url

CONFIG_ENV = "PLEDGEWATCH_CONFIG"
DATABASE_URL_ENV = "PLEDGEWATCH_DATABASE_URL"
DEFAULT_CONFIG_NAME = "config.toml"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REPORT_FORMATS = ("md", "html", "json", "csv")

# Limits. A config file is a few kilobytes, and one with 50,000 feeds a few
# megabytes; anything past this cap is not a config file.
MAX_CONFIG_BYTES = 64 * 1024 * 1024
# The longest duration anyone types (config or --since): beyond it a date is
# out of the calendar's range, and the number is a typo.
MAX_DURATION = timedelta(days=36525)  # 100 years
MAX_INTERVAL = timedelta(days=7)  # sweep.interval, feeds[i].interval
MIN_LEASE, MAX_LEASE = timedelta(seconds=1), timedelta(hours=1)  # sweep.lease
MAX_WEB_SESSION = timedelta(days=30)
MAX_REVIEW_SPAN = timedelta(days=3650)  # review.stale_after, review.due_soon: 10 years
MAX_TIMEOUT = 3600.0  # sweep.timeout, seconds
MAX_CONCURRENCY = 1000
MAX_PER_HOST = 100
MAX_BODY_BYTES = 1_000_000_000
MAX_USER_AGENT = 500
MAX_PORT = 65535

_DURATION_PART = re.compile(r"([0-9]+)([smhdw])")
_DURATION = re.compile(r"(?:[0-9]+[smhdw])+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_DURATION_SECONDS = int(MAX_DURATION.total_seconds())
# A number with more digits than the limit in seconds is over the limit in any
# unit; refusing it by its length also keeps int() below Python's digit cap.
_MAX_DURATION_DIGITS = len(str(_MAX_DURATION_SECONDS))
_FEED_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_TIME_OF_DAY = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URL_PASSWORD = re.compile(r"(//[^/@:]*:)[^/@]*@")

DEFAULT_USER_AGENT = defaults.USER_AGENT


@dataclass(frozen=True)
class DatabaseConfig:
    url: str


@dataclass(frozen=True)
class SweepConfig:
    interval: timedelta = defaults.SWEEP_INTERVAL
    concurrency: int = defaults.CONCURRENCY
    per_host: int = defaults.PER_HOST
    timeout: float = defaults.TIMEOUT
    max_bytes: int = defaults.MAX_BYTES
    user_agent: str = defaults.USER_AGENT
    lease: timedelta = defaults.LEASE


@dataclass(frozen=True)
class ReportConfig:
    weekday: str = defaults.REPORT_WEEKDAY
    time: time = defaults.REPORT_TIME
    output_dir: Path = Path(defaults.REPORT_DIR)
    formats: tuple[str, ...] = defaults.REPORT_FORMATS


@dataclass(frozen=True)
class ReviewConfig:
    stale_after: timedelta = defaults.STALE_AFTER  # no new evidence for this long: "stale"
    due_soon: timedelta = defaults.DUE_SOON  # deadline within this: "due_soon"


@dataclass(frozen=True)
class WebConfig:
    """The web desk: where the key that signs session cookies lives, how long a
    log-in lasts, and whether it is served behind HTTPS."""

    secret_key_file: Path = Path(defaults.SECRET_KEY_FILE)
    session: timedelta = defaults.WEB_SESSION
    https: bool = defaults.WEB_HTTPS
    public_url: str = defaults.WEB_PUBLIC_URL  # links in alerts point here


@dataclass(frozen=True)
class RetentionConfig:
    """How long stored articles that are not evidence are kept (0 days: forever)."""

    articles_days: int = defaults.ARTICLES_DAYS


@dataclass(frozen=True)
class PublicConfig:
    """Read-only pages a newsroom publishes: one per pledge with its ruling history
    and ClaimReview, a status badge, and an Atom feed of status changes."""

    enabled: bool = False
    publisher: str = defaults.PUBLIC_PUBLISHER  # the ClaimReview author
    title: str = defaults.PUBLIC_TITLE


ALERT_EVENTS = ("evidence", "due", "overdue", "feed", "verdict")


@dataclass(frozen=True)
class AlertConfig:
    """One ``[[alerts]]`` table: where to send (an apprise URL, or a webhook signed
    with HMAC-SHA256 when a secret is given), on which events, for which pledges."""

    name: str
    apprise: str | None = None
    webhook: str | None = None
    secret: str | None = field(default=None, repr=False)
    events: tuple[str, ...] = ("evidence",)
    tags: tuple[str, ...] = ()
    pledges: tuple[int, ...] = ()
    due_within: timedelta = defaults.ALERT_DUE_WITHIN
    feed_failures: int = defaults.ALERT_FEED_FAILURES
    timeout: float = defaults.ALERT_TIMEOUT

    def wants(self, pledge_id: int, tags: Iterable[str]) -> bool:
        """Whether a pledge passes this alert's filters (none: every pledge)."""
        if self.pledges and pledge_id not in self.pledges:
            return False
        return not self.tags or bool(set(self.tags) & set(tags))


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
    web: WebConfig = field(default_factory=WebConfig)
    alerts: tuple[AlertConfig, ...] = ()
    public: PublicConfig = field(default_factory=PublicConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)

    def alert(self, name: str) -> AlertConfig | None:
        return next((a for a in self.alerts if a.name == name), None)

    def feed(self, name: str) -> FeedConfig | None:
        """The feed of that name, looked up in a dict (a config may hold 50,000)."""
        return self._feeds_by_name.get(name)

    def feed_names(self) -> KeysView[str]:
        """The configured feeds' names, a set-like view (no copy of 50,000 names)."""
        return self._feeds_by_name.keys()

    @cached_property
    def _feeds_by_name(self) -> dict[str, FeedConfig]:
        return {f.name: f for f in self.feeds}


def parse_duration(text: str) -> timedelta:
    """Parse "30m", "2h", "1h30m", "7d", "90s" into a timedelta of at most 100 years.

    Raises ValueError, and nothing else, for any other string.
    """
    cleaned = text.strip().lower().replace(" ", "")
    shown = _shown(text.strip(), 40)
    if not _DURATION.fullmatch(cleaned):
        raise ValueError(f'"{shown}" is not a duration; write it like "30m", "2h", "1h30m" or "7d"')
    too_long = _TooLong(
        f'"{shown}" is longer than {_describe(MAX_DURATION)}, the longest duration accepted'
    )
    seconds = 0
    for digits, unit in _DURATION_PART.findall(cleaned):
        significant = digits.lstrip("0")
        if len(significant) > _MAX_DURATION_DIGITS:
            raise too_long
        seconds += int(significant or "0") * _UNIT_SECONDS[unit]
        if seconds > _MAX_DURATION_SECONDS:
            raise too_long
    if seconds <= 0:
        raise ValueError(f'"{shown}" is not a positive duration')
    return timedelta(seconds=seconds)


class _TooLong(ValueError):
    """A well-formed duration over the limit: a config key then states its own limit."""


def _describe(span: timedelta) -> str:
    """A limit as people write it in the config: "7d", "3650d (10 years)"."""
    days = span.days
    if days >= 365:
        return f"{days}d ({round(days / 365.25)} years)"
    return f"{days}d"


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
    where = str(path)
    if path.is_dir():
        raise _error("is a folder, not a configuration file", path=where)
    if not path.is_file():
        looked = "given" if explicit else "environment" if env.get(CONFIG_ENV) else "default"
        error = _error(f"no configuration file at {_shown(where, 500)}")
        error.missing = looked
        raise error
    text = _read_text(path, where)
    if len(text) < PARSE_CACHE_FROM:
        return config_from_dict(_parse_toml(text, where), path=path, env=env)
    # Tens of thousands of small objects, none of them in a cycle: the cycle collector
    # would walk them again and again as they are made (a third of the time here).
    collecting = gc.isenabled()
    gc.disable()
    try:
        kept = _parsed_toml(text, path)
        if kept is None:
            data = _parse_toml(text, where)
            kept = data, plain_feeds_of(data)
            _keep_parsed(text, path, kept)
        data, plain = kept
        return config_from_dict(data, path=path, env=env, plain_feeds=plain)
    finally:
        if collecting:
            gc.enable()


# A config this long (a newsroom's thousands of feeds) is read back from the parse
# the last command kept, when its text is the same: TOML parsing and reading each
# feed's table are most of the cost of loading 50,000 feeds. What is kept is the
# document and that pure reading of its feed tables; every other check runs again
# on it, against this process's environment and files.
PARSE_CACHE_FROM = 256 * 1024  # characters
_PARSE_FORMAT = 2


def _parse_key(text: str) -> dict[str, str]:
    import sys

    import tomli  # its own version: importlib.metadata would cost a command 30 ms

    return {
        "format": str(_PARSE_FORMAT),
        "python": sys.version,
        "tomli": tomli.__version__,
        "text": hashlib.blake2b(text.encode("utf-8", "surrogatepass")).hexdigest(),
    }


def _parse_file(path: Path) -> Path | None:
    from pledgewatch.cache_files import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    where = hashlib.blake2b(str(path.resolve()).encode(), digest_size=12).hexdigest()
    return folder / f"config-{where}.pickle"


_Kept = tuple[dict[str, Any], list[FeedConfig | None]]


def _parsed_toml(text: str, path: Path) -> _Kept | None:
    """The parse kept for exactly this text, if there is one to trust."""
    import pickle

    from pledgewatch.cache_files import open_own

    kept = _parse_file(path)
    stream = open_own(kept) if kept is not None else None
    if stream is None:
        return None
    try:
        with stream:
            if pickle.load(stream) != _parse_key(text):
                return None
            data, plain = pickle.load(stream)
    except Exception:  # a damaged or foreign file: parsed afresh
        return None
    if not isinstance(data, dict) or not isinstance(plain, list):
        return None
    if not all(feed is None or type(feed) is FeedConfig for feed in plain):
        return None
    return data, plain


def _keep_parsed(text: str, path: Path, kept: _Kept) -> None:
    import pickle

    from pledgewatch.cache_files import write_own

    where = _parse_file(path)
    if where is None:
        return

    def write(stream: Any) -> None:
        pickle.dump(_parse_key(text), stream, protocol=5)
        pickle.dump(kept, stream, protocol=5)

    write_own(where, write, prefix=".config-")


def _read_text(path: Path, where: str) -> str:
    try:
        with path.open("rb") as file:
            # Read one byte past the cap rather than trusting the size: the
            # file may be growing, or be something whose size says nothing.
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise _error(f"cannot read the file: {exc.strerror or exc}", path=where) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise _error(
            f"is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MB, "
            "far more than any configuration needs; is this the right file?",
            path=where,
        )
    try:
        # A byte-order mark is what some Windows editors put first; it is not content.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _error(
            f"line {line:,} is not UTF-8 text; save the file as UTF-8", path=where
        ) from None


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    import tomli as tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error(f"not valid TOML: {exc}", path=where) from None
    except ValueError:
        # tomllib lets int() refuse a literal of more than 4,300 digits.
        raise _error("not valid TOML: a number has too many digits", path=where) from None
    except RecursionError:
        raise _error("not valid TOML: lists or tables nested too deeply", path=where) from None


def config_from_dict(
    data: Mapping[str, Any],
    *,
    path: Path | None,
    env: Mapping[str, str] | None = None,
    plain_feeds: Sequence[FeedConfig | None] | None = None,
) -> Config:
    """Validate an already parsed TOML document. ``plain_feeds``: what ``plain_feeds``
    gave for its feeds before (kept with its parse), so they are not read again."""
    env = os.environ if env is None else env
    reader = _Reader(str(path) if path else "<config>")
    try:
        base = path.resolve().parent if path else Path.cwd()
    except (OSError, RuntimeError) as exc:
        raise _error(
            f"cannot find the folder relative paths start from: {exc}", path=reader.path
        ) from None
    reader.only(
        data,
        "",
        {"database", "sweep", "report", "review", "feeds", "web", "alerts", "public", "retention"},
    )

    db = reader.table(data, "database")
    reader.only(db, "database", {"url"})
    url_text = env.get(DATABASE_URL_ENV) or reader.get(db, "database.url", str, None)
    if url_text is None:
        raise reader.error("database.url", f"is required (or set ${DATABASE_URL_ENV})")
    key = "database.url" if not env.get(DATABASE_URL_ENV) else f"${DATABASE_URL_ENV}"
    database = DatabaseConfig(url=normalise_database_url(url_text, base, key, reader.path))

    sw = reader.table(data, "sweep")
    reader.only(sw, "sweep", {f for f in SweepConfig.__dataclass_fields__})
    defaults = SweepConfig()
    sweep = SweepConfig(
        interval=reader.duration(sw, "sweep.interval", defaults.interval, MAX_INTERVAL),
        concurrency=reader.positive_int(
            sw, "sweep.concurrency", defaults.concurrency, MAX_CONCURRENCY
        ),
        per_host=reader.positive_int(sw, "sweep.per_host", defaults.per_host, MAX_PER_HOST),
        timeout=reader.seconds(sw, "sweep.timeout", defaults.timeout, MAX_TIMEOUT),
        max_bytes=reader.positive_int(sw, "sweep.max_bytes", defaults.max_bytes, MAX_BODY_BYTES),
        user_agent=reader.header_value(sw, "sweep.user_agent", defaults.user_agent, MAX_USER_AGENT),
        lease=reader.duration(sw, "sweep.lease", defaults.lease, MAX_LEASE),
    )
    if sweep.lease < MIN_LEASE:
        raise reader.error("sweep.lease", "is too short; the least is 1s")

    rp = reader.table(data, "report")
    reader.only(rp, "report", {"weekday", "time", "output_dir", "formats"})
    weekday = reader.get(rp, "report.weekday", str, "monday").strip().lower()
    if weekday not in WEEKDAYS:
        raise reader.error(
            "report.weekday",
            f'"{_shown(weekday)}" is not a weekday; use one of {", ".join(WEEKDAYS)}',
        )
    time_text = reader.get(rp, "report.time", str, "08:00")
    match = _TIME_OF_DAY.fullmatch(time_text.strip())
    if not match:
        raise reader.error(
            "report.time",
            f'"{_shown(time_text)}" is not a time of day; write it as HH:MM, e.g. "08:00"',
        )
    output_dir = _local_path(
        reader.nonempty_str(rp, "report.output_dir", "reports"),
        base,
        "report.output_dir",
        reader.path,
    )
    formats = reader.get(rp, "report.formats", list, ["html", "md"])
    for fmt in formats:
        if not isinstance(fmt, str):
            raise reader.error(
                "report.formats", f"must be a list of strings, but holds {_show_value(fmt)}"
            )
        if fmt not in REPORT_FORMATS:
            raise reader.error(
                "report.formats",
                f'"{_shown(fmt)}" is not a report format; use any of {", ".join(REPORT_FORMATS)}',
            )
    report = ReportConfig(
        weekday=weekday,
        time=time(int(match.group(1)), int(match.group(2))),
        output_dir=output_dir,
        formats=tuple(dict.fromkeys(formats)),
    )

    rv = reader.table(data, "review")
    reader.only(rv, "review", {"stale_after", "due_soon"})
    review_defaults = ReviewConfig()
    review = ReviewConfig(
        stale_after=reader.duration(
            rv, "review.stale_after", review_defaults.stale_after, MAX_REVIEW_SPAN
        ),
        due_soon=reader.duration(rv, "review.due_soon", review_defaults.due_soon, MAX_REVIEW_SPAN),
    )

    wb = reader.table(data, "web")
    reader.only(wb, "web", {"secret_key_file", "session", "https", "public_url"})
    web_defaults = WebConfig()
    web = WebConfig(
        secret_key_file=_local_path(
            reader.nonempty_str(wb, "web.secret_key_file", str(web_defaults.secret_key_file)),
            base,
            "web.secret_key_file",
            reader.path,
        ),
        session=reader.duration(wb, "web.session", web_defaults.session, MAX_WEB_SESSION),
        https=reader.get(wb, "web.https", bool, web_defaults.https),
        public_url=_web_address(
            reader.nonempty_str(wb, "web.public_url", web_defaults.public_url), reader
        ),
    )
    alerts = _alerts(data.get("alerts", []), reader, base)
    pb = reader.table(data, "public")
    reader.only(pb, "public", {"enabled", "publisher", "title"})
    rt = reader.table(data, "retention")
    reader.only(rt, "retention", {"articles_days"})
    days = reader.get(rt, "retention.articles_days", int, 0)
    if not 0 <= days <= 36_500:
        raise reader.error("retention.articles_days", "must be 0 (keep forever) to 36,500 days")
    retention = RetentionConfig(articles_days=days)
    public_defaults = PublicConfig()
    public = PublicConfig(
        enabled=reader.get(pb, "public.enabled", bool, False),
        publisher=reader.nonempty_str(pb, "public.publisher", public_defaults.publisher)[:200],
        title=reader.nonempty_str(pb, "public.title", public_defaults.title)[:200],
    )

    feeds_raw = data.get("feeds", [])
    if not isinstance(feeds_raw, list):
        raise reader.error("feeds", "must be a list of [[feeds]] tables")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    if plain_feeds is None or len(plain_feeds) != len(feeds_raw):
        plain_feeds = plain_feeds_of(data)
    for i, item in enumerate(feeds_raw):
        plain = plain_feeds[i]
        if plain is not None and plain.name not in seen:
            # A name and an http(s) URL that need no checking beyond this: the common
            # case, and most of a config of 50,000 feeds.
            seen.add(plain.name)
            feeds.append(plain)
            continue
        where = f"feeds[{i}]"
        if not isinstance(item, dict):
            raise reader.error(where, "must be a table")
        reader.only(item, where, {"name", "url", "interval", "enabled"})
        name = reader.nonempty_str(item, f"{where}.name", None)
        if not _FEED_NAME.fullmatch(name):
            raise reader.error(
                f"{where}.name",
                f'"{_shown(name)}" is not a feed name; use at most 64 lowercase letters, '
                'digits, ".", "-" or "_"',
            )
        if name in seen:
            raise reader.error(f"{where}.name", f'feed name "{name}" is used twice')
        seen.add(name)
        url = normalise_feed_url(
            reader.nonempty_str(item, f"{where}.url", None), base, f"{where}.url", reader.path
        )
        interval = reader.duration(item, f"{where}.interval", None, MAX_INTERVAL)
        enabled = reader.get(item, f"{where}.enabled", bool, True)
        feeds.append(FeedConfig(name=name, url=url, interval=interval, enabled=enabled))

    return Config(
        path=path,
        database=database,
        sweep=sweep,
        report=report,
        review=review,
        feeds=tuple(feeds),
        web=web,
        alerts=alerts,
        public=public,
        retention=retention,
    )


_PLAIN_FEED_KEYS = frozenset({"name", "url", "enabled"})


def plain_feeds_of(data: Mapping[str, Any]) -> list[FeedConfig | None]:
    """``_plain_feed`` of each ``[[feeds]]`` table of a parsed document: a pure
    reading of each table, kept with the parse of a long config."""
    feeds = data.get("feeds", [])
    return [_plain_feed(item) for item in feeds] if isinstance(feeds, list) else []


def _plain_feed(item: object) -> FeedConfig | None:
    """The feed a ``[[feeds]]`` table describes when it is a valid name, a plain
    http(s) URL and at most ``enabled``; None for any other table, which the full
    checks then read (and explain, if it is wrong)."""
    if type(item) is not dict or not item.keys() <= _PLAIN_FEED_KEYS:
        return None
    name, url, enabled = item.get("name"), item.get("url"), item.get("enabled", True)
    if type(name) is not str or type(url) is not str or type(enabled) is not bool:
        return None
    if not _FEED_NAME.fullmatch(name) or not is_plain_http_url(url):
        return None
    return FeedConfig(name=name, url=url, interval=None, enabled=enabled)


def _web_address(text: str, reader: _Reader) -> str:
    """The desk's address as people reach it, for links in alerts."""
    if http_url_problem(text) is not None or urlsplit(text).query:
        raise reader.error("web.public_url", f'"{_shown(text)}" is not an http(s) address')
    return text.rstrip("/")


def _alerts(raw: Any, reader: _Reader, base: Path) -> tuple[AlertConfig, ...]:
    if not isinstance(raw, list):
        raise reader.error("alerts", "must be a list of [[alerts]] tables")
    found: list[AlertConfig] = []
    known = {
        "name", "apprise", "webhook", "secret", "secret_file", "events", "tags", "pledges",
        "due_within", "feed_failures", "timeout",
    }  # fmt: skip
    for i, item in enumerate(raw):
        where = f"alerts[{i}]"
        if not isinstance(item, dict):
            raise reader.error(where, "must be a table")
        reader.only(item, where, known)
        name = reader.nonempty_str(item, f"{where}.name", None)
        if not _FEED_NAME.fullmatch(name):
            raise reader.error(
                f"{where}.name",
                f'"{_shown(name)}" is not an alert name; use at most 64 lowercase letters, '
                'digits, ".", "-" or "_"',
            )
        if any(a.name == name for a in found):
            raise reader.error(f"{where}.name", f'alert name "{name}" is used twice')
        apprise_url = reader.get(item, f"{where}.apprise", str, None)
        webhook = reader.get(item, f"{where}.webhook", str, None)
        if (apprise_url is None) == (webhook is None):
            raise reader.error(where, "give either apprise (a notification URL) or webhook")
        if webhook is not None:
            webhook = webhook.strip()
            if http_url_problem(webhook) is not None:
                raise reader.error(f"{where}.webhook", f'"{_shown(webhook)}" is not an http(s) URL')
        secret = reader.get(item, f"{where}.secret", str, None)
        secret_file = reader.get(item, f"{where}.secret_file", str, None)
        if secret is not None and secret_file is not None:
            raise reader.error(where, "give secret or secret_file, not both")
        if secret_file is not None:
            secret_path = _local_path(secret_file, base, f"{where}.secret_file", reader.path)
            try:
                secret = secret_path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise reader.error(f"{where}.secret_file", f"cannot read it: {exc}") from None
        if secret is not None and webhook is None:
            raise reader.error(
                f"{where}.secret", "signs webhooks only; apprise URLs hold their own keys"
            )
        if secret is not None and len(secret) < 16:
            raise reader.error(f"{where}.secret", "must be at least 16 characters long")
        events = reader.get(item, f"{where}.events", list, ["evidence"])
        for event in events:
            if event not in ALERT_EVENTS:
                raise reader.error(
                    f"{where}.events",
                    f'"{_shown(str(event))}" is not an event; use any of {", ".join(ALERT_EVENTS)}',
                )
        if not events:
            raise reader.error(f"{where}.events", "is empty; name at least one event")
        tags = reader.get(item, f"{where}.tags", list, [])
        if not all(isinstance(t, str) and t.strip() for t in tags):
            raise reader.error(f"{where}.tags", "must be a list of tag names")
        pledges = reader.get(item, f"{where}.pledges", list, [])
        if not all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in pledges):
            raise reader.error(f"{where}.pledges", "must be a list of pledge ids")
        found.append(
            AlertConfig(
                name=name,
                apprise=apprise_url.strip() if apprise_url is not None else None,
                webhook=webhook,
                secret=secret,
                events=tuple(dict.fromkeys(events)),
                tags=tuple(t.strip().lower() for t in tags),
                pledges=tuple(pledges),
                due_within=reader.duration(
                    item, f"{where}.due_within", defaults.ALERT_DUE_WITHIN, MAX_REVIEW_SPAN
                ),
                feed_failures=reader.positive_int(
                    item, f"{where}.feed_failures", defaults.ALERT_FEED_FAILURES, 1000
                ),
                timeout=reader.seconds(item, f"{where}.timeout", defaults.ALERT_TIMEOUT, 120),
            )
        )
    return tuple(found)


def normalise_database_url(text: str, base: Path, key: str, path: str) -> str:
    """Validate a database URL; make a relative SQLite path absolute from ``base``."""
    unsafe = first_unsafe(text, multiline=False)
    if unsafe is not None:
        raise _error(unsafe, path=path, key=key)
    plain = _plain_sqlite_url(text.strip(), base, key, path)
    if plain is not None:
        return plain
    # Imported here: reading a URL is the only use, and --help needs none of it.
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    shown = _shown(_URL_PASSWORD.sub(r"\1***@", text.strip()))
    example = 'use e.g. "sqlite:///pledgewatch.db" or "postgresql+psycopg://user@host/db"'
    try:
        url: URL = make_url(text.strip())
    except ArgumentError:
        raise _error(f'"{shown}" is not a database URL; {example}', path=path, key=key) from None
    except ValueError:
        # make_url reads the port with int(), so a port that is not a number
        # and an IPv6 address whose "]" is missing both end up here.
        raise _error(
            f'"{shown}" is not a database URL: its host or port does not parse; {example}',
            path=path,
            key=key,
        ) from None
    if url.port is not None and not 1 <= url.port <= MAX_PORT:
        raise _error(
            f"the port must be between 1 and {MAX_PORT}, not {url.port}", path=path, key=key
        )
    # Percent-escapes are decoded by now, so "%00" is a NUL here.
    parts: list[tuple[str, str | None]] = [
        ("user name", url.username),
        ("password", url.password),
        ("host", url.host),
        ("database", url.database),
    ]
    for name, values in url.query.items():
        parts.append(("name of a query parameter", name))
        for value in (values,) if isinstance(values, str) else values:
            parts.append((f'query parameter "{_shown(name)}"', value))
    for part, text_part in parts:
        problem = first_unsafe(text_part or "", multiline=False)
        if problem is not None:
            raise _error(f"the {part} in the URL {problem}", path=path, key=key)

    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database
        if database == "":
            raise _error(
                "the SQLite URL names no file; write e.g. sqlite:///pledgewatch.db "
                "(relative to the config file's folder) or sqlite:////srv/pledgewatch.db",
                path=path,
                key=key,
            )
        if database and database != ":memory:" and not database.startswith("file:"):
            url = url.set(database=str(_local_path(database, base, key, path)))
    elif backend == "postgresql":
        if url.get_driver_name() in ("psycopg2", "") or "+" not in url.drivername:
            url = url.set(drivername="postgresql+psycopg")
    else:
        raise _error(
            f'"{_shown(backend)}" databases are not supported; use sqlite or postgresql',
            path=path,
            key=key,
        )
    try:
        url.get_dialect()
    except (ArgumentError, ImportError):
        raise _error(
            f'"{_shown(url.drivername)}" is not a database driver SQLAlchemy knows; {example}',
            path=path,
            key=key,
        ) from None
    return url.render_as_string(hide_password=False)


# A file path SQLAlchemy's URL neither decodes nor quotes: letters, digits and "_.~ +/-".
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~ +/-]+")


def _plain_sqlite_url(text: str, base: Path, key: str, path: str) -> str | None:
    """``sqlite:///`` and a plain path, read as SQLAlchemy would read and write it,
    without importing it (a third of a second at start-up); None for any other URL."""
    prefix = "sqlite:///"
    if not text.startswith(prefix) or not _PLAIN_PATH.fullmatch(text[len(prefix) :]):
        return None
    database = str(_local_path(text[len(prefix) :], base, key, path))
    if not _PLAIN_PATH.fullmatch(database):
        return None
    return prefix + database


def normalise_feed_url(text: str, base: Path, key: str, path: str) -> str:
    """http(s) URLs stay as they are; file: URLs and paths become absolute file: URLs."""
    scheme_match = _URL_SCHEME.match(text)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme in ("http", "https"):
        problem = http_url_problem(text)
        if problem is not None:
            raise _error(f'"{_shown(text)}" {problem}', path=path, key=key)
        return text
    if scheme == "file":
        try:
            local_text = urlsplit(text).path
        except ValueError as exc:
            raise _error(
                f'"{_shown(text)}" does not parse as a URL ({exc})', path=path, key=key
            ) from None
        local = _local_path(local_text, base, key, path, expand_user=False)
    elif scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        local = _local_path(text, base, key, path)
    else:
        raise _error(
            f'"{_shown(text)}" is not an http(s) URL, file: URL or path', path=path, key=key
        )
    try:
        uri = local.resolve().as_uri()
    except (OSError, RuntimeError, ValueError) as exc:
        # RuntimeError: a symlink loop.
        raise _error(
            f'cannot resolve the path "{_shown(text)}": {exc}', path=path, key=key
        ) from None
    if len(uri) > MAX_URL_LENGTH:
        raise _error(
            f"as a file: URL it is {len(uri):,} characters long; the limit is {MAX_URL_LENGTH:,}",
            path=path,
            key=key,
        )
    return uri


def _local_path(text: str, base: Path, key: str, path: str, *, expand_user: bool = True) -> Path:
    """A path from the config: safe characters, ``~`` expanded, absolute from ``base``."""
    unsafe = first_unsafe(text, multiline=False)
    if unsafe is not None:
        raise _error(f"the path {unsafe}", path=path, key=key)
    local = Path(text)
    if expand_user:
        try:
            local = local.expanduser()
        except RuntimeError:
            # "~name" for a user this machine does not know, or no home at all.
            user = re.split(r"[/\\]", text[1:], maxsplit=1)[0]
            why = f'this machine has no user "{_shown(user)}"' if user else "no home folder is set"
            raise _error(
                f'cannot expand "~" in "{_shown(text)}": {why}', path=path, key=key
            ) from None
    return local if local.is_absolute() else base / local


class _Reader:
    """Typed access to TOML tables that names the key and file in every error."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, key: str, message: str) -> ConfigError:
        return _error(message, path=self.path, key=key)

    def only(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                full = f"{where}.{_key_name(key)}" if where else _key_name(key)
                raise self.error(
                    full, f"unknown key; known keys here: {', '.join(sorted(allowed))}"
                )

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table ([{key}])")
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
            raise self.error(
                key,
                f"must be {_KIND_NAMES.get(kind, kind.__name__)}, not {type(value).__name__} "
                f"({_show_value(value)})",
            )
        # Every string the config holds is one line: a name, a URL, a path, a
        # header value. Refusing line breaks and controls here covers them all.
        if isinstance(value, str):
            unsafe = first_unsafe(value, multiline=False)
            if unsafe is not None:
                raise self.error(key, unsafe)
        return value

    def nonempty_str(self, table: Mapping[str, Any], key: str, default: str | None) -> str:
        value = self.get(table, key, str, default)
        if value is None or not value.strip():
            raise self.error(key, "is required and must not be empty")
        return str(value.strip())

    def header_value(self, table: Mapping[str, Any], key: str, default: str, limit: int) -> str:
        """Text sent as an HTTP header: one line (no header injection) of ASCII."""
        value = self.nonempty_str(table, key, default)
        if len(value) > limit:
            raise self.error(key, f"is {len(value):,} characters long; the limit is {limit}")
        if not value.isascii():
            # httpx encodes header values as ASCII and would fail every fetch.
            raise self.error(key, "must be plain ASCII: HTTP headers cannot carry other characters")
        return value

    def positive_int(self, table: Mapping[str, Any], key: str, default: int, upper: int) -> int:
        value = self.get(table, key, int, default)
        if not 1 <= value <= upper:
            raise self.error(key, f"must be between 1 and {upper:,}, not {_show_value(value)}")
        return int(value)

    def seconds(self, table: Mapping[str, Any], key: str, default: float, upper: float) -> float:
        name = key.rsplit(".", 1)[-1]
        value = table.get(name, default)
        # The chained comparison is false for nan too, and infinity is above upper.
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= upper:
            raise self.error(
                key,
                f"must be a positive number of seconds, at most {upper:,g}, "
                f"not {_show_value(value)}",
            )
        return float(value)

    def duration(
        self, table: Mapping[str, Any], key: str, default: timedelta | None, upper: timedelta
    ) -> Any:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, str):
            raise self.error(key, f'must be a duration string like "30m", not {_show_value(value)}')
        span: timedelta | None
        try:
            span = parse_duration(value)
        except _TooLong:
            span = None  # over 100 years, so over every key's own limit
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if span is None or span > upper:
            raise self.error(
                key, f'"{_shown(value.strip())}" is too long; the limit is {_describe(upper)}'
            )
        return span


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key_name(key: object) -> str:
    """A key as TOML spells it, so that an empty or spaced key is still seen."""
    text = str(key)
    if _BARE_KEY.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}


def _error(message: str, *, path: str | None = None, key: str | None = None) -> ConfigError:
    """A ConfigError whose message is one printable line, whatever the file held.

    Keys, paths and values come from the file, the environment or the command
    line, and may hold line breaks, escape sequences or surrogates; printed as
    they are they would split the message or rewrite the terminal.
    """
    return ConfigError(
        _one_line(message),
        path=None if path is None else _shown(path, 500),
        key=None if key is None else _shown(key, 200),
    )


# What printable() keeps but str.splitlines() would still break a message at.
def _one_line(text: str) -> str:
    return printable(text, one_line=True)


def _shown(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters and made one printable line, to quote it."""
    return quoted(text, limit)


class _ValueRepr(reprlib.Repr):
    """Short reprs that survive any TOML value (the repr of a huge int raises)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 60
        self.maxother = 60
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:
            digits = int(x.bit_length() * math.log10(2)) + 1
            return f"an integer of about {digits:,} digits"
        return super().repr_int(x, level)


_VALUE_REPR = _ValueRepr()


def _show_value(value: object) -> str:
    return _one_line(_VALUE_REPR.repr(value))


DEFAULT_CONFIG_TEXT = defaults.config_text()


def write_default_config(
    explicit: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> Path | None:
    """Write the commented default configuration where the lookup finds none;
    the path written, or None when a file is already there."""
    path = resolve_config_path(explicit, env)
    if path.exists():
        return None
    try:
        path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write a default configuration: {exc}", path=str(path)) from None
    return path
