"""Text as it arrives from outside (chats, forms, CSV cells, the command line), made safe to keep.

NUL and the other control characters are invisible, break PostgreSQL (which refuses NUL in text) and
terminals, and no person means them; newline and tab are kept because people do type them. Lone
surrogates (from a JSON "\\ud800" escape) cannot be encoded to UTF-8, so the database would refuse
them too: they go as well. Called once where outside text becomes ours; everything after trusts it.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab (\x09) and newline (\x0a), DEL, C1 controls, and lone surrogates.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n?")


def clean_text(text: str, *, one_line: bool = False) -> str:
    """The text without control characters (a carriage return becomes a newline). one_line: newlines
    and tabs become spaces too, for a value that is a single line (a name, an id)."""
    if not isinstance(text, str):
        raise TypeError(f"text expected, not {type(text).__name__}")
    if text.isprintable():  # no control character, newline or tab: the common case, nothing to build
        return text
    text = _UNWANTED.sub("", _LINE_BREAKS.sub("\n", text))
    if one_line:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


_ZWJ = "\u200d"


def _joins_previous(char: str) -> bool:
    """A character drawn together with the one before it: a combining mark, a variation selector, a
    skin-tone modifier, a tag (flag sequences) or a zero-width joiner."""
    code = ord(char)
    return (unicodedata.category(char) in ("Mn", "Mc", "Me") or char == _ZWJ or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F)


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def safe_cut(text: str, at: int, floor: int = 0) -> int:
    """Where to cut `text` at or before `at` without splitting what is drawn as one character (an emoji
    sequence, a letter with its accents, a flag): a cut inside one shows broken halves on both sides. Falls
    back to `at` when no such place lies after `floor` (one giant cluster still has to be cut somewhere)."""
    cut = at
    while cut > floor and cut < len(text):
        after, before = text[cut], text[cut - 1]
        inside = _joins_previous(after) or before == _ZWJ
        if not inside and _regional(after) and _regional(before):
            run = 0  # flags are pairs of regional indicators: cut only after an even number of them
            while cut - run > 0 and _regional(text[cut - run - 1]):
                run += 1
            inside = run % 2 == 1
        if not inside:
            return cut
        cut -= 1
    return at if cut <= floor else cut


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, shortened with "…" at a place that splits no emoji or accented letter:
    for a line that shows a piece of a longer text (the stored text is never cut)."""
    if len(text) <= limit:
        return text
    return text[:safe_cut(text, limit - 1)].rstrip() + "…"
