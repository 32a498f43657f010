"""Turn what the engine did (core events) into messages for each person involved, in their
language and timezone, with the buttons they need to answer. Confirmations and changes carry a
calendar invite, and go by email as well where that is set up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from core.events import (
    BookingAccepted,
    BookingDeclined,
    BookingEvent,
    BookingExpired,
    BookingRequested,
    BookingTriage,
    BookingWithdrawn,
    Event,
    MeetingCancelled,
    MeetingCompleted,
    MeetingEvent,
    MeetingRescheduled,
    NoShowReported,
    ProposalDeclined,
    ReviewAnswered,
    ReviewLeft,
    SeriesRequested,
    StaffNoShow,
    TimesProposed,
    WaitlistOffer,
)
from core.waitlist_service import react as waitlist_react
from core.experts import Expert
from core.files import parse_ref as parse_file_ref
from core.lifecycle import BookingStatus, MeetingStatus
from core.policy import NoShowParty
from core.model import Booking, Meeting, Person
from bot.calendar import invite
from bot.flows.base import Notice
from bot.flows.book import again_button
from bot.flows.relay import message_button
from bot.flows.requests import proposal_buttons, request_card, series_card, whole_series
from bot.flows.sessions import list_button, no_show_button, star_buttons
from bot.flows.staff import triage_buttons
from bot.flows.series_words import how_often
from bot.i18n import Translator
from bot.links import meeting_url
from bot.replies import FileOut, Reply
from bot.relay_notices import staff_no_show
from bot.review_notices import review_notices
from bot.waitlist_notices import offer_notice
from bot.words import summary
from storage.uow import SqlUnitOfWork


Told = list[tuple[Person, Reply]]  # who is told what


@dataclass(frozen=True, slots=True)
class _Scene:
    """What one booking event's notices are written from: the booking (read once) and its parties."""

    uow: SqlUnitOfWork
    booking: Booking
    expert: Expert
    expert_person: Person
    client: Person
    actor_id: int | None  # who caused the event: the flow has already told them what they did

    @property
    def tc(self) -> Translator:
        return _t(self.client)

    @property
    def te(self) -> Translator:
        return _t(self.expert_person)

    @property
    def title(self) -> str:
        return self.booking.details.title

    @property
    def booking_id(self) -> int:
        assert self.booking.id is not None  # loaded from the database
        return self.booking.id


def event_notices(
    uow: SqlUnitOfWork, events: Iterable[Event], key_prefix: str, actor_id: int | None = None,
) -> list[Notice]:
    """`actor_id`: who caused the events; the flow has already told them what they did.

    Time freed in these events is first offered to the expert's waitlist, in the same transaction: every
    caller that turns events into messages passes here, so no opening is missed."""
    notices: list[Notice] = []
    events = list(events)
    events += waitlist_react(uow, uow.clock, events)
    series = _series_groups(uow, events)
    for n, event in enumerate(events):
        if isinstance(event, WaitlistOffer):
            offer = offer_notice(uow, event)
            if offer is not None and offer[0].id is not None:
                notices.append(Notice(offer[0].id, offer[1], f"{key_prefix}:e{n}:{event.name}:{offer[0].id}"))
            continue
        group = series.get(n)
        if not isinstance(event, BookingEvent) or (group is None and type(event) not in _RENDER):
            continue  # nothing to tell (a staff refund; a series request without its occurrences' requests)
        found = uow.bookings.with_parties(event.booking_id)
        if found is None or found.expert.person_id is None:
            continue
        booking, expert, client = found.booking, found.expert, found.client
        expert_person = uow.people.get(found.expert.person_id)
        assert expert_person is not None
        scene = _Scene(uow, booking, expert, expert_person, client, actor_id)
        seen: dict[int, int] = {}
        if group is None:
            render = _RENDER.get(type(event))
            chat = render(scene, event) if render is not None else []
        else:  # a series: its first event speaks for all of them, the others add only their invites
            chat = _SERIES_RENDER[type(event)](scene, event, group) if group else []
        invites = _invites(uow, event, booking, expert, expert_person, client)
        emails = _emails(event, booking, expert, expert_person, client, invites)
        if isinstance(event, BookingRequested):
            emails += request_mail(uow, booking, expert, expert_person, client)
        for platform, person, reply in [*((None, who, r) for who, r in chat + invites),
                                        *(("email", who, r) for who, r in emails)]:
            assert person.id is not None
            m = seen[person.id] = seen.get(person.id, -1) + 1  # a person's second message needs its own key
            suffix = f":{m}" if m else ""
            notices.append(Notice(person.id, reply, f"{key_prefix}:e{n}:{event.name}:{person.id}{suffix}",
                                  platform=platform))
    return notices


Group = list[tuple[BookingEvent, Booking]]  # the events of one series and step, with their bookings


def _series_groups(uow: SqlUnitOfWork, events: list[Event]) -> dict[int, Group]:
    """Event index -> the series' events of the same kind (on its first one; [] on the others). A series
    request's card replaces the requests of each occurrence; events of a series that happen alone stay as they are."""
    named: dict[tuple[type[BookingEvent], int], list[tuple[int, BookingEvent, Booking]]] = {}
    requested = {e.series_id for e in events if isinstance(e, SeriesRequested)}
    for n, event in enumerate(events):
        if not isinstance(event, BookingEvent) or event.series_id is None:
            continue
        kind: type[BookingEvent]
        if isinstance(event, BookingRequested) and event.series_id in requested:
            kind = SeriesRequested
        elif type(event) in _SERIES_RENDER:
            kind = type(event)
        else:
            continue
        booking = uow.bookings.get(event.booking_id)
        if booking is None:
            continue
        named.setdefault((kind, event.series_id), []).append((n, event, booking))
    out: dict[int, Group] = {}
    for (kind, _), members in named.items():
        requests = sum(1 for _, e, _ in members if isinstance(e, BookingRequested))
        if (kind is SeriesRequested and (not requests or requests == len(members))) or len(members) < 2:
            continue  # a series request without its card's event (or in triage), or one event alone
        members.sort(key=lambda m: (not isinstance(m[1], SeriesRequested), m[0]))
        whole = [(e, b) for _, e, b in members if not isinstance(e, SeriesRequested)]
        for i, (n, _, _) in enumerate(members):
            out[n] = whole if i == 0 else []
    return out


# What a series says once for all its occurrences, when one step does the same to several of them.

def _series_requested(s: _Scene, event: SeriesRequested, group: Group) -> Told:
    bookings = [b for _, b in group]
    waiting = [b for b in bookings if b.status is BookingStatus.REQUESTED]
    if not waiting:  # in triage first: staff see each occurrence
        return []
    return [(s.expert_person, series_card(waiting, s.expert, s.expert_person, s.client, event.frequency)),
            *((s.expert_person, reply) for reply in attachments(s.uow, whole_series(bookings)))]


def _series_accepted(s: _Scene, event: BookingAccepted, group: Group) -> Told:
    whole, n = whole_series([b for _, b in group]), len(group)
    out = []
    for person, t, for_expert in ((s.client, s.tc, False), (s.expert_person, s.te, True)):
        text = "\n".join([t("Confirmed: your series is booked ({how}).", how=how_often(t, None, n)),
                          summary(t, whole, s.expert, s.client, for_expert=for_expert),
                          t("Each session's join link is in its calendar invite and in /sessions.")])
        out.append((person, Reply(text, ((list_button(t),),))))
    return out


def _series_declined(s: _Scene, event: BookingDeclined, group: Group) -> Told:
    whole, n, tc = whole_series([b for _, b in group]), len(group), s.tc
    text = tc("{expert} could not take the series “{title}” ({how}). Your credits are back.",
              expert=s.expert.name, title=whole.details.title, how=how_often(tc, None, n))
    if whole.decline_reason:
        text += "\n" + tc("Their note: {reason}", reason=whole.decline_reason)
    return [(s.client, Reply(text, ((again_button(tc),),)))]


def _series_withdrawn(s: _Scene, event: BookingWithdrawn, group: Group) -> Told:
    whole, n, te = whole_series([b for _, b in group]), len(group), s.te
    return [(s.expert_person, Reply(te("{client} withdrew the series “{title}” ({how}).", client=s.client.name,
                                       title=whole.details.title, how=how_often(te, None, n))))]


def _series_cancelled(s: _Scene, event: MeetingCancelled, group: Group) -> Told:
    """The rest of a series, cancelled at once; the one who did it was answered already."""
    title = whole_series([b for _, b in group]).details.title
    cancelled = [(e, b) for e, b in group if isinstance(e, MeetingCancelled)]
    refund = sum(e.refund_milli for e, _ in cancelled)
    out = []
    for person, t, other_tz, side in ((s.client, s.tc, s.expert.timezone, "client"),
                                      (s.expert_person, s.te, s.client.timezone, "expert")):
        if event.by == side:
            continue
        lines = [t("The remaining sessions of “{title}” are cancelled:", title=title)]
        lines += [t("• {when}, {minutes} min", when=t.both(e_b.meeting(e.meeting_id).start, other_tz),
                    minutes=e_b.meetings[0].minutes) for e, e_b in cancelled]
        if person is s.client:
            lines.append(t.plural("{credits} credit is back in your balance.",
                                  "{credits} credits are back in your balance.",
                                  t.credits_n(refund), credits=t.credits(refund)) if refund
                         else t("No credits are refunded for this cancellation."))
        out.append((person, Reply("\n".join(lines))))
    return out


_SERIES_RENDER: dict[type[BookingEvent], Callable[[_Scene, Any, Group], Told]] = {
    SeriesRequested: _series_requested,
    BookingAccepted: _series_accepted,
    BookingDeclined: _series_declined,
    BookingWithdrawn: _series_withdrawn,
    MeetingCancelled: _series_cancelled,
}


# The events that put a meeting in (or take it out of) people's calendars: these carry an invite, and go
# by email as well to whoever has an address.
_CALENDAR_EVENTS = (BookingAccepted, MeetingRescheduled, MeetingCancelled)


def _invites(
    uow: SqlUnitOfWork, event: BookingEvent, booking: Booking, expert: Expert, expert_person: Person, client: Person,
) -> list[tuple[Person, Reply]]:
    """An .ics per affected meeting for both sides, the one who made the change too: their calendar needs it
    as much as the other side's. Empty text: the file follows the message that explains it."""
    if not isinstance(event, _CALENDAR_EVENTS):
        return []
    assert booking.id is not None
    cancelled = isinstance(event, MeetingCancelled)
    url = meeting_url(expert, booking.id)
    stamp = uow.clock.now()
    return [
        (person, Reply("", file=invite(booking, meeting, expert, client, expert_person, url=url, cancelled=cancelled,
                                       for_expert=person is expert_person, stamp=stamp)))
        for person in (client, expert_person)
        for meeting in _affected(event, booking)
    ]


def _affected(event: BookingEvent, booking: Booking) -> list[Meeting]:
    if isinstance(event, BookingAccepted):
        return [m for m in booking.meetings if m.status is MeetingStatus.CONFIRMED]
    return [booking.meeting(event.meeting_id) if isinstance(event, MeetingEvent) else booking.meetings[0]]


def _emails(
    event: BookingEvent, booking: Booking, expert: Expert, expert_person: Person, client: Person,
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


def _news(event: BookingEvent, booking: Booking, expert: Expert, expert_person: Person, client: Person,
          person: Person) -> str:
    """What happened, as the chat says it (without buttons: an email cannot press them)."""
    if isinstance(event, BookingAccepted):
        return confirmation(booking, expert, person, client, for_expert=person is expert_person).text
    assert isinstance(event, _MEETING_CHANGES)  # the other calendar events
    other_tz = expert.timezone if person is client else client.timezone
    return _meeting_news(_t(person), event, booking, booking.meeting(event.meeting_id), other_tz,
                         for_client=person is client)


def _t(person: Person) -> Translator:
    return Translator(person.locale, person.timezone)


def attachment_files(uow: SqlUnitOfWork, booking: Booking) -> list[FileOut]:
    """The files the client sent with the request, as references the senders read (a stored file that was
    deleted meanwhile is left out)."""
    found = {ref: parsed for ref in booking.details.attachments if (parsed := parse_file_ref(ref)) is not None}
    stored = uow.files.get_many([file_id for file_id, _ in found.values()]) if found else {}
    out = []
    for ref in booking.details.attachments:
        if ref in found:
            file = stored.get(found[ref][0])
            if file is not None:
                out.append(FileOut(file.name, file.content_type, ref=ref))
        else:  # a platform's own reference, from before files were stored
            out.append(FileOut(ref.partition("#")[2] or "attachment", "application/octet-stream", ref=ref))
    return out


def attachments(uow: SqlUnitOfWork, booking: Booking) -> list[Reply]:
    """The files the client sent with the request, each as its own message after the card."""
    return [Reply("", file=file) for file in attachment_files(uow, booking)]


def request_mail(uow: SqlUnitOfWork, booking: Booking, expert: Expert, expert_person: Person,
                 client: Person) -> list[tuple[Person, Reply]]:
    """A request with files goes by email as well, the files attached (the dispatcher keeps the mail within
    its size limit, linking what does not fit), so a deck reaches an inbox too; it is answered in the chat,
    where the buttons are. A request without files is not mailed: email is for what is settled."""
    if not expert_person.email or not booking.details.attachments:
        return []
    files = tuple(attachment_files(uow, booking))
    if not files:
        return []
    card = request_card(booking, expert, expert_person, client)
    return [(expert_person, Reply(card.text, attachments=files))]


def confirmation(booking: Booking, expert: Expert, person: Person, client: Person, *, for_expert: bool) -> Reply:
    t = _t(person)
    assert booking.id is not None
    text = "\n".join([
        t("Confirmed: your session is booked."),
        summary(t, booking, expert, client, for_expert=for_expert),
        t("Join: {url}", url=meeting_url(expert, booking.id)),
    ])
    other = client.name if for_expert else expert.name
    return Reply(text, ((list_button(t), message_button(t, booking.id, other)),))


# One renderer per kind of event (a series' steps have theirs above): who hears of it, and what they read.

def _requested(s: _Scene, event: BookingRequested) -> Told:
    tc, client = s.tc, s.client
    told = [] if s.actor_id == client.id else [  # a reassignment by staff: the client hears where it went
        (client, Reply(tc("Your request “{title}” is with {expert}. The slots are held for you; I will tell you "
                          "as soon as they answer (by {when} at the latest).",
                          title=s.title, expert=s.expert.name, when=tc.when(s.booking.expires_at)))),
    ]
    return [
        (s.expert_person, request_card(s.booking, s.expert, s.expert_person, client)),
        *((s.expert_person, reply) for reply in attachments(s.uow, s.booking)),
        *told,
    ]


def _triage(s: _Scene, event: BookingTriage) -> Told:
    tc, client, expert = s.tc, s.client, s.expert
    staff = s.uow.people.staff()
    out: Told = [] if s.actor_id == client.id else [
        (client, Reply(tc("Your request “{title}” is with your programme staff first; then it goes to {expert}. "
                          "The slots are held for you.", title=s.title, expert=expert.name)))]
    for member in staff:
        ts = _t(member)
        out.append((member, Reply(
            ts("Triage: {client} asks {expert} for a session.", client=client.name, expert=expert.name) + "\n"
            + summary(ts, s.booking, expert, client, for_expert=True),
            (triage_buttons(ts, s.booking_id),),
        )))
    return out


def _accepted(s: _Scene, event: BookingAccepted) -> Told:
    return [
        (s.client, confirmation(s.booking, s.expert, s.client, s.client, for_expert=False)),
        (s.expert_person, confirmation(s.booking, s.expert, s.expert_person, s.client, for_expert=True)),
    ]


def _declined(s: _Scene, event: BookingDeclined) -> Told:
    tc, reason = s.tc, s.booking.decline_reason
    if event.by == "staff":
        text = tc("Your programme staff did not pass “{title}” on to {expert}. Your credits are back.",
                  expert=s.expert.name, title=s.title)
    else:
        text = tc("{expert} could not take “{title}”. Your credits are back.", expert=s.expert.name, title=s.title)
    if reason:
        text += "\n" + tc("Their note: {reason}", reason=reason)
    return [(s.client, Reply(text, ((again_button(tc),),)))]


def _expired(s: _Scene, event: BookingExpired) -> Told:
    tc, te = s.tc, s.te
    return [
        (s.client, Reply(tc("{expert} did not answer “{title}” in time, so the request expired and your credits "
                            "are back.", expert=s.expert.name, title=s.title),
                         ((again_button(tc),),))),
        (s.expert_person, Reply(te("The request “{title}” from {client} expired without an answer.",
                                   title=s.title, client=s.client.name))),
    ]


def _withdrawn(s: _Scene, event: BookingWithdrawn) -> Told:
    return [(s.expert_person, Reply(s.te("{client} withdrew the request “{title}”.", client=s.client.name,
                                         title=s.title)))]


def _times_proposed(s: _Scene, event: TimesProposed) -> Told:
    tc = s.tc
    lines = [tc("{expert} suggests other times for “{title}”:", expert=s.expert.name, title=s.title)]
    lines += [tc("• {when}, {minutes} min", when=tc.both(m.start, s.expert.timezone), minutes=m.minutes)
              for m in s.booking.meetings]
    return [(s.client, Reply("\n".join(lines), (proposal_buttons(tc, s.booking_id),)))]


def _proposal_declined(s: _Scene, event: ProposalDeclined) -> Told:
    return [(s.expert_person, Reply(s.te("{client} declined the times you suggested for “{title}”.",
                                         client=s.client.name, title=s.title)))]


_MEETING_CHANGES = (MeetingCancelled, MeetingRescheduled, NoShowReported)
MeetingChange = MeetingCancelled | MeetingRescheduled | NoShowReported


def _meeting_changed(s: _Scene, event: MeetingChange) -> Told:
    meeting = s.booking.meeting(event.meeting_id)
    # Whoever did it was answered in their own chat already; the notice is for the other side.
    if isinstance(event, NoShowReported):
        acted = "client" if event.absent is NoShowParty.EXPERT else "expert"
    else:
        acted = event.by.value
    out = []
    for person, t, other_tz in ((s.client, s.tc, s.expert.timezone), (s.expert_person, s.te, s.client.timezone)):
        if acted == ("client" if person is s.client else "expert"):
            continue
        out.append((person, Reply(_meeting_news(t, event, s.booking, meeting, other_tz,
                                                for_client=person is s.client))))
    return out


def _staff_no_show(s: _Scene, event: StaffNoShow) -> Told:
    return staff_no_show(s.uow, event, s.booking, s.expert, s.client)


def _review(s: _Scene, event: ReviewLeft | ReviewAnswered) -> Told:
    return review_notices(s.uow, event, s.booking, s.expert, s.expert_person, s.client)


def _completed(s: _Scene, event: MeetingCompleted) -> Told:
    # Stars lead on to a review and a private note; the other person not turning up is reported here too.
    return [
        (person, Reply(t("How was “{title}”? Tap the stars to rate it.", title=s.title), (
            star_buttons(s.booking_id),
            (no_show_button(t, s.booking_id, event.meeting_id),),
        )))
        for person, t in ((s.client, s.tc), (s.expert_person, s.te))
    ]


# Event kind -> its notices. A kind not here (a series request on its own, a staff refund) tells nobody.
_RENDER: dict[type[BookingEvent], Callable[[_Scene, Any], Told]] = {
    BookingRequested: _requested,
    BookingTriage: _triage,
    BookingAccepted: _accepted,
    BookingDeclined: _declined,
    BookingExpired: _expired,
    BookingWithdrawn: _withdrawn,
    TimesProposed: _times_proposed,
    ProposalDeclined: _proposal_declined,
    MeetingCancelled: _meeting_changed,
    MeetingRescheduled: _meeting_changed,
    NoShowReported: _meeting_changed,
    StaffNoShow: _staff_no_show,
    ReviewLeft: _review,
    ReviewAnswered: _review,
    MeetingCompleted: _completed,
}


def _meeting_news(
    t: Translator, event: MeetingChange, booking: Booking, meeting: Meeting, other_tz: str, *, for_client: bool,
) -> str:
    """A change to one meeting, in the reader's words: the chat notice and the email share it."""
    title = booking.details.title
    when = t.both(meeting.start, other_tz)
    if isinstance(event, MeetingCancelled):
        text = t("The meeting of “{title}” on {when} is cancelled.", title=title, when=when)
        if for_client:
            refund = event.refund_milli
            text += " " + (t.plural("{credits} credit is back in your balance.",
                                    "{credits} credits are back in your balance.",
                                    t.credits_n(refund), credits=t.credits(refund))
                           if refund else t("No credits are refunded for this cancellation."))
        return text
    if isinstance(event, MeetingRescheduled):
        return t("The meeting of “{title}” moved to {when}.", title=title, when=when)
    return t("A no-show was reported for “{title}” on {when}.", title=title, when=when)
