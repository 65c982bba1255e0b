"""Which characters pledgewatch keeps, refuses and shows: the one definition.

Text reaches pledgewatch from feeds, files, the command line and the
environment, and some of it cannot be stored or printed safely:

- a lone surrogate (``&#xD800;`` in a feed, ``"\\ud800"`` in JSON, or the
  bytes of invalid UTF-8 in a command-line argument, which Python decodes to
  surrogates): neither SQLite nor PostgreSQL can encode it, so one such
  character used to fail a whole transaction;
- control characters (NUL, ESC, BEL, DEL and the C1 range): PostgreSQL
  refuses NUL, and ESC or CSI echoed to a terminal is an escape sequence that
  can rewrite the screen;
- the noncharacters U+FFFE and U+FFFF.

Feeds are cleaned (:func:`clean`): what a publisher sends is kept minus what
cannot be stored. What people type is refused with a reason
(:func:`first_unsafe`), since silently changing a journalist's words is worse
than asking. Anything echoed to a terminal goes through :func:`printable`.

Pure standard library; may import nothing from pledgewatch.
"""

from __future__ import annotations

import re

# Tab, line feed and carriage return are text; every other C0 control, DEL,
# the C1 controls, lone surrogates and the two noncharacters are not.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_UNSAFE_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_SHOW_ONE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` with lone surrogates made U+FFFD and other unsafe characters dropped."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_replacement, text)


def _replacement(match: re.Match[str]) -> str:
    return "\ufffd" if _SURROGATE.match(match.group()) else ""


def first_unsafe(text: str, *, multiline: bool = True) -> str | None:
    """Why ``text`` cannot be taken as typed, or None when it can.

    With ``multiline`` false, tabs and line breaks are refused too (names,
    tags, one-line fields).
    """
    pattern = _UNSAFE if multiline else _UNSAFE_OR_BREAK
    found = pattern.search(text)
    if found is None:
        return None
    char = found.group()
    if _SURROGATE.match(char):
        return "is not valid UTF-8 text (check the encoding of the terminal or the file)"
    if char in "\t\r\n\u2028\u2029":
        return "must be on one line"
    return f"contains the control character U+{ord(char):04X}; remove it"


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` safe to print on a terminal: unsafe characters shown as escapes.

    Line feeds stay line feeds unless ``one_line``; a carriage return, ESC, a
    line separator or a surrogate is shown as ``\\r``, ``\\x1b``, ``\\u2028``
    or ``\\udcff`` and so cannot move the cursor or start an escape sequence.
    Escapes are printable, so printing twice changes nothing more.
    """
    pattern = _SHOW_ONE_LINE if one_line else _SHOW
    if not pattern.search(text):
        return text
    return pattern.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _NAMED:
        return _NAMED[code]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_NAMED = {0x0A: "\\n", 0x0D: "\\r"}


def quoted(text: str, limit: int = 40) -> str:
    """A value to quote in a message: at most ``limit`` characters, one printable line."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return printable(text, one_line=True)
