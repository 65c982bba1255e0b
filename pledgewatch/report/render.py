"""Render report data as Markdown, HTML, JSON or CSV.

Markdown pastes cleanly into a CMS or chat; HTML is one self-contained file
(inline CSS, an inline SVG chart, no external assets, print-friendly, readable
on a phone) with every text from feeds or people escaped by jinja2's
autoescape; JSON holds the same data; CSV has one row a pledge.

May import: jinja2, markupsafe, pledgewatch.report.data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import jinja2

FORMATS = ("md", "html", "json", "csv")
STATUS_COLOURS = {
    "not_yet_rated": "#8a8f98",
    "in_the_works": "#2b7bb9",
    "stalled": "#d9a400",
    "kept": "#267a4b",
    "compromise": "#8e5bb5",
    "broken": "#c8102e",
}

INK = "#1d2228"


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White or the page's ink, whichever reads better on ``background``."""
    return "#ffffff" if contrast("#ffffff", background) >= contrast(INK, background) else INK


STATUS_TEXT = {status: text_on(colour) for status, colour in STATUS_COLOURS.items()}

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("pledgewatch.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _day(value: str | None) -> str:
    return value[:10] if value else ""


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value) if value < 0 else "±0"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!&~])")
# GitHub-flavoured Markdown and chat apps turn bare "https://..." and "www." into links.
_MD_AUTOLINK = re.compile(r"(?<=[a-zA-Z])(:)(?=//)|(?<=\bwww)(\.)", re.IGNORECASE)
_MD_BLOCK_START = re.compile(r"^([-+=]|\d+[.)])")


def md(text: Any) -> str:
    """Text from feeds or people, inert in Markdown: no links, emphasis, lists or HTML."""
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    escaped = _MD_AUTOLINK.sub(lambda m: "\\" + m.group(0), escaped)
    return _MD_BLOCK_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], escaped)


def web_url(url: Any) -> str | None:
    """The URL if it is safe to link (http or https), else None: a feed's
    ``javascript:`` or ``data:`` link must never become clickable."""
    text = str(url or "").strip()
    if not re.match(r"^https?://[^\s]+$", text, re.IGNORECASE):
        return None
    return text


def _md_url(url: str) -> str:
    """A web URL safe inside Markdown's ``<...>`` link destination."""
    return url.replace("<", "%3C").replace(">", "%3E")


def md_link(title: Any, url: Any) -> str:
    """``[title](<url>)`` for web URLs; escaped text for anything else."""
    safe = web_url(url)
    if safe is None:
        return f"{md(title)} ({md(url)})" if url else md(title)
    return f"[{md(title)}](<{_md_url(safe)}>)"


_environment.filters["day"] = _day
_environment.filters["signed"] = _signed
_environment.filters["web_url"] = web_url


def chart(report: dict[str, Any]) -> dict[str, Any]:
    """Bars of the status counts, for the inline SVG."""
    counts = report["counts"]
    most = max((c["count"] for c in counts), default=0) or 1
    bars = []
    for i, c in enumerate(counts):
        bars.append(
            {
                "y": 8 + i * 30,
                "width": round(300 * c["count"] / most, 1),
                "label": c["label"],
                "count": c["count"],
                "colour": STATUS_COLOURS[c["status"]],
            }
        )
    return {"bars": bars, "height": 8 + len(counts) * 30}


def render_html(report: dict[str, Any]) -> str:
    template = _environment.get_template("report.html.j2")
    return template.render(r=report, chart=chart(report), colours=STATUS_COLOURS, inks=STATUS_TEXT)


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = (
    "id",
    "actor",
    "text",
    "status",
    "flags",
    "made_on",
    "deadline",
    "evidence_pending",
    "evidence_kept",
    "evidence_broken",
    "evidence_neutral",
    "last_evidence_at",
    "status_changed_in_period",
    "new_evidence_in_period",
    "source_url",
)


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @) is kept as text with a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report["pledges"]:
        writer.writerow(
            [
                p["id"],
                _cell(p["actor"]),
                _cell(p["text"]),
                p["status"],
                ";".join(p["flags"]),
                p["made_on"],
                p["deadline"] or "",
                p["evidence"]["pending"],
                p["evidence"]["kept"],
                p["evidence"]["broken"],
                p["evidence"]["neutral"],
                p["last_evidence_at"] or "",
                "yes" if p["status_changed"] else "no",
                p["new_evidence"],
                _cell(p["source_url"]),
            ]
        )
    return out.getvalue()


def render_md(report: dict[str, Any]) -> str:
    lines = [f"# {md(report['title'])}", ""]
    total = report["total"]
    lines.append(
        f"{_day(report['since'])} to {_day(report['until'])} · "
        f"{total} pledge{'' if total == 1 else 's'}"
    )
    lines += [
        "",
        "## Where the pledges stand",
        "",
        "| Status | Pledges | Change |",
        "|---|---:|---:|",
    ]
    for c in report["counts"]:
        lines.append(f"| {c['label']} | {c['count']} | {_signed(c['change'])} |")
    lines += ["", "## Verdicts this period", ""]
    if not report["status_changes"]:
        lines.append("No status changed.")
    for c in report["status_changes"]:
        frm = c["from_label"] or "—"
        lines.append(
            f"- **#{c['pledge_id']} {md(c['actor'])}: {md(c['text'])}**: {frm} → "
            f"**{c['to_label']}** ({_day(c['at'])}, {md(c['by'])}). {md(c['note'])}"
        )
        for e in c["evidence"]:
            lines.append(f"  - {md_link(e['title'], e['url'])}")
        if c["source_url"]:
            lines.append(f"  - Source: {md_link(c['source_url'], c['source_url'])}")
    lines += ["", "## New evidence", ""]
    if not report["new_evidence"]:
        lines.append("No new evidence.")
    for group in report["new_evidence"]:
        lines.append(f"### #{group['pledge_id']} {md(group['actor'])}: {md(group['text'])}")
        lines.append("")
        for e in group["items"]:
            lines.append(
                f"- {e['review']} · suggests **{e['stance']}** · {_day(e['published_at'])} · "
                f"{md_link(e['title'], e['url'])}  "
            )
            lines.append(f"  > {md(e['snippet'])}")
        lines.append("")
    for key, heading in (
        ("new_pledges", "New pledges"),
        ("overdue", "Overdue"),
        ("due_soon", "Due soon"),
    ):
        lines += [f"## {heading}", ""]
        if not report[key]:
            lines.append("None.")
        for p in report[key]:
            deadline = f", due {p['deadline']}" if p["deadline"] else ""
            lines.append(
                f"- #{p['id']} {md(p['actor'])}: {md(p['text'])} ({p['status_label']}{deadline})"
            )
        lines.append("")
    feeds = report["feeds"]
    lines += ["## Feed health", ""]
    lines.append(
        f"{feeds['count']} feeds, {feeds['sweeps']} sweeps this period, "
        f"{feeds['articles_new']} new articles ({feeds['articles_total']} stored)."
    )
    for f in feeds["failing"]:
        state = "gone (410)" if f["gone"] else f"{f['consecutive_errors']} errors in a row"
        lines.append(f"- {md(f['name'])}: {state}: {md(f['last_error'] or '')}")
    return "\n".join(lines).rstrip() + "\n"


def render(report: dict[str, Any], fmt: str) -> str:
    return {"md": render_md, "html": render_html, "json": render_json, "csv": render_csv}[fmt](
        report
    )
