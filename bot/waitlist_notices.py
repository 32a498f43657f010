"""The message that offers a freed time to a client on an expert's waitlist: the time in their zone (with
the expert's for reference), how long it is theirs, and Book / No thanks."""

from __future__ import annotations

from core.events import WaitlistOffer
from core.model import Person
from bot.flows.waitlist import offer_buttons
from bot.i18n import Translator
from bot.replies import Reply
from storage.uow import SqlUnitOfWork


def offer_notice(uow: SqlUnitOfWork, offer: WaitlistOffer) -> tuple[Person, Reply] | None:
    """`offer`: the event that made it, which carries the offer as it was made (not read again)."""
    client, expert = uow.people.get(offer.client_id), uow.experts.get(offer.expert_id)
    if client is None or expert is None:
        return None
    t = Translator(client.locale, client.timezone)
    text = "\n".join([
        t("Good news: a time with {expert} has opened up: {when}, {minutes} min.", expert=expert.name,
          when=t.both(offer.start, expert.timezone), minutes=offer.minutes),
        t("You are first in line for it until {until}; after that it goes to the next person on the waitlist. "
          "Nothing is held until you book.", until=t.when(offer.expires_at)),
    ])
    return client, Reply(text, (offer_buttons(t, offer.offer_id),))
