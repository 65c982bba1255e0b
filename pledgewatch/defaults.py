"""Every default, defined once: the config's dataclasses, the fetcher's settings
and the commented default config that `init` writes are made from these.

May import the standard library only.
"""

from __future__ import annotations

from datetime import time, timedelta

DATABASE_URL = "sqlite:///pledgewatch.db"

SWEEP_INTERVAL = timedelta(minutes=30)
CONCURRENCY = 16
# Requests at once to one host. Newsroom feed sets often sit on one or two hosts
# (a publisher's many section feeds); eight keeps them as fast as feeds spread
# over many hosts while staying far below what a news site serves a reader.
PER_HOST = 8
TIMEOUT = 20.0  # seconds for one fetch, body included
CONNECT_TIMEOUT = 10.0
MAX_BYTES = 15_000_000  # after decompression
MAX_REDIRECTS = 5
USER_AGENT = "pledgewatch/0.1 (+https://example.org/pledgewatch)"
# On PostgreSQL a worker holds the feeds it claimed this long past its last
# heartbeat (it beats four times a lease); a worker that dies frees them then.
LEASE = timedelta(minutes=2)

REPORT_WEEKDAY = "monday"
REPORT_TIME = time(8, 0)
REPORT_DIR = "reports"
REPORT_FORMATS = ("html", "md")

STALE_AFTER = timedelta(days=90)
DUE_SOON = timedelta(days=30)

SECRET_KEY_FILE = "secret.key"
WEB_SESSION = timedelta(hours=12)  # a log-in lasts this long
WEB_HTTPS = False  # served behind HTTPS: Secure cookies and HSTS
WEB_PUBLIC_URL = "http://127.0.0.1:8080"  # where people reach the desk, for links in alerts

ARTICLES_DAYS = 0  # keep stored articles that are not evidence this many days; 0: forever
PRUNE_BATCH = 1000

PUBLIC_PUBLISHER = "Our newsroom"
PUBLIC_TITLE = "Pledge tracker"

ALERT_DUE_WITHIN = timedelta(days=14)
ALERT_FEED_FAILURES = 3
ALERT_TIMEOUT = 10.0  # seconds for one delivery


def span(value: timedelta) -> str:
    """A duration as the config writes it: "30m", "2h", "90d"."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def config_text() -> str:
    """The commented default configuration, with these defaults."""
    formats = ", ".join(f'"{f}"' for f in REPORT_FORMATS)
    timeout = int(TIMEOUT) if int(TIMEOUT) == TIMEOUT else TIMEOUT
    return f"""\
# pledgewatch configuration. Every key is optional except [database].url.
# Lookup: --config PATH, else $PLEDGEWATCH_CONFIG, else ./config.toml.
# $PLEDGEWATCH_DATABASE_URL overrides [database].url.

[database]
# A relative SQLite path is relative to this file's folder.
# For a newsroom: url = "postgresql+psycopg://user@host/pledgewatch"
url = "{DATABASE_URL}"

[sweep]
interval = "{span(SWEEP_INTERVAL)}"        # how often `pledgewatch watch` sweeps
concurrency = {CONCURRENCY}        # feeds fetched at once
per_host = {PER_HOST}            # requests at once to one host
timeout = {timeout}            # seconds for one request
max_bytes = {MAX_BYTES:_}  # body cap after decompression
user_agent = "{USER_AGENT}"
lease = "{span(LEASE)}"             # PostgreSQL workers: a dead worker's feeds are freed after this

[report]
weekday = "{REPORT_WEEKDAY}"      # `pledgewatch watch` writes the weekly report then
time = "{REPORT_TIME:%H:%M}"
output_dir = "{REPORT_DIR}"
formats = [{formats}]

[review]
stale_after = "{span(STALE_AFTER)}"     # no new evidence for this long: flagged "stale"
due_soon = "{span(DUE_SOON)}"        # a deadline within this: flagged "due_soon"

[web]
secret_key_file = "{SECRET_KEY_FILE}"  # signs the desk's session cookies; made if missing
session = "{span(WEB_SESSION)}"            # a log-in lasts this long
https = {str(WEB_HTTPS).lower()}             # true behind an HTTPS proxy: Secure cookies, HSTS
public_url = "{WEB_PUBLIC_URL}"  # where people reach the desk (links in alerts)

[retention]
articles_days = {ARTICLES_DAYS}   # `pledgewatch prune` drops older non-evidence articles; 0: never

[public]
enabled = false             # read-only pages per pledge, a badge, an Atom feed of changes
publisher = "{PUBLIC_PUBLISHER}"  # named as the author of the ClaimReview ratings
title = "{PUBLIC_TITLE}"

# Alerts: one [[alerts]] table each; apprise URLs (Slack, Teams, email, ntfy...)
# or a webhook whose JSON body is signed with HMAC-SHA256 when a secret is given.
# [[alerts]]
# name = "desk-slack"
# apprise = "slack://TokenA/TokenB/TokenC/#desk"
# events = ["evidence", "due", "overdue", "feed", "verdict"]
# tags = ["ukraine"]         # only pledges with one of these tags

# One [[feeds]] table per news feed; url may be http(s), file: or a local path.
# [[feeds]]
# name = "bbc-world"
# url = "https://feeds.bbci.co.uk/news/world/rss.xml"
# interval = "15m"
# enabled = true
"""
