"""My sessions: upcoming, past and cancelled, as client and as expert, each with what can be done
now (cancel, reschedule, withdraw, review, report a no-show); and the review after a meeting.

Every change shows its policy consequence before the person confirms, and goes through the
booking service, which checks again who may do it and whether it is still possible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from core import booking_service as bs
from core.relay_service import open_until as relay_open_until
from core.availability import local_day_bounds
from core.errors import InvalidTransition, NotAllowed, NotFound, SlotUnavailable
from core.experts import Expert
from core.lifecycle import OPEN_BOOKING_STATUSES, BookingStatus, MeetingStatus
from core.model import Booking, Meeting, Person, Review
from core.policy import CancelReason, Consequence, Policy
from core.schedule import SLOT_GRID
from bot.flows import relay, reviews
from bot.flows.actions import ID_MAX, Choice, Day, Id, Int, Opt, Slot, Stamp, ascii_int, ints
from bot.flows.base import Context, Flow, outdated
from bot.flows.dialog import ACTIVE, Dialog, Step, begin, caller_data, instant, minutes_of
from bot.flows.errors import explain
from bot.flows.pickers import (
    between_hint,
    day_buttons,
    nearest,
    on_day,
    parse_day_arg,
    slot_arg,
    slot_buttons,
    slots_text,
    thin,
)
from bot.flows.time_picker import NAME as PICKER_DIALOG
from bot.flows.time_picker import Calendar, PickerState, TimePicker
from bot.flows.typed_times import Ask, Meaning, Passed, Refuse, ShowDay
from bot.flows.waitlist import show_entries
from bot.i18n import Translator
from bot.links import meeting_url
from bot.payloads import p
from bot.replies import Button, Reply, rows
from bot.words import booking_status, meeting_status
from core.text import clip as shorten

NAME = "ses"
REVIEW = "rev"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    LIST = "list"
    CANCEL = "cx"
    RESCHEDULE = "rs"
    NO_SHOW = "ns"
    CANCEL_ALL = "cxa"
    WITHDRAW = "wd"
    KEEP = "keep"
    CONFIRM_CANCEL = "cxok"
    CONFIRM_CANCEL_ALL = "cxaok"
    RESCHEDULE_BACK = "rsback"
    CONFIRM_RESCHEDULE = "rsok"
    CONFIRM_WITHDRAW = "wdok"
    CONFIRM_NO_SHOW = "nsok"
    CANCEL_REASON = "cxr"
    RESCHEDULE_DAY = "rsd"
    RESCHEDULE_SLOT = "rss"


class ReviewAct(StrEnum):
    """The presses of ReviewFlow: readable names, short wire codes."""

    PICK = "pick"
    STARS = "star"
    SKIP = "skip"


# ---- the buttons other modules show to reach these flows (their wire codes are spelled only here)


def list_button(t: Translator) -> Button:
    """"My sessions": the list of this person's sessions."""
    return Button(t("My sessions"), p(NAME, Act.LIST))


def reschedule_button(t: Translator, booking_id: int, meeting_id: int) -> Button:
    return Button(t("Reschedule"), p(NAME, Act.RESCHEDULE, booking_id, meeting_id))


def cancel_button(t: Translator, booking_id: int, meeting_id: int) -> Button:
    return Button(t("Cancel"), p(NAME, Act.CANCEL, booking_id, meeting_id))


def no_show_button(t: Translator, booking_id: int, meeting_id: int | None) -> Button:
    """"They did not show up" (meeting 0: the notice did not name one)."""
    return Button(t("They did not show up"), p(NAME, Act.NO_SHOW, booking_id, meeting_id or 0))


def star_buttons(booking_id: int) -> tuple[Button, ...]:
    """★ to ★★★★★: the review flow's first question, asked from a notice or from the list."""
    return tuple(Button("★" * n, p(REVIEW, ReviewAct.STARS, booking_id, n)) for n in range(1, 6))


SECTIONS = ("up", "past", "gone")
PAGE = 5  # items per page: 5 x at most 4 action buttons + 4 navigation stays under 25 buttons
TOOK_PLACE = frozenset({MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW_CLIENT, MeetingStatus.NO_SHOW_EXPERT})
RELAY_MEETINGS = TOOK_PLACE | {MeetingStatus.CONFIRMED}
REASON_MAX = 300
REVIEW_MAX = 2000
NOTE_CLIP = 300  # a review or note in the list is cut here; the whole text stays stored
_NEARBY = 5  # free slots offered around a typed time that does not fit


# ---------------------------------------------------------------- loading one session, checked


@dataclass(frozen=True, slots=True)
class Seen:
    """A booking as the person pressing sees it: their side and the other side's name and zone."""

    booking: Booking
    meeting: Meeting | None
    expert: Expert
    client: Person
    is_client: bool

    @property
    def other_tz(self) -> str:
        return self.expert.timezone if self.is_client else self.client.timezone

    @property
    def other_name(self) -> str:
        return self.expert.name if self.is_client else self.client.name

    @property
    def title(self) -> str:
        return self.booking.details.title

    @property
    def the_meeting(self) -> Meeting:
        assert self.meeting is not None
        return self.meeting


def load(ctx: Context, booking_id: int, meeting_id: int | None = None) -> Seen:
    """The session, or a refusal the dispatcher explains (rolled back, state unchanged)."""
    found = ctx.uow.bookings.with_parties(booking_id)
    if found is None:
        raise NotFound(f"no booking {booking_id} with both its parties", reason="booking_not_found")
    booking, expert, client = found.booking, found.expert, found.client
    if ctx.person.id == booking.client_id:
        is_client = True
    elif ctx.person.id == expert.person_id:
        is_client = False
    else:
        raise NotAllowed("only the client or the expert of this session can do that", reason="not_a_party")
    meeting = None
    if meeting_id is not None:
        try:
            meeting = booking.meeting(meeting_id)
        except KeyError:
            raise NotFound(f"no meeting {meeting_id} in booking {booking_id}", reason="booking_not_found") from None
    return Seen(booking, meeting, expert, client, is_client)


def _pressed_meeting(ctx: Context, args: Sequence[str]) -> tuple[int, int, Seen] | None:
    """The (booking, meeting) a list button names, loaded and checked; a garbled payload is an outdated press."""
    ids = ints(args, 2)
    if ids is None:
        outdated(ctx)
        return None
    return ids[0], ids[1], load(ctx, ids[0], ids[1])


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


# ---------------------------------------------------------------- the list


@dataclass(slots=True)
class Item:
    """One line of the list. Its text is formatted only if its page is shown (dates are the slow part)."""

    section: str  # "up", "past", "gone"
    at: datetime
    render: Callable[[], list[str]]
    actions: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)  # (kind, payload args)


@dataclass(frozen=True, slots=True)
class Side:
    """Who the person is in a booking, and who the other side is."""

    is_client: bool
    other_tz: str
    expert_name: str
    client_name: str
    join_url: str = ""  # the meeting link, for confirmed sessions

    @property
    def other_name(self) -> str:
        return self.expert_name if self.is_client else self.client_name


def _open_status(t: Translator, booking: Booking, is_client: bool) -> str:
    if booking.status is BookingStatus.REQUESTED and booking.proposed_by_expert:
        return (t("the expert suggested other times: answer in their message") if is_client
                else t("you suggested other times; the client answers now"))
    if booking.status is BookingStatus.REQUESTED and not is_client:
        return t("waiting for your answer (/requests)")
    return booking_status(t, booking.status)


def _head(t: Translator, b: Booking, side: Side, meeting_no: int = 0) -> str:
    head = (t("“{title}” with {name}", title=b.details.title, name=side.expert_name) if side.is_client
            else t("“{title}” for {name} (you are the expert)", title=b.details.title, name=side.client_name))
    if meeting_no:
        head = t("{head} (meeting {i} of {n})", head=head, i=meeting_no, n=len(b.meetings))
    return head


def _when(t: Translator, m: Meeting, side: Side) -> str:
    return "   " + t("{when}, {minutes} min", when=t.both(m.start, side.other_tz), minutes=m.minutes)


def _open_lines(t: Translator, b: Booking, side: Side) -> list[str]:
    lines = [t("{head}: request {status}", head=_head(t, b, side), status=_open_status(t, b, side.is_client))]
    lines += [_when(t, m, side) for m in b.meetings[:3]]
    if len(b.meetings) > 3:
        lines.append("   " + t.plural("and {n} more meeting", "and {n} more meetings", len(b.meetings) - 3))
    return lines


def _closed_lines(t: Translator, b: Booking, side: Side, released: int) -> list[str]:
    lines = [t("{head}: request {status}", head=_head(t, b, side), status=booking_status(t, b.status)),
             _when(t, min(b.meetings, key=lambda m: m.start), side)]
    if side.is_client and released:
        lines.append("   " + t.plural("{credits} credit came back to your balance.",
                                      "{credits} credits came back to your balance.",
                                      t.credits_n(released), credits=t.credits(released)))
    if b.decline_reason and b.status is BookingStatus.DECLINED:
        lines.append("   " + t("Note: {reason}", reason=b.decline_reason))
    return lines


def clip(text: str, limit: int = NOTE_CLIP) -> str:
    """One paragraph of at most `limit` characters, for a list line (the stored text is never cut)."""
    return shorten(" ".join(text.split()), limit)


def file_names(b: Booking) -> list[str]:
    """The names of the files attached to the request ("telegram:<id>#deck.pdf" -> "deck.pdf")."""
    return [ref.partition("#")[2] or "attachment" for ref in b.details.attachments]


def _detail_lines(t: Translator, b: Booking, side: Side) -> list[str]:
    """What a confirmed upcoming meeting needs at hand: where to join, what it is for, the files."""
    lines = []
    if side.join_url:
        lines.append("   " + t("Join: {url}", url=side.join_url))
    lines.append("   " + t("Desired outcome: {outcome}", outcome=clip(b.details.outcome)))
    names = file_names(b)
    if names:
        lines.append("   " + t("Files: {names}", names=", ".join(names)))
    return lines


def _stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


def note_lines(t: Translator, reviews: Sequence[Review], side: Side, me: int) -> list[str]:
    """What both sides wrote after the session: my review and my private note, the other side's public review
    (unless staff hid it) and the expert's answer to the client's review. Never the other side's private note."""
    lines = []
    for r in sorted(reviews, key=lambda r: r.author_id != me):  # mine first
        mine = r.author_id == me
        if not mine and r.hidden_at is not None:
            continue
        said = f" “{clip(r.text)}”" if r.text else ""
        if mine:
            line = t("Your review: {stars}{text}", stars=_stars(r.stars), text=said)
            if r.hidden_at is not None:
                line += " " + t("(hidden by programme staff)")
        else:
            line = t("Review by {name}: {stars}{text}", name=side.other_name, stars=_stars(r.stars), text=said)
        lines.append("   " + line)
        if mine and r.private_note:
            lines.append("   " + t("Your private note (programme staff only): {note}", note=clip(r.private_note)))
        if r.answer:
            answer = clip(r.answer)
            lines.append("   " + (t("Your answer: “{text}”", text=answer) if not side.is_client
                                  else t("Answer by {name}: “{text}”", name=side.expert_name, text=answer)))
    return lines


def _meeting_lines(t: Translator, b: Booking, m: Meeting, no: int, side: Side, now: datetime, refunded: int,
                   reviews: Sequence[Review] = (), me: int = 0) -> list[str]:
    head = _head(t, b, side, no if len(b.meetings) > 1 else 0)
    upcoming = m.status is MeetingStatus.CONFIRMED and m.start > now
    if upcoming:
        status = t("confirmed")
    elif m.status is MeetingStatus.CONFIRMED:
        status = t("in progress") if now < m.end else t("ended")
    else:
        status = meeting_status(t, m.status)
    lines = [t("{head}: {status}", head=head, status=status), _when(t, m, side)]
    if m.status is MeetingStatus.CONFIRMED and now < m.end:
        lines.extend(_detail_lines(t, b, side))
    if side.is_client and refunded:
        lines.append("   " + t.plural("{credits} credit refunded.",
                                      "{credits} credits refunded.",
                                      t.credits_n(refunded), credits=t.credits(refunded)))
    elif side.is_client and m.status is MeetingStatus.CANCELLED and m.price_milli:
        lines.append("   " + t("No refund (cancelled late)."))
    lines.extend(note_lines(t, reviews, side, me))
    return lines


def build_items(ctx: Context) -> list[Item]:
    """Every session of the person, as client and as expert, sorted into the three sections."""
    t = ctx.t
    me = ctx.person.id
    now = ctx.clock.now()
    bookings = ctx.uow.bookings.for_person(me or 0)
    if not bookings:
        return []
    ids = [b.id for b in bookings if b.id is not None]
    experts = ctx.uow.experts.get_many({b.expert_id for b in bookings})
    clients = ctx.uow.people.get_many(b.client_id for b in bookings)
    back = ctx.uow.bookings.credits_returned(ids)
    reviewed = ctx.uow.bookings.reviewed_by(me or 0, ids)
    notes = ctx.uow.bookings.reviews_for(ids)
    items: list[Item] = []
    for b in bookings:
        expert = experts.get(b.expert_id)
        if expert is None:
            continue
        client = clients.get(b.client_id)
        is_client = b.client_id == me
        side = Side(is_client, expert.timezone if is_client else (client.timezone if client else "UTC"), expert.name,
                    client.name if client else "?")
        if b.status in OPEN_BOOKING_STATUSES:
            actions: list[tuple[str, tuple[object, ...]]] = [("withdraw", (b.id,))] if is_client else []
            if b.series_id is not None and is_client:
                actions.append(("cxall", (b.id,)))
            items.append(Item("up", b.first_start, partial(_open_lines, t, b, side), actions))
            continue
        if b.status in (BookingStatus.DECLINED, BookingStatus.EXPIRED, BookingStatus.WITHDRAWN):
            released = back.get(f"release:{b.id}", 0)
            items.append(Item("gone", b.first_start, partial(_closed_lines, t, b, side, released)))
            continue
        # Accepted, completed or cancelled: one item per meeting.
        assert b.id is not None
        side = replace(side, join_url=meeting_url(expert, b.id))
        took_place = sorted((m for m in b.meetings if m.status in TOOK_PLACE), key=lambda m: m.start)
        last_held = took_place[-1].id if took_place else None
        review_on = last_held if b.id not in reviewed else None
        until = relay_open_until(ctx.uow, b)
        relay_open = until is not None and now <= until
        for no, m in enumerate(sorted(b.meetings, key=lambda m: m.start), start=1):
            written = notes.get(b.id, []) if m.id == last_held else []  # the notes go with the last meeting held
            render = partial(_meeting_lines, t, b, m, no, side, now, back.get(f"refund:meeting:{m.id}", 0),
                             written, me or 0)
            # "Message <name>" on a meeting that is (or was) on, while the thread is open (core.relay_service).
            message = [("message", (b.id, side.other_name))] if relay_open and m.status in RELAY_MEETINGS else []
            if m.status is MeetingStatus.CONFIRMED and m.start > now and b.series_id is not None:
                # One occurrence of a series: skip it, move it, or end the series from here on.
                items.append(Item("up", m.start, render, [("skip", (b.id, m.id)), ("move1", (b.id, m.id)),
                                                          ("cxall", (b.id,)), *message]))
            elif m.status is MeetingStatus.CONFIRMED and m.start > now:
                items.append(Item("up", m.start, render,
                                  [("cancel", (b.id, m.id)), ("move", (b.id, m.id)), *message]))
            elif m.status is MeetingStatus.CONFIRMED or m.status in TOOK_PLACE:
                item = Item("past", m.start, render)
                if m.id == review_on:
                    item.actions.append(("review", (b.id,)))
                answerable = [r for r in written if not is_client and r.author_id == b.client_id
                              and r.answered_at is None and r.hidden_at is None]
                if answerable:
                    item.actions.append(("answer", (answerable[0].id,)))
                if (m.status in (MeetingStatus.CONFIRMED, MeetingStatus.COMPLETED)
                        and m.start + ctx.policy.no_show_report_after <= now <= m.start + ctx.policy.no_show_report_within):
                    item.actions.append(("noshow", (b.id, m.id)))
                item.actions.extend(message)
                items.append(item)
            elif m.status is MeetingStatus.CANCELLED:
                items.append(Item("gone", m.start, render))
    return items


def _action_button(ctx: Context, kind: str, n: int, args: tuple[object, ...]) -> Button:
    t = ctx.t
    if kind == "cancel":
        return ctx.button(t("Cancel {n}", n=n), NAME, Act.CANCEL, *args)
    if kind == "move":
        return ctx.button(t("Reschedule {n}", n=n), NAME, Act.RESCHEDULE, *args)
    if kind == "skip":
        return ctx.button(t("Skip {n}", n=n), NAME, Act.CANCEL, *args)
    if kind == "move1":
        return ctx.button(t("Move {n}", n=n), NAME, Act.RESCHEDULE, *args)
    if kind == "cxall":
        return ctx.button(t("Cancel all remaining {n}", n=n), NAME, Act.CANCEL_ALL, *args)
    if kind == "withdraw":
        return ctx.button(t("Withdraw {n}", n=n), NAME, Act.WITHDRAW, *args)
    if kind == "review":
        return ctx.button(t("Review {n}", n=n), REVIEW, ReviewAct.PICK, *args)
    if kind == "answer":
        review_id = args[0]
        assert isinstance(review_id, int)
        return reviews.answer_button(t, review_id, n=n)
    if kind == "message":
        booking_id, name = args
        assert isinstance(booking_id, int)
        return relay.message_button(t, booking_id, " ".join(str(name).split()), n=n)  # one line, as clip() makes it
    return ctx.button(t("Report no-show {n}", n=n), NAME, Act.NO_SHOW, *args)


def _section_title(t: Translator, section: str, count: int) -> str:
    if section == "up":
        return t("Upcoming ({n})", n=count)
    if section == "past":
        return t("Past ({n})", n=count)
    return t("Cancelled ({n})", n=count)


def show_list(ctx: Context, section: str | None = None, page: int = 0, *, replace: bool = False) -> None:
    """One section, one page: numbered items, their actions, and buttons to the other sections."""
    t = ctx.t
    items = build_items(ctx)
    if not items:
        ctx.say(t("You have no sessions yet. Find an expert with /book, or just type what you need help with."),
                replace=replace)
        return
    by = {s: [i for i in items if i.section == s] for s in SECTIONS}
    by["up"].sort(key=lambda i: i.at)
    by["past"].sort(key=lambda i: i.at, reverse=True)
    by["gone"].sort(key=lambda i: i.at, reverse=True)
    if section not in SECTIONS:
        section = next((s for s in SECTIONS if by[s]), "up")
    shown = by[section]
    pages = max(1, -(-len(shown) // PAGE))
    page = min(max(page, 0), pages - 1)
    lines = [t("Your sessions: {section}", section=_section_title(t, section, len(shown)))]
    if pages > 1:
        lines[0] += " " + t("(page {page} of {pages})", page=page + 1, pages=pages)
    if not shown:
        lines.append({
            "up": t("Nothing coming up. Book a session with /book."),
            "past": t("No past sessions yet."),
            "gone": t("Nothing cancelled."),
        }[section])
    buttons: list[tuple[Button, ...]] = []
    for n, item in enumerate(shown[page * PAGE:(page + 1) * PAGE], start=page * PAGE + 1):
        text = item.render()
        lines.append(f"{n}. " + text[0])
        lines.extend(text[1:])
        if item.actions:
            buttons.append(tuple(_action_button(ctx, kind, n, args) for kind, args in item.actions))
    nav = [ctx.button(_section_title(t, s, len(by[s])), NAME, Act.LIST, s, 0) for s in SECTIONS if s != section]
    if page > 0:
        nav.append(ctx.button(t("Previous page"), NAME, Act.LIST, section, page - 1))
    if page + 1 < pages:
        nav.append(ctx.button(t("Next page"), NAME, Act.LIST, section, page + 1))
    buttons.extend(rows(nav, 4))
    ctx.say("\n".join(lines), tuple(buttons), replace=replace)


# ---------------------------------------------------------------- policy in words


def cancel_words(t: Translator, c: Consequence, price: int, is_client: bool, policy: Policy) -> str:
    """What cancelling does to the credits, said before the person confirms."""
    hours = _hours(policy.free_change_window)
    if not c.allowed:
        return t("This meeting has already started, so it can no longer be cancelled.")
    if price == 0:
        return t("Nothing is charged either way (pro-bono session).")
    if c.code == "free":
        return t.plural("It is more than {hours} h ahead, so your {credits} credit comes back.",
                        "It is more than {hours} h ahead, so your {credits} credits come back.",
                        t.credits_n(c.refund_milli), hours=hours,
                        credits=t.credits(c.refund_milli))
    if c.code == "late_no_refund":
        return t.plural("It is less than {hours} h ahead, so there is no refund: the {credits} credit stays spent.",
                        "It is less than {hours} h ahead, so there is no refund: the {credits} credits stay spent.",
                        t.credits_n(price),
                        hours=hours, credits=t.credits(price))
    if is_client:  # staff or technical codes: a refund all the same
        return t.plural("Your {credits} credit comes back.",
                        "Your {credits} credits come back.",
                        t.credits_n(c.refund_milli), credits=t.credits(c.refund_milli))
    return t.plural("The client gets their {credits} credit back in full.",
                    "The client gets their {credits} credits back in full.",
                    t.credits_n(c.refund_milli), credits=t.credits(c.refund_milli))


def move_words(t: Translator, c: Consequence, price: int, count: int, policy: Policy) -> str:
    hours = _hours(policy.free_change_window)
    if c.code == "already_started":
        return t("This meeting has already started, so it can no longer be moved.")
    if c.code == "limit_reached":
        return t.plural("This meeting has been moved {n} time already, which is the limit. You can cancel it instead.",
                        "This meeting has been moved {n} times already, which is the limit. You can cancel it instead.",
                        count)
    if c.code == "expert_initiated":
        return t("As the expert you can move it for free; the client keeps their credits.")
    if c.code == "late_forfeit" and price:
        return t.plural("It is less than {hours} h ahead, so moving it forfeits the {credits} credit already paid: "
                        "the meeting is charged again ({credits} credit) at the new time.",
                        "It is less than {hours} h ahead, so moving it forfeits the {credits} credits already paid: "
                        "the meeting is charged again ({credits} credits) at the new time.",
                        t.credits_n(price), hours=hours, credits=t.credits(price))
    if price == 0:
        return t("Moving it is free (pro-bono session).")
    return t("It is more than {hours} h ahead, so moving it is free.", hours=hours)


# ---------------------------------------------------------------- the flow


class SessionsFlow(Flow):
    """/sessions: the list (no state of its own), and small wizards for each change."""

    name = NAME
    commands = ("sessions",)
    actions = {
        Act.LIST: (Opt(Choice(SECTIONS)), Opt(Int(0, 9999))),
        Act.CANCEL: (Id(), Id()), Act.RESCHEDULE: (Id(), Id()),
        Act.NO_SHOW: (Id(), Int(0, ID_MAX)),  # 0: the notice did not name a meeting
        Act.CANCEL_ALL: (Id(),), Act.WITHDRAW: (Id(),),
        **{a: (Stamp(),) for a in (Act.KEEP, Act.CONFIRM_CANCEL, Act.CONFIRM_CANCEL_ALL, Act.RESCHEDULE_BACK,
                                   Act.CONFIRM_RESCHEDULE, Act.CONFIRM_WITHDRAW, Act.CONFIRM_NO_SHOW)},
        Act.CANCEL_REASON: (Stamp(), Choice(("none", "tech"))),
        Act.RESCHEDULE_DAY: (Stamp(), Day()), Act.RESCHEDULE_SLOT: (Stamp(), Slot()),
    }

    def start(self, ctx: Context, args: str) -> None:
        section = {"upcoming": "up", "past": "past", "cancelled": "gone"}.get(args.strip().lower())
        show_list(ctx, section)
        show_entries(ctx)  # the experts they wait for, with Leave

    # ---- presses

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        handlers: dict[str, Callable[[Context, tuple[str, ...]], None]] = {
            Act.LIST: self._list, Act.CANCEL: self._cancel_start, Act.RESCHEDULE: self._move_start,
            Act.WITHDRAW: self._withdraw_start, Act.NO_SHOW: self._no_show_start,
            Act.CANCEL_ALL: self._series_cancel_start,
        }
        handler = handlers.get(action)
        if handler is not None:
            handler(ctx, args)
            return
        # Wizard buttons: valid only on the message that is still current.
        if not ctx.pressed_current(NAME, args):
            outdated(ctx)
            return
        rest = args[1:]
        step = ctx.convo.step
        if action == Act.KEEP:
            ctx.finish()
            ctx.say(ctx.t("Nothing changed."), replace=True)
        elif _picking(ctx):
            MOVE_PICKER.on_press(ctx, action, rest)
        elif action in PICKER_CODES and step == "rs_confirm":
            _pick_again(ctx, show=action == Act.RESCHEDULE_BACK)
            if action != Act.RESCHEDULE_BACK:
                MOVE_PICKER.on_press(ctx, action, rest)
        elif action == Act.CANCEL_REASON and step == "cx_reason" and rest and rest[0] in ("none", "tech"):
            self._cancel_confirm(ctx, "", technical=rest[0] == "tech")
        elif action == Act.CONFIRM_CANCEL and step == "cx_confirm":
            self._cancel_do(ctx)
        elif action == Act.CONFIRM_CANCEL_ALL and step == "cxa_confirm":
            self._series_cancel_do(ctx)
        elif action == Act.CONFIRM_RESCHEDULE and step == "rs_confirm":
            self._move_do(ctx)
        elif action == Act.CONFIRM_WITHDRAW and step == "wd_confirm":
            self._withdraw_do(ctx)
        elif action == Act.CONFIRM_NO_SHOW and step == "ns_confirm":
            self._no_show_do(ctx)
        else:
            outdated(ctx)

    def _list(self, ctx: Context, args: tuple[str, ...]) -> None:
        if not args:
            show_list(ctx)
            return
        page = (ascii_int(args[1], 0, 9999) if len(args) > 1 else None) or 0
        show_list(ctx, args[0], page, replace=True)

    # ---- typed text

    def on_text(self, ctx: Context, text: str) -> None:
        step = ctx.convo.step
        if step == "cx_reason":
            reason = text.strip()
            if len(reason) > REASON_MAX:
                ctx.say(ctx.t.plural("Please keep the reason under {n} character, or press a button above.",
                                     "Please keep the reason under {n} characters, or press a button above.", REASON_MAX))
                return
            self._cancel_confirm(ctx, reason, technical=False)
        elif _picking(ctx):
            MOVE_PICKER.on_text(ctx, text)
        elif step == "rs_confirm":
            _pick_again(ctx, show=False)
            MOVE_PICKER.on_text(ctx, text)
        else:
            super().on_text(ctx, text)

    # ---- cancel

    def _cancel_start(self, ctx: Context, args: tuple[str, ...]) -> None:
        pressed = _pressed_meeting(ctx, args)
        if pressed is None:
            return
        booking_id, meeting_id, seen = pressed
        c = bs.cancellation_preview(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=booking_id, meeting_id=meeting_id,
                                    actor_id=ctx.person.id or 0)
        t = ctx.t
        head = t("Cancel “{title}” with {name} on {when}?", title=seen.title, name=seen.other_name,
                 when=t.both(seen.the_meeting.start, seen.other_tz))
        if not c.allowed:
            ctx.say(head + "\n" + cancel_words(t, c, seen.the_meeting.price_milli, seen.is_client, ctx.policy))
            return
        ctx.goto(NAME, "cx_reason", booking=booking_id, meeting=meeting_id, reason="", technical=False)
        ctx.say("\n".join([
            head,
            cancel_words(t, c, seen.the_meeting.price_milli, seen.is_client, ctx.policy),
            t("Why are you cancelling? Type a short reason for {name} (optional), or pick:", name=seen.other_name),
        ]), ((ctx.step_button(t("No reason, continue"), NAME, Act.CANCEL_REASON, "none"),
              ctx.step_button(t("Technical problem"), NAME, Act.CANCEL_REASON, "tech")),
             (ctx.step_button(t("Keep the meeting"), NAME, Act.KEEP),)))

    def _cancel_confirm(self, ctx: Context, reason: str, *, technical: bool) -> None:
        t = ctx.t
        seen = load(ctx, ctx.data["booking"], ctx.data["meeting"])
        why = CancelReason.TECHNICAL if technical else CancelReason.PERSONAL
        c = bs.cancellation_preview(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=ctx.data["booking"], meeting_id=ctx.data["meeting"],
                                    actor_id=ctx.person.id or 0, reason=why)
        ctx.step("cx_confirm", reason=reason, technical=technical)
        lines = [t("Cancel “{title}” with {name} on {when}?", title=seen.title, name=seen.other_name,
                   when=t.both(seen.the_meeting.start, seen.other_tz))]
        if technical:
            lines.append(t("Reason: technical problem."))
            if seen.is_client and c.refund_milli < seen.the_meeting.price_milli:
                lines.append(t("Refunds for technical problems are decided by programme staff; I will note it "
                               "for {name} and you can ask your programme staff.", name=seen.other_name))
        elif reason:
            lines.append(t("Reason: {reason}", reason=reason))
        lines.append(cancel_words(t, c, seen.the_meeting.price_milli, seen.is_client, ctx.policy))
        ctx.say("\n".join(lines), ((ctx.step_button(t("Confirm cancellation"), NAME, Act.CONFIRM_CANCEL),
                                    ctx.step_button(t("Keep the meeting"), NAME, Act.KEEP)),))

    def _cancel_do(self, ctx: Context) -> None:
        t = ctx.t
        booking_id, meeting_id, reason = ctx.data["booking"], ctx.data["meeting"], ctx.data.get("reason", "")
        technical = bool(ctx.data.get("technical"))
        seen = load(ctx, booking_id, meeting_id)
        why = CancelReason.TECHNICAL if technical else CancelReason.PERSONAL
        outcome = bs.cancel_meeting(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=booking_id, meeting_id=meeting_id,
                                    actor_id=ctx.person.id or 0, reason=why)
        ctx.finish()
        price = seen.the_meeting.price_milli
        if seen.is_client and outcome.refund_milli:
            text = t.plural("Cancelled. {credits} credit is back: you have {available} available now.",
                            "Cancelled. {credits} credits are back: you have {available} available now.",
                            t.credits_n(outcome.refund_milli),
                            credits=t.credits(outcome.refund_milli), available=t.credits(_available(ctx)))
        elif seen.is_client and price:
            text = t("Cancelled. No credits were refunded.")
        elif not seen.is_client and outcome.refund_milli:
            text = t.plural("Cancelled. {name} gets their {credits} credit back.",
                            "Cancelled. {name} gets their {credits} credits back.",
                            t.credits_n(outcome.refund_milli), name=seen.other_name,
                            credits=t.credits(outcome.refund_milli))
        else:
            text = t("Cancelled.")
        ctx.say(text + " " + t("{name} has been told.", name=seen.other_name), replace=True)
        if reason or technical:
            _tell_reason(ctx, seen, reason, technical=technical)

    # ---- a series: cancel all that remains

    def _remaining(self, ctx: Context, series_id: int) -> tuple[list[tuple[Booking, Meeting]], int]:
        """The occurrences still ahead (open requests and confirmed meetings) and what the policy gives back."""
        now = ctx.clock.now()
        ahead: list[tuple[Booking, Meeting]] = []
        back = 0
        for b in ctx.uow.bookings.in_series(series_id):
            assert b.id is not None
            if b.status in OPEN_BOOKING_STATUSES:
                ahead += [(b, m) for m in b.meetings]
                back += b.price_milli
            elif b.status is BookingStatus.ACCEPTED:
                for m in b.meetings:
                    if m.status is MeetingStatus.CONFIRMED and m.start > now and m.id is not None:
                        ahead.append((b, m))
                        back += bs.cancellation_preview(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=b.id, meeting_id=m.id,
                                                        actor_id=ctx.person.id or 0).refund_milli
        return sorted(ahead, key=lambda x: x[1].start), back

    def _series_cancel_start(self, ctx: Context, args: tuple[str, ...]) -> None:
        ids = ints(args, 1)
        if ids is None:
            outdated(ctx)
            return
        seen = load(ctx, ids[0])
        t = ctx.t
        if seen.booking.series_id is None:
            outdated(ctx)
            return
        ahead, back = self._remaining(ctx, seen.booking.series_id)
        if not ahead:
            ctx.say(t("Nothing is left to cancel in this series."))
            return
        ctx.goto(NAME, "cxa_confirm", booking=ids[0])
        lines = [t.plural("Cancel the {n} remaining session of “{title}” with {name}?",
                          "Cancel all {n} remaining sessions of “{title}” with {name}?", len(ahead),
                          title=seen.title, name=seen.other_name)]
        lines += [_when(t, m, _side_of(seen)) for _, m in ahead]
        if seen.is_client:
            lines.append(t.plural("The policy applies to each one: {credits} credit comes back in all.",
                                  "The policy applies to each one: {credits} credits come back in all.",
                                  t.credits_n(back), credits=t.credits(back)) if back
                         else t("No credits come back (each one is less than {hours} h ahead or free).",
                                hours=_hours(ctx.policy.free_change_window)))
        ctx.say("\n".join(lines), ((ctx.step_button(t("Cancel all remaining"), NAME, Act.CONFIRM_CANCEL_ALL),
                                    ctx.step_button(t("Keep the series"), NAME, Act.KEEP)),))

    def _series_cancel_do(self, ctx: Context) -> None:
        t = ctx.t
        seen = load(ctx, int(ctx.data["booking"]))
        assert seen.booking.series_id is not None
        ahead, back = self._remaining(ctx, seen.booking.series_id)
        bs.cancel_series(ctx.uow, ctx.clock, policy=ctx.policy, series_id=seen.booking.series_id, actor_id=ctx.person.id or 0)
        ctx.finish()
        text = t.plural("Cancelled {n} session.", "Cancelled {n} sessions.", len(ahead))
        if seen.is_client:
            text += " " + (t.plural("{credits} credit is back: you have {available} available now.",
                                    "{credits} credits are back: you have {available} available now.",
                                    t.credits_n(back),
                                    credits=t.credits(back), available=t.credits(_available(ctx))) if back
                           else t("No credits were refunded."))
        ctx.say(text + " " + t("{name} has been told.", name=seen.other_name), replace=True)

    # ---- reschedule

    def _move_start(self, ctx: Context, args: tuple[str, ...]) -> None:
        pressed = _pressed_meeting(ctx, args)
        if pressed is None:
            return
        booking_id, meeting_id, seen = pressed
        meeting = seen.the_meeting
        c = bs.reschedule_preview(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=booking_id, meeting_id=meeting_id,
                                  actor_id=ctx.person.id or 0)
        t = ctx.t
        words = move_words(t, c, meeting.price_milli, meeting.reschedule_count, ctx.policy)
        if not c.allowed:
            buttons: tuple[tuple[Button, ...], ...] = ()
            if c.code == "limit_reached":
                buttons = ((ctx.button(t("Cancel the meeting"), NAME, Act.CANCEL, booking_id, meeting_id),),)
            ctx.say(t("“{title}” with {name} on {when}:", title=seen.title, name=seen.other_name,
                      when=t.both(meeting.start, seen.other_tz)) + "\n" + words, buttons)
            return
        if c.code == "late_forfeit" and meeting.price_milli and seen.is_client:
            have = _available(ctx)
            if have < meeting.price_milli:
                ctx.say(words + "\n" + t.plural("That needs {needed} credit and you have {available}. You can "
                                                "cancel instead.",
                                                "That needs {needed} credits and you have {available}. You can "
                                                "cancel instead.",
                                                t.credits_n(meeting.price_milli), needed=t.credits(meeting.price_milli),
                                                available=t.credits(have)),
                        ((ctx.button(t("Cancel the meeting"), NAME, Act.CANCEL, booking_id, meeting_id),),))
                return
        ctx.goto(NAME, "rs_confirm", booking=booking_id, meeting=meeting_id)
        ctx.say(t("Reschedule “{title}” with {name}, now on {when}.", title=seen.title, name=seen.other_name,
                  when=t.both(meeting.start, seen.other_tz)) + "\n" + words)
        _pick(ctx, seen)

    def _move_do(self, ctx: Context) -> None:
        t = ctx.t
        booking_id, meeting_id = ctx.data["booking"], ctx.data["meeting"]
        at = _chosen(ctx.data.get("at"))
        if at is None:
            outdated(ctx)
            return
        seen = load(ctx, booking_id, meeting_id)
        price = seen.the_meeting.price_milli
        outcome = bs.reschedule_meeting(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=booking_id, meeting_id=meeting_id,
                                        actor_id=ctx.person.id or 0, new_start=at)
        ctx.finish()
        text = t("Moved: “{title}” is now on {when}.", title=seen.title, when=t.both(at, seen.other_tz))
        if outcome.code == "late_forfeit" and price:
            text += " " + t.plural("The {credits} credit of the old time is forfeited and {credits} credit was "
                                   "charged for the new one; you have {available} available now.",
                                   "The {credits} credits of the old time are forfeited and {credits} credits were "
                                   "charged for the new one; you have {available} available now.",
                                   t.credits_n(price), credits=t.credits(price),
                                   available=t.credits(_available(ctx)))
        elif seen.is_client:
            text += " " + t("Nothing was charged.")
        ctx.say(text + " " + t("{name} has been told.", name=seen.other_name), replace=True)

    # ---- withdraw an open request

    def _withdraw_start(self, ctx: Context, args: tuple[str, ...]) -> None:
        ids = ints(args, 1)
        if ids is None:
            outdated(ctx)
            return
        seen = load(ctx, ids[0])
        if not seen.is_client:
            raise NotAllowed("only the client can withdraw a request", reason="not_the_client")
        if seen.booking.status not in OPEN_BOOKING_STATUSES:
            raise InvalidTransition("not open", reason=f"booking_{seen.booking.status}")
        t = ctx.t
        held = seen.booking.price_milli
        ctx.goto(NAME, "wd_confirm", booking=ids[0])
        lines = [t("Withdraw your request “{title}” to {name}?", title=seen.title, name=seen.expert.name)]
        if held:
            lines.append(t.plural("The {credits} credit held for it comes back to you.",
                                  "The {credits} credits held for it come back to you.",
                                  t.credits_n(held), credits=t.credits(held)))
        ctx.say("\n".join(lines), ((ctx.step_button(t("Withdraw request"), NAME, Act.CONFIRM_WITHDRAW),
                                    ctx.step_button(t("Keep it"), NAME, Act.KEEP)),))

    def _withdraw_do(self, ctx: Context) -> None:
        t = ctx.t
        seen = load(ctx, ctx.data["booking"])
        bs.withdraw(ctx.uow, ctx.clock, booking_id=ctx.data["booking"], actor_id=ctx.person.id or 0)
        ctx.finish()
        text = t("Withdrawn: “{title}”.", title=seen.title)
        if seen.booking.price_milli:
            text += " " + t("Your credits are back: you have {available} available now.",
                            available=t.credits(_available(ctx)))
        ctx.say(text, replace=True)

    # ---- no-show

    def _no_show_start(self, ctx: Context, args: tuple[str, ...]) -> None:
        pressed = _pressed_meeting(ctx, args)
        if pressed is None:
            return
        booking_id, meeting_id, seen = pressed
        meeting = seen.the_meeting
        t = ctx.t
        now = ctx.clock.now()
        if meeting.status not in (MeetingStatus.CONFIRMED, MeetingStatus.COMPLETED):
            raise InvalidTransition("nothing to report", reason=f"meeting_{meeting.status}")
        opens = meeting.start + ctx.policy.no_show_report_after
        if now < opens:
            ctx.say(t.plural("A no-show can be reported from {minutes} minute after the start: from {when}.",
                             "A no-show can be reported from {minutes} minutes after the start: from {when}.",
                             int(ctx.policy.no_show_report_after.total_seconds() // 60),
                             minutes=int(ctx.policy.no_show_report_after.total_seconds() // 60), when=t.when(opens)))
            return
        if now > meeting.start + ctx.policy.no_show_report_within:
            ctx.say(t.plural("A no-show is reported within {n} day of the meeting; this one is too long ago.",
                             "A no-show is reported within {n} days of the meeting; this one is too long ago.",
                             ctx.policy.no_show_report_within.days))
            return
        ctx.goto(NAME, "ns_confirm", booking=booking_id, meeting=meeting_id)
        lines = [t("Report that {name} did not show up for “{title}” on {when}?", name=seen.other_name,
                   title=seen.title, when=t.both(meeting.start, seen.other_tz))]
        if seen.is_client and meeting.price_milli:
            lines.append(t.plural("Your {credits} credit will be refunded in full.",
                                  "Your {credits} credits will be refunded in full.",
                                  t.credits_n(meeting.price_milli), credits=t.credits(meeting.price_milli)))
        elif meeting.price_milli:
            lines.append(t("The client's credits stay spent."))
        ctx.say("\n".join(lines), ((ctx.step_button(t("Report no-show"), NAME, Act.CONFIRM_NO_SHOW),
                                    ctx.step_button(t("Back"), NAME, Act.KEEP)),))

    def _no_show_do(self, ctx: Context) -> None:
        t = ctx.t
        seen = load(ctx, ctx.data["booking"], ctx.data["meeting"])
        outcome = bs.report_no_show(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=ctx.data["booking"], meeting_id=ctx.data["meeting"],
                                    reporter_id=ctx.person.id or 0)
        ctx.finish()
        text = t("Reported: {name} did not show up for “{title}”.", name=seen.other_name, title=seen.title)
        if seen.is_client and outcome.refund_milli:
            text += " " + t.plural("{credits} credit is back: you have {available} available now.",
                                   "{credits} credits are back: you have {available} available now.",
                                   t.credits_n(outcome.refund_milli),
                                   credits=t.credits(outcome.refund_milli), available=t.credits(_available(ctx)))
        ctx.say(text, replace=True)


# ---------------------------------------------------------------- reschedule: the shared time picker, in its words

MOVE = "move"  # the reschedule's own dialog on the conversation's stack (the time picker goes on top of it)
_AROUND = timedelta(days=2)  # how far from a time that does not work the free times nearby are looked for


def _moving(ctx: Context) -> Seen:
    """The meeting being moved (the move's data, also while the picker is on top of it)."""
    data = caller_data(ctx) if _picking(ctx) else ctx.data
    assert data is not None
    return load(ctx, data["booking"], data["meeting"])


class MoveWording:
    """The reschedule's screens in the time picker (bot/flows/time_picker.py): a new day, a day's times and a
    typed time, always with "Keep it as it is"; every free start of the expert but the meeting's own, on the
    15-minute grid, the meeting itself not counted as busy."""

    @staticmethod
    def _keep(ctx: Context) -> Button:
        return ctx.step_button(ctx.t("Keep it as it is"), NAME, Act.KEEP)

    def days(self, picker: TimePicker, ctx: Context, state: PickerState, cal: Calendar, lead: list[str]) -> None:
        t = ctx.t
        slots = cal.free(state.minutes, step=SLOT_GRID)
        keep = (self._keep(ctx),)
        if not slots:
            ctx.say("\n".join([*lead, t("{name} has no other free time in their booking window. Type a time to check "
                                         "one, or keep the meeting as it is.", name=_moving(ctx).expert.name)]), (keep,))
            return
        ctx.say("\n".join([*lead, t("Pick a new day (times in {zone}), or type a time, for example “Thursday 15:00”.",
                                     zone=ctx.person.timezone)]),
                day_buttons(ctx, picker.flow, picker.codes["day"], slots) + (keep,))

    def day_page(self, picker: TimePicker, ctx: Context, state: PickerState, cal: Calendar, day: date) -> None:
        t = ctx.t
        tz = ctx.person.timezone
        start, end = local_day_bounds(tz, day)
        slots = on_day(cal.free(state.minutes, step=SLOT_GRID, start=start, end=end), tz, day)
        back = (picker.button(ctx, t("Another day"), "back"), self._keep(ctx))
        if not slots:
            ctx.say(t("No free time left that day. Pick another day, or type a time."), (back,))
            return
        shown = thin(slots, tz)
        text = t("Free times on {day}:", day=t.day(slots[0])) + "\n" + slots_text(ctx, shown, _moving(ctx).other_tz)
        hint = between_hint(ctx, slots, shown)
        if hint:
            text += "\n" + hint
        ctx.say(text, slot_buttons(ctx, picker.flow, picker.codes["slot"], shown) + (back,))

    def typed(self, picker: TimePicker, ctx: Context, state: PickerState, text: str, found: Meaning,
              cal: Calendar) -> None:
        t = ctx.t
        if isinstance(found, Refuse):
            ctx.say(found.text)
        elif isinstance(found, ShowDay):
            picker.ask_slot(ctx, found.day, cal=cal)
        elif isinstance(found, Passed):
            ctx.say(t("{when} has already passed. Please pick a time in the future.",
                      when=t.when(found.at) if found.at else t.day(local_day_bounds(ctx.person.timezone, found.day)[0])))
        elif isinstance(found, Ask):
            choices = tuple(picker.button(ctx, c.label, "slot", slot_arg(c.at)) if c.at is not None
                            else picker.button(ctx, c.label, "day", c.day.isoformat() if c.day else "")
                            for c in found.choices)
            ctx.say(found.question, (choices, (picker.button(ctx, t("Another day"), "back"),)))
        else:
            self.pick(picker, ctx, state, found.at, found.notes, cal)

    def pick(self, picker: TimePicker, ctx: Context, state: PickerState, at: datetime, notes: Sequence[str],
             cal: Calendar) -> None:
        """A new time, checked against the expert's calendar: the move's confirmation, or why not."""
        t = ctx.t
        seen = _moving(ctx)
        problem = cal.problem(at, state.minutes)
        if problem is None and at == seen.the_meeting.start:
            ctx.say(t("That is when the meeting already is. Pick another time, or keep it as it is."))
            return
        if problem is None:
            picker.finish(ctx, at, notes)
            return
        near = nearest(cal.free(state.minutes, step=SLOT_GRID, start=at - _AROUND, end=at + _AROUND), at, _NEARBY)
        lines = [t("{when} does not work:", when=t.both(at, seen.other_tz)),
                 explain(t, SlotUnavailable("", reason=problem.value))]
        buttons: tuple[tuple[Button, ...], ...] = ()
        if near:
            lines.append(t("Free times nearby:"))
            lines.append(slots_text(ctx, near, seen.other_tz))
            buttons = slot_buttons(ctx, picker.flow, picker.codes["slot"], near)
        ctx.say("\n".join(lines), buttons + ((picker.button(ctx, t("Another day"), "back"),),))


MOVE_PICKER = TimePicker(NAME, {"day": Act.RESCHEDULE_DAY, "slot": Act.RESCHEDULE_SLOT,
                                "back": Act.RESCHEDULE_BACK}, MoveWording())
PICKER_CODES = frozenset({Act.RESCHEDULE_DAY, Act.RESCHEDULE_SLOT, Act.RESCHEDULE_BACK})
OLD_STEPS = {"rs_day": "day", "rs_slot": "slot"}  # a move saved before the picker was shared: adopted


def _picking(ctx: Context) -> bool:
    """The time picker is on top of the move. A move saved mid-way by the older code (at "rs_day" or
    "rs_slot", its day in its own data) gets the picker put on top of it at the same place."""
    if ctx.convo.flow != NAME:
        return False
    if ctx.data.get(ACTIVE) == PICKER_DIALOG:
        return True
    old = OLD_STEPS.get(ctx.convo.step)
    if old is None or not isinstance(ctx.data.get("booking"), int) or not isinstance(ctx.data.get("meeting"), int):
        return False
    day = parse_day_arg(str(ctx.data.pop("day", "")))
    _pick(ctx, load(ctx, ctx.data["booking"], ctx.data["meeting"]), show=False,
          step=old if day is not None else "day", day=day)
    return True


def _pick(ctx: Context, seen: Seen, *, show: bool = True, step: str = "day", day: date | None = None) -> None:
    """The time picker on top of the move (at its step "rs_confirm"), for this meeting's length; shown, or
    only put there for a press or typed words to go to."""
    meeting = seen.the_meeting
    assert meeting.id is not None
    state = PickerState(seen.booking.expert_id, meeting.minutes, moving=[meeting.id], skip=[meeting.start], day=day)
    ctx.step("rs_confirm")
    if show:
        MOVE_PICKER.begin(ctx, MOVE, state, resume="rs_confirm")
        return
    data: dict[str, Any] = {}
    state.save(data)
    begin(ctx, MOVE, MOVE_PICKER.dialog, data, step=step, resume="rs_confirm", show=False)


def _pick_again(ctx: Context, *, show: bool) -> None:
    """From the confirmation: the picker again ("Pick another time", another day or time pressed or typed)."""
    _pick(ctx, _moving(ctx), show=show)


def _move_confirm(ctx: Context, at: datetime, *, notes: Sequence[str] = ()) -> None:
    """Always echo the new time back, with what the move costs, before anything changes."""
    t = ctx.t
    seen = load(ctx, ctx.data["booking"], ctx.data["meeting"])
    meeting = seen.the_meeting
    c = bs.reschedule_preview(ctx.uow, ctx.clock, policy=ctx.policy, booking_id=ctx.data["booking"], meeting_id=ctx.data["meeting"],
                              actor_id=ctx.person.id or 0)
    ctx.step("rs_confirm", at=minutes_of(at))  # one encoding for an instant: epoch minutes
    lines = list(notes)  # what the typed words left to us, said before the question
    lines.append(t("Move “{title}” from {old} to {new}?", title=seen.title,
                   old=t.both(meeting.start, seen.other_tz), new=t.both(at, seen.other_tz)))
    lines.append(move_words(t, c, meeting.price_milli, meeting.reschedule_count, ctx.policy))
    ctx.say("\n".join(lines), (
        (ctx.step_button(t("Confirm new time"), NAME, Act.CONFIRM_RESCHEDULE),
         ctx.step_button(t("Pick another time"), NAME, Act.RESCHEDULE_BACK)),
        (ctx.step_button(t("Keep it as it is"), NAME, Act.KEEP),),
    ))


def _moved_to(ctx: Context, result: Mapping[str, Any]) -> None:
    """The picker's result: the new time to confirm."""
    slots = result.get("slots")
    at = instant(slots[0]) if isinstance(slots, list) and slots else None
    if at is None:
        ctx.finish()
        return
    notes = result.get("notes")
    _move_confirm(ctx, at, notes=[str(n) for n in notes] if isinstance(notes, list) else [])


def _confirm_again(ctx: Context) -> None:
    at = _chosen(ctx.data.get("at"))
    if at is not None:
        _move_confirm(ctx, at)


MOVE_PICKER.callers[MOVE] = Dialog(MOVE, NAME, [Step("rs_confirm", _confirm_again, on_result=_moved_to)])


def _side_of(seen: Seen) -> Side:
    return Side(seen.is_client, seen.other_tz, seen.expert.name, seen.client.name)


def _available(ctx: Context) -> int:
    return sum(w.available for w in ctx.uow.credits.wallets_for(ctx.person.id or 0))


def _tell_reason(ctx: Context, seen: Seen, reason: str, *, technical: bool) -> None:
    """The other side hears why (the engine's own notice says that it was cancelled)."""
    other = seen.client if not seen.is_client else ctx.uow.people.get(seen.expert.person_id or 0)
    if other is None or other.id is None:
        return
    t = Translator(other.locale, other.timezone)
    text = (t("{name} cancelled “{title}” because of a technical problem.", name=ctx.person.name, title=seen.title)
            if technical else
            t("{name} cancelled “{title}”. Their reason: {reason}", name=ctx.person.name, title=seen.title, reason=reason))
    ctx.notify(other.id, Reply(text), key=f"{ctx.incoming.event_id}:cancel-reason:{other.id}")


# ---------------------------------------------------------------- reviews


class ReviewFlow(Flow):
    """1-5 stars (a tap), a short review (or Skip), a private note for the programme (or Skip)."""

    name = REVIEW
    actions = {ReviewAct.PICK: (Id(),), ReviewAct.STARS: (Id(), Int(1, 5)), ReviewAct.SKIP: (Stamp(),)}

    def start(self, ctx: Context, args: str) -> None:  # no command: reached by buttons only
        outdated(ctx)

    def _reviewable(self, ctx: Context, booking_id: int) -> Seen | None:
        """The session if this person may still review it; already reviewed -> a polite answer, None."""
        seen = load(ctx, booking_id)
        if not any(m.status in TOOK_PLACE for m in seen.booking.meetings):
            raise InvalidTransition("a session can be reviewed once a meeting has taken place", reason="not_yet_held")
        if ctx.uow.bookings.has_review(booking_id, ctx.person.id or 0):
            ctx.say(ctx.t("You have already reviewed “{title}”. Thank you!", title=seen.title))
            return None
        return seen

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        t = ctx.t
        if action == ReviewAct.PICK:
            ids = ints(args, 1)
            if ids is None:
                outdated(ctx)
                return
            seen = self._reviewable(ctx, ids[0])
            if seen is not None:
                ctx.say(t("How was “{title}” with {name}? Tap the stars.", title=seen.title, name=seen.other_name),
                        (star_buttons(ids[0]),))
            return
        if action == ReviewAct.STARS:
            ids = ints(args, 2)
            if ids is None or not 1 <= ids[1] <= 5:
                outdated(ctx)
                return
            seen = self._reviewable(ctx, ids[0])
            if seen is None:
                return
            ctx.goto(REVIEW, "text", booking=ids[0], stars=ids[1], text="")
            ctx.say(t("Thanks: {stars} for “{title}”. Would you add a short review? Type a sentence or two, or "
                      "press Skip.", stars=_stars(ids[1]), title=seen.title),
                    ((ctx.step_button(t("Skip"), REVIEW, ReviewAct.SKIP),),), replace=True)
            return
        if action == ReviewAct.SKIP and ctx.pressed_current(REVIEW, args):
            if ctx.convo.step == "text":
                self._ask_note(ctx)
                return
            if ctx.convo.step == "note":
                self._save(ctx, "")
                return
        outdated(ctx)

    def on_text(self, ctx: Context, text: str) -> None:
        text = text.strip()
        if ctx.convo.step not in ("text", "note"):
            super().on_text(ctx, text)
            return
        if not text:
            ctx.say(ctx.t("Type a few words, or press Skip."))
            return
        if len(text) > REVIEW_MAX:
            ctx.say(ctx.t.plural("Please keep it under {n} character; it is {length} now.",
                                     "Please keep it under {n} characters; it is {length} now.", REVIEW_MAX, length=len(text)))
            return
        if ctx.convo.step == "text":
            ctx.data["text"] = text
            self._ask_note(ctx)
        else:
            self._save(ctx, text)

    def _ask_note(self, ctx: Context) -> None:
        ctx.step("note")
        ctx.say(ctx.t("Anything the programme team should know? This note is private: only programme staff see it. "
                      "Type it, or press Skip."), ((ctx.step_button(ctx.t("Skip"), REVIEW, ReviewAct.SKIP),),))

    def _save(self, ctx: Context, note: str) -> None:
        t = ctx.t
        booking_id, stars, text = ctx.data["booking"], ctx.data["stars"], ctx.data.get("text", "")
        seen = load(ctx, booking_id)
        bs.leave_review(ctx.uow, booking_id=booking_id, author_id=ctx.person.id or 0, stars=stars, text=text,
                        private_note=note)
        ctx.finish()
        lines = [t("Thank you! Your review of “{title}” is saved ({stars}).", title=seen.title, stars=_stars(stars))]
        if note:
            lines.append(t("Your private note goes to the programme team only."))
        ctx.say("\n".join(lines))


def _chosen(stored: object) -> datetime | None:
    """The new time a move waits to confirm: epoch minutes (a draft saved before held an ISO string)."""
    if isinstance(stored, str) and "T" in stored:
        try:
            at = datetime.fromisoformat(stored)
        except ValueError:
            return None
        return at if at.tzinfo is not None else None
    return instant(stored)
