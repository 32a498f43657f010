"""A person's private feed: their sessions (as client or as expert) that are confirmed or took place, from
half a year back. A cancelled meeting is simply absent: subscribing calendars replace their copy on every
read, so an event that is no longer there disappears from them."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.lifecycle import MeetingStatus
from bot.calendars.crypto import TOKEN_PATTERN, token_hash
from bot.calendars.documents import SessionView, subscription_feed
from storage.uow import SqlUnitOfWork

SHOWN = frozenset({MeetingStatus.CONFIRMED, MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW_CLIENT,
                   MeetingStatus.NO_SHOW_EXPERT})
PAST = timedelta(days=183)


def feed_for_token(uow: SqlUnitOfWork, token: str, now: datetime) -> bytes | None:
    """None for a token that is malformed or nobody's (the web answers 404)."""
    if TOKEN_PATTERN.fullmatch(token) is None:
        return None
    person_id = uow.calendars.person_by_token(token_hash(token))
    return None if person_id is None else person_feed(uow, person_id, now)


def person_feed(uow: SqlUnitOfWork, person_id: int, now: datetime) -> bytes:
    return subscription_feed(person_sessions(uow, person_id, now))


def person_sessions(uow: SqlUnitOfWork, person_id: int, now: datetime) -> list[SessionView]:
    bookings = uow.bookings.for_person(person_id)
    experts = uow.experts.get_many({b.expert_id for b in bookings})
    people = uow.people.get_many({b.client_id for b in bookings} | {e.person_id for e in experts.values()
                                                                    if e.person_id is not None})
    since = now - PAST
    views = []
    for booking in bookings:
        expert = experts.get(booking.expert_id)
        client = people.get(booking.client_id)
        expert_person = people.get(expert.person_id) if expert and expert.person_id is not None else None
        if expert is None or client is None or expert_person is None:
            continue
        for meeting in booking.meetings:
            if meeting.status in SHOWN and meeting.end > since:
                views.append(SessionView(booking, meeting, expert, client, expert_person,
                                         for_expert=expert.person_id == person_id))
    return views
