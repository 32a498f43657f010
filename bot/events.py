"""What arrives from a chat, as plain data. Presses stay presses: never flattened into text."""

from __future__ import annotations

from dataclasses import dataclass

from core.text import clean_text


def _clean_fields(obj: object, text: tuple[str, ...], one_line: tuple[str, ...]) -> None:
    """The text fields of a frozen event cleaned in place (see core.text): whatever built the event, a
    platform parser, the console or a test, no control character gets past this point (and a value that
    is not text at all, from a forged payload, is refused here with a TypeError)."""
    for name in (*text, *one_line):
        value = getattr(obj, name)
        if value is not None:
            object.__setattr__(obj, name, clean_text(value, one_line=name in one_line))


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent it and where; hints are what the platform tells us about the person."""

    platform: str  # "console", "telegram", "slack"
    user_id: str  # the platform's id of the person (console: the handle)
    chat_id: str  # where to answer (a DM, a group, a channel)
    display_name: str = ""
    language: str | None = None  # e.g. Telegram's language_code, Slack's locale
    timezone: str | None = None  # IANA name when the platform knows it (Slack users.info)
    is_group: bool = False

    def __post_init__(self) -> None:
        _clean_fields(self, (), ("platform", "user_id", "chat_id", "display_name", "language", "timezone"))


@dataclass(frozen=True, slots=True)
class Press:
    payload: str
    message_id: str | None = None  # the message the button was on, so a reply can replace it

    def __post_init__(self) -> None:
        _clean_fields(self, (), ("payload", "message_id"))


@dataclass(frozen=True, slots=True)
class PaymentIn:
    """A payment the platform reports as done (Telegram's successful_payment): the money is taken."""

    payload: str  # the invoice's payload: the purchase's token
    currency: str
    total: int  # minor units (whole stars for XTR)
    charge_id: str  # the platform's id of this payment: the same payment delivered twice has the same one
    provider_charge_id: str = ""

    def __post_init__(self) -> None:
        _clean_fields(self, (), ("payload", "currency", "charge_id", "provider_charge_id"))
        if not isinstance(self.total, int) or isinstance(self.total, bool):
            raise TypeError("a payment's total is a whole number")


@dataclass(frozen=True, slots=True)
class Incoming:
    sender: Sender
    event_id: str  # unique per delivery on its platform: a retry carries the same id
    text: str | None = None
    command: str | None = None  # without the slash, lower case: "book"
    args: str = ""
    press: Press | None = None
    file_ref: str | None = None  # an attachment the person sent (platform file id or path)
    file_problem: str | None = None  # why that file was not taken (bot.files.refusal): too big, not allowed
    # Several answers at once, from a form the platform showed (a Slack modal): (field, text) pairs.
    form: tuple[tuple[str, str], ...] | None = None
    payment: PaymentIn | None = None  # a completed payment (Telegram's successful_payment)

    def __post_init__(self) -> None:
        _clean_fields(self, ("text", "args"), ("event_id", "command", "file_ref", "file_problem"))
        if self.form is not None:
            object.__setattr__(self, "form", tuple((clean_text(name, one_line=True), clean_text(value))
                                                   for name, value in self.form))

    @property
    def kind(self) -> str:
        if self.payment is not None:
            return "payment"
        if self.form is not None:
            return "form"
        if self.press is not None:
            return "press"
        if self.command is not None:
            return "command"
        if self.file_ref is not None:
            return "file"
        return "text"


def parse_text(sender: Sender, event_id: str, text: str, file_ref: str | None = None) -> Incoming:
    """Split "/book pricing" into a command; anything else is text."""
    stripped = clean_text(text).strip()
    if stripped.startswith("/") and len(stripped) > 1:
        head, _, rest = stripped[1:].partition(" ")
        name = head.split("@", 1)[0].lower()  # Telegram group commands: /book@HeadstrtBot
        if name.replace("_", "").isalnum():
            return Incoming(sender, event_id, command=name, args=rest.strip(), file_ref=file_ref)
    return Incoming(sender, event_id, text=stripped, file_ref=file_ref)
