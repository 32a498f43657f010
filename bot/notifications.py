"""Turn what the engine did (core events) into messages for each person involved, in their
language and timezone, with the buttons they need to answer. Confirmations and changes carry a
calendar invite, and go by email as well where that is set up."""

from __future__ import annotations

from collections.abc import Iterable

from core.events import Event
from core.waitlist import WAITLIST_OFFER
from core.waitlist_service import react as waitlist_react
from core.experts import Expert
from core.files import parse_ref as parse_file_ref
from core.lifecycle import BookingStatus, MeetingStatus
from core.recurrence import Frequency
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
        group = series.get(n)
        expert = uow.experts.get(booking.expert_id)
        client = uow.people.get(booking.client_id)
        if expert is None or client is None or expert.person_id is None:
            continue
        expert_person = uow.people.get(expert.person_id)
        assert expert_person is not None
        seen: dict[int, int] = {}
        if group is None:
            chat = _render(uow, event, booking, expert, expert_person, client, actor_id)
        else:  # a series: its first event speaks for all of them, the others add only their invites
            chat = _render_series(uow, event, group, expert, expert_person, client, actor_id) if group else []
        invites = _invites(uow, event, booking, expert, expert_person, client)
        emails = _emails(event, booking, expert, expert_person, client, invites)
        if event.name == "booking_requested":
            emails += request_mail(uow, booking, expert, expert_person, client)
        for platform, person, reply in [*((None, who, r) for who, r in chat + invites),
                                        *(("email", who, r) for who, r in emails)]:
            assert person.id is not None
            m = seen[person.id] = seen.get(person.id, -1) + 1  # a person's second message needs its own key
            suffix = f":{m}" if m else ""
            notices.append(Notice(person.id, reply, f"{key_prefix}:e{n}:{event.name}:{person.id}{suffix}",
                                  platform=platform))
    return notices


# What a series says once for all its occurrences, when one step does the same to several of them.
_SERIES_EVENTS = ("booking_accepted", "booking_declined", "booking_withdrawn", "meeting_cancelled")


def _series_groups(uow: SqlUnitOfWork, events: list[Event]) -> dict[int, list[tuple[Event, Booking]]]:
    """Event index -> the series' events of the same kind (on its first one; [] on the others). A series
    request's card replaces the requests of each occurrence; events of a series that happen alone stay as they are."""
    named: dict[tuple[str, int], list[tuple[int, Event, Booking]]] = {}
    requested = {dict(e.data).get("series_id") for e in events if e.name == "series_requested"}
    for n, event in enumerate(events):
        if event.booking_id is None:
            continue
        booking = uow.bookings.get(event.booking_id)
        if booking is None or booking.series_id is None:
            continue
        if event.name == "series_requested":
            named.setdefault((event.name, booking.series_id), []).append((n, event, booking))
        elif event.name == "booking_requested" and str(booking.series_id) in requested:
            named.setdefault(("series_requested", booking.series_id), []).append((n, event, booking))
        elif event.name in _SERIES_EVENTS:
            named.setdefault((event.name, booking.series_id), []).append((n, event, booking))
    out: dict[int, list[tuple[Event, Booking]]] = {}
    for (name, _), members in named.items():
        requests = sum(1 for _, e, _ in members if e.name == "booking_requested")
        if (name == "series_requested" and (not requests or requests == len(members))) or len(members) < 2:
            continue  # a series request without its card's event (or in triage), or one event alone
        members.sort(key=lambda m: (m[1].name != "series_requested", m[0]))
        whole = [(e, b) for _, e, b in members if e.name != "series_requested"]
        for i, (n, _, _) in enumerate(members):
            out[n] = whole if i == 0 else []
    return out


def _render_series(
    uow: SqlUnitOfWork, event: Event, group: list[tuple[Event, Booking]], expert: Expert, expert_person: Person, client: Person,
    actor_id: int | None,
) -> list[tuple[Person, Reply]]:
    tc, te = _t(client), _t(expert_person)
    bookings = [b for _, b in group]
    whole = whole_series(bookings)
    title, n = whole.details.title, len(bookings)
    if event.name == "series_requested":
        frequency = dict(event.data).get("frequency")
        waiting = [b for b in bookings if b.status is BookingStatus.REQUESTED]
        if not waiting:  # in triage first: staff see each occurrence
            return []
        return [(expert_person, series_card(waiting, expert, expert_person, client,
                                            Frequency(frequency) if frequency else None)),
                *((expert_person, reply) for reply in attachments(uow, whole))]
    if event.name == "booking_accepted":
        out = []
        for person, t, for_expert in ((client, tc, False), (expert_person, te, True)):
            text = "\n".join([t("Confirmed: your series is booked ({how}).", how=how_often(t, None, n)),
                              summary(t, whole, expert, client, for_expert=for_expert),
                              t("Each session's join link is in its calendar invite and in /sessions.")])
            out.append((person, Reply(text, ((list_button(t),),))))
        return out
    if event.name == "booking_declined":
        text = tc("{expert} could not take the series “{title}” ({how}). Your credits are back.",
                  expert=expert.name, title=title, how=how_often(tc, None, n))
        if whole.decline_reason:
            text += "\n" + tc("Their note: {reason}", reason=whole.decline_reason)
        return [(client, Reply(text, ((again_button(tc),),)))]
    if event.name == "booking_withdrawn":
        return [(expert_person, Reply(te("{client} withdrew the series “{title}” ({how}).", client=client.name,
                                         title=title, how=how_often(te, None, n))))]
    # meeting_cancelled: the rest of a series, cancelled at once; the one who did it was answered already.
    by = dict(event.data).get("by", "")
    refund = sum(int(dict(e.data).get("refund_milli", "0")) for e, _ in group)
    out = []
    for person, t, other_tz, side in ((client, tc, expert.timezone, "client"), (expert_person, te, client.timezone,
                                                                                   "expert")):
        if by == side:
            continue
        lines = [t("The remaining sessions of “{title}” are cancelled:", title=title)]
        lines += [t("• {when}, {minutes} min", when=t.both(e_b.meeting(e.meeting_id).start if e.meeting_id else
                                                            e_b.first_start, other_tz),
                    minutes=e_b.meetings[0].minutes) for e, e_b in group]
        if person is client:
            lines.append(t.plural("{credits} credit is back in your balance.",
                                  "{credits} credits are back in your balance.",
                                  t.credits_n(refund), credits=t.credits(refund)) if refund
                         else t("No credits are refunded for this cancellation."))
        out.append((person, Reply("\n".join(lines))))
    return out


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


def _render(
    uow: SqlUnitOfWork, event: Event, booking: Booking, expert: Expert, expert_person: Person, client: Person,
    actor_id: int | None = None,
) -> list[tuple[Person, Reply]]:
    tc, te = _t(client), _t(expert_person)
    name = event.name
    title = booking.details.title
    assert booking.id is not None  # loaded from the database
    if name == "booking_requested":
        told = [] if actor_id == client.id else [  # a reassignment by staff: the client hears where it went
            (client, Reply(tc("Your request “{title}” is with {expert}. The slots are held for you; I will tell you "
                              "as soon as they answer (by {when} at the latest).",
                              title=title, expert=expert.name, when=tc.when(booking.expires_at)))),
        ]
        return [
            (expert_person, request_card(booking, expert, expert_person, client)),
            *((expert_person, reply) for reply in attachments(uow, booking)),
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
                (triage_buttons(ts, booking.id),),
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
        return [(client, Reply(text, ((again_button(tc),),)))]
    if name == "booking_expired":
        return [
            (client, Reply(tc("{expert} did not answer “{title}” in time, so the request expired and your credits "
                              "are back.", expert=expert.name, title=title),
                           ((again_button(tc),),))),
            (expert_person, Reply(te("The request “{title}” from {client} expired without an answer.",
                                     title=title, client=client.name))),
        ]
    if name == "booking_withdrawn":
        return [(expert_person, Reply(te("{client} withdrew the request “{title}”.", client=client.name, title=title)))]
    if name == "times_proposed":
        lines = [tc("{expert} suggests other times for “{title}”:", expert=expert.name, title=title)]
        lines += [tc("• {when}, {minutes} min", when=tc.both(m.start, expert.timezone), minutes=m.minutes)
                  for m in booking.meetings]
        return [(client, Reply("\n".join(lines), (proposal_buttons(tc, booking.id),)))]
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
    if name == "staff_no_show":
        return staff_no_show(uow, event, booking, expert, client)
    if name in ("review_left", "review_answered"):
        return review_notices(uow, event, booking, expert, expert_person, client)
    if name == "meeting_completed":
        # Stars lead on to a review and a private note; the other person not turning up is reported here too.
        return [
            (person, Reply(t("How was “{title}”? Tap the stars to rate it.", title=title), (
                star_buttons(booking.id),
                (no_show_button(t, booking.id, event.meeting_id),),
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
            text += " " + (t.plural("{credits} credit is back in your balance.",
                                    "{credits} credits are back in your balance.",
                                    t.credits_n(refund), credits=t.credits(refund))
                           if refund else t("No credits are refunded for this cancellation."))
        return text
    if name == "meeting_rescheduled":
        return t("The meeting of “{title}” moved to {when}.", title=title, when=when)
    return t("A no-show was reported for “{title}” on {when}.", title=title, when=when)
