"""What a flow says back, as plain data, checked against the strictest platform's limits here
so no adapter finds out at send time."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from core.text import safe_cut

# The strictest of Telegram and Slack, per item.
MAX_PAYLOAD_BYTES = 64  # Telegram callback_data
MAX_LABEL_CHARS = 75  # Slack button text
MAX_BUTTONS = 25  # Slack actions block elements
MAX_TEXT_CHARS = 3000  # Slack section text (Telegram allows 4096): the size ctx.say cuts a long answer into
# A notice may be longer than one platform message: a request card carries an intro and a context of up to
# 3000 characters each. Every adapter splits text into messages its platform takes (Telegram's 4096 UTF-16
# units after entity parsing, Slack's 3000 escaped characters per section), so any field accepted at its
# limit can be shown; this bound only stops a runaway text.
MAX_REPLY_CHARS = 20_000


class ReplyTooLarge(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str
    form: str = ""  # pressing it may lead to this form's questions (bot/forms.py): Slack opens it at once

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ReplyTooLarge(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")
        if not self.label or len(self.label) > MAX_LABEL_CHARS:
            raise ReplyTooLarge(f"button label must be 1-{MAX_LABEL_CHARS} characters: {self.label!r}")


@dataclass(frozen=True, slots=True)
class FileOut:
    """A file to send: its bytes (an .ics we made), or a reference: to a stored file ("file:<id>#<name>",
    whose bytes the sender reads from the files directory), or to an older platform file
    ("telegram:<file_id>#<name>"), which that platform can send again without us downloading it."""

    name: str
    content_type: str
    data: bytes = b""
    ref: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"name": self.name, "type": self.content_type}
        if self.ref:
            out["ref"] = self.ref
        else:
            out["data"] = base64.b64encode(self.data).decode()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> FileOut:
        raw = base64.b64decode(data["data"]) if "data" in data else b""
        return cls(data["name"], data.get("type", "application/octet-stream"), raw, data.get("ref", ""))


MAX_INVOICE_TITLE = 32  # Telegram sendInvoice
MAX_INVOICE_DESCRIPTION = 255
MAX_INVOICE_PAYLOAD_BYTES = 128


@dataclass(frozen=True, slots=True)
class Invoice:
    """A bill to pay in the chat (Telegram sendInvoice). Platforms without payments show the reply's text,
    which says the same in a sentence. `payload` names a pending purchase; the price is checked against it
    again before any money moves, so nothing here is trusted when it comes back."""

    title: str
    description: str
    payload: str
    currency: str
    amount: int  # minor units (whole stars for XTR)
    label: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.title) <= MAX_INVOICE_TITLE:
            raise ReplyTooLarge(f"invoice title must be 1-{MAX_INVOICE_TITLE} characters: {self.title!r}")
        if not 1 <= len(self.description) <= MAX_INVOICE_DESCRIPTION:
            raise ReplyTooLarge(f"invoice description must be 1-{MAX_INVOICE_DESCRIPTION} characters")
        if not 1 <= len(self.payload.encode()) <= MAX_INVOICE_PAYLOAD_BYTES:
            raise ReplyTooLarge(f"invoice payload must be 1-{MAX_INVOICE_PAYLOAD_BYTES} bytes")
        if self.amount <= 0 or not self.label:
            raise ValueError("an invoice has a positive amount and a label")

    def to_dict(self) -> dict[str, object]:
        return {"title": self.title, "description": self.description, "payload": self.payload,
                "currency": self.currency, "amount": self.amount, "label": self.label}


@dataclass(frozen=True, slots=True)
class Reply:
    """Plain text (adapters escape all of it for their markup) and rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    replace: bool = False  # edit the message that was pressed instead of sending a new one
    file: FileOut | None = field(default=None)
    form: str = ""  # this reply asks the first field of that form (bot/forms.py): a chat may show it whole
    # Several files with one message: only a mail can carry them (a chat gets one message per file).
    attachments: tuple[FileOut, ...] = ()
    invoice: Invoice | None = field(default=None)  # Telegram sends the invoice instead of the text

    def __post_init__(self) -> None:
        if len(self.text) > MAX_REPLY_CHARS:
            raise ReplyTooLarge(f"reply text over {MAX_REPLY_CHARS} characters; split it with chunk_text()")
        if sum(len(row) for row in self.buttons) > MAX_BUTTONS:
            raise ReplyTooLarge(f"more than {MAX_BUTTONS} buttons in one reply")

    def to_json(self) -> str:
        data: dict[str, object] = {
            "text": self.text,
            "buttons": [[[b.label, b.payload, b.form] if b.form else [b.label, b.payload] for b in row]
                        for row in self.buttons],
            "replace": self.replace,
        }
        if self.form:
            data["form"] = self.form
        if self.file is not None:
            data["file"] = self.file.to_dict()
        if self.attachments:
            data["attachments"] = [f.to_dict() for f in self.attachments]
        if self.invoice is not None:
            data["invoice"] = self.invoice.to_dict()
        return json.dumps(data)


def chunk_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split long text on line breaks (or hard, for a giant line) into pieces within the limit."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            cut = safe_cut(line, limit)  # never inside an emoji sequence or an accented letter
            pieces.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def rows(buttons: list[Button], per_row: int = 3) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row))
