"""A recurring series in the console: weekly from a London founder to a New York expert across the US DST
change (the wall time stays in the expert's zone), a clash shown before anything is held, the free dates
booked as one request the expert accepts at once; then one skipped and the rest cancelled, with the policy's
refunds checked in the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core import booking_service as bs
from core.credit_service import balance
from core.sessions import MeetingRequest, SessionDetails
from core.lifecycle import BookingStatus, MeetingStatus
from core.schedule import DateException, ExceptionKind, Schedule
from tests import factories as f

NY = "America/New_York"


# T0 is Monday 4 March 2030, 06:00 UTC. New York moves its clocks on Sunday 10 March, London on 31 March:
# 10:00 in New York is 15:00 in London on 5 March and 14:00 from 12 March.
MAR_5, MAR_12, MAR_26 = (datetime(2030, 3, 5, 15, tzinfo=UTC), datetime(2030, 3, 12, 14, tzinfo=UTC),
                         datetime(2030, 3, 26, 14, tzinfo=UTC))


def world(uow):  # type: ignore[no-untyped-def]
    """@ana in London with 4 credits; @nia, a New York expert, 9-17 her time, off on Tue 19 March."""
    with uow() as u:
        ana = f.person(u, "ana", tz="Europe/London")
        f.credits(u, amount="4", person_id=ana.id)
        nia = f.expert(u, "nia", tz=NY, headline="Growth")
        u.experts.put(nia, Schedule(NY, f.WEEKDAYS_9_TO_17, (DateException(date(2030, 3, 19), ExceptionKind.OFF),)))
        u.commit()
        return ana.id, nia.id, nia.person_id


def credits_of(uow, person_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        b = balance(u, person_id)
        return b.available, b.held


def bookings_of(uow, person_id: int):  # type: ignore[no-untyped-def]
    with uow() as u:
        return sorted(u.bookings.for_person(person_id), key=lambda b: b.first_start)


def book_weekly_series(uow, ana) -> None:  # type: ignore[no-untyped-def]
    """Weekly, 4 sessions of 60 min from Tue 5 March 15:00 London; the clash on 19 March is dropped."""
    ana.say("/book growth")
    ana.say("Book Nia")
    out = ana.say("60 min · 1 credit")
    assert "Or make it a series" in out and "[6] Repeat weekly  [7] Every two weeks  [8] Monthly" in out
    out = ana.say("Repeat weekly")
    assert "Repeat weekly: how many sessions?" in out and "[4] 4" in out and "[12] 12" in out
    assert "Until Sun 31 Mar" in out
    out = ana.say("4")
    assert "The first session of the series (60 min) with Nia" in out
    ana.say("Tue 5 Mar")
    out = ana.say("15:00")
    assert "Your series with Nia, weekly, 4 sessions, 60 min each" in out
    assert "✓ Tue 5 Mar 2030, 15:00 (Europe/London) · 10:00 (America/New_York)" in out
    assert "✓ Tue 12 Mar 2030, 14:00 (Europe/London) · 10:00 (America/New_York)" in out  # New York moved, London not yet
    assert "✗ Tue 19 Mar 2030, 14:00 (Europe/London) · 10:00 (America/New_York): Nia is not available that day" in out
    assert "✓ Tue 26 Mar 2030, 14:00 (Europe/London) · 10:00 (America/New_York)" in out
    assert "stay at 10:00 in Nia's zone (America/New_York); in yours the time moves" in out
    assert "1 date clashes and would be left out." in out
    assert "Nothing is held yet. The free dates cost 3 credits (1 each)" in out
    assert "[1] Go ahead with the 3 free dates  [2] Pick another start  [3] Change how many" in out
    assert bookings_of(uow, ana_id(uow)) == [] and credits_of(uow, ana_id(uow)) == (4000, 0)
    out = ana.say("Go ahead with the 3 free dates")
    assert "3 sessions planned." in out and "short title" in out
    ana.say("Weekly mentoring")
    ana.say("A growth plan for the quarter")
    ana.say("Skip")
    ana.say("Skip")
    out = ana.say("Done")
    assert "Sessions, weekly, 3 sessions (your time, with Nia's for reference):" in out
    assert "• Tue 26 Mar 2030, 14:00 (Europe/London) · 10:00 (America/New_York), 60 min" in out
    assert "19 Mar" not in out and "Price: 3 credits" in out
    out = ana.say("Confirm")
    assert "Request sent to Nia: weekly, 3 sessions. They answer for the whole series at once" in out
    assert "3 credits are on hold until it is answered. 1 credit is still available." in out


def ana_id(uow) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.people.by_handle("ana").id


def test_a_weekly_series_across_the_dst_change_is_one_request_the_expert_accepts_at_once(uow, chat):
    ana_pid, nia_id, nia_person = world(uow)
    ana = chat("ana")
    book_weekly_series(uow, ana)
    held = bookings_of(uow, ana_pid)
    assert [b.first_start for b in held] == [MAR_5, MAR_12, MAR_26]
    assert len({b.series_id for b in held}) == 1 and held[0].series_id is not None
    assert {b.status for b in held} == {BookingStatus.REQUESTED} and [b.price_milli for b in held] == [1000] * 3
    assert credits_of(uow, ana_pid) == (1000, 3000)

    out = ana.as_("nia")
    assert out.count("New series request from Ana: weekly, 3 sessions.") == 1
    assert "New session request" not in out  # one card for the series, not one per date
    assert "• Tue 5 Mar 2030, 10:00 (America/New_York) · 15:00 (Europe/London), 60 min" in out
    assert "• Tue 12 Mar 2030, 10:00 (America/New_York) · 14:00 (Europe/London), 60 min" in out
    assert "• Tue 26 Mar 2030, 10:00 (America/New_York) · 14:00 (Europe/London), 60 min" in out
    assert "Price: 3 credits" in out and "[1] Accept all  [2] Decline all" in out
    out = ana.say("/requests")  # the queue shows the series as one card too
    assert out.count("New series request from Ana: a series of 3 sessions.") == 1 and "New session request" not in out
    assert out.count("[1] Accept all  [2] Decline all") == 1
    out = ana.say("Accept all")
    assert "Accepted ✓ the series “Weekly mentoring” from Ana (a series of 3 sessions)." in out
    assert {b.status for b in bookings_of(uow, ana_pid)} == {BookingStatus.ACCEPTED}
    assert credits_of(uow, ana_pid) == (1000, 0)  # spent at acceptance
    out = ana.as_("ana")
    assert out.count("Confirmed: your series is booked (a series of 3 sessions).") == 1
    assert out.count("[file: session-") == 3  # one invite per session


def test_skip_one_then_cancel_all_remaining_with_the_policy_refund_for_each(uow, chat, clock):
    ana_pid, nia_id, nia_person = world(uow)
    ana = chat("ana")
    book_weekly_series(uow, ana)
    ana.as_("nia")
    ana.say("Accept all")
    ana.as_("ana")
    out = ana.say("/sessions")
    assert "[1] Skip 1  [2] Move 1  [3] Cancel all remaining 1  [4] Message Nia 1" in out and "[5] Skip 2" in out
    out = ana.say("Skip 2")
    assert "Cancel “Weekly mentoring” with Nia on Tue 12 Mar 2030, 14:00 (Europe/London)" in out
    assert "your 1 credit comes back" in out
    ana.say("No reason, continue")
    out = ana.say("Confirm cancellation")
    assert "Cancelled. 1 credit is back: you have 2 available now." in out
    assert credits_of(uow, ana_pid) == (2000, 0)

    clock.advance(timedelta(hours=10))  # 5 March 15:00 is now 23 hours ahead: cancelling it refunds nothing
    out = ana.say("/sessions")
    out = ana.say("Cancel all remaining 1")
    assert "Cancel all 2 remaining sessions of “Weekly mentoring” with Nia?" in out
    assert "The policy applies to each one: 1 credit comes back in all." in out
    assert credits_of(uow, ana_pid) == (2000, 0)  # nothing before the confirmation
    out = ana.say("Cancel all remaining")
    assert "Cancelled 2 sessions. 1 credit is back: you have 3 available now. Nia has been told." in out
    assert credits_of(uow, ana_pid) == (3000, 0)
    with uow() as u:
        stored = sorted(u.bookings.for_person(ana_pid), key=lambda b: b.first_start)
        assert [b.meetings[0].status for b in stored] == [MeetingStatus.CANCELLED] * 3
        returned = u.bookings.credits_returned([b.id for b in stored])
        assert [returned.get(f"refund:meeting:{b.meetings[0].id}", 0) for b in stored] == [0, 1000, 1000]
    out = ana.as_("nia")
    assert "The remaining sessions of “Weekly mentoring” are cancelled:" in out
    out = ana.as_("ana")
    ana.say("/sessions")
    assert "Nothing coming up" in ana.say("/sessions upcoming")


def test_every_two_weeks_until_a_typed_date_with_a_meeting_in_the_way_then_declined(uow, chat, clock):
    ana_pid, nia_id, nia_person = world(uow)
    with uow() as u:  # Ben already has Nia on Tue 2 April at 10:00 New York time
        ben = f.person(u, "ben")
        f.credits(u, amount="2", person_id=ben.id)
        b = bs.request_booking(u, clock, client_id=ben.id, expert_id=nia_id,
                               meetings=[MeetingRequest(datetime(2030, 4, 2, 14, tzinfo=UTC), 60)],
                               details=SessionDetails("Other", "Something"), policy=bs.DEFAULT_POLICY)
        bs.accept(u, clock, booking_id=b.id, actor_id=nia_person)
        u.commit()
    ana = chat("ana")
    ana.say("/book growth")
    ana.say("Book Nia")
    ana.say("60 min · 1 credit")
    ana.say("Every two weeks")
    out = ana.say("until 16 April")
    assert "The first session of the series" in out
    ana.say("Tue 5 Mar")
    out = ana.say("15:00")
    assert "Your series with Nia, every two weeks, 4 sessions, 60 min each" in out
    assert "✗ Tue 2 Apr 2030, 15:00 (Europe/London) · 10:00 (America/New_York): Nia is busy then" in out
    assert "✗ Tue 19 Mar 2030" in out and "✓ Tue 16 Apr 2030, 15:00 (Europe/London)" in out  # London moved too
    ana.say("Go ahead with the 2 free dates")
    ana.say("Biweekly check-in")
    ana.say("Keep momentum")
    ana.say("Skip")
    ana.say("Skip")
    ana.say("Done")
    out = ana.say("Confirm")
    assert "Request sent to Nia: every two weeks, 2 sessions." in out
    assert credits_of(uow, ana_pid) == (2000, 2000)
    ana.as_("nia")
    out = ana.say("Decline all")
    assert "Declined ✓ the series “Biweekly check-in” from Ana (a series of 2 sessions)." in out
    assert credits_of(uow, ana_pid) == (4000, 0)
    assert {b.status for b in bookings_of(uow, ana_pid)} == {BookingStatus.DECLINED}
    out = ana.as_("ana")
    assert out.count("Nia could not take the series “Biweekly check-in” (a series of 2 sessions).") == 1
