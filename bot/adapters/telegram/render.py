"""An outbox payload as the Bot API calls that show it on Telegram. Pure, so the Telegram specifics
(HTML escaping, 4096 UTF-16 units per message, 64-byte callback data, edits) are tested without a network."""

from __future__ import annotations

import base64
import binascii
import html
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LabeledPrice, LinkPreviewOptions
from telegram.constants import ParseMode

from bot.adapters.telegram.parse import is_photo_ref, parse_file_ref
from bot.i18n import Translator
from core.text import safe_cut

MAX_MESSAGE_UNITS = 4096  # Telegram counts the text after entity parsing, in UTF-16 code units
MAX_CALLBACK_BYTES = 64
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Bot API call: `await getattr(bot, method)(chat_id=..., **kwargs)`."""

    method: str  # "send_message" | "edit_message_text" | "send_document" | "send_photo" | "send_invoice"
    kwargs: dict[str, Any]


def plan(payload: dict[str, Any]) -> list[Outgoing]:
    """Text pieces first (the first one edits the pressed message when asked), then the file.
    Buttons go on the last piece so they stay under everything the reply says. A reply with an invoice is
    the invoice alone (its text is the sentence other platforms show instead); the sender adds the provider."""
    invoice: dict[str, Any] | None = payload.get("invoice")
    if invoice:
        return [_invoice(invoice)]
    text: str = payload.get("text") or ""
    markup = keyboard(payload.get("buttons") or [])
    document: InputFile | str | None = None
    file: dict[str, Any] | None = payload.get("file")
    if file:
        document, note = _document(file)
        if note:
            text = f"{text}\n{note}" if text.strip() else note
    pieces = [p for p in split_for_telegram(text) if p.strip()] if text.strip() else []
    calls: list[Outgoing] = []
    edit = payload.get("edit")
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        kwargs: dict[str, Any] = {"text": escape(piece), "parse_mode": ParseMode.HTML, "link_preview_options": NO_PREVIEW}
        if last and markup is not None:
            kwargs["reply_markup"] = markup
        if i == 0 and edit:
            # No reply_markup on an edit removes the old buttons: right when they move to a later piece.
            calls.append(Outgoing("edit_message_text", {"message_id": int(edit), **kwargs}))
        else:
            calls.append(Outgoing("send_message", kwargs))
    if document is not None:
        photo = file is not None and is_photo_ref(str(file.get("ref") or ""))
        kwargs = {"photo": document} if photo else {"document": document}
        if not pieces and markup is not None:
            kwargs["reply_markup"] = markup
        calls.append(Outgoing("send_photo" if photo else "send_document", kwargs))
    return calls


def _invoice(invoice: dict[str, Any]) -> Outgoing:
    """sendInvoice without the provider token, which the sender adds: secrets never sit in the outbox."""
    amount = invoice["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"invoice amount must be a positive whole number: {amount!r}")
    return Outgoing("send_invoice", {
        "title": str(invoice["title"]), "description": str(invoice["description"]),
        "payload": str(invoice["payload"]), "currency": str(invoice["currency"]),
        "prices": [LabeledPrice(str(invoice["label"]), amount)],
    })


def _document(file: dict[str, Any]) -> tuple[InputFile | str | None, str | None]:
    """(what to send as the document, or a line to add to the text when Telegram cannot fetch the file)."""
    name = str(file.get("name") or "file")
    if file.get("data") is not None:
        try:
            data = base64.b64decode(file["data"], validate=True)
        except binascii.Error as exc:
            raise ValueError(f"file {name!r}: data is not base64") from exc
        return InputFile(data, filename=name), None
    ref = parse_file_ref(str(file.get("ref") or ""))
    if ref is not None:
        return ref[0], None  # a file id this bot received: Telegram sends it again without a download
    return None, name  # another platform's file: we cannot fetch it here, so at least name it


def escape(text: str) -> str:
    """Flows write plain text; Telegram's HTML mode only needs &, < and > escaped."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units: an emoji outside the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def split_for_telegram(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """Pieces of at most `limit` UTF-16 units (of the plain text; escaping is not counted by Telegram),
    split on line breaks, a giant line split hard between characters (so never inside a surrogate pair)."""
    if limit < 2:
        raise ValueError("limit must leave room for a character outside the BMP")
    pieces: list[str] = []
    current: str | None = None
    units = 0
    for line in text.split("\n"):
        size = utf16_len(line)
        if size > limit:
            if current is not None:
                pieces.append(current)
            *whole, current = _hard_split(line, limit)
            pieces.extend(whole)
            units = utf16_len(current)
        elif current is None:
            current, units = line, size
        elif units + 1 + size <= limit:
            current, units = f"{current}\n{line}", units + 1 + size
        else:
            pieces.append(current)
            current, units = line, size
    if current is not None:
        pieces.append(current)
    return pieces


def _hard_split(line: str, limit: int) -> list[str]:
    """Cut where no emoji sequence or accented letter is split (core.text.safe_cut), else between characters."""
    pieces: list[str] = []
    start, units = 0, 0
    for i, char in enumerate(line):
        width = _units(char)
        if units + width > limit:
            cut = safe_cut(line, i, start)
            pieces.append(line[start:cut])
            start, units = cut, sum(_units(c) for c in line[cut:i])
        units += width
    pieces.append(line[start:])
    return pieces


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def keyboard(rows: list[list[list[str]]]) -> InlineKeyboardMarkup | None:
    """Rows of [label, payload] as inline buttons; None when there are none."""
    buttons: list[list[InlineKeyboardButton]] = []
    for row in rows:
        line = []
        for label, payload, *_ in row:
            if len(payload.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {payload!r}")
            line.append(InlineKeyboardButton(label, callback_data=payload))
        if line:
            buttons.append(line)
    return InlineKeyboardMarkup(buttons) if buttons else None


def command_menu(t: Translator) -> list[BotCommand]:
    """The "/" menu Telegram shows, in the person's language (set per language_code with set_my_commands)."""
    return [
        BotCommand("book", t("Find an expert and book a session")),
        BotCommand("sessions", t("Your upcoming and past sessions")),
        BotCommand("credits", t("Your credit balance and history")),
        BotCommand("availability", t("Set when you are available (experts)")),
        BotCommand("settings", t("Your timezone and preferences")),
        BotCommand("help", t("What I can do")),
        BotCommand("cancel", t("Stop what we are doing")),
    ]
