"""Client and mentor write to each other about a session; the bot passes each message on to the other side's
chat. One thread per booking. The rules live here, checked on every message:

- only the two sides of a confirmed or held session write (not a request, a decline or a cancellation);
- the thread closes a number of days after the last meeting (the programme's `relay_days`, 30 on the
  marketplace);
- at most DAILY_LIMIT messages per person per session in any 24 hours;
- a recipient whose platform refused a relayed message as blocked gets no more until something reaches
  them again (they wrote to the bot, which answered);
- programme staff read a thread only for their own programme's sessions, and only once there is a reason to:
  a no-show was reported or a side left a low review (a complaint). Each reading is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.errors import InvalidSession, InvalidTransition, NotAllowed, NotFound
from core.lifecycle import BookingStatus, MeetingStatus
from core.model import Booking, RelayMessage, RelayState
from core.ports import UnitOfWork
from core.staff import StaffAction
from core.staff_access import require_staff
from core.text import clean_text

TEXT_MAX = 2000
DAILY_LIMIT = 20
MARKETPLACE_DAYS = 30  # the open marketplace has no programme to set it
THREAD_SHOWN = 5  # messages shown before typing a new one
STAFF_SHOWN = 50
COMPLAINT_STARS = 2  # a review with this many stars or fewer counts as a complaint staff may look into

_HELD = frozenset({MeetingStatus.CONFIRMED, MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW_CLIENT,
                   MeetingStatus.NO_SHOW_EXPERT})
_NO_SHOW = frozenset({MeetingStatus.NO_SHOW_CLIENT, MeetingStatus.NO_SHOW_EXPERT})


@dataclass(frozen=True, slots=True)
class Sides:
    """A booking seen by one of its two sides: who writes, and to whom the message goes."""

    booking: Booking
    author_id: int
    recipient_id: int
    author_is_client: bool
    open_until: datetime


def open_until(uow: UnitOfWork, booking: Booking) -> datetime | None:
    """When the thread closes: the programme's days after the end of the last meeting that is (or was) on;
    None when no meeting ever was (a request, a decline)."""
    held = [m.end for m in booking.meetings if m.status in _HELD]
    if not held:
        return None
    days = MARKETPLACE_DAYS
    if booking.programme_id is not None:
        programme = uow.people.programme(booking.programme_id)
        days = programme.relay_days if programme is not None else MARKETPLACE_DAYS
    return max(held) + timedelta(days=days)


def sides(uow: UnitOfWork, clock: Clock, *, booking_id: int, author_id: int) -> Sides:
    """Everything but the text checked: the flow asks this before the person types anything."""
    booking = uow.bookings.get(booking_id)
    expert = uow.experts.get(booking.expert_id) if booking is not None else None
    if booking is None or expert is None or expert.person_id is None:
        raise NotFound(f"no booking {booking_id}", reason="booking_not_found")
    if author_id == booking.client_id:
        recipient, is_client = expert.person_id, True
    elif author_id == expert.person_id:
        recipient, is_client = booking.client_id, False
    else:
        raise NotAllowed("only the client or the expert of this session can write about it", reason="not_a_party")
    until = open_until(uow, booking)
    if until is None or booking.status not in (BookingStatus.ACCEPTED, BookingStatus.COMPLETED,
                                               BookingStatus.CANCELLED):
        raise InvalidTransition("messages are for confirmed and past sessions", reason="relay_not_confirmed")
    if clock.now() > until:
        raise InvalidTransition("this session's messages closed", reason="relay_closed", until=until)
    if uow.relay.count_since(booking_id, author_id, clock.now() - timedelta(days=1)) >= DAILY_LIMIT:
        raise InvalidTransition("too many messages today", reason="relay_daily_limit", limit=DAILY_LIMIT)
    if uow.relay.recipient_blocked(recipient):
        raise InvalidTransition("the other side blocked the bot", reason="relay_blocked")
    return Sides(booking, author_id, recipient, is_client, until)


def clean_message(text: str) -> str:
    """The text as it will be kept and passed on, or a refusal (empty, too long)."""
    text = clean_text(text).strip()
    if not text:
        raise InvalidSession("a message needs some words", reason="relay_empty")
    if len(text) > TEXT_MAX:
        raise InvalidSession(f"keep a message under {TEXT_MAX} characters", reason="relay_too_long",
                             limit=TEXT_MAX, length=len(text))
    return text


def send_relay_message(uow: UnitOfWork, clock: Clock, *, booking_id: int, author_id: int, text: str) -> RelayMessage:
    """Store the message for the other side, with every rule checked; the caller passes it on (its key:
    relay_key(message)) so that a refusal by the recipient's platform finds its way back here."""
    checked = sides(uow, clock, booking_id=booking_id, author_id=author_id)
    message = RelayMessage(booking_id, author_id, checked.recipient_id, clean_message(text), clock.now())
    return uow.relay.add(message)


def relay_key(message: RelayMessage) -> str:
    """The outbox key of the message's delivery (the outbox puts the platform in front)."""
    return f"relay:{message.id}"


def message_of_key(key: str) -> int | None:
    """The relayed message an outbox key delivers ("telegram:relay:12" -> 12), else None."""
    _platform, _, rest = key.partition(":")
    kind, _, number = rest.partition(":")
    return int(number) if kind == "relay" and number.isdigit() and len(number) < 13 else None


def thread(uow: UnitOfWork, clock: Clock, *, booking_id: int, person_id: int,
           limit: int = THREAD_SHOWN) -> list[RelayMessage]:
    """The newest messages of a session's thread, for one of its two sides."""
    sides_of(uow, booking_id=booking_id, person_id=person_id)
    return uow.relay.thread(booking_id, limit)


def sides_of(uow: UnitOfWork, *, booking_id: int, person_id: int) -> Booking:
    booking = uow.bookings.get(booking_id)
    expert = uow.experts.get(booking.expert_id) if booking is not None else None
    if booking is None or expert is None:
        raise NotFound(f"no booking {booking_id}", reason="booking_not_found")
    if person_id not in (booking.client_id, expert.person_id):
        raise NotAllowed("only the client or the expert of this session can read its messages", reason="not_a_party")
    return booking


def thread_for_staff(uow: UnitOfWork, clock: Clock, *, staff_id: int, booking_id: int,
                     limit: int = STAFF_SHOWN) -> list[RelayMessage]:
    """Staff of the session's programme read its thread once a no-show or a complaint gives them a reason;
    the reading is logged. Staff of another programme (and anyone for a marketplace session) are refused
    without learning whether there is anything to read."""
    booking = uow.bookings.get(booking_id)
    if booking is None:
        raise NotAllowed("only staff of this programme can do that", reason="not_staff")
    require_staff(uow, staff_id, booking.programme_id)
    if not _reason_to_read(uow, booking):
        raise NotAllowed("no no-show or complaint was reported for this session", reason="relay_no_reason")
    now = clock.now()
    uow.programmes.log(StaffAction(
        key=f"read_relay:{booking_id}:{staff_id}:{now.isoformat()}", action="read_messages",
        programme_id=booking.programme_id, actor_id=staff_id, created_at=now, booking_id=booking_id,
        subject=f"booking {booking_id}",
    ))
    return uow.relay.thread(booking_id, limit)


def _reason_to_read(uow: UnitOfWork, booking: Booking) -> bool:
    if any(m.status in _NO_SHOW for m in booking.meetings):
        return True
    assert booking.id is not None
    reviews = uow.bookings.reviews_for([booking.id]).get(booking.id, [])
    return any(r.stars <= COMPLAINT_STARS for r in reviews)


def delivery_refused(uow: UnitOfWork, clock: Clock, *, message_id: int, blocked: bool) -> RelayMessage | None:
    """The recipient's platform gave up on a relayed message. Returns the message when this call found the
    recipient blocked for its author (who is told, once per blocking); None when it failed for another reason,
    was marked before, or the author already knows."""
    message = uow.relay.get(message_id)
    if message is None or message.state is not RelayState.SENT:
        return None
    told = blocked and uow.relay.recipient_blocked(message.recipient_id, author_id=message.author_id)
    state = RelayState.BLOCKED if blocked else RelayState.FAILED
    if not uow.relay.mark(message_id, state, clock.now()) or not blocked or told:
        return None  # a second message refused in the same blocking: its author was told with the first
    return message
