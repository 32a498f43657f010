"""An outbox payload as the Slack messages that show it. Pure, so the Slack specifics (mrkdwn escaping,
3000 characters per section counted after escaping, 50 blocks per message, unique ids) are tested
without a network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.text import safe_cut

MAX_BLOCKS = 50  # blocks per message
MAX_SECTION = 3000  # characters of a section's text, as Slack counts it: escaped
MAX_BUTTON_TEXT = 75  # characters of a button's plain_text label
MAX_ACTIONS = 25  # elements in one actions block
MAX_BUTTON_VALUE = 2000  # characters of a button's value
EMPTY_FALLBACK = "…"  # notification text for a message that is only buttons (Slack wants some text)

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage (or chat.update when `edit` is set) with Block Kit blocks."""

    text: str  # the notification/fallback text: escaped, the message's first section
    blocks: list[dict[str, Any]]
    edit: str | None = None  # "<channel>:<ts>" of the message to update; only ever on the first message


def escape(text: str) -> str:
    """Flows write plain text; in mrkdwn a "<!channel>" or "<@U123>" would ping or link, so &, < and > are
    escaped (the & first, so the other entities are not escaped twice)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _width(char: str) -> int:
    return len(_ENTITIES.get(char, char))


def split_sections(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Plain text in, escaped pieces of at most `limit` characters out. Split on line breaks, a giant line
    split hard between characters; measured after escaping (what Slack counts), and because the cutting
    happens before escaping, never inside an entity like "&amp;"."""
    if limit < max(len(e) for e in _ENTITIES.values()):
        raise ValueError("limit must leave room for an escaped character")
    pieces: list[str] = []
    current: str | None = None
    size = 0
    for line in text.split("\n"):
        width = sum(_width(c) for c in line)
        if width > limit:
            if current is not None:
                pieces.append(current)
            *whole, current = _hard_split(line, limit)
            pieces.extend(whole)
            size = sum(_width(c) for c in current)
        elif current is None:
            current, size = line, width
        elif size + 1 + width <= limit:
            current, size = f"{current}\n{line}", size + 1 + width
        else:
            pieces.append(current)
            current, size = line, width
    if current is not None:
        pieces.append(current)
    return [escape(p) for p in pieces]


def _hard_split(line: str, limit: int) -> list[str]:
    """Cut where no emoji sequence or accented letter is split (core.text.safe_cut), else between characters."""
    pieces: list[str] = []
    start, size = 0, 0
    for i, char in enumerate(line):
        width = _width(char)
        if size + width > limit:
            cut = safe_cut(line, i, start)
            pieces.append(line[start:cut])
            start, size = cut, sum(_width(c) for c in line[cut:i])
        size += width
    pieces.append(line[start:])
    return pieces


def actions(rows: list[list[list[str]]]) -> list[dict[str, Any]]:
    """Rows of [label, payload(, form)] as actions blocks, one per row; action_ids count across all rows so each
    is unique in the message (Slack rejects duplicates)."""
    if sum(len(row) for row in rows) > MAX_ACTIONS:
        raise ValueError(f"more than {MAX_ACTIONS} buttons in one message")
    out: list[dict[str, Any]] = []
    n = 0
    for row in rows:
        elements: list[dict[str, Any]] = []
        for label, payload, *form in row:
            if not payload or len(payload) > MAX_BUTTON_VALUE:
                raise ValueError(f"button value must be 1-{MAX_BUTTON_VALUE} characters: {payload!r}")
            elements.append({
                "type": "button",
                "text": {"type": "plain_text", "text": _label(label), "emoji": True},
                "action_id": f"b{n}.{form[0]}" if form and form[0] else f"b{n}",  # the form a press may lead to
                "value": payload,
            })
            n += 1
        if elements:
            out.append({"type": "actions", "block_id": f"a{len(out)}", "elements": elements})
    return out


def _label(label: str) -> str:
    """Replies already keep labels within 75 characters; a longer one is shortened rather than refused."""
    label = label.strip() or "·"
    return label if len(label) <= MAX_BUTTON_TEXT else label[:safe_cut(label, MAX_BUTTON_TEXT - 1)] + "…"


def messages(payload: dict[str, Any]) -> list[SlackMessage]:
    """Sections of text first, buttons on the last message so they stay under everything the reply says;
    the first message updates the pressed one when the payload says so. A file is the sender's to upload:
    with no text and no buttons there is nothing to post here."""
    text: str = payload.get("text") or ""
    pieces = [p for p in split_sections(text) if p.strip()] if text.strip() else []
    sections = [
        # verbatim: a typed URL or "#channel" stays text (Slack would make them links); mentions are escaped
        {"type": "section", "block_id": f"s{i}", "text": {"type": "mrkdwn", "text": piece, "verbatim": True}}
        for i, piece in enumerate(pieces)
    ]
    buttons = actions(payload.get("buttons") or [])
    if not sections and not buttons:
        return []
    chunks: list[list[dict[str, Any]]] = []
    rest = sections
    while len(rest) + len(buttons) > MAX_BLOCKS:
        take = min(MAX_BLOCKS, len(rest) - 1)  # leave a section to carry the buttons
        chunks.append(rest[:take])
        rest = rest[take:]
    chunks.append(rest + buttons)
    edit = payload.get("edit") or None
    return [
        SlackMessage(_fallback(chunk), chunk, str(edit) if i == 0 and edit else None)
        for i, chunk in enumerate(chunks)
    ]


def _fallback(chunk: list[dict[str, Any]]) -> str:
    for block in chunk:
        if block["type"] == "section":
            return str(block["text"]["text"])
    return EMPTY_FALLBACK
