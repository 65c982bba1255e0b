"""Canonical article URLs, so one story reached through several links is stored once.

The same article arrives from different feeds with different tracking
parameters (``?utm_source=rss``, ``?at_medium=RSS``, ``#comments``); the
article table keys on :func:`canonical_url`, so these must collapse to one
string while links that really point elsewhere stay different.

Pure standard library; may import nothing from pledgewatch.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MAX_URL_LENGTH = 2000  # the URL columns of the database

# Query keys that only say how a reader reached the page, never which page it
# is. Compared lower-cased. Keys that select content (``id``, ``p``, ``page``,
# ``story``) must never be listed here.
TRACKING_PARAMS = frozenset(
    {
        # ad and social click identifiers
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "srsltid",
        # mail campaigns (Mailchimp, HubSpot, Marketo, Omeda, Vero)
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        # analytics cross-domain and referral markers
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        # AT Internet, as used in BBC and other broadcasters' feeds
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "at_link_id",
        "at_link_origin",
        "at_link_type",
        "at_bbc_team",
        "at_ptr_name",
        "at_format",
        "at_creation",
        "at_campaign_type",
        "at_type",
        "at_variant",
        "xtor",
        # comScore, in older newsroom feeds
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
    }
)
# Whole families: every ``utm_*`` key is a campaign tag.
TRACKING_PREFIXES = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}


# Characters a URL cannot hold unescaped: whitespace, quotes and angle brackets
# (which would break out of an HTML attribute or a <script> block), the other
# characters RFC 3986 excludes, controls and lone surrogates.
_URL_FORBIDDEN = re.compile("[\\s\"'<>\\\\^`{|}\x00-\x1f\x7f-\x9f\ud800-\udfff]")


# A URL whose every part is plain ASCII that needs no escaping: what almost every feed
# and source address is. One match answers for it (50,000 feeds in a config are
# checked in a tenth of the time urlsplit takes); anything else gets the full check.
_PLAIN_HTTP_URL = re.compile(
    r"(?i)https?://[a-z0-9][a-z0-9.-]{0,252}(?::([0-9]{1,5}))?"
    r"(?:[/?#][!#$%&()*+,\-./0-9:;=?@A-Z\[\]_a-z~]*)?"
)


def is_plain_http_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL of plain ASCII needing no escaping, which
    ``http_url_problem`` accepts (the quick half of that check)."""
    if len(text) > MAX_URL_LENGTH:
        return False
    plain = _PLAIN_HTTP_URL.fullmatch(text)
    return plain is not None and (plain.group(1) is None or int(plain.group(1)) <= 65535)


def http_url_problem(text: str) -> str | None:
    """Why ``text`` is not an absolute http(s) URL that can be stored and shown, or None.

    The one check for every URL a person gives (a pledge's source, a verdict's
    source, a feed in the config): it must parse, have an http(s) scheme, a
    host and a valid port, hold no character that needs escaping, and fit the
    database's URL columns.
    """
    if is_plain_http_url(text):
        return None
    return _url_problem(text)


def _url_problem(text: str) -> str | None:
    """The full check of ``http_url_problem``, for a URL of any length and shape."""
    if len(text) > MAX_URL_LENGTH:
        return f"is {len(text):,} characters long; the limit is {MAX_URL_LENGTH:,}"
    forbidden = _URL_FORBIDDEN.search(text)
    if forbidden is not None:
        char = forbidden.group()
        shown = "a space" if char == " " else f"U+{ord(char):04X} ({char!a})"
        fix = f"write it as %{ord(char):02X}" if ord(char) < 0x80 else "remove it"
        return f"contains {shown}, which a URL cannot hold unescaped ({fix})"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"does not parse as a URL ({exc})"
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return "is not an http(s) URL"
    if not parts.hostname:
        return "has no host"
    return None


def canonical_url(url: str) -> str:
    """Return the one spelling of ``url`` under which its article is stored.

    Scheme and host are lower-cased, the default port and the fragment are
    dropped, tracking parameters are removed (the rest keep their order and
    their original encoding) and an empty path becomes ``/``. The path itself
    is left alone: servers may treat case and escapes in it as significant.

    Raises ValueError for anything that is not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname  # already lower-cased, IPv6 brackets removed
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    port = parts.port  # raises ValueError for a port that is not a number in range

    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        # Keep credentials exactly as written; only the host is case-insensitive.
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"

    return urlunsplit((scheme, netloc, parts.path or "/", _drop_tracking(parts.query), ""))


def _drop_tracking(query: str) -> str:
    # Split by hand rather than parse_qsl/urlencode so that the kept pairs
    # are byte-for-byte what the publisher wrote (encoding, blank values, order).
    if not query:
        return ""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = pair.split("=", 1)[0].lower()
        if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append(pair)
    return "&".join(kept)
