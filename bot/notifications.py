"""Turn what the engine did (core events) into messages for each person involved, in their
language and timezone, with the buttons they need to answer. Confirmations and changes carry a
calendar invite, and go by email as well where that is set up."""

from __future__ import annotations

from collections.abc import Iterable

from core.events import Event
from core.waitlist import WAITLIST_OFFER
from core.waitlist_service import react as waitlist_react
from core.experts import Expert
from core.lifecycle import MeetingStatus
from core.model import Booking, Meeting, Person
from bot.calendar import invite
from bot.flows.base import Notice
from bot.i18n import Translator
from bot.links import meeting_url
from bot.payloads import p
from bot.replies import Button, FileOut, Reply
from bot.review_notices import review_notices
from bot.waitlist_notices import offer_notice
from bot.words import summary
from storage.uow import SqlUnitOfWork


def event_notices(
    uow: SqlUnitOfWork, events: Iterable[Event], key_prefix: str, actor_id: int | None = None,
) -> list[Notice]:
    """`actor_id`: who caused the events; the flow has already told them what they did.

    Time freed in these events is first offered to the expert's waitlist, in the same transaction: every
    caller that turns events into messages passes here, so no opening is missed."""
    notices: list[Notice] = []
    events = list(events)
    events += waitlist_react(uow, uow.clock, events)
    for n, event in enumerate(events):
        if event.name == WAITLIST_OFFER:
            offer = offer_notice(uow, event)
            if offer is not None and offer[0].id is not None:
                notices.append(Notice(offer[0].id, offer[1], f"{key_prefix}:e{n}:{event.name}:{offer[0].id}"))
            continue
        if event.booking_id is None:
            continue
        booking = uow.bookings.get(event.booking_id)
        if booking is None:
            continue
        expert = uow.experts.get(booking.expert_id)
        client = uow.people.get(booking.client_id)
        if expert is None or client is None or expert.person_id is None:
            continue
        expert_person = uow.people.get(expert.person_id)
        assert expert_person is not None
        seen: dict[int, int] = {}
        chat = _render(uow, event, booking, expert, expert_person, client, actor_id)
        invites = _invites(uow, event, booking, expert, expert_person, client)
        emails = _emails(event, booking, expert, expert_person, client, invites)
        for platform, person, reply in [*((None, who, r) for who, r in chat + invites),
                                        *(("email", who, r) for who, r in emails)]:
            assert person.id is not None
            m = seen[person.id] = seen.get(person.id, -1) + 1  # a person's second message needs its own key
            suffix = f":{m}" if m else ""
            notices.append(Notice(person.id, reply, f"{key_prefix}:e{n}:{event.name}:{person.id}{suffix}",
                                  platform=platform))
    return notices


# The events that put a meeting in (or take it out of) people's calendars: these carry an invite, and go
# by email as well to whoever has an address.
_CALENDAR_EVENTS = ("booking_accepted", "meeting_rescheduled", "meeting_cancelled")


def _invites(
    uow: SqlUnitOfWork, event: Event, booking: Booking, expert: Expert, expert_person: Person, client: Person,
) -> list[tuple[Person, Reply]]:
    """An .ics per affected meeting for both sides, the one who made the change too: their calendar needs it
    as much as the other side's. Empty text: the file follows the message that explains it."""
    if event.name not in _CALENDAR_EVENTS:
        return []
    assert booking.id is not None
    cancelled = event.name == "meeting_cancelled"
    url = meeting_url(expert, booking.id)
    stamp = uow.clock.now()
    return [
        (person, Reply("", file=invite(booking, meeting, expert, client, expert_person, url=url, cancelled=cancelled,
                                       for_expert=person is expert_person, stamp=stamp)))
        for person in (client, expert_person)
        for meeting in _affected(event, booking)
    ]


def _affected(event: Event, booking: Booking) -> list[Meeting]:
    if event.name == "booking_accepted":
        return [m for m in booking.meetings if m.status is MeetingStatus.CONFIRMED]
    return [booking.meeting(event.meeting_id) if event.meeting_id else booking.meetings[0]]


def _emails(
    event: Event, booking: Booking, expert: Expert, expert_person: Person, client: Person,
    invites: list[tuple[Person, Reply]],
) -> list[tuple[Person, Reply]]:
    """The same news by email, one mail per invite: the first says what happened, any further ones (a booking
    of several meetings) name their meeting. Sent only where the dispatcher has email and the person an address."""
    out: list[tuple[Person, Reply]] = []
    for person in (client, expert_person):
        if not person.email:
            continue
        files = [reply.file for who, reply in invites if who is person and reply.file is not None]
        t = _t(person)
        other_tz = expert.timezone if person is client else client.timezone
        meetings = _affected(event, booking)
        for i, (file, meeting) in enumerate(zip(files, meetings)):
            if i == 0:
                text = _news(event, booking, expert, expert_person, client, person)
            else:
                text = t("“{title}”: meeting {n} of {count}, {when}.", title=booking.details.title, n=i + 1,
                         count=len(meetings), when=t.both(meeting.start, other_tz))
            out.append((person, Reply(text, file=file)))
    return out


def _news(event: Event, booking: Booking, expert: Expert, expert_person: Person, client: Person,
          person: Person) -> str:
    """What happened, as the chat says it (without buttons: an email cannot press them)."""
    if event.name == "booking_accepted":
        return confirmation(booking, expert, person, client, for_expert=person is expert_person).text
    meeting = booking.meeting(event.meeting_id) if event.meeting_id else booking.meetings[0]
    other_tz = expert.timezone if person is client else client.timezone
    return _meeting_news(_t(person), event.name, dict(event.data), booking, meeting, other_tz,
                         for_client=person is client)


def _t(person: Person) -> Translator:
    return Translator(person.locale, person.timezone)


def request_card(booking: Booking, expert: Expert, expert_person: Person, client: Person) -> Reply:
    t = _t(expert_person)
    text = "\n".join([
        t("New session request from {name}.", name=client.name),
        summary(t, booking, expert, client, for_expert=True),
        t("Please answer by {when}; the slots are held for you until then.", when=t.when(booking.expires_at)),
    ])
    buttons = ((
        Button(t("Accept"), p("req", "acc", booking.id)),
        Button(t("Decline"), p("req", "dec", booking.id)),
        Button(t("Suggest another time"), p("req", "sug", booking.id)),
    ),)
    return Reply(text, buttons)


def attachments(booking: Booking) -> list[Reply]:
    """The files the client sent with the request, each as its own message after the card."""
    return [Reply("", file=FileOut(ref.partition("#")[2] or "attachment", "application/octet-stream", ref=ref))
            for ref in booking.details.attachments]


def confirmation(booking: Booking, expert: Expert, person: Person, client: Person, *, for_expert: bool) -> Reply:
    t = _t(person)
    assert booking.id is not None
    text = "\n".join([
        t("Confirmed: your session is booked."),
        summary(t, booking, expert, client, for_expert=for_expert),
        t("Join: {url}", url=meeting_url(expert, booking.id)),
    ])
    return Reply(text, ((Button(t("My sessions"), p("ses", "list")),),))


def _render(
    uow: SqlUnitOfWork, event: Event, booking: Booking, expert: Expert, expert_person: Person, client: Person,
    actor_id: int | None = None,
) -> list[tuple[Person, Reply]]:
    tc, te = _t(client), _t(expert_person)
    name = event.name
    title = booking.details.title
    if name == "booking_requested":
        told = [] if actor_id == client.id else [  # a reassignment by staff: the client hears where it went
            (client, Reply(tc("Your request “{title}” is with {expert}. The slots are held for you; I will tell you "
                              "as soon as they answer (by {when} at the latest).",
                              title=title, expert=expert.name, when=tc.when(booking.expires_at)))),
        ]
        return [
            (expert_person, request_card(booking, expert, expert_person, client)),
            *((expert_person, reply) for reply in attachments(booking)),
            *told,
        ]
    if name == "booking_triage":
        staff = uow.people.staff()
        out: list[tuple[Person, Reply]] = [] if actor_id == client.id else [
            (client, Reply(tc("Your request “{title}” is with your programme staff first; then it goes to {expert}. "
                              "The slots are held for you.", title=title, expert=expert.name)))]
        for member in staff:
            ts = _t(member)
            out.append((member, Reply(
                ts("Triage: {client} asks {expert} for a session.", client=client.name, expert=expert.name) + "\n"
                + summary(ts, booking, expert, client, for_expert=True),
                ((Button(ts("Approve"), p("tri", "ok", booking.id)), Button(ts("Reassign"), p("tri", "re", booking.id)),
                  Button(ts("Decline"), p("tri", "no", booking.id))),),
            )))
        return out
    if name == "booking_accepted":
        return [
            (client, confirmation(booking, expert, client, client, for_expert=False)),
            (expert_person, confirmation(booking, expert, expert_person, client, for_expert=True)),
        ]
    if name == "booking_declined":
        reason = booking.decline_reason
        if dict(event.data).get("by") == "staff":
            text = tc("Your programme staff did not pass “{title}” on to {expert}. Your credits are back.",
                      expert=expert.name, title=title)
        else:
            text = tc("{expert} could not take “{title}”. Your credits are back.", expert=expert.name, title=title)
        if reason:
            text += "\n" + tc("Their note: {reason}", reason=reason)
        return [(client, Reply(text, ((Button(tc("Find another expert"), p("book", "again")),),)))]
    if name == "booking_expired":
        return [
            (client, Reply(tc("{expert} did not answer “{title}” in time, so the request expired and your credits "
                              "are back.", expert=expert.name, title=title),
                           ((Button(tc("Find another expert"), p("book", "again")),),))),
            (expert_person, Reply(te("The request “{title}” from {client} expired without an answer.",
                                     title=title, client=client.name))),
        ]
    if name == "booking_withdrawn":
        return [(expert_person, Reply(te("{client} withdrew the request “{title}”.", client=client.name, title=title)))]
    if name == "times_proposed":
        lines = [tc("{expert} suggests other times for “{title}”:", expert=expert.name, title=title)]
        lines += [tc("• {when}, {minutes} min", when=tc.both(m.start, expert.timezone), minutes=m.minutes)
                  for m in booking.meetings]
        return [(client, Reply("\n".join(lines), ((
            Button(tc("Accept these times"), p("req", "pyes", booking.id)),
            Button(tc("Decline"), p("req", "pno", booking.id)),
        ),)))]
    if name == "proposal_declined":
        return [(expert_person, Reply(te("{client} declined the times you suggested for “{title}”.",
                                         client=client.name, title=title)))]
    if name in ("meeting_cancelled", "meeting_rescheduled", "no_show_reported"):
        data = dict(event.data)
        meeting = booking.meeting(event.meeting_id) if event.meeting_id else booking.meetings[0]
        # Whoever did it was answered in their own chat already; the notice is for the other side.
        acted = data.get("by") or {"expert": "client", "client": "expert"}.get(data.get("absent", ""), "")
        out = []
        for person, t, other_tz in ((client, tc, expert.timezone), (expert_person, te, client.timezone)):
            if acted == ("client" if person is client else "expert"):
                continue
            out.append((person, Reply(_meeting_news(t, name, data, booking, meeting, other_tz,
                                                    for_client=person is client))))
        return out
    if name in ("review_left", "review_answered"):
        return review_notices(uow, event, booking, expert, expert_person, client)
    if name == "meeting_completed":
        # Stars lead on to a review and a private note; the other person not turning up is reported here too.
        return [
            (person, Reply(t("How was “{title}”? Tap the stars to rate it.", title=title), (
                tuple(Button("★" * n, p("rev", "star", booking.id, n)) for n in range(1, 6)),
                (Button(t("They did not show up"), p("ses", "ns", booking.id, event.meeting_id or 0)),),
            )))
            for person, t in ((client, tc), (expert_person, te))
        ]
    return []


def _meeting_news(
    t: Translator, name: str, data: dict[str, str], booking: Booking, meeting: Meeting, other_tz: str, *,
    for_client: bool,
) -> str:
    """A change to one meeting, in the reader's words: the chat notice and the email share it."""
    title = booking.details.title
    when = t.both(meeting.start, other_tz)
    if name == "meeting_cancelled":
        text = t("The meeting of “{title}” on {when} is cancelled.", title=title, when=when)
        if for_client:
            refund = int(data.get("refund_milli", "0"))
            text += " " + (t("{credits} credits are back in your balance.", credits=t.credits(refund))
                           if refund else t("No credits are refunded for this cancellation."))
        return text
    if name == "meeting_rescheduled":
        return t("The meeting of “{title}” moved to {when}.", title=title, when=when)
    return t("A no-show was reported for “{title}” on {when}.", title=title, when=when)
