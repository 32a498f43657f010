"""Notices around the messages between client and mentor: the author told once when the recipient blocked the
bot, and the programme staff told of a no-show with "Read messages". The relayed message itself, the thread's
lines and the buttons belong to the relay flow (bot/flows/relay.py). Plain text: the platform renderers escape
it all."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core import relay_service as rs
from core.events import StaffNoShow
from core.experts import Expert
from core.model import Booking, Person
from core.policy import NoShowParty
from bot.flows.base import Notice
from bot.flows.relay import read_button
from bot.i18n import Translator
from bot.replies import Reply
from storage.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)


# What the platforms' senders give up with when the person can no longer be written to (bot/delivery.GiveUp):
# Telegram's 403 (blocked the bot, or never started it) and Slack's answers for an account that is gone.
BLOCKED_REASONS = frozenset({"forbidden", "account_inactive", "user_disabled", "user_not_found", "cannot_dm_bot"})


def _t(person: Person) -> Translator:
    return Translator(person.locale, person.timezone)


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


def staff_no_show(uow: SqlUnitOfWork, event: StaffNoShow, booking: Booking, expert: Expert, client: Person
                  ) -> list[tuple[Person, Reply]]:
    """The programme's staff hear of a no-show, with "Read messages" to see what the two sides wrote."""
    if booking.id is None:
        return []
    meeting = booking.meeting(event.meeting_id)
    out = []
    for member in uow.programmes.staff_of(event.programme_id):
        if member.id in (client.id, expert.person_id):
            continue
        t = _t(member)
        when = t.when(meeting.start)
        if event.absent is NoShowParty.EXPERT:
            text = t("No-show: {client} reports that {expert} did not come to “{title}” on {when}.",
                     client=client.name, expert=expert.name, title=booking.details.title, when=when)
        else:
            text = t("No-show: {expert} reports that {client} did not come to “{title}” on {when}.",
                     client=client.name, expert=expert.name, title=booking.details.title, when=when)
        out.append((member, Reply(text, ((read_button(t, booking.id),),))))
    return out
