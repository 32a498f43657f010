"""My sessions, in the console: the list by section, cancel and reschedule with the policy shown
first, withdraw, review, no-show, and /credits. Bookings are set up through the engine."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select

from core import booking_service as bs
from core.credit_service import balance
from core.credits import Source
from core.lifecycle import BookingStatus, MeetingStatus
from core.sessions import MeetingRequest, SessionDetails
from bot.notifications import event_notices
from storage.models import CreditMovementRow, ReviewRow
from storage.uow import SqlUnitOfWork
from tests import factories as f
from tests.factories import T0

R = TypeVar("R")
TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)  # 28 h after T0 (Mon 06:00 UTC)
WED_10 = datetime(2030, 3, 6, 10, 0, tzinfo=UTC)
THU_10 = datetime(2030, 3, 7, 10, 0, tzinfo=UTC)
FRI_10 = datetime(2030, 3, 8, 10, 0, tzinfo=UTC)


def engine(uow, dispatcher, fn: Callable[[SqlUnitOfWork], R]) -> R:  # type: ignore[no-untyped-def]
    """Run engine calls in one transaction and queue their notifications, as the dispatcher would."""
    with uow() as u:
        result = fn(u)
        for notice in event_notices(u, u.events, key_prefix=f"setup-{uuid.uuid4().hex}"):
            dispatcher.queue_notice(u, notice)
        u.commit()
    return result


def people(uow) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """@ana (client, London, 2 credits), @bob (expert, Berlin), @eve (a stranger)."""
    with uow() as u:
        ana = f.person(u, "ana")
        bob = f.expert(u, "bob", tz="Europe/Berlin")
        f.person(u, "eve")
        f.credits(u, amount="2", person_id=ana.id)
        u.commit()
        return ana.id, bob.id, bob.person_id


def request(uow, dispatcher, clock, client: int, expert: int, start: datetime, *, minutes: int = 30,  # type: ignore[no-untyped-def]
            title: str = "Pitch deck", accept_as: int | None = None) -> tuple[int, int]:
    def go(u: SqlUnitOfWork) -> tuple[int, int]:
        b = bs.request_booking(u, clock, client_id=client, expert_id=expert, meetings=[MeetingRequest(start, minutes)],
                               details=SessionDetails(title, "A sharper deck"), policy=bs.DEFAULT_POLICY)
        if accept_as is not None:
            bs.accept(u, clock, booking_id=b.id, actor_id=accept_as)
        return b.id, b.meetings[0].id
    return engine(uow, dispatcher, go)


def available(uow, person_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        bal = balance(u, person_id)
        return bal.available, bal.held


def meeting(uow, booking_id: int):  # type: ignore[no-untyped-def]
    with uow() as u:
        b = u.bookings.get(booking_id)
        return b, b.meetings[0]


def test_the_list_has_sections_with_their_actions(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    past, _ = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, title="Past talk", accept_as=bob_person)
    request(uow, dispatcher, clock, ana_id, bob_id, THU_10, title="Confirmed talk", accept_as=bob_person)
    request(uow, dispatcher, clock, ana_id, bob_id, FRI_10, title="Open talk")
    declined, _ = request(uow, dispatcher, clock, ana_id, bob_id, WED_10, title="Declined talk")
    engine(uow, dispatcher, lambda u: bs.decline(u, clock, booking_id=declined, actor_id=bob_person, reason="Travelling"))
    clock.set(TUE_10 + timedelta(minutes=45))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=past))

    ana = chat("ana")
    ana.as_("ana")
    out = ana.say("/sessions")
    assert "Your sessions: Upcoming (2)" in out
    assert "1. “Confirmed talk” with Bob: confirmed" in out
    assert "Thu 7 Mar 2030, 10:00 (Europe/London) · 11:00 (Europe/Berlin), 30 min" in out
    assert "2. “Open talk” with Bob: request waiting for the expert" in out
    assert "[1] Cancel 1  [2] Reschedule 1  [3] Message Bob 1  [4] Withdraw 2  [5] Past (1)  [6] Cancelled (1)" in out
    assert "Declined talk" not in out and "Past talk" not in out

    out = ana.say("Past (1)")
    assert out.startswith("(updated) Your sessions: Past (1)")
    assert "1. “Past talk” with Bob: held" in out and "[1] Review 1  [2] Report no-show 1  [3] Message Bob 1" in out

    out = ana.say("Cancelled (1)")
    assert "“Declined talk” with Bob: request declined" in out
    assert "0.5 credits came back to your balance." in out and "Note: Travelling" in out

    ana.as_("bob")
    out = ana.say("/sessions upcoming")
    assert "“Confirmed talk” for Ana (you are the expert): confirmed" in out
    assert "Thu 7 Mar 2030, 11:00 (Europe/Berlin) · 10:00 (Europe/London)" in out
    assert "request waiting for your answer (/requests)" in out
    assert "Withdraw" not in out  # only the client withdraws

    # Someone else's session: the engine refuses, nothing changes.
    eve = chat("eve")
    assert "Only the client or the expert of this session can do that." in eve.press(f"1|ses|cx|{past}|1")
    assert "You have no sessions yet" in eve.say("/sessions")


def test_cancel_a_day_ahead_refunds_and_says_so_first(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, meeting_id = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    assert available(uow, ana_id) == (1500, 0)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    out = ana.say("Cancel 1")
    assert "Cancel “Pitch deck” with Bob on Tue 5 Mar 2030, 10:00 (Europe/London) · 11:00 (Europe/Berlin)?" in out
    assert "It is more than 24 h ahead, so your 0.5 credits come back." in out
    assert available(uow, ana_id) == (1500, 0)  # nothing yet
    out = ana.say("No reason, continue")
    assert "your 0.5 credits come back" in out and "[1] Confirm cancellation" in out
    out = ana.say("Confirm cancellation")
    assert "Cancelled. 0.5 credits are back: you have 2 available now. Bob has been told." in out
    b, m = meeting(uow, booking_id)
    assert m.status is MeetingStatus.CANCELLED and b.status is BookingStatus.CANCELLED
    assert available(uow, ana_id) == (2000, 0)
    assert "is cancelled" in ana.as_("bob")
    ana.as_("ana")
    assert "earlier message" in ana.press("1|ses|cxok|0")  # a stale confirmation changes nothing


def test_cancel_late_says_no_refund_and_keeps_the_credits_spent(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, _ = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    clock.advance(timedelta(hours=5))  # 23 h before the start
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    out = ana.say("Cancel 1")
    assert "It is less than 24 h ahead, so there is no refund: the 0.5 credits stay spent." in out
    out = ana.say("Family emergency")
    assert "Reason: Family emergency" in out and "no refund" in out
    out = ana.say("Confirm cancellation")
    assert "Cancelled. No credits were refunded." in out
    assert available(uow, ana_id) == (1500, 0)
    assert meeting(uow, booking_id)[1].status is MeetingStatus.CANCELLED
    out = ana.as_("bob")
    assert "is cancelled" in out and "Ana cancelled “Pitch deck”. Their reason: Family emergency" in out
    with uow() as u:
        kinds = list(u.session.scalars(select(CreditMovementRow.kind).where(CreditMovementRow.booking_id == booking_id)))
    assert "refund" not in kinds


def test_cancel_can_be_kept_and_a_technical_problem_is_noted(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, _ = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    bob = chat("bob")
    bob.as_("bob")
    bob.say("/sessions")
    assert "The client gets their 0.5 credits back in full." in bob.say("Cancel 1")
    assert "Nothing changed." in bob.say("Keep the meeting")
    assert meeting(uow, booking_id)[1].status is MeetingStatus.CONFIRMED
    bob.say("/sessions")
    bob.say("Cancel 1")
    assert "Reason: technical problem." in bob.say("Technical problem")
    assert "Cancelled. Ana gets their 0.5 credits back." in bob.say("Confirm cancellation")
    assert available(uow, ana_id) == (2000, 0)  # the expert cancelled: full refund
    assert "because of a technical problem" in bob.as_("ana")


def test_reschedule_free_then_the_limit(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, meeting_id = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    out = ana.say("Reschedule 1")
    assert "It is more than 24 h ahead, so moving it is free." in out
    assert "Pick a new day (times in Europe/London)" in out and "Wed 6 Mar" in out
    out = ana.say("Wed 6 Mar")
    assert "Free times on Wed 6 Mar:" in out and "• Wed 6 Mar 2030, 11:00 (Europe/London) · 12:00 (Europe/Berlin)" in out
    assert "• Wed 6 Mar 2030, 15:00 (Europe/London) · 16:00 (Europe/Berlin)" in out  # the whole day, every half hour
    assert "• Wed 6 Mar 2030, 08:15" not in out and "for example “Wed 6 Mar 08:15”" in out
    out = ana.say("11:00")
    assert ("Move “Pitch deck” from Tue 5 Mar 2030, 10:00 (Europe/London) · 11:00 (Europe/Berlin) to "
            "Wed 6 Mar 2030, 11:00 (Europe/London) · 12:00 (Europe/Berlin)?") in out
    assert meeting(uow, booking_id)[1].start == TUE_10  # not yet
    out = ana.say("Confirm new time")
    assert "Moved: “Pitch deck” is now on Wed 6 Mar 2030, 11:00 (Europe/London)" in out and "Nothing was charged." in out
    m = meeting(uow, booking_id)[1]
    assert m.start == WED_10 + timedelta(hours=1) and m.reschedule_count == 1
    assert available(uow, ana_id) == (1500, 0)
    assert "moved to Wed 6 Mar 2030, 12:00 (Europe/Berlin)" in ana.as_("bob")

    # The second move: a typed time, echoed back first; a day without an hour is asked again.
    ana.as_("ana")
    ana.say("/sessions")
    ana.say("Reschedule 1")
    assert "Free times on Thu 7 Mar:" in ana.say("thursday")  # a day alone shows that day's times
    assert "14:30 (Europe/London) · 15:30 (Europe/Berlin)?" in ana.say("14:30")  # an hour alone is on that day
    ana.say("Pick another time")
    out = ana.say("thursday 14:30")
    assert "to Thu 7 Mar 2030, 14:30 (Europe/London) · 15:30 (Europe/Berlin)?" in out
    assert "Moved" in ana.say("Confirm new time")
    assert meeting(uow, booking_id)[1].reschedule_count == 2

    # The third: the limit, said before anything, with Cancel offered instead.
    ana.say("/sessions")
    out = ana.say("Reschedule 1")
    assert "moved 2 times already, which is the limit. You can cancel it instead." in out
    assert "Cancel “Pitch deck”" in ana.say("Cancel the meeting")
    assert meeting(uow, booking_id)[1].start == datetime(2030, 3, 7, 14, 30, tzinfo=UTC)


def test_reschedule_late_forfeits_and_charges_again(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, meeting_id = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    clock.advance(timedelta(hours=5))
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    out = ana.say("Reschedule 1")
    assert ("It is less than 24 h ahead, so moving it forfeits the 0.5 credits already paid: the meeting is charged "
            "again (0.5 credits) at the new time.") in out
    out = ana.say("tuesday 03:00")  # outside the expert's hours: said, with free times nearby
    assert "does not work" in out and "The expert is not available then." in out and "Free times nearby:" in out
    assert "• Tue 5 Mar 2030, 08:00 (Europe/London) · 09:00 (Europe/Berlin)" in out
    assert "Pick a new day" in ana.say("Another day")
    out = ana.say("wednesday 14:00")
    assert "to Wed 6 Mar 2030, 14:00 (Europe/London) · 15:00 (Europe/Berlin)?" in out and "charged again" in out
    out = ana.say("Confirm new time")
    assert "The 0.5 credits of the old time are forfeited and 0.5 credits were charged for the new one" in out
    assert "you have 1 available now" in out
    assert available(uow, ana_id) == (1000, 0)
    with uow() as u:
        kinds = sorted(u.session.scalars(select(CreditMovementRow.kind).where(CreditMovementRow.booking_id == booking_id)))
    assert kinds == ["charge", "hold", "spend"]


def test_withdraw_an_open_request(uow, chat, dispatcher, clock):
    ana_id, bob_id, _ = people(uow)
    booking_id, _ = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10)
    assert available(uow, ana_id) == (1500, 500)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    assert "The 0.5 credits held for it come back to you." in ana.say("Withdraw 1")
    assert "Withdrawn: “Pitch deck”. Your credits are back: you have 2 available now." in ana.say("Withdraw request")
    assert meeting(uow, booking_id)[0].status is BookingStatus.WITHDRAWN
    assert available(uow, ana_id) == (2000, 0)
    assert "withdrew the request" in ana.as_("bob")


def test_review_with_stars_text_and_a_private_note_once(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, _ = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    assert "not_yet" not in ana.press(f"1|rev|star|{booking_id}|5")
    assert "You can review a session once a meeting has taken place." in ana.text
    clock.set(TUE_10 + timedelta(minutes=40))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=booking_id))
    out = ana.as_("ana")
    assert "How was “Pitch deck”? Tap the stars to rate it." in out
    out = ana.say("★★★★")
    assert "Thanks: ★★★★☆ for “Pitch deck”. Would you add a short review?" in out
    assert "only programme staff see it" in ana.say("Sharp questions on the deck.")
    out = ana.say("Bob joined five minutes late.")
    assert "Thank you! Your review of “Pitch deck” is saved (★★★★☆)." in out and "programme team only" in out
    with uow() as u:
        review = u.session.scalar(select(ReviewRow).where(ReviewRow.author_id == ana_id))
        assert (review.stars, review.text, review.private_note) == (4, "Sharp questions on the deck.",
                                                                    "Bob joined five minutes late.")
        expert = u.experts.get(bob_id)
        assert (expert.rating.stars_sum, expert.rating.count, expert.session_count) == (4, 1, 1)

    assert "You have already reviewed “Pitch deck”. Thank you!" in ana.press(f"1|rev|star|{booking_id}|5")
    out = ana.say("/sessions")
    assert "Your sessions: Past (1)" in out and "Review" not in out and "Report no-show 1" in out

    # The expert reviews from the list, skipping both questions; the expert's own rating is untouched.
    bob = chat("bob")
    bob.as_("bob")
    bob.say("/sessions past")
    assert "[1] ★  [2] ★★" in bob.say("Review 1")
    bob.say("★★★★★")
    assert "Anything the programme team should know?" in bob.say("Skip")
    assert "Thank you!" in bob.say("Skip")
    with uow() as u:
        assert u.session.scalar(select(ReviewRow.stars).where(ReviewRow.author_id == bob_person)) == 5
        assert u.experts.get(bob_id).rating.count == 1


def test_no_show_too_early_then_accepted_with_refund(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = people(uow)
    booking_id, meeting_id = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    clock.set(TUE_10 + timedelta(minutes=5))
    ana = chat("ana")
    ana.as_("ana")
    out = ana.say("/sessions past")
    assert "“Pitch deck” with Bob: in progress" in out and "no-show" not in out
    out = ana.press(f"1|ses|ns|{booking_id}|{meeting_id}")
    assert "A no-show can be reported from 10 minutes after the start: from Tue 5 Mar 2030, 10:10 (Europe/London)." in out
    assert meeting(uow, booking_id)[1].status is MeetingStatus.CONFIRMED

    clock.set(TUE_10 + timedelta(minutes=12))
    ana.say("/sessions past")
    out = ana.say("Report no-show 1")
    assert "Report that Bob did not show up for “Pitch deck”" in out and "Your 0.5 credits will be refunded in full." in out
    out = ana.say("Report no-show")
    assert "Reported: Bob did not show up for “Pitch deck”. 0.5 credits are back: you have 2 available now." in out
    assert meeting(uow, booking_id)[1].status is MeetingStatus.NO_SHOW_EXPERT
    assert available(uow, ana_id) == (2000, 0)
    assert "A no-show was reported" in ana.as_("bob")
    ana.as_("ana")
    assert "already moved on" in ana.press(f"1|ses|ns|{booking_id}|{meeting_id}")  # reported once


def test_credits_with_sources_history_and_options_when_empty(uow, chat, dispatcher, clock):
    with uow() as u:
        programme = f.programme(u, "Spring cohort")
        acme = u.people.add_company("Acme", programme.id)
        ana = f.person(u, "ana", company_id=acme.id)
        f.person(u, "zed")
        bob = f.expert(u, "bob")
        f.credits(u, amount="2", source=Source.PROGRAMME, company_id=acme.id)
        f.credits(u, amount="1", source=Source.COMPANY, company_id=acme.id)
        f.credits(u, amount="0.5", person_id=ana.id)
        u.commit()
    request(uow, dispatcher, clock, ana.id, bob.id, TUE_10, minutes=60)
    ana_chat = chat("ana")
    ana_chat.as_("ana")
    out = ana_chat.say("/credits")
    assert "Your credits: 2.5 available, 1 held for requests waiting for an answer." in out
    assert "• Programme allocation (Spring cohort, for Acme): 1 available, 1 held" in out
    assert "• Company allocation (Acme): 1 available, 0 held" in out
    assert "• Your own credits: 0.5 available, 0 held" in out
    assert "Recent movements:" in out and "Mon 4 Mar 2030, 06:00 (Europe/London): 1 held for a request" in out
    assert "+2 granted (Programme allocation (Spring cohort, for Acme))" in out
    assert "Your options" not in out
    zed = chat("zed")
    zed.as_("zed")
    out = zed.say("/credits")
    assert "0 available" in out and "No movements yet." in out
    assert "ask your programme staff" not in out and "buy credits of your own" in out  # zed has no programme
    assert "book a pro-bono expert" in out
    assert T0  # the clock the history is read at
