"""What arrives from a chat, as plain data. Presses stay presses: never flattened into text."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True, slots=True)
class Press:
    payload: str
    message_id: str | None = None  # the message the button was on, so a reply can replace it


@dataclass(frozen=True, slots=True)
class Incoming:
    sender: Sender
    event_id: str  # unique per delivery on its platform: a retry carries the same id
    text: str | None = None
    command: str | None = None  # without the slash, lower case: "book"
    args: str = ""
    press: Press | None = None
    file_ref: str | None = None  # an attachment the person sent (platform file id or path)
    # Several answers at once, from a form the platform showed (a Slack modal): (field, text) pairs.
    form: tuple[tuple[str, str], ...] | None = None

    @property
    def kind(self) -> str:
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
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        head, _, rest = stripped[1:].partition(" ")
        name = head.split("@", 1)[0].lower()  # Telegram group commands: /book@HeadstrtBot
        if name.replace("_", "").isalnum():
            return Incoming(sender, event_id, command=name, args=rest.strip(), file_ref=file_ref)
    return Incoming(sender, event_id, text=stripped, file_ref=file_ref)
