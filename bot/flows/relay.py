"""Client and mentor write to each other about a session: "Message <name>" (from /sessions or a confirmation)
and "Reply" (under a relayed message) show the last messages of the session's thread, then take one typed
message and pass it on to the other side's chat. Staff of the programme read a thread from a no-show or
complaint notice. The core checks every rule (core.relay_service); this flow asks and words the answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from core import relay_service as rs
from core.errors import DomainError
from core.model import Booking, Person, RelayMessage
from core.text import clip as shorten
from bot.flows.actions import Id, Stamp, ints
from bot.flows.base import Context, Flow, outdated
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, Reply

NAME = "rly"
PREVIEW = 300  # a message in the thread shown before typing is cut here; staff read every word


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    MESSAGE = "msg"
    READ_THREAD = "staff"
    STOP = "stop"


# ---- the buttons other modules show to reach this flow (its wire codes are spelled only here)


def message_button(t: Translator, booking_id: int, name: str, *, n: int | None = None) -> Button:
    """"Message <name>" (numbered in a list): opens the relay flow for this session."""
    label = (t("Message {name}", name=shorten(name, 40)) if n is None
             else t("Message {name} {n}", name=shorten(name, 40), n=n))
    return Button(label, p(NAME, Act.MESSAGE, booking_id))


def reply_button(t: Translator, booking_id: int) -> Button:
    """"Reply" under a relayed message: the same flow back."""
    return Button(t("Reply"), p(NAME, Act.MESSAGE, booking_id))


def read_button(t: Translator, booking_id: int) -> Button:
    """"Read messages": the programme's staff read a session's thread."""
    return Button(t("Read messages"), p(NAME, Act.READ_THREAD, booking_id))


def thread_lines(t: Translator, messages: Sequence[RelayMessage], names: dict[int, str], *, me: int | None = None,
                 clip: int | None = PREVIEW) -> list[str]:
    """One entry per message: who and when on one line, the text under it (kept as typed, line breaks too)."""
    lines: list[str] = []
    for m in messages:
        who = t("You") if m.author_id == me else names.get(m.author_id, "?")
        lines.append(f"{who}, {t.day(m.created_at)} {t.time(m.created_at)}:")
        text = m.text if clip is None else shorten(m.text, clip)
        lines.extend("   " + line for line in text.split("\n"))
    return lines


def relayed(message: RelayMessage, booking: Booking, author: Person, recipient: Person) -> Reply:
    """What the recipient gets: who wrote, about which session, the text, and Reply (the same flow back)."""
    t = Translator(recipient.locale, recipient.timezone)
    assert booking.id is not None
    head = t("{name} wrote to you about “{title}” ({day}):", name=author.name, title=booking.details.title,
             day=t.day(booking.first_start))
    return Reply(f"{head}\n{message.text}", ((reply_button(t, booking.id),),))


_STOPS = frozenset({"relay_blocked", "relay_closed", "relay_daily_limit", "relay_not_confirmed"})


class RelayFlow(Flow):
    """Reached by buttons only: "msg" (either side of a session) and "staff" (the programme's staff)."""

    name = NAME
    actions = {Act.MESSAGE: (Id(),), Act.READ_THREAD: (Id(),), Act.STOP: (Stamp(),)}

    def start(self, ctx: Context, args: str) -> None:
        outdated(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if action in (Act.MESSAGE, Act.READ_THREAD):
            ids = ints(args, 1)
            if ids is None:
                outdated(ctx)
            elif action == Act.MESSAGE:
                self._ask(ctx, ids[0])
            else:
                self._staff(ctx, ids[0])
            return
        if action == Act.STOP and ctx.pressed_current(NAME, args):
            ctx.finish()
            ctx.say(ctx.t("Nothing was sent."), replace=True)
            return
        outdated(ctx)

    # ---- one side writes

    def _ask(self, ctx: Context, booking_id: int) -> None:
        t = ctx.t
        found = ctx.uow.bookings.with_parties(booking_id)
        try:
            checked = rs.sides(ctx.uow, ctx.clock, booking_id=booking_id, author_id=ctx.person.id or 0)
        except DomainError as error:
            if error.reason not in _STOPS or found is None:
                raise
            ctx.say(_stopped(ctx, error, _other_name(ctx, found.booking, found.expert.name, found.client.name),
                             found.booking))
            return
        assert found is not None
        other = found.expert.name if checked.author_is_client else found.client.name
        title = found.booking.details.title
        thread = rs.thread(ctx.uow, ctx.clock, booking_id=booking_id, person_id=ctx.person.id or 0)
        lines = []
        if thread:
            names = {found.booking.client_id: found.client.name, found.expert.person_id or 0: found.expert.name}
            lines.append(t("Your last messages with {name} about “{title}”:", name=other, title=title))
            lines.extend(thread_lines(t, thread, names, me=ctx.person.id))
            lines.append("")
        lines.append(t.plural("Type your message to {name} about “{title}” (at most {n} character). I will pass it "
                              "on with your name.",
                              "Type your message to {name} about “{title}” (at most {n} characters). I will pass it "
                              "on with your name.",
                              rs.TEXT_MAX, name=other, title=title))
        ctx.goto(NAME, "text", booking=booking_id)
        ctx.say("\n".join(lines), ((ctx.step_button(t("Stop"), NAME, Act.STOP),),))

    def on_text(self, ctx: Context, text: str) -> None:
        if ctx.convo.step != "text":
            super().on_text(ctx, text)
            return
        t = ctx.t
        booking_id = int(ctx.data["booking"])
        found = ctx.uow.bookings.with_parties(booking_id)
        try:
            message = rs.send_relay_message(ctx.uow, ctx.clock, booking_id=booking_id, author_id=ctx.person.id or 0,
                                            text=text)
        except DomainError as error:
            if error.reason == "relay_empty":
                ctx.say(t("Type a few words, or press Stop."))
                return
            if error.reason == "relay_too_long":
                ctx.say(t.plural("Please keep it under {n} character; it is {length} now.",
                                 "Please keep it under {n} characters; it is {length} now.",
                                 rs.TEXT_MAX,
                                 length=error.context.get("length", len(text))))
                return
            if error.reason not in _STOPS or found is None:
                raise
            ctx.finish()
            ctx.say(_stopped(ctx, error, _other_name(ctx, found.booking, found.expert.name, found.client.name),
                             found.booking))
            return
        assert found is not None and message.id is not None
        recipient = ctx.uow.people.get(message.recipient_id)
        assert recipient is not None
        ctx.notify(message.recipient_id, relayed(message, found.booking, ctx.person, recipient), rs.relay_key(message))
        ctx.finish()
        ctx.say(t("Sent to {name}. Their answer will come here.", name=recipient.name))

    # ---- staff read

    def _staff(self, ctx: Context, booking_id: int) -> None:
        t = ctx.t
        messages = rs.thread_for_staff(ctx.uow, ctx.clock, staff_id=ctx.person.id or 0, booking_id=booking_id)
        found = ctx.uow.bookings.with_parties(booking_id)
        assert found is not None
        client, expert, title = found.client.name, found.expert.name, found.booking.details.title
        if not messages:
            ctx.say(t("{client} and {expert} have not written to each other about “{title}”.", client=client,
                      expert=expert, title=title))
            return
        names = {found.booking.client_id: client, found.expert.person_id or 0: expert}
        lines = [t("Messages between {client} and {expert} about “{title}”:", client=client, expert=expert,
                   title=title)]
        lines.extend(thread_lines(t, messages, names, clip=None))
        ctx.say("\n".join(lines))


def _other_name(ctx: Context, booking: Booking, expert: str, client: str) -> str:
    return expert if ctx.person.id == booking.client_id else client


def _stopped(ctx: Context, error: DomainError, other: str, booking: Booking) -> str:
    """Why nothing can be sent, with the other side's name."""
    t = ctx.t
    title = booking.details.title
    if error.reason == "relay_blocked":
        return t("{name} cannot get messages from me any more (they blocked the bot or left the chat), so I "
                 "cannot pass yours on. Nothing was sent.", name=other)
    if error.reason == "relay_closed":
        until = error.context.get("until")
        if isinstance(until, datetime):
            return t("Messages about “{title}” closed on {day}: I pass them on for a while after the last meeting "
                     "only. Nothing was sent.", title=title, day=t.day(until))
    if error.reason == "relay_daily_limit":
        return t.plural("You have sent {n} message about “{title}” today, which is the limit. Please try again "
                        "tomorrow. Nothing was sent.",
                        "You have sent {n} messages about “{title}” today, which is the limit. Please try again "
                        "tomorrow. Nothing was sent.",
                        rs.DAILY_LIMIT, title=title)
    return t("Messages can be sent about confirmed and past sessions only. Nothing was sent.")
