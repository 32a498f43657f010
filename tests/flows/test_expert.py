"""The expert's side, in the console: answering requests (accept, decline, suggest another time),
the client's answer to suggested times, /requests, and /availability."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core import booking_service
from core.credit_service import balance
from core.expert_import import parse_weekly
from core.lifecycle import BookingStatus, MeetingStatus
from core.policy import Policy
from core.schedule import BookingRules, DateException, ExceptionKind
from core.sessions import MeetingRequest, SessionDetails
from bot.notifications import event_notices
from bot.payloads import p
from tests import factories as f

TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)  # Tue 5 Mar, 10:00 in London (GMT), 05:00 in New York
WED_14 = datetime(2030, 3, 6, 14, 0, tzinfo=UTC)


@pytest.fixture
def people(uow):  # type: ignore[no-untyped-def]
    """@eve is an expert in London (Mon-Fri 09:00-17:00); @ana a client in New York with 10 credits."""
    with uow() as u:
        eve = f.expert(u, "eve")
        ana = f.person(u, "ana", tz="America/New_York")
        f.person(u, "zed")
        f.credits(u, amount="10", person_id=ana.id)
        u.commit()
        return {"eve": eve, "ana": ana}


def request(uow, dispatcher, people, *starts: datetime, minutes: int = 60, title: str = "Seed deck review") -> int:  # type: ignore[no-untyped-def]
    """Ana asks Eve for a session through the engine; the notices go out as the dispatcher would send them."""
    with uow() as u:
        booking = booking_service.request_booking(
            u, u.clock, client_id=people["ana"].id, expert_id=people["eve"].id,
            meetings=[MeetingRequest(s, minutes) for s in (starts or (TUE_10,))],
            details=SessionDetails(title, "A deck I can send to five investors"),
            policy=booking_service.DEFAULT_POLICY,
        )
        for notice in event_notices(u, u.events, key_prefix=f"setup{booking.id}"):
            dispatcher.queue_notice(u, notice)
        u.commit()
        assert booking.id is not None
        return booking.id


def status(uow, booking_id: int):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.bookings.get(booking_id)


def credits(uow, person) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        b = balance(u, person.id)
        return b.available, b.held


# ---------------------------------------------------------------------- accept


def test_the_expert_accepts_and_both_see_the_confirmation(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    assert credits(uow, people["ana"]) == (9000, 1000)
    eve = chat("eve")
    out = eve.as_("eve")
    assert "New session request from Ana" in out and "“Seed deck review”" in out
    assert "Tue 5 Mar 2030, 10:00 (Europe/London) · 05:00 (America/New_York)" in out
    assert "[1] Accept  [2] Decline  [3] Suggest another time" in out
    out = eve.say("Accept")
    assert "(updated) Accepted ✓ “Seed deck review” from Ana." in out
    assert "Confirmed: your session is booked." in out  # the expert's own confirmation, with the join link
    booking = status(uow, booking_id)
    assert booking.status is BookingStatus.ACCEPTED and booking.meetings[0].status is MeetingStatus.CONFIRMED
    assert credits(uow, people["ana"]) == (9000, 0)  # the hold was spent
    out = eve.as_("ana")
    assert "Confirmed: your session is booked." in out and "Tue 5 Mar 2030, 05:00 (America/New_York)" in out


def test_someone_other_than_the_expert_cannot_accept(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    ana = chat("ana")
    ana.as_("ana")
    assert "Only the expert this request was sent to can answer it." in ana.press(p("req", "acc", booking_id))
    assert "Only the expert this request was sent to" in ana.press(p("req", "dec", booking_id))
    zed = chat("zed")
    assert "Only the expert this request was sent to" in zed.press(p("req", "sug", booking_id))
    assert status(uow, booking_id).status is BookingStatus.REQUESTED
    assert credits(uow, people["ana"]) == (9000, 1000)
    assert "Eve" not in zed.as_("zed")  # nothing about the request leaked to a stranger


def test_a_double_press_accepts_once_and_answers_politely(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    card = eve.chat.button("accept")
    assert "Accepted ✓" in eve.say("Accept")
    out = eve.press(*card)  # the same button again, e.g. a second tap before the edit arrived
    assert "Already accepted ✓ “Seed deck review” with Ana is confirmed" in out and "Confirmed" not in out
    assert credits(uow, people["ana"]) == (9000, 0)
    assert status(uow, booking_id).status == "accepted"
    assert eve.as_("ana").count("Confirmed: your session is booked.") == 1


def test_a_crafted_payload_for_a_missing_booking_or_junk_is_answered(uow, chat, dispatcher, people):
    request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    assert "I could not find that session." in eve.press(p("req", "acc", 9999))
    assert "earlier message" in eve.press(p("req", "acc", "x1"))
    assert "earlier message" in eve.press(p("req", "sday", "1", "2030-03-06"))  # no wizard running


def test_an_expired_request_is_explained(uow, chat, dispatcher, people, clock):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    clock.advance(timedelta(hours=17))  # past the 12 h notice before Tuesday 10:00
    assert "This request has expired, so it can no longer be answered." in eve.say("Accept")
    assert status(uow, booking_id).status is BookingStatus.REQUESTED  # the expiry job lapses it, not a press
    assert credits(uow, people["ana"]) == (9000, 1000)


# ---------------------------------------------------------------------- decline


def test_decline_with_a_typed_reason(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    out = eve.say("Decline")
    assert "Type a short reason they will see, or press “No reason”." in out and "[1] No reason" in out
    stale = eve.chat.button("no reason")
    assert "keep the reason shorter" in eve.say("x" * 501)  # too long: kept in the step
    assert status(uow, booking_id).status is BookingStatus.REQUESTED
    out = eve.say("I am travelling that week, sorry")
    assert "Declined ✓ “Seed deck review” from Ana." in out and "Your note to them: I am travelling" in out
    booking = status(uow, booking_id)
    assert booking.status is BookingStatus.DECLINED and booking.decline_reason == "I am travelling that week, sorry"
    assert booking.meetings[0].status is MeetingStatus.RELEASED
    assert credits(uow, people["ana"]) == (10000, 0)
    assert "earlier message" in eve.press(*stale)  # the wizard button after the answer
    out = eve.as_("ana")
    assert "Eve could not take “Seed deck review”. Your credits are back." in out
    assert "Their note: I am travelling that week, sorry" in out


def test_decline_without_reason_and_changing_ones_mind(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    eve.say("Decline")
    out = eve.say("Keep the request")
    assert "(updated) New session request from Ana." in out and "[1] Accept" in out
    eve.say("Decline")
    assert "(updated) Declined ✓" in eve.say("No reason")
    assert status(uow, booking_id).decline_reason == ""
    assert "This request is declined now, so there is nothing to answer." in eve.press(p("req", "acc", booking_id))


# ---------------------------------------------------------------------- suggest another time


def test_suggest_another_time_and_the_client_accepts(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    out = eve.say("Suggest another time")
    assert "A new time for “Seed deck review” from Ana (60 min)." in out
    assert "Pick a day (your time, Europe/London; Ana is in America/New_York)" in out
    assert "Tue 5 Mar" in out and "Sat" not in out  # only days with free hours; Eve's own held slot counts as free
    out = eve.say("Wed 6 Mar")
    assert "• Wed 6 Mar 2030, 09:00 (Europe/London) · 04:00 (America/New_York)" in out
    assert "[20] 13:45  [21] Later that day  [22] Other days" in out  # 20 starts a page
    out = eve.say("Later that day")
    assert "• Wed 6 Mar 2030, 14:00 (Europe/London) · 09:00 (America/New_York)" in out
    assert "16:00" in out and "16:15" not in out  # a 60-minute meeting ends by 17:00
    out = eve.say("14:00")
    assert "Suggest these times to Ana for “Seed deck review”?" in out
    assert "• Wed 6 Mar 2030, 14:00 (Europe/London) · 09:00 (America/New_York), 60 min" in out
    out = eve.say("Send to Ana")
    assert "(updated) Suggested ✓ I sent these times to Ana" in out
    booking = status(uow, booking_id)
    assert booking.proposed_by_expert and booking.meetings[0].start == WED_14
    assert "You suggested other times" in eve.press(p("req", "acc", booking_id))  # the client answers now
    assert "You already suggested other times" in eve.press(p("req", "sug", booking_id))

    ana = chat("ana")
    out = ana.as_("ana")
    assert "Eve suggests other times for “Seed deck review”:" in out
    assert "Wed 6 Mar 2030, 09:00 (America/New_York) · 14:00 (Europe/London)" in out
    out = ana.say("Accept these times")
    assert "(updated) Accepted ✓ “Seed deck review” with Eve at the new times:" in out
    assert "Confirmed: your session is booked." in out
    booking = status(uow, booking_id)
    assert booking.status is BookingStatus.ACCEPTED and booking.meetings[0].start == WED_14
    assert booking.meetings[0].status is MeetingStatus.CONFIRMED
    assert credits(uow, people["ana"]) == (9000, 0)
    assert "You already accepted these times ✓" in ana.press(p("req", "pyes", booking_id))
    assert "Confirmed: your session is booked." in eve.as_("eve")


def test_the_client_declines_the_suggested_time(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    eve.say("Suggest another time")
    eve.say("Wed 6 Mar")
    eve.say("Later that day")
    eve.say("14:00")
    eve.say("Send to Ana")
    ana = chat("ana")
    ana.as_("ana")
    assert "Only the person who made this request can do that." in chat("zed").press(p("req", "pno", booking_id))
    out = ana.say("Decline")
    assert "Declined. The request “Seed deck review” is withdrawn and your credits are back." in out
    booking = status(uow, booking_id)
    assert booking.status is BookingStatus.WITHDRAWN and booking.meetings[0].status is MeetingStatus.RELEASED
    assert credits(uow, people["ana"]) == (10000, 0)
    assert "You already declined these times" in ana.press(p("req", "pno", booking_id))
    assert "Ana declined the times you suggested for “Seed deck review”." in ana.as_("eve")


def test_a_suggestion_waits_for_the_client_as_long_as_the_deployment_says(uow, chat, dispatcher, people, clock):
    """REQUEST_EXPIRY=6h: the suggested times lapse 6 h after they are sent, not after the default 48 h."""
    booking_id = request(uow, dispatcher, people)
    dispatcher.policy = Policy(request_expiry=timedelta(hours=6))
    eve = chat("eve")
    eve.as_("eve")
    for line in ("Suggest another time", "Wed 6 Mar", "Later that day", "14:00", "Send to Ana"):
        eve.say(line)
    booking = status(uow, booking_id)
    assert booking.proposed_by_expert and booking.expires_at == clock.now() + timedelta(hours=6)


def test_suggesting_two_meetings_keeps_their_order_and_skips_busy_time(uow, chat, dispatcher, people):
    other = request(uow, dispatcher, people, datetime(2030, 3, 6, 9, 0, tzinfo=UTC), title="Other")
    booking_id = request(uow, dispatcher, people, TUE_10, datetime(2030, 3, 7, 10, 0, tzinfo=UTC), minutes=30)
    assert other != booking_id
    eve = chat("eve")
    eve.as_("eve")
    out = eve.say("Suggest another time")
    assert "meeting 1 of 2 (30 min)" in out
    out = eve.say("Wed 6 Mar")
    assert "Wed 6 Mar 2030, 09:45 (Europe/London)" not in out  # held by the other request until 10:00
    assert "Wed 6 Mar 2030, 10:00 (Europe/London)" in out
    out = eve.say("10:00")
    assert "meeting 2 of 2 (30 min)" in out and "Tue 5 Mar" not in out  # the second comes after the first
    out = eve.say("Wed 6 Mar")
    assert "Wed 6 Mar 2030, 10:15 (Europe/London)" not in out and "Wed 6 Mar 2030, 10:30 (Europe/London)" in out
    out = eve.say("10:30")
    assert "Wed 6 Mar 2030, 10:00 (Europe/London)" in out and "Wed 6 Mar 2030, 10:30 (Europe/London)" in out
    eve.say("Send to Ana")
    booking = status(uow, booking_id)
    assert [m.start.hour for m in booking.meetings] == [10, 10] and booking.meetings[1].start.minute == 30


def test_a_slot_taken_between_showing_and_sending_is_picked_again(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    eve.say("Suggest another time")
    eve.say("Wed 6 Mar")
    eve.say("Later that day")
    eve.say("14:00")
    request(uow, dispatcher, people, datetime(2030, 3, 6, 14, 30, tzinfo=UTC), title="Overlapping")
    out = eve.say("Send to Ana")
    assert "One of those times was taken meanwhile. Please pick again." in out and "Pick a day" in out
    assert not status(uow, booking_id).proposed_by_expert


# ---------------------------------------------------------------------- /requests


def test_requests_lists_pending_cards_and_upcoming_sessions(uow, chat, dispatcher, people):
    first = request(uow, dispatcher, people)
    request(uow, dispatcher, people, datetime(2030, 3, 7, 15, 0, tzinfo=UTC), title="Hiring plan")
    with uow() as u:
        booking_service.accept(u, u.clock, booking_id=first, actor_id=people["eve"].person_id)
        u.commit()
    eve = chat("eve")
    eve.as_("eve")
    out = eve.say("/requests")
    assert "1 request is waiting for your answer:" in out
    assert "New session request from Ana." in out and "“Hiring plan”" in out and "[1] Accept" in out
    assert "Your upcoming sessions:" in out
    assert "• Tue 5 Mar 2030, 10:00 (Europe/London) · 05:00 (America/New_York): “Seed deck review” with Ana, 60 min" in out
    assert "Accepted ✓ “Hiring plan”" in eve.say("Accept")  # the listed card answers like the original
    out = eve.say("/requests")
    assert "No requests are waiting for your answer." in out and "“Hiring plan” with Ana" in out
    assert "This is for experts" in chat("ana").say("/requests")


# ---------------------------------------------------------------------- /availability


def test_availability_view_and_weekly_edit_with_a_typo(uow, chat, people):
    eve = chat("eve")
    out = eve.say("/availability")
    assert "Your availability (times in Europe/London):" in out
    assert "Mon: 09:00–17:00" in out and "Sat: not available" in out
    assert "No days off or extra hours ahead." in out
    assert "Booking rules: at least 12 hours notice; up to 60 days ahead; no break needed between meetings; no daily limit" in out
    out = eve.say("Edit weekly hours")
    assert "Your hours now: Mon-Fri 09:00-17:00" in out
    out = eve.say("Mon-Fri 09:00-12:00; Wednsday 14:00-18:00")
    assert "I could not read that: unknown day" in out and "Wednsday" in out and "did you mean Wednesday?" in out
    out = eve.say("Mon-Fri 09:00-12:00; Wed 14:00-18:00")
    assert "Wed: 09:00–12:00, 14:00–18:00" in out and "Sun: not available" in out and "Save them?" in out
    with uow() as u:
        assert u.experts.schedule(people["eve"].id).weekly == f.WEEKDAYS_9_TO_17  # nothing saved before Save
    out = eve.say("Save")
    assert "Saved ✓" in out and "Thu: 09:00–12:00" in out
    with uow() as u:
        schedule = u.experts.schedule(people["eve"].id)
        assert schedule.weekly == parse_weekly("Mon-Fri 09:00-12:00; Wed 14:00-18:00")
        assert schedule.rules == BookingRules()
        expert = u.experts.get(people["eve"].id)
        assert expert.topics == ("Fundraising",)  # the profile is untouched
    assert "Your hours now: Mon-Fri 09:00-12:00; Wed 14:00-18:00" in (eve.say("Edit weekly hours"))


def test_days_off_and_extra_hours_added_and_removed(uow, chat, people):
    eve = chat("eve")
    eve.say("/availability")
    eve.say("Add a day off")
    assert "Fri 1 Mar 2030 has already passed" in eve.say("2030-03-01")
    assert "has already passed" in eve.say("yesterday")
    assert "I could not read the date “someday soon”" in eve.say("someday soon")
    assert "24-hour time" in eve.say("12 March 2pm-4pm")
    assert "could be read two ways" in eve.say("12/03")
    assert "I could not read the hours “16:00-14:00”" in eve.say("12 March 16:00-14:00")
    out = eve.say("next Friday")
    assert "Day off on Fri 8 Mar 2030 (your time, Europe/London). Save it?" in out
    assert "Saved ✓ Day off on Fri 8 Mar 2030" in eve.say("Save") and "• Day off on Fri 8 Mar 2030" in eve.text
    eve.say("Add a day off")
    out = eve.say("12 March from 14:00 to 16:00")
    assert "Time off on Tue 12 Mar 2030, 14:00–16:00" in out
    eve.say("Save")
    eve.say("Add extra hours")
    assert "Please add the hours you can give on Sat 9 Mar 2030" in eve.say("Saturday")
    out = eve.say("Saturday 10:00-12:00")
    assert "Extra hours on Sat 9 Mar 2030, 10:00–12:00" in out
    eve.say("Save")
    with uow() as u:
        assert set(u.experts.schedule(people["eve"].id).exceptions) == {
            DateException(date(2030, 3, 8), ExceptionKind.OFF),
            DateException(date(2030, 3, 12), ExceptionKind.OFF, 14 * 60, 16 * 60),
            DateException(date(2030, 3, 9), ExceptionKind.EXTRA, 10 * 60, 12 * 60),
        }
    out = eve.say("Remove a day off")
    assert "[1] Fri 8 Mar: day off  [2] Sat 9 Mar 10:00–12:00 extra  [3] Tue 12 Mar 14:00–16:00 off" in out
    out = eve.say("Fri 8 Mar: day off")
    assert "Removed ✓ Day off on Fri 8 Mar 2030" in out
    with uow() as u:
        assert DateException(date(2030, 3, 8), ExceptionKind.OFF) not in u.experts.schedule(people["eve"].id).exceptions
        assert len(u.experts.schedule(people["eve"].id).exceptions) == 2


def test_a_day_off_over_a_confirmed_meeting_warns_that_it_stands(uow, chat, dispatcher, people):
    booking_id = request(uow, dispatcher, people)
    with uow() as u:
        booking_service.accept(u, u.clock, booking_id=booking_id, actor_id=people["eve"].person_id)
        u.commit()
    eve = chat("eve")
    eve.say("/availability")
    eve.say("Add a day off")
    out = eve.say("Tuesday")
    assert "Day off on Tue 5 Mar 2030" in out
    assert "these meetings fall outside your new hours, and they still stand" in out
    assert "• Tue 5 Mar 2030, 10:00 (Europe/London), 60 min: “Seed deck review” (confirmed)" in out
    assert "cancel it from /sessions" in out
    out = eve.say("Save")
    assert "Saved ✓" in out and "they still stand" in out
    booking = status(uow, booking_id)
    assert booking.status is BookingStatus.ACCEPTED and booking.meetings[0].status is MeetingStatus.CONFIRMED


def test_stale_wizard_presses_and_non_experts(uow, chat, people):
    eve = chat("eve")
    eve.say("/availability")
    old = eve.chat.button("add a day off")
    eve.say("Edit weekly hours")
    assert "That button belongs to an earlier message" in eve.press(*old)
    assert "Please use the buttons above" not in eve.say("Mon 09:00-10:00")  # the step survived the stale press
    assert "Save them?" in eve.text
    assert "There was nothing to stop" not in eve.say("/cancel")
    assert "That button belongs to an earlier message" in eve.say("Save")  # the wizard is gone after /cancel
    with uow() as u:
        assert u.experts.schedule(people["eve"].id).weekly == f.WEEKDAYS_9_TO_17
    ana = chat("ana")
    assert "This is for experts" in ana.say("/availability")
    assert "earlier message" in ana.press(p("avail", "week", "1"))


def test_another_time_is_never_the_time_asked_for(uow, chat, dispatcher, people):
    request(uow, dispatcher, people)  # Tue 5 Mar 10:00 (Europe/London)
    eve = chat("eve")
    eve.as_("eve")
    eve.say("Suggest another time")
    out = eve.say("Tue 5 Mar")
    assert "] 09:45" in out and "] 10:15" in out
    assert "] 10:00 " not in out and "10:00 (Europe/London)" not in out
