"""A person's home page (Slack's App Home tab): what /sessions, /credits and, for experts, /requests
would say, with their buttons, and a Book button, in one place. Platform-neutral replies, built outside
any conversation: pressing a button here continues in the person's chat like any other press."""

from __future__ import annotations

from core.clock import Clock
from core.model import Person
from bot.events import Incoming, Sender
from bot.flows.base import Context
from bot.flows.book import book_button
from bot.flows.credits import CreditsFlow
from bot.flows.requests import RequestsFlow
from bot.flows.sessions import SECTIONS, build_items, show_list
from bot.i18n import Translator
from bot.replies import Reply
from storage.chat_repo import Conversation
from storage.uow import SqlUnitOfWork


def home_replies(uow: SqlUnitOfWork, clock: Clock, person: Person, sender: Sender) -> list[Reply]:
    t = Translator(person.locale, person.timezone)
    convo = Conversation(sender.platform, sender.chat_id, sender.user_id, person.id)  # never saved
    ctx = Context(uow, clock, person, sender, convo, t, Incoming(sender, "home"))
    ctx.say(t("Hello {name}! Book a mentorship session, or look after the ones you have.", name=person.name),
            ((book_button(t),),))
    items = build_items(ctx)
    if not items:
        ctx.say(t("You have no sessions yet. Find an expert with /book, or just type what you need help with."))
    for section in SECTIONS:
        if any(i.section == section for i in items):
            show_list(ctx, section)
    if uow.experts.by_person(person.id or 0) is not None:
        RequestsFlow().start(ctx, "")
    CreditsFlow().start(ctx, "")
    return ctx.replies
