"""Text as it arrives from outside (chats, forms, CSV cells, the command line), made safe to keep.

NUL and the other control characters are invisible, break PostgreSQL (which refuses NUL in text) and
terminals, and no person means them; newline and tab are kept because people do type them. Lone
surrogates (from a JSON "\\ud800" escape) cannot be encoded to UTF-8, so the database would refuse
them too: they go as well. Called once where outside text becomes ours; everything after trusts it.
"""

from __future__ import annotations

import re

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
