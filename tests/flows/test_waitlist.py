"""The waitlist, typed into the console over the real dispatcher, database and scheduler job: two clients wait
for a fully booked expert; a cancellation offers the time to the first; the first ignores it, the clock moves
16 minutes and the scheduler passes it to the second, who books it; the first's late Book is refused
politely; leaving the list; new hours and "No thanks"; "earlier than" wishes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.notifications import event_notices
from core import booking_service
from core.lifecycle import BookingStatus, MeetingStatus
from core.schedule import BookingRules, WeeklyWindow
from core.sessions import MeetingRequest, SessionDetails
from core.waitlist import OfferStatus
from tests import factories as f
from tests.flows.conftest import Transcript
from tests.test_scheduler import jobs

TUE_1000 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)  # Kim's only half hour this week; 15:30 in Kolkata
TUE_ONLY = (WeeklyWindow(1, 10 * 60, 10 * 60 + 30),)  # Tuesdays 10:00-10:30 London


@dataclass
class World:
    ana: int
    ben: int
    cid: int
    kim: int  # the expert
    kim_person: int


def world(uow) -> World:  # type: ignore[no-untyped-def]
    with uow() as u:
        ana = f.person(u, "ana", tz="Asia/Kolkata")
        ben = f.person(u, "ben")
        cid = f.person(u, "cid")
        for who in (ana, ben, cid):
            f.credits(u, amount="2", person_id=who.id)
        kim = f.expert(u, "kim", topics=("Growth",), headline="Growth advisor", weekly=TUE_ONLY,
                       rules=BookingRules(horizon=timedelta(days=7)))
        u.commit()
        return World(ana.id, ben.id, cid.id, kim.id, kim.person_id)


def cid_books_the_only_time(uow, dispatcher, clock, w: World) -> None:  # type: ignore[no-untyped-def]
    """Cid's accepted meeting fills Kim's week."""
    with uow() as u:
        b = booking_service.request_booking(u, clock, client_id=w.cid, expert_id=w.kim,
                                            meetings=[MeetingRequest(TUE_1000, 30)],
                                            details=SessionDetails("Growth plan", "A plan"),
                                            policy=booking_service.DEFAULT_POLICY)
        booking_service.accept(u, clock, booking_id=b.id, actor_id=w.kim_person)
        for notice in event_notices(u, u.events, key_prefix=f"setup-{uuid.uuid4().hex}"):
            dispatcher.queue_notice(u, notice)
        u.commit()


def joins(who: Transcript) -> str:
    """From /book to "Tell me if something opens" with Kim fully booked."""
    who.say("/book growth")
    assert "Book Kim" in who.text
    who.say("Book Kim")
    who.say("30 min · 0.5 credits")
    out = who.say("1")
    assert "Kim has no free 30-minute time within their booking window." in out
    assert "[1] Tell me if something opens  [2] Find another expert" in out
    return who.say("Tell me if something opens")


def entries(uow, expert_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        return [e.client_id for e in u.waitlist.entries_of_expert(expert_id)]


def offers(uow, w: World) -> list[tuple[int, datetime, OfferStatus]]:  # type: ignore[no-untyped-def]
    with uow() as u:
        return [(o.client_id, o.start, o.status) for o in u.waitlist.offers_of_expert(w.kim, [w.ana, w.ben, w.cid])]


def test_an_ignored_offer_goes_to_the_second_client_who_books_it(uow, chat, dispatcher, clock):
    w = world(uow)
    cid_books_the_only_time(uow, dispatcher, clock, w)
    ana, ben, cid = chat("ana"), chat("ben"), chat("cid")
    ana.as_("ana")
    out = joins(ana)
    assert "Done: you are on Kim's waitlist." in out and "You are number 1 in line." in out
    assert "[1] Leave Kim's waitlist" in out
    ben.as_("ben")
    assert "You are number 2 in line." in joins(ben)
    assert entries(uow, w.kim) == [w.ana, w.ben]
    assert "You are on Kim's waitlist for a 30-minute time." in ben.say("/book")  # /book says so, with Leave
    assert "[1] Leave Kim's waitlist" in ben.text

    # Cid cancels in the chat: in that same step the time is offered to Ana, first in line, and only to her.
    cid.as_("cid")
    cid.say("/sessions")
    cid.say("Cancel 1")
    cid.say("No reason, continue")
    assert "Cancelled." in cid.say("Confirm cancellation")
    assert offers(uow, w) == [(w.ana, TUE_1000, OfferStatus.OPEN)]
    out = ana.as_("ana")
    assert ("Good news: a time with Kim has opened up: Tue 5 Mar 2030, 15:30 (Asia/Kolkata) · 10:00 "
            "(Europe/London), 30 min.") in out  # in her zone, with Kim's for reference
    assert "You are first in line for it until Mon 4 Mar 2030, 11:45 (Asia/Kolkata)" in out
    assert "[1] Book  [2] No thanks" in out
    late_book = ana.chat.button("Book")
    assert "I could not find that offer." in ben.press(late_book[0])  # Ana's offer is not Ben's to take
    assert "Good news" not in ben.as_("ben")  # nothing for Ben yet

    # Ana ignores it. 14 minutes on, the scheduler leaves it with her; at 16 minutes it goes to Ben.
    j = jobs(uow, clock)
    clock.advance(timedelta(minutes=14))
    assert j.tick().passed_on == 0 and "Good news" not in ben.as_("ben")
    clock.advance(timedelta(minutes=2))
    assert j.tick().passed_on == 1
    assert j.tick().passed_on == 0  # a second tick passes nothing on twice
    assert offers(uow, w) == [(w.ana, TUE_1000, OfferStatus.LAPSED), (w.ben, TUE_1000, OfferStatus.OPEN)]
    out = ben.as_("ben")
    assert "Good news: a time with Kim has opened up: Tue 5 Mar 2030, 10:00 (Europe/London), 30 min." in out
    assert "Good news" not in ana.as_("ana")  # Ana is not offered it again

    # Ben books it: on into the normal booking with the length and the time already chosen.
    out = ben.say("Book")
    assert "Time: Tue 5 Mar 2030, 10:00 (Europe/London)." in out and "short title" in out
    ben.say("Growth review")
    ben.say("A growth plan for Q2")
    ben.say("Skip")
    ben.say("Skip")
    out = ben.say("Done")
    assert "Please check your request to Kim:" in out and "• Tue 5 Mar 2030, 10:00 (Europe/London), 30 min" in out
    assert "Request sent to Kim." in ben.say("Confirm")
    with uow() as u:
        [booking] = u.bookings.for_person(w.ben)
    assert booking.status is BookingStatus.REQUESTED and booking.meetings[0].start == TUE_1000
    assert booking.meetings[0].status is MeetingStatus.HELD
    assert offers(uow, w)[-1] == (w.ben, TUE_1000, OfferStatus.TAKEN)
    assert entries(uow, w.kim) == [w.ana]  # a taken offer ends Ben's wait; Ana still waits

    # Ana's Book, pressed after her offer ran out, is refused politely, and nothing is booked for her.
    ana.as_("ana")
    out = ana.press(*late_book)
    assert "Sorry, this offer ran out at Mon 4 Mar 2030, 11:45 (Asia/Kolkata)" in out
    assert "You are still on Kim's waitlist" in out
    with uow() as u:
        assert u.bookings.for_person(w.ana) == []

    # Leaving the list from /sessions.
    ana.say("/sessions")
    assert "You are on Kim's waitlist for a 30-minute time." in ana.text
    assert "You have left Kim's waitlist." in ana.say("Leave Kim's waitlist")
    assert entries(uow, w.kim) == []
    assert "waitlist" not in ana.say("/sessions")


def test_new_hours_offer_a_time_and_no_thanks_passes_it_on_at_once(uow, chat, dispatcher, clock):
    w = world(uow)
    cid_books_the_only_time(uow, dispatcher, clock, w)
    ana, ben, kim = chat("ana"), chat("ben"), chat("kim")
    ana.as_("ana")
    joins(ana)
    ben.as_("ben")
    joins(ben)
    kim.as_("kim")
    kim.say("/availability")
    kim.say("Add extra hours")
    out = kim.say("Thursday 14:00-14:30")
    assert "Extra hours on Thu 7 Mar 2030, 14:00–14:30" in out
    assert "Saved ✓" in kim.say("Save")
    thu_1400 = datetime(2030, 3, 7, 14, 0, tzinfo=UTC)
    assert offers(uow, w) == [(w.ana, thu_1400, OfferStatus.OPEN)]
    out = ana.as_("ana")
    assert "Good news: a time with Kim has opened up: Thu 7 Mar 2030, 19:30 (Asia/Kolkata)" in out
    out = ana.say("No thanks")
    assert "All right, I will offer it to the next person. You stay on Kim's waitlist." in out
    assert offers(uow, w) == [(w.ana, thu_1400, OfferStatus.DECLINED), (w.ben, thu_1400, OfferStatus.OPEN)]
    assert "Good news: a time with Kim has opened up: Thu 7 Mar 2030, 14:00 (Europe/London)" in ben.as_("ben")
    assert entries(uow, w.kim) == [w.ana, w.ben]  # declining keeps the place in line
    # Ben leaves while the offer is his: it goes back to nobody (Ana turned it down), and Ben is off the list.
    ben.say("/book")
    assert "You have left Kim's waitlist." in ben.say("Leave Kim's waitlist")
    assert entries(uow, w.kim) == [w.ana]
    assert offers(uow, w)[-1] == (w.ben, thu_1400, OfferStatus.WITHDRAWN)


def test_an_earlier_time_wish_is_offered_only_earlier_times(uow, chat, dispatcher, clock):
    w = world(uow)
    ben = chat("ben")
    ben.as_("ben")
    ben.say("/book growth")
    ben.say("Book Kim")
    ben.say("30 min · 0.5 credits")
    out = ben.say("1")
    assert "Tell me if something earlier opens" in out  # Kim's Tuesday is free: the picker offers "earlier"
    out = ben.say("Tell me if something earlier opens")
    assert "Done: you are on Kim's waitlist." in out
    assert "Pick a day" in out  # the day picker again: a later time may still do
    with uow() as u:
        [entry] = u.waitlist.entries_of_client(w.ben)
    assert entry.before == TUE_1000 and entry.minutes == 30
    kim = chat("kim")
    kim.as_("kim")
    kim.say("/availability")
    kim.say("Add extra hours")
    kim.say("Friday 09:00-10:00")  # later than Tuesday: not what Ben waits for
    kim.say("Save")
    assert offers(uow, w) == []
    kim.say("Add extra hours")
    kim.say("today 18:00-19:00")  # Monday 4 March: 18:00 is just 12 hours (Kim's notice) from now
    kim.say("Save")
    mon_1800 = datetime(2030, 3, 4, 18, 0, tzinfo=UTC)
    assert offers(uow, w) == [(w.ben, mon_1800, OfferStatus.OPEN)]
    assert "Good news: a time with Kim has opened up: Mon 4 Mar 2030, 18:00 (Europe/London)" in ben.as_("ben")


def test_a_request_that_expires_offers_its_time_in_the_scheduler_s_own_transaction(uow, chat, dispatcher, clock):
    w = world(uow)
    with uow() as u:  # Cid's request holds Kim's only time; Kim never answers
        held = booking_service.request_booking(u, clock, client_id=w.cid, expert_id=w.kim,
                                               meetings=[MeetingRequest(TUE_1000, 30)],
                                               details=SessionDetails("Growth plan", "A plan"),
                                               policy=booking_service.DEFAULT_POLICY)
        u.commit()
    ana = chat("ana")
    ana.as_("ana")
    assert "You are number 1 in line." in joins(ana)
    assert offers(uow, w) == []
    clock.set(held.expires_at)
    report = jobs(uow, clock).tick()
    assert report.expired == 1 and report.passed_on == 0
    assert offers(uow, w) == [(w.ana, TUE_1000, OfferStatus.OPEN)]  # with the expiry, not a tick later
    assert "Good news: a time with Kim has opened up: Tue 5 Mar 2030, 15:30 (Asia/Kolkata)" in ana.as_("ana")
