"""The expert's side of a request: Accept, Decline (with an optional reason) and Suggest another time
from the request card; the client's answer to suggested times; and /requests, the expert's queue.

Card buttons are action buttons (`req|acc|<booking>`): every press is checked against the database
and against who is pressing. The decline and suggest steps are a small wizard that edits the pressed
card in place, so an answered card never keeps buttons that no longer apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from core import booking_service
from core.availability import local_day_bounds
from core.errors import NotAllowed, NotFound, SlotUnavailable
from core.experts import Expert
from core.lifecycle import BookingStatus, MeetingStatus
from core.model import Booking, Person
from core.recurrence import Frequency
from bot.flows.actions import ID_MAX, Choice, Day, Either, Id, Opt, Slot, Stamp, ascii_int
from bot.flows.base import Context, Flow, outdated
from bot.flows.book import again_button
from bot.flows.dialog import ACTIVE, Dialog, Step, begin, caller_data, instant, instants, minutes_of
from bot.flows.pickers import (
    day_buttons,
    later_days_start,
    slot_arg,
    slot_buttons,
    slot_page,
    slots_text,
)
from bot.flows.series_words import how_often
from bot.flows.time_picker import NAME as PICKER_DIALOG
from bot.flows.time_picker import Calendar, PickerState, TimePicker
from bot.flows.typed_times import Meaning
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, Reply
from bot.words import booking_status, meetings_lines, summary

NAME = "req"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    ACCEPT = "acc"
    DECLINE = "dec"
    SUGGEST = "sug"
    ACCEPT_PROPOSAL = "pyes"
    DECLINE_PROPOSAL = "pno"
    ACCEPT_SERIES = "sacc"
    DECLINE_SERIES = "sdec"
    DECLINE_NO_REASON = "dnone"
    BACK = "back"
    SEND_SUGGESTION = "ssend"
    SUGGEST_AGAIN = "sredo"
    SUGGEST_DAY = "sday"
    SUGGEST_DAYS = "sdays"
    SUGGEST_SLOT = "sslot"


# ---- the request cards and the buttons other modules show to reach this flow (its wire codes are spelled
# only here): bot/notifications.py sends the cards, /requests shows them again


def answer_buttons(t: Translator, booking_id: int) -> tuple[Button, ...]:
    """Accept, Decline, Suggest another time: the expert's answers to one request."""
    return (Button(t("Accept"), p(NAME, Act.ACCEPT, booking_id)),
            Button(t("Decline"), p(NAME, Act.DECLINE, booking_id)),
            Button(t("Suggest another time"), p(NAME, Act.SUGGEST, booking_id)))


def series_answer_buttons(t: Translator, booking_id: int) -> tuple[Button, ...]:
    """Accept all, Decline all: the expert answers a whole series at once."""
    return (Button(t("Accept all"), p(NAME, Act.ACCEPT_SERIES, booking_id)),
            Button(t("Decline all"), p(NAME, Act.DECLINE_SERIES, booking_id)))


def proposal_buttons(t: Translator, booking_id: int) -> tuple[Button, ...]:
    """The client's answer to the times the expert suggested."""
    return (Button(t("Accept these times"), p(NAME, Act.ACCEPT_PROPOSAL, booking_id)),
            Button(t("Decline"), p(NAME, Act.DECLINE_PROPOSAL, booking_id)))


def whole_series(bookings: list[Booking]) -> Booking:
    """The series' occurrences as one booking, for the shared summary: every meeting, the total price."""
    first = bookings[0]
    meetings = sorted((m for b in bookings for m in b.meetings), key=lambda m: m.start)
    return replace(first, meetings=meetings, price_milli=sum(b.price_milli for b in bookings),
                   expires_at=min(b.expires_at for b in bookings))


def series_card(bookings: list[Booking], expert: Expert, expert_person: Person, client: Person,
                frequency: Frequency | None) -> Reply:
    """One request for the whole series: the expert answers all of it at once."""
    t = Translator(expert_person.locale, expert_person.timezone)
    whole = whole_series(bookings)
    assert whole.id is not None
    text = "\n".join([
        t("New series request from {name}: {how}.", name=client.name, how=how_often(t, frequency, len(bookings))),
        summary(t, whole, expert, client, for_expert=True),
        t("Please answer by {when}; the slots are held for you until then.", when=t.when(whole.expires_at)),
    ])
    return Reply(text, (series_answer_buttons(t, whole.id),))


def request_card(booking: Booking, expert: Expert, expert_person: Person, client: Person) -> Reply:
    t = Translator(expert_person.locale, expert_person.timezone)
    assert booking.id is not None
    text = "\n".join([
        t("New session request from {name}.", name=client.name),
        summary(t, booking, expert, client, for_expert=True),
        t("Please answer by {when}; the slots are held for you until then.", when=t.when(booking.expires_at)),
    ])
    return Reply(text, (answer_buttons(t, booking.id),))


MAX_REASON = 500
MAX_PENDING_CARDS = 10
MAX_UPCOMING = 15
_SLOT_LIMIT = 1300  # > MAX_DAYS + 1 days of 15-minute starts, so "later dates" is known exactly
_STEP = timedelta(minutes=15)


@dataclass(slots=True)
class _Request:
    """A booking with the people around it."""

    booking: Booking
    expert: Expert
    client: Person

    @property
    def id(self) -> int:
        assert self.booking.id is not None
        return self.booking.id

    @property
    def title(self) -> str:
        return self.booking.details.title


class RequestsFlow(Flow):
    name = NAME
    commands = ("requests",)
    actions = {
        **{a: (Id(),) for a in (Act.ACCEPT, Act.DECLINE, Act.SUGGEST, Act.ACCEPT_PROPOSAL, Act.DECLINE_PROPOSAL,
                                Act.ACCEPT_SERIES, Act.DECLINE_SERIES)},
        **{a: (Stamp(),) for a in (Act.DECLINE_NO_REASON, Act.BACK, Act.SEND_SUGGESTION, Act.SUGGEST_AGAIN)},
        Act.SUGGEST_DAY: (Stamp(), Day(), Opt(Slot())),
        Act.SUGGEST_DAYS: (Stamp(), Either((Slot(), Choice(("",))))),  # "": from the earliest dates again
        Act.SUGGEST_SLOT: (Stamp(), Slot()),
    }

    # ------------------------------------------------------------------ /requests

    def start(self, ctx: Context, args: str) -> None:
        """The expert's queue: pending requests as answerable cards, then upcoming sessions."""
        t = ctx.t
        ctx.finish()
        expert = ctx.uow.experts.by_person(ctx.person.id or 0)
        if expert is None or expert.id is None:
            ctx.say(t("This is for experts: it lists the session requests sent to you. "
                      "To find an expert yourself, use /book; your own sessions are in /sessions."))
            return
        now = ctx.clock.now()
        mine = [b for b in ctx.uow.bookings.for_person(ctx.person.id or 0) if b.expert_id == expert.id]
        pending = sorted((b for b in mine if b.status is BookingStatus.REQUESTED and b.expires_at > now),
                         key=lambda b: b.expires_at)
        upcoming = [
            (m.start, b, m) for b in mine if b.status is BookingStatus.ACCEPTED
            for m in b.meetings if m.status is MeetingStatus.CONFIRMED and m.start > now
        ]
        upcoming.sort(key=lambda x: x[0])
        clients = ctx.uow.people.get_many([b.client_id for b in pending[:MAX_PENDING_CARDS]]
                                          + [b.client_id for _, b, _ in upcoming[:MAX_UPCOMING]])

        waiting = [b for b in pending if not b.proposed_by_expert]
        proposed = [b for b in pending if b.proposed_by_expert]
        if not waiting:
            ctx.say(t("No requests are waiting for your answer."))
        else:
            ctx.say(t.plural("{n} request is waiting for your answer:", "{n} requests are waiting for your answer:",
                             len(waiting)))
            series: dict[int, list[Booking]] = {}
            for booking in waiting:
                if booking.series_id is not None:
                    series.setdefault(booking.series_id, []).append(booking)
            for booking in waiting[:MAX_PENDING_CARDS]:
                client = clients.get(booking.client_id)
                if client is None:
                    continue
                together = series.get(booking.series_id or 0, [])
                if len(together) > 1 and booking is not together[0]:
                    continue  # a series is one card, answered at once
                card = (series_card(sorted(together, key=lambda b: b.first_start), expert, ctx.person, client, None)
                        if len(together) > 1 else request_card(booking, expert, ctx.person, client))
                ctx.say(card.text, card.buttons)
            if len(waiting) > MAX_PENDING_CARDS:
                ctx.say(t("…and {n} more. Answer these first, then type /requests again.",
                          n=len(waiting) - MAX_PENDING_CARDS))
        for booking in proposed[:MAX_PENDING_CARDS]:
            client = clients.get(booking.client_id)
            name = client.name if client else "?"
            ctx.say(t("“{title}” from {client}: you suggested other times; they can answer until {when}.",
                      title=booking.details.title, client=name, when=t.when(booking.expires_at)))

        if not upcoming:
            ctx.say(t("No upcoming sessions yet."))
            return
        lines = [t("Your upcoming sessions:")]
        for start, booking, meeting in upcoming[:MAX_UPCOMING]:
            client = clients.get(booking.client_id)
            other_tz = client.timezone if client else ctx.person.timezone
            lines.append(t("• {when}: “{title}” with {client}, {minutes} min", when=t.both(start, other_tz),
                           title=booking.details.title, client=client.name if client else "?",
                           minutes=meeting.minutes))
        if len(upcoming) > MAX_UPCOMING:
            lines.append(t("…and {n} more.", n=len(upcoming) - MAX_UPCOMING))
        lines.append(t("To cancel or move one, use /sessions."))
        ctx.say("\n".join(lines))  # no buttons here: the cards above keep theirs in chats that number them

    # ------------------------------------------------------------------ presses

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        actions: dict[str, Callable[[Context, int], None]] = {
            Act.ACCEPT: self._accept, Act.DECLINE: self._ask_reason, Act.SUGGEST: self._start_suggest,
            Act.ACCEPT_PROPOSAL: self._agree, Act.DECLINE_PROPOSAL: self._disagree,
            Act.ACCEPT_SERIES: self._accept_series, Act.DECLINE_SERIES: self._decline_series,
        }
        if action in actions:
            booking_id = _int(args[0]) if len(args) == 1 else None
            if booking_id is None:
                outdated(ctx)
                return
            actions[action](ctx, booking_id)
            return
        wizard: dict[str, Callable[[Context, tuple[str, ...]], None]] = {
            Act.DECLINE_NO_REASON: self._decline_without_reason, Act.BACK: self._back_to_card,
            Act.SEND_SUGGESTION: self._send_suggestion, Act.SUGGEST_AGAIN: self._redo_suggestion,
        }
        if ((action not in wizard and action not in PICKER_CODES) or not ctx.pressed_current(NAME, args)
                or _booking_of(ctx) is None):
            outdated(ctx)
            return
        picking = _picking(ctx)
        if action in PICKER_CODES:  # the day list and a day's times: the shared time picker
            if not picking or self._suggest_request(ctx) is None:
                if not picking:
                    outdated(ctx)
                return
            SUGGEST_PICKER.on_press(ctx, action, args[1:])
            return
        if action == Act.SUGGEST_AGAIN and not picking and ctx.convo.step != CONFIRM:
            outdated(ctx)
            return
        wizard[action](ctx, args[1:])

    def on_text(self, ctx: Context, text: str) -> None:
        if ctx.convo.step != "decline":
            ctx.say(ctx.t("Please use the buttons above, or /cancel to stop."))
            return
        reason = text.strip()
        if len(reason) > MAX_REASON:
            ctx.say(ctx.t.plural("Please keep the reason shorter ({limit} character at most); it is {length} now. "
                                 "Type it again, or press “No reason”.",
                                 "Please keep the reason shorter ({limit} characters at most); it is {length} now. "
                                 "Type it again, or press “No reason”.",
                                 MAX_REASON, limit=MAX_REASON, length=len(reason)))
            return
        self._decline(ctx, int(ctx.data["booking"]), reason)

    # ------------------------------------------------------------------ accept

    def _accept(self, ctx: Context, booking_id: int) -> None:
        req = _load(ctx, booking_id, lock=True)
        _must_be_expert(ctx, req)
        t = ctx.t
        if req.booking.status in (BookingStatus.ACCEPTED, BookingStatus.COMPLETED):
            ctx.say(t("Already accepted ✓ “{title}” with {client} is confirmed; nothing more to do.",
                      title=req.title, client=req.client.name), replace=True)
            return
        if not _answerable(ctx, req):
            return
        booking = booking_service.accept(ctx.uow, ctx.clock, booking_id=booking_id, actor_id=ctx.person.id or 0)
        _leave_wizard_of(ctx, booking_id)
        lines = [t("Accepted ✓ “{title}” from {client}. I sent both of you the confirmation.",
                   title=req.title, client=req.client.name)]
        lines += meetings_lines(t, booking, req.client.timezone)
        ctx.say("\n".join(lines), replace=True)

    # ------------------------------------------------------------------ a whole series at once

    def _series(self, ctx: Context, booking_id: int) -> tuple[_Request, int]:
        req = _load(ctx, booking_id)
        _must_be_expert(ctx, req)
        if req.booking.series_id is None:
            raise NotFound(f"booking {booking_id} is not part of a series", reason="series_not_found")
        return req, req.booking.series_id

    def _accept_series(self, ctx: Context, booking_id: int) -> None:
        req, series_id = self._series(ctx, booking_id)
        t = ctx.t
        accepted = booking_service.accept_series(ctx.uow, ctx.clock, series_id=series_id, actor_id=ctx.person.id or 0)
        lines = [t("Accepted ✓ the series “{title}” from {client} ({how}). I sent both of you the confirmation.",
                   title=req.title, client=req.client.name, how=how_often(t, None, len(accepted)))]
        for booking in accepted:
            lines += meetings_lines(t, booking, req.client.timezone)
        ctx.say("\n".join(lines), replace=True)

    def _decline_series(self, ctx: Context, booking_id: int) -> None:
        req, series_id = self._series(ctx, booking_id)
        t = ctx.t
        declined = booking_service.decline_series(ctx.uow, ctx.clock, series_id=series_id, actor_id=ctx.person.id or 0)
        ctx.say(t("Declined ✓ the series “{title}” from {client} ({how}). I told them, and their credits are back.",
                  title=req.title, client=req.client.name, how=how_often(t, None, len(declined))), replace=True)

    # ------------------------------------------------------------------ decline

    def _ask_reason(self, ctx: Context, booking_id: int) -> None:
        req = _load(ctx, booking_id)
        _must_be_expert(ctx, req)
        if not _answerable(ctx, req):
            return
        t = ctx.t
        ctx.finish()  # a suggestion open before (its picker on top) goes
        ctx.goto(NAME, "decline", booking=booking_id)
        ctx.say(t("Declining “{title}” from {client}. Type a short reason they will see, or press “No reason”.",
                  title=req.title, client=req.client.name),
                ((ctx.step_button(t("No reason"), NAME, Act.DECLINE_NO_REASON),
                  ctx.step_button(t("Keep the request"), NAME, Act.BACK)),),
                replace=True)

    def _decline_without_reason(self, ctx: Context, args: tuple[str, ...]) -> None:
        if ctx.convo.step != "decline":
            outdated(ctx)
            return
        self._decline(ctx, _booking_of(ctx) or 0, "")

    def _decline(self, ctx: Context, booking_id: int, reason: str) -> None:
        req = _load(ctx, booking_id)
        _must_be_expert(ctx, req)
        ctx.finish()
        if not _answerable(ctx, req):
            return
        booking_service.decline(ctx.uow, ctx.clock, booking_id=booking_id, actor_id=ctx.person.id or 0, reason=reason)
        t = ctx.t
        text = t("Declined ✓ “{title}” from {client}. I told them, and their credits are back.",
                 title=req.title, client=req.client.name)
        if reason:
            text += "\n" + t("Your note to them: {reason}", reason=reason)
        ctx.say(text, replace=True)

    def _back_to_card(self, ctx: Context, args: tuple[str, ...]) -> None:
        """Change of mind: the card comes back with its three answers."""
        req = _load(ctx, _booking_of(ctx) or 0)
        _must_be_expert(ctx, req)
        ctx.finish()
        if not _answerable(ctx, req):
            return
        expert_person = ctx.person
        card = request_card(req.booking, req.expert, expert_person, req.client)
        ctx.say(card.text, card.buttons, replace=True)

    # ------------------------------------------------------------------ suggest another time

    def _start_suggest(self, ctx: Context, booking_id: int) -> None:
        req = _load(ctx, booking_id)
        _must_be_expert(ctx, req)
        if req.booking.proposed_by_expert and req.booking.status is BookingStatus.REQUESTED:
            ctx.say(ctx.t("You already suggested other times for “{title}”; {client} answers now.",
                          title=req.title, client=req.client.name), replace=True)
            return
        if not _answerable(ctx, req):
            return
        ctx.finish()  # a wizard open before (a picker on top of it, too) goes
        ctx.goto(NAME, CONFIRM, booking=booking_id)
        _pick(ctx, req)

    def _redo_suggestion(self, ctx: Context, args: tuple[str, ...]) -> None:
        req = self._suggest_request(ctx)
        if req is None:
            return
        ctx.convo.data = {"booking": req.id}  # the picker, if on top, goes with its picks
        _pick(ctx, req)

    def _send_suggestion(self, ctx: Context, args: tuple[str, ...]) -> None:
        if ctx.convo.step != CONFIRM or _picking(ctx):
            outdated(ctx)
            return
        req = self._suggest_request(ctx)
        if req is None:
            return
        t = ctx.t
        starts = _picked(ctx)
        try:
            booking = booking_service.propose_times(ctx.uow, ctx.clock, booking_id=req.id,
                                                    actor_id=ctx.person.id or 0, starts=starts,
                                                    policy=ctx.policy)
        except SlotUnavailable:  # raised before anything was written: pick again, nothing is lost
            ctx.say(t("One of those times was taken meanwhile. Please pick again."))
            ctx.data.pop("picked", None)
            _pick(ctx, req)
            return
        ctx.finish()
        lines = [t("Suggested ✓ I sent these times to {client}; they can accept or decline until {when}:",
                   client=req.client.name, when=t.when(booking.expires_at))]
        lines += meetings_lines(t, booking, req.client.timezone)
        ctx.say("\n".join(lines), replace=True)

    def _suggest_request(self, ctx: Context) -> _Request | None:
        """The request the wizard is about, re-checked: it may have been answered meanwhile."""
        req = _load(ctx, _booking_of(ctx) or 0)
        _must_be_expert(ctx, req)
        if not _answerable(ctx, req):
            ctx.finish()
            return None
        if req.booking.proposed_by_expert:
            ctx.finish()
            ctx.say(ctx.t("You already suggested other times for “{title}”; {client} answers now.",
                          title=req.title, client=req.client.name), replace=True)
            return None
        return req

    # ------------------------------------------------------------------ the client's answer

    def _agree(self, ctx: Context, booking_id: int) -> None:
        req = _load(ctx, booking_id)
        _must_be_client(ctx, req)
        t = ctx.t
        if not req.booking.proposed_by_expert and req.booking.status in (BookingStatus.ACCEPTED, BookingStatus.COMPLETED):
            ctx.say(t("You already accepted these times ✓ “{title}” with {expert} is confirmed.",
                      title=req.title, expert=req.expert.name), replace=True)
            return
        if not req.booking.proposed_by_expert and req.booking.status is BookingStatus.WITHDRAWN:
            ctx.say(t("You declined these times earlier, so the request is closed.") + " "
                    + t("Start a new request with /book."), replace=True)
            return
        booking = booking_service.answer_proposal(ctx.uow, ctx.clock, booking_id=booking_id,
                                                  actor_id=ctx.person.id or 0, agree=True)
        lines = [t("Accepted ✓ “{title}” with {expert} at the new times:", title=req.title, expert=req.expert.name)]
        lines += meetings_lines(t, booking, req.expert.timezone)
        ctx.say("\n".join(lines), replace=True)

    def _disagree(self, ctx: Context, booking_id: int) -> None:
        req = _load(ctx, booking_id)
        _must_be_client(ctx, req)
        t = ctx.t
        again = ((again_button(t),),)
        if not req.booking.proposed_by_expert and req.booking.status is BookingStatus.WITHDRAWN:
            ctx.say(t("You already declined these times; the request is closed and your credits are back."),
                    again, replace=True)
            return
        if not req.booking.proposed_by_expert and req.booking.status in (BookingStatus.ACCEPTED, BookingStatus.COMPLETED):
            ctx.say(t("You accepted these times earlier, so the session is confirmed. To cancel it, use /sessions."),
                    replace=True)
            return
        booking_service.answer_proposal(ctx.uow, ctx.clock, booking_id=booking_id, actor_id=ctx.person.id or 0,
                                        agree=False)
        ctx.say(t("Declined. The request “{title}” is withdrawn and your credits are back. I told {expert}.",
                  title=req.title, expert=req.expert.name), again, replace=True)


# ---------------------------------------------------------------------- helpers


def _int(arg: str) -> int | None:
    return ascii_int(arg, 1, ID_MAX)


def _load(ctx: Context, booking_id: int, *, lock: bool = False) -> _Request:
    """lock: the engine is about to change the booking (and locks it): read it under that lock now."""
    found = ctx.uow.bookings.with_parties(booking_id, for_update=lock)
    if found is None:
        raise NotFound(f"no booking {booking_id} with both its parties", reason="booking_not_found")
    return _Request(found.booking, found.expert, found.client)


def _must_be_expert(ctx: Context, req: _Request) -> None:
    """Strangers hear the same refusal the engine gives, before anything about the request's state."""
    if ctx.person.id != req.expert.person_id:
        raise NotAllowed("only the expert can answer this request", reason="not_the_expert")


def _must_be_client(ctx: Context, req: _Request) -> None:
    if ctx.person.id != req.booking.client_id:
        raise NotAllowed("only the client can answer the suggested time", reason="not_the_client")


def _answerable(ctx: Context, req: _Request) -> bool:
    """Still the expert's to answer? Otherwise say why (on the pressed card) and return False."""
    t = ctx.t
    booking = req.booking
    if booking.status is BookingStatus.REQUESTED and ctx.clock.now() >= booking.expires_at:
        ctx.say(t("This request has expired, so it can no longer be answered. {client}'s credits go back to them.",
                  client=req.client.name), replace=True)
        return False
    if booking.status is not BookingStatus.REQUESTED:
        ctx.say(t("This request is {status} now, so there is nothing to answer.",
                  status=booking_status(t, booking.status)), replace=True)
        return False
    return True


def _leave_wizard_of(ctx: Context, booking_id: int) -> None:
    """An answer given from the card ends a decline or suggest wizard about the same request."""
    if ctx.convo.flow == NAME and _booking_of(ctx) == booking_id:
        ctx.finish()


# ---------------------------------------------------------------------- suggest: the shared time picker, in its words

SUGGEST = "suggest"  # the suggestion's own dialog on the conversation's stack (the time picker goes on top of it)
CONFIRM = "suggest_confirm"  # its one step: the picked times, to send
OLD_STEPS = frozenset({"suggest", "suggest_slot"})  # a suggestion saved before the picker was shared: adopted


def _wizard_data(ctx: Context) -> Mapping[str, Any]:
    """The suggestion's (or the decline's) data, also while the picker is on top of it."""
    if ctx.data.get(ACTIVE) == PICKER_DIALOG:
        return caller_data(ctx) or {}
    return ctx.data


def _booking_of(ctx: Context) -> int | None:
    booking_id = _wizard_data(ctx).get("booking")
    return booking_id if isinstance(booking_id, int) and not isinstance(booking_id, bool) else None


def _picked(ctx: Context) -> list[datetime]:
    """The starts picked, stored as epoch minutes (bot/flows/dialog.py: one encoding for an instant)."""
    return instants(ctx.data.get("picked"))


def _state(req: _Request, picked: Sequence[datetime] = (), since: datetime | None = None) -> PickerState:
    """The picker's options for this request: its meetings in order, each with its own length, none at the time
    asked for it, the request's own held meetings not counted as busy."""
    meetings = req.booking.meetings
    return PickerState(req.expert.id or 0, meetings[0].minutes, count=len(meetings), picked=list(picked),
                       moving=[m.id for m in meetings if m.id is not None], skip=[m.start for m in meetings],
                       lengths=[m.minutes for m in meetings], ordered=True, since=since)


def _pick(ctx: Context, req: _Request) -> None:
    """The time picker on top of the suggestion (at its step CONFIRM), from the first meeting."""
    ctx.step(CONFIRM)
    SUGGEST_PICKER.begin(ctx, SUGGEST, _state(req), resume=CONFIRM)


def _picking(ctx: Context) -> bool:
    """The time picker is on top of the suggestion. A suggestion saved mid-way by the older code (at "suggest"
    or "suggest_slot", its picks and `since` in its own data) gets the picker put on top of it, at its days."""
    if ctx.convo.flow != NAME:
        return False
    if ctx.data.get(ACTIVE) == PICKER_DIALOG:
        return True
    booking_id = ctx.data.get("booking")
    if ctx.convo.step not in OLD_STEPS or not isinstance(booking_id, int):
        return False
    req = _load(ctx, booking_id)
    state = _state(req, instants(ctx.data.get("picked")), instant(ctx.data.get("since")))
    if len(state.picked) >= state.count:
        state.picked = []
    ctx.convo.data = {"booking": booking_id}
    ctx.step(CONFIRM)
    data: dict[str, Any] = {}
    state.save(data, SUGGEST_PICKER.picks)
    begin(ctx, SUGGEST, SUGGEST_PICKER.dialog, data, step="day", resume=CONFIRM, show=False)
    return True


def _suggest_header(ctx: Context, req: _Request, index: int) -> str:
    t = ctx.t
    total = len(req.booking.meetings)
    minutes = req.booking.meetings[index].minutes
    if total == 1:
        return t("A new time for “{title}” from {client} ({minutes} min).", title=req.title, client=req.client.name,
                 minutes=minutes)
    return t("A new time for “{title}” from {client}: meeting {n} of {total} ({minutes} min).", title=req.title,
             client=req.client.name, n=index + 1, total=total, minutes=minutes)


class SuggestWording:
    """The suggestion's screens in the time picker (bot/flows/time_picker.py): the days with a free start for
    the meeting to place next ("Later dates" / "Earliest dates" from `since`), a day's starts a page at a time
    ("Later that day"), each editing the card in place; every free start on the 15-minute grid. No typed times."""

    @staticmethod
    def _request(ctx: Context) -> _Request:
        return _load(ctx, _booking_of(ctx) or 0)

    @staticmethod
    def _since_arg(state: PickerState) -> str:
        return slot_arg(state.since) if state.since is not None else ""

    def days(self, picker: TimePicker, ctx: Context, state: PickerState, cal: Calendar, lead: list[str]) -> None:
        t = ctx.t
        req = self._request(ctx)
        minutes = state.next_minutes
        slots = cal.free(minutes, step=_STEP, start=state.since, limit=_SLOT_LIMIT)
        header = "\n".join([*lead, _suggest_header(ctx, req, len(state.picked))])
        nav = [ctx.step_button(t("Back to the request"), NAME, Act.BACK)]
        if state.picked:
            nav.insert(0, ctx.step_button(t("Start over"), NAME, Act.SUGGEST_AGAIN))
        if not slots:
            if state.since is not None:
                nav.insert(0, picker.button(ctx, t("Earliest dates"), "days", ""))
                ctx.say(header + "\n" + t("No free {minutes}-minute slot after these dates.", minutes=minutes),
                        (tuple(nav),), replace=True)
                return
            ctx.say(header + "\n" + t("You have no free {minutes}-minute slot within your booking horizon. "
                                      "Add extra hours with /availability, or decline the request.",
                                      minutes=minutes), (tuple(nav),), replace=True)
            return
        tz = ctx.person.timezone
        more: list[Button] = []
        later = later_days_start(slots, tz)
        if later is not None:
            more.append(picker.button(ctx, t("Later dates"), "days", slot_arg(later)))
        if state.since is not None:
            more.append(picker.button(ctx, t("Earliest dates"), "days", ""))
        text = header + "\n" + t("Pick a day (your time, {zone}; {client} is in {client_zone}):", zone=tz,
                                 client=req.client.name, client_zone=req.client.timezone)
        ctx.say(text, day_buttons(ctx, picker.flow, picker.codes["day"], slots) + ((*more, *nav),), replace=True)

    def day_page(self, picker: TimePicker, ctx: Context, state: PickerState, cal: Calendar, day: date) -> None:
        """The free starts of one local day (a page at a time), with the client's time beside each."""
        t = ctx.t
        req = self._request(ctx)
        lo, hi = local_day_bounds(ctx.person.timezone, day)
        start = max(lo, state.page) if state.page else lo
        slots = [s for s in cal.free(state.next_minutes, step=_STEP, start=start, end=hi, limit=_SLOT_LIMIT)
                 if s < hi]
        header = _suggest_header(ctx, req, len(state.picked))
        other_days = picker.button(ctx, t("Other days"), "days", self._since_arg(state))
        if not slots:
            ctx.step("day")
            ctx.say(header + "\n" + t("That day has no free slot any more. Please pick another day."),
                    ((other_days,),), replace=True)
            return
        page, later = slot_page(slots)
        nav: list[Button] = []
        if later is not None:
            nav.append(picker.button(ctx, t("Later that day"), "day", day.isoformat(), slot_arg(later)))
        nav.append(other_days)
        text = "\n".join([
            header,
            t("{day}: pick a start (your time, {zone}). The client's time is after each:",
              day=t.day(page[0]), zone=ctx.person.timezone),
            slots_text(ctx, page, req.client.timezone),
        ])
        ctx.say(text, slot_buttons(ctx, picker.flow, picker.codes["slot"], page) + (tuple(nav),), replace=True)

    def typed(self, picker: TimePicker, ctx: Context, state: PickerState, text: str, found: Meaning,
              cal: Calendar) -> None:
        ctx.say(ctx.t("Please use the buttons above, or /cancel to stop."))  # the host sends no typed times

    def pick(self, picker: TimePicker, ctx: Context, state: PickerState, at: datetime, notes: Sequence[str],
             cal: Calendar) -> None:
        """A start pressed: still free (and after the meeting before it)? Then the next meeting, or the end."""
        after = state.after()
        if (after is not None and at < after) or cal.problem(at, state.next_minutes) is not None:
            ctx.say(ctx.t("That time is no longer free. Please pick another."))
            picker.ask_day(ctx, cal=cal)
            return
        picker.finish(ctx, at, notes)


SUGGEST_PICKER = TimePicker(NAME, {"day": Act.SUGGEST_DAY, "days": Act.SUGGEST_DAYS, "slot": Act.SUGGEST_SLOT},
                            SuggestWording(), picks="picked")
PICKER_CODES = frozenset({Act.SUGGEST_DAY, Act.SUGGEST_DAYS, Act.SUGGEST_SLOT})


def _suggested(ctx: Context, result: Mapping[str, Any]) -> None:
    """The picker's result: every meeting's new start, to confirm before sending."""
    starts = instants(result.get("slots"))
    if not starts:
        ctx.finish()
        return
    ctx.data["picked"] = [minutes_of(s) for s in starts]
    _confirm_again(ctx)


def _confirm_again(ctx: Context) -> None:
    """Suggest these times? With Send, Start over and Back to the request."""
    t = ctx.t
    booking_id = _booking_of(ctx)
    picked = _picked(ctx)
    if booking_id is None or not picked:
        return
    req = _load(ctx, booking_id)
    ctx.step(CONFIRM)
    lines = [t("Suggest these times to {client} for “{title}”?", client=req.client.name, title=req.title)]
    for start, m in zip(picked, req.booking.meetings):
        lines.append(t("• {when}, {minutes} min", when=t.both(start, req.client.timezone), minutes=m.minutes))
    lines.append(t("The slots are held while {client} decides.", client=req.client.name))
    ctx.say("\n".join(lines), ((
        ctx.step_button(t("Send to {client}", client=req.client.name)[:75], NAME, Act.SEND_SUGGESTION),
        ctx.step_button(t("Start over"), NAME, Act.SUGGEST_AGAIN),
        ctx.step_button(t("Back to the request"), NAME, Act.BACK),
    ),), replace=True)


SUGGEST_PICKER.callers[SUGGEST] = Dialog(SUGGEST, NAME, [Step(CONFIRM, _confirm_again, on_result=_suggested)])
