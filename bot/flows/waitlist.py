"""The waitlist in the chat: "Tell me if something opens" from the booking picker, the offer's Book (on into
the normal booking with the length and the time already chosen) and No thanks, and leaving the list from
/book or /sessions. The rules are core.waitlist_service's; this module only talks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core import waitlist_service as ws
from core.errors import InvalidTransition
from core.experts import Expert
from core.waitlist import WaitEntry
from bot.flows.actions import ID_MAX, Choice, Either, Id, Int, Slot, ascii_int
from bot.flows.base import Context, Flow, outdated
from bot.flows.pickers import parse_slot_arg, slot_arg
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, rows

NAME = "wl"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    JOIN = "join"
    LEAVE = "leave"
    BOOK = "book"
    NO_THANKS = "no"


def join_button(ctx: Context, expert: Expert, minutes: int, before: datetime | None = None) -> Button:
    """The book flow's "Tell me if something opens" (before: only a time earlier than that one will do)."""
    label = ctx.t("Tell me if something earlier opens") if before is not None else ctx.t("Tell me if something opens")
    return ctx.button(label, NAME, Act.JOIN, expert.id, minutes, slot_arg(before) if before is not None else "any")


def offer_buttons(t: Translator, offer_id: int) -> tuple[Button, ...]:
    """Book and No thanks under a waitlist offer (bot/waitlist_notices.py)."""
    return Button(t("Book"), p(NAME, Act.BOOK, offer_id)), Button(t("No thanks"), p(NAME, Act.NO_THANKS, offer_id))


def show_entries(ctx: Context) -> None:
    """"You are on Eve's waitlist" with a Leave button per expert; nothing when they wait for no one."""
    assert ctx.person.id is not None
    entries = ws.entries_of(ctx.uow, ctx.person.id)
    if not entries:
        return
    t = ctx.t
    lines, buttons = [], []
    for entry in entries:
        expert = ctx.uow.experts.get(entry.expert_id)
        if expert is None:
            continue
        lines.append(_entry_line(ctx, entry, expert))
        buttons.append(ctx.button(t("Leave {expert}'s waitlist", expert=expert.name[:40]), NAME, Act.LEAVE, expert.id))
    if lines:
        ctx.say("\n".join(lines), rows(buttons, 2))


def _entry_line(ctx: Context, entry: WaitEntry, expert: Expert) -> str:
    t = ctx.t
    if entry.before is not None:
        return t("You are on {expert}'s waitlist for a {minutes}-minute time before {when}.", expert=expert.name,
                 minutes=entry.minutes, when=t.when(entry.before))
    return t("You are on {expert}'s waitlist for a {minutes}-minute time.", expert=expert.name, minutes=entry.minutes)


class WaitlistFlow(Flow):
    """No command and no steps of its own: its buttons act, and Book hands over to the book flow."""

    name = NAME
    actions = {
        Act.JOIN: (Id(), Int(1, 999), Either((Slot(), Choice(("any",))))),  # expert, minutes, before when
        Act.LEAVE: (Id(),), Act.BOOK: (Id(),), Act.NO_THANKS: (Id(),),
    }

    def start(self, ctx: Context, args: str) -> None:
        show_entries(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        number = ascii_int(args[0], 1, ID_MAX) if args else None
        if number is None:
            outdated(ctx)
            return
        if action == Act.JOIN and len(args) == 3 and ascii_int(args[1], 1, 999) is not None:
            before = None if args[2] == "any" else parse_slot_arg(args[2])
            if before is None and args[2] != "any":
                outdated(ctx)
                return
            self._join(ctx, number, int(args[1]), before)
        elif action == Act.LEAVE and len(args) == 1:
            self._leave(ctx, number)
        elif action == Act.BOOK and len(args) == 1:
            self._book(ctx, number)
        elif action == Act.NO_THANKS and len(args) == 1:
            self._no(ctx, number)
        else:
            outdated(ctx)

    def _join(self, ctx: Context, expert_id: int, minutes: int, before: datetime | None) -> None:
        t = ctx.t
        assert ctx.person.id is not None
        joined = ws.join(ctx.uow, ctx.clock, client_id=ctx.person.id, expert_id=expert_id, minutes=minutes,
                         before=before)
        ctx.uow.events.extend(joined.events)  # something fitting is free right now: the offer follows
        expert = ctx.uow.experts.get(expert_id)
        name = expert.name if expert else ""
        lines = [t("Done: you are on {expert}'s waitlist.", expert=name),
                 t("You are number {n} in line.", n=joined.position),
                 t("When a {minutes}-minute time opens, I will offer it to the first person in line it suits, for 15 "
                   "minutes, then to the next.", minutes=minutes)]
        ctx.say("\n".join(lines), ((ctx.button(t("Leave {expert}'s waitlist", expert=name[:40]), NAME, Act.LEAVE,
                                               expert_id),),))
        from bot.flows.book import show_days_again  # the day picker this came from stays usable

        show_days_again(ctx, expert_id)

    def _leave(self, ctx: Context, expert_id: int) -> None:
        t = ctx.t
        assert ctx.person.id is not None
        left, events = ws.leave(ctx.uow, ctx.clock, client_id=ctx.person.id, expert_id=expert_id)
        ctx.uow.events.extend(events)  # an offer they still had goes to the next in line
        expert = ctx.uow.experts.get(expert_id)
        name = expert.name if expert else ""
        if left:
            ctx.say(t("You have left {expert}'s waitlist.", expert=name))
        else:
            ctx.say(t("You are not on {expert}'s waitlist.", expert=name))

    def _book(self, ctx: Context, offer_id: int) -> None:
        t = ctx.t
        assert ctx.person.id is not None
        try:
            offer = ws.open_offer(ctx.uow, ctx.clock, offer_id=offer_id, client_id=ctx.person.id)
        except InvalidTransition as refused:
            gone = refused.context.get("offer")
            expert = ctx.uow.experts.get(getattr(gone, "expert_id", 0))
            name = expert.name if expert else ""
            if refused.reason == "offer_taken":
                ctx.say(t("You booked that time already. /sessions shows it."))
                return
            lines = [t("Sorry, this offer ran out at {when}, so the time went to the next person on the waitlist.",
                       when=t.when(getattr(gone, "expires_at", ctx.clock.now())))]
            if expert is not None and ctx.uow.waitlist.entry(ctx.person.id, expert.id or 0) is not None:
                lines.append(t("You are still on {expert}'s waitlist: I will tell you when another time opens.",
                               expert=name))
            ctx.say("\n".join(lines))
            return
        expert = ctx.uow.experts.get(offer.expert_id)
        if expert is None:
            outdated(ctx)
            return
        from bot.flows.book import book_offered  # on into the normal booking

        book_offered(ctx, expert, offer.minutes, offer.start, offer_id=offer_id)

    def _no(self, ctx: Context, offer_id: int) -> None:
        t = ctx.t
        assert ctx.person.id is not None
        try:
            offer, events = ws.decline_offer(ctx.uow, ctx.clock, offer_id=offer_id, client_id=ctx.person.id)
        except InvalidTransition:
            ctx.say(t("That offer is no longer open, so there is nothing to turn down."))
            return
        ctx.uow.events.extend(events)  # the next in line hears of it now
        expert = ctx.uow.experts.get(offer.expert_id)
        name = expert.name if expert else ""
        ctx.say(t("All right, I will offer it to the next person. You stay on {expert}'s waitlist.", expert=name),
                ((ctx.button(t("Leave {expert}'s waitlist", expert=name[:40]), NAME, Act.LEAVE, offer.expert_id),),))
