"""A terminal chat over the shared dispatcher. Buttons render as numbered choices; typing the number
or the label presses them. `/as HANDLE` switches person and shows what is waiting for them."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dispatcher import Dispatcher
from bot.events import Incoming, Press, Sender, parse_text
from storage.uow import SqlUnitOfWork

PLATFORM = "console"
HANDLE_MAX = 32  # the people table's handle column


def valid_handle(handle: str) -> bool:
    """What the console accepts as who you are: letters, digits, _ . - and at most 32 of them."""
    return 0 < len(handle) <= HANDLE_MAX and handle.replace("_", "").replace(".", "").replace("-", "").isalnum()


@dataclass
class ConsoleChat:
    dispatcher: Dispatcher
    uow_factory: Callable[[], SqlUnitOfWork]
    handle: str
    files_dir: Path | None = None  # where files sent to the person are written (an .ics invite); None: not kept
    # What typing presses: a number, a button just printed; a label, a button of the last message that
    # had buttons, even after messages without (as a tap on that message would in a real chat).
    _numbers: dict[str, tuple[str, str]] = field(default_factory=dict)
    _labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def sender(self) -> Sender:
        return Sender(PLATFORM, self.handle, self.handle, display_name=self.handle)

    def type(self, line: str) -> list[str]:
        """One line typed by the current person; returns what the console prints back."""
        line = line.strip()
        if not line:
            return []
        if line == "/as" or line.startswith("/as "):
            return self.switch(line[3:].strip())
        event_id = uuid.uuid4().hex
        choice = self._numbers.get(line) or self._labels.get(line.lower())
        if choice is not None:
            incoming = Incoming(self.sender(), event_id, press=Press(choice[0], choice[1]))
        else:
            incoming = parse_text(self.sender(), event_id, line)
        self.dispatcher.handle(incoming)
        return self.pending()

    def button(self, typed: str) -> tuple[str, str]:
        """(payload, message id) of what typing `typed` would press; KeyError if nothing."""
        choice = self._numbers.get(typed) or self._labels.get(typed.lower())
        if choice is None:
            raise KeyError(typed)
        return choice

    def press(self, payload: str, message_id: str | None = None) -> list[str]:
        """A press with a payload of our choosing (tests use this to try crafted payloads)."""
        self.dispatcher.handle(Incoming(self.sender(), uuid.uuid4().hex, press=Press(payload, message_id)))
        return self.pending()

    def switch(self, handle: str) -> list[str]:
        handle = handle.lstrip("@").lower()
        if not handle:
            return [f"you are @{self.handle}; /as HANDLE switches person"]
        if not valid_handle(handle):
            return [f"@{handle} is not a handle: letters, digits, _ . - only"]
        with self.uow_factory() as uow:
            known = uow.people.by_handle(handle) is not None
        self.handle = handle
        self._numbers, self._labels = {}, {}
        if not known:  # someone new: their first message gets the welcome
            return [f"-- you are now @{handle}, someone the bot has not met yet: say hello --"]
        return [f"-- you are now @{handle} --", *self.pending()]

    def pending(self) -> list[str]:
        """Print and mark sent everything waiting for the current person in the console."""
        out: list[str] = []
        uow = self.uow_factory()
        with uow:
            mine = uow.outbox.pending(PLATFORM, chat_id=self.handle)
            if mine:
                self._numbers = {}
            for message in mine:
                out.extend(self._render(str(message.id), json.loads(message.payload)))
                uow.outbox.mark_sent(message.id)
            uow.commit()
        return out

    def _keep(self, message_id: str, file: dict[str, str]) -> str:
        """A file we made (the calendar invite) is written out, so it can be opened in a calendar."""
        name = _safe_name(file.get("name") or "file")
        if self.files_dir is None or "data" not in file:
            return f"[file: {name}]"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{self.handle}-{message_id}-{name}"
        path.write_bytes(base64.b64decode(file["data"]))
        return f"[file: {name} saved to {path}]"

    def _render(self, message_id: str, data: dict[str, Any]) -> list[str]:
        lines = [("(updated) " if data.get("edit") else "") + data["text"]] if data["text"] else []
        if data.get("file"):
            lines.append(self._keep(message_id, data["file"]))
        buttons = [b for row in data["buttons"] for b in row]
        if buttons:
            self._numbers, self._labels = {}, {}
            labels = []
            for n, (label, payload, *_) in enumerate(buttons, start=1):
                self._numbers[str(n)] = (payload, message_id)
                labels.append(f"[{n}] {label}")
            for label, payload, *_ in buttons:
                self._labels.setdefault(label.lower(), (payload, message_id))
            lines.append("  " + "  ".join(labels))
        return lines


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "file"


def run(chat: ConsoleChat, lines: Iterable[str], write: Callable[[str], None], *, echo: bool) -> None:
    """The REPL: reads lines (a terminal or a piped script) until /quit or the end."""
    write(f"Headstrt console — you are @{chat.handle}. /help for commands, /as HANDLE to switch, /quit to leave.")
    for out in chat.pending():
        write(out)
    for raw in lines:
        line = raw.rstrip("\n")
        if echo:
            write(f"@{chat.handle}> {line}")
        if line.strip() in ("/quit", "/exit"):
            break
        for out in chat.type(line):
            write(out)
