"""/sessions shows what a confirmed meeting needs at hand (the join link, the other side, both zones, the
agenda, the files) and keeps what both sides wrote after it, never the other side's private note."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from core import booking_service as bs
from core.experts import MeetingLink
from core.sessions import MeetingRequest, SessionDetails
from bot.links import meeting_url
from storage.uow import SqlUnitOfWork
from tests.flows.test_sessions import TUE_10, engine, people

ZOOM = "https://zoom.us/j/123?pwd=a&b=<c>"
HOSTILE = "<!channel> & <b>bold</b>"


def with_link(uow, expert_id: int, url: str | None) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        expert = u.experts.get(expert_id)
        u.experts.put(dataclasses.replace(expert, meeting_link=MeetingLink.from_url(url)), u.experts.schedule(expert_id))
        u.commit()


def book(uow, dispatcher, clock, ana: int, bob: int, bob_person: int, *, title: str = "Pitch deck",  # type: ignore[no-untyped-def]
         files: tuple[str, ...] = ()) -> int:
    def go(u: SqlUnitOfWork) -> int:
        b = bs.request_booking(u, clock, client_id=ana, expert_id=bob, meetings=[MeetingRequest(TUE_10, 30)],
                               details=SessionDetails(title, f"Agenda: cut to 10 slides {HOSTILE}",
                                                      attachments=files), policy=bs.DEFAULT_POLICY)
        bs.accept(u, clock, booking_id=b.id, actor_id=bob_person)
        return b.id
    return engine(uow, dispatcher, go)


def test_upcoming_shows_the_join_link_the_agenda_and_the_files_to_both_sides(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    with_link(uow, bob_id, ZOOM)
    booking_id = book(uow, dispatcher, clock, ana_id, bob_id, bob_person, title=f"Deck {HOSTILE}",
                      files=("telegram:AgAD1#deck.pdf", "slack:F01#cv <1>.pdf"))
    ana = chat("ana")
    ana.as_("ana")
    out = ana.say("/sessions")
    assert f"1. “Deck {HOSTILE}” with Bob: confirmed" in out
    assert "Tue 5 Mar 2030, 10:00 (Europe/London) · 11:00 (Europe/Berlin), 30 min" in out
    assert f"   Join: {ZOOM}" in out
    assert f"   Desired outcome: Agenda: cut to 10 slides {HOSTILE}" in out
    assert "   Files: deck.pdf, cv <1>.pdf" in out
    out = ana.as_("bob")
    out = ana.say("/sessions")
    assert f"“Deck {HOSTILE}” for Ana (you are the expert): confirmed" in out
    assert "Tue 5 Mar 2030, 11:00 (Europe/Berlin) · 10:00 (Europe/London)" in out  # his zone first
    assert f"   Join: {ZOOM}" in out and "Files: deck.pdf" in out

    # Without a link of their own, the expert's sessions use the generated room, the same one the
    # confirmation and the calendar invite carry.
    with_link(uow, bob_id, None)
    with uow() as u:
        room = meeting_url(u.experts.get(bob_id), booking_id)
    assert room.startswith("https://") and room != ZOOM
    assert f"   Join: {room}" in ana.say("/sessions")

    # Once the meeting is over, the link and agenda are no longer offered.
    clock.set(TUE_10 + timedelta(minutes=45))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=booking_id))
    out = ana.say("/sessions past")
    assert "Deck" in out and "Join:" not in out and "Desired outcome" not in out


def test_past_sessions_keep_both_reviews_and_only_my_private_note(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id = book(uow, dispatcher, clock, ana_id, bob_id, bob_person)
    clock.set(TUE_10 + timedelta(minutes=45))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=booking_id))
    engine(uow, dispatcher, lambda u: bs.leave_review(u, booking_id=booking_id, author_id=ana_id, stars=4,
                                                      text=f"Sharp questions {HOSTILE}",
                                                      private_note="Ana's secret: Bob was late"))
    engine(uow, dispatcher, lambda u: bs.leave_review(u, booking_id=booking_id, author_id=bob_person, stars=5,
                                                      text="Well prepared founder",
                                                      private_note="Bob's secret: deck needs work"))
    ana = chat("ana")
    ana.as_("ana")
    out = ana.say("/sessions past")
    assert f"   Your review: ★★★★☆ “Sharp questions {HOSTILE}”" in out
    assert "   Your private note (programme staff only): Ana's secret: Bob was late" in out
    assert "   Review by Bob: ★★★★★ “Well prepared founder”" in out
    assert "Bob's secret" not in out  # the other side's private note is never shown

    ana.as_("bob")
    out = ana.say("/sessions past")
    assert "   Your review: ★★★★★ “Well prepared founder”" in out
    assert "Bob's secret: deck needs work" in out
    assert f"   Review by Ana: ★★★★☆ “Sharp questions {HOSTILE}”" in out
    assert "Ana's secret" not in out
