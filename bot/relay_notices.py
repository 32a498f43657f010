"""Messages between client and mentor as each side reads them: the relayed message (who wrote, about which
session, with Reply), the thread's lines, the author told once when the recipient blocked the bot, and the
programme staff told of a no-show with "Read messages". Plain text: the platform renderers escape it all."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core import relay_service as rs
from core.events import Event
from core.experts import Expert
from core.model import Booking, Person, RelayMessage
from bot.flows.base import Notice
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, Reply
from core.text import clip as shorten
from storage.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

FLOW = "rly"  # bot.flows.relay.NAME (flows import notices, not the other way round)
PREVIEW = 300  # a message in the thread shown before typing is cut here; staff read every word

# What the platforms' senders give up with when the person can no longer be written to (bot/delivery.GiveUp):
# Telegram's 403 (blocked the bot, or never started it) and Slack's answers for an account that is gone.
BLOCKED_REASONS = frozenset({"forbidden", "account_inactive", "user_disabled", "user_not_found", "cannot_dm_bot"})


def _t(person: Person) -> Translator:
    return Translator(person.locale, person.timezone)


def message_button(t: Translator, booking_id: int, name: str) -> Button:
    """"Message <name>": opens the relay flow for this session."""
    return Button(t("Message {name}", name=_short(name)), p(FLOW, "msg", booking_id))


def _short(name: str, limit: int = 40) -> str:
    return shorten(name, limit)


def _clip(text: str, limit: int) -> str:
    return shorten(text, limit)


def thread_lines(t: Translator, messages: Sequence[RelayMessage], names: dict[int, str], *, me: int | None = None,
                 clip: int | None = PREVIEW) -> list[str]:
    """One entry per message: who and when on one line, the text under it (kept as typed, line breaks too)."""
    lines: list[str] = []
    for m in messages:
        who = t("You") if m.author_id == me else names.get(m.author_id, "?")
        lines.append(f"{who}, {t.day(m.created_at)} {t.time(m.created_at)}:")
        text = m.text if clip is None else _clip(m.text, clip)
        lines.extend("   " + line for line in text.split("\n"))
    return lines


def relayed(message: RelayMessage, booking: Booking, author: Person, recipient: Person) -> Reply:
    """What the recipient gets: who wrote, about which session, the text, and Reply (the same flow back)."""
    t = _t(recipient)
    assert booking.id is not None
    head = t("{name} wrote to you about “{title}” ({day}):", name=author.name, title=booking.details.title,
             day=t.day(booking.first_start))
    return Reply(f"{head}\n{message.text}", ((Button(t("Reply"), p(FLOW, "msg", booking.id)),),))


def refused(uow: SqlUnitOfWork, dispatcher: Dispatcher, key: str, reason: str) -> None:
    """The outbox gave up on a row: if it carried a relayed message, mark it, and if the recipient blocked the bot,
    tell the author once (in the same transaction as the give-up)."""
    message_id = rs.message_of_key(key)
    if message_id is None:
        return
    blocked = reason in BLOCKED_REASONS
    message = rs.delivery_refused(uow, uow.clock, message_id=message_id, blocked=blocked)
    if message is None:
        return
    found = uow.bookings.with_parties(message.booking_id)
    author = uow.people.get(message.author_id)
    recipient = uow.people.get(message.recipient_id)
    if found is None or author is None or recipient is None:
        return
    t = _t(author)
    text = t("{name} cannot get messages from me any more (they blocked the bot or left the chat), so your "
             "message about “{title}” was not delivered. Further messages will not be passed on either.",
             name=recipient.name, title=found.booking.details.title)
    dispatcher.queue_notices(uow, [Notice(author.id or 0, Reply(text), f"relay-blocked:{message_id}")], lease=False)
    log.info("relayed message %s: %s blocked the bot; %s told", message_id, recipient.handle, author.handle)


def staff_no_show(uow: SqlUnitOfWork, event: Event, booking: Booking, expert: Expert, client: Person
                  ) -> list[tuple[Person, Reply]]:
    """The programme's staff hear of a no-show, with "Read messages" to see what the two sides wrote."""
    data = dict(event.data)
    if booking.programme_id is None or booking.id is None:
        return []
    meeting = booking.meeting(event.meeting_id) if event.meeting_id else booking.meetings[0]
    out = []
    for member in uow.programmes.staff_of(booking.programme_id):
        if member.id in (client.id, expert.person_id):
            continue
        t = _t(member)
        when = t.when(meeting.start)
        if data.get("absent") == "expert":
            text = t("No-show: {client} reports that {expert} did not come to “{title}” on {when}.",
                     client=client.name, expert=expert.name, title=booking.details.title, when=when)
        else:
            text = t("No-show: {expert} reports that {client} did not come to “{title}” on {when}.",
                     client=client.name, expert=expert.name, title=booking.details.title, when=when)
        out.append((member, Reply(text, ((read_button(t, booking.id),),))))
    return out


def read_button(t: Translator, booking_id: int) -> Button:
    return Button(t("Read messages"), p(FLOW, "staff", booking_id))
