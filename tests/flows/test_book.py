"""Find and book, typed into the console: search, cards, length and number, day and slot or a typed time,
details, summary, confirm. Outcomes are checked in the database as well as in the text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.events import Sender, parse_text
from bot.flows import all_flows
from bot.router import Router
from core import booking_service
from core.credit_service import balance
from core.credits import Source
from core.lifecycle import BookingStatus, MeetingStatus, PairingMode
from core.sessions import MeetingRequest, SessionDetails
from tests import factories as f
from tests.flows.conftest import Transcript

# T0 is Monday 4 March 2030, 06:00 UTC; experts work 9-17 London (UTC+0 then) and need 12 hours' notice,
# so the first free morning is Tuesday. Ana is in Kolkata (UTC+5:30).
TUE_0930 = datetime(2030, 3, 5, 9, 30, tzinfo=UTC)  # 15:00 in Kolkata


@dataclass
class World:
    ana: int
    ben: int
    eve: int  # compensated expert
    pat: int  # pro-bono expert
    eve_person: int
    company: int


def world(uow, *, credits: str = "2", mode: PairingMode = PairingMode.SELF_SELECT) -> World:  # type: ignore[no-untyped-def]
    with uow() as u:
        programme = f.programme(u, mode=mode, lengths=(30, 60))
        acme = u.people.add_company("Acme", programme.id)
        ana = f.person(u, "ana", tz="Asia/Kolkata", company_id=acme.id)
        ben = f.person(u, "ben")
        f.credits(u, amount="5", person_id=ben.id)
        if credits != "0":
            f.credits(u, amount=credits, source=Source.PROGRAMME, company_id=acme.id)
        eve = f.expert(u, "eve", headline="Seed investor", topics=("Fundraising", "Pitch decks"))
        pat = f.expert(u, "pat", paid=False, headline="Founder, happy to help", topics=("Fundraising",),
                       languages=("en", "de"))
        u.commit()
        return World(ana.id, ben.id, eve.id, pat.id, eve.person_id, acme.id)


def convo(uow, handle: str):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.conversations.load("console", handle, handle)


def bookings_of(uow, person_id: int):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.bookings.for_person(person_id)


def credits_of(uow, person_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        b = balance(u, person_id)
        return b.available, b.held


def to_eve_details(ana: Transcript, *, title: str = "Seed round plan") -> str:
    """From the title question to the summary, with an intro note and no context."""
    assert "short title" in ana.text
    assert "meaningful yet achievable" in ana.say(title)
    assert "break the ice" in ana.say("I want a plan for our seed round I can start on next month")
    assert "Optional: context" in ana.say("Hi Eve, big fan of your posts!")
    assert "attach files" in ana.say("Skip")
    return ana.say("Done")


def test_a_founder_books_a_compensated_expert_with_programme_credits(uow, chat):
    w = world(uow)
    ana = chat("ana")
    out = ana.say("/book fundraising")
    assert "Experts for “fundraising”" in out and "Book Eve" in out and "Book Pat" in out
    assert "Seed investor" in out and "Topics: Fundraising, Pitch decks" in out and "Rating: new" in out
    assert "1 credit per 30 min" not in out and "0.5 credits per 30 min" in out
    assert "Pro-bono: a free 15-minute session" in out
    assert "Next free: Tue 5 Mar 2030, 14:30 (Asia/Kolkata) · 09:00 (Europe/London)" in out
    out = ana.say("Book Eve")
    assert "How long should each meeting with Eve be?" in out and "30 min · 0.5 credits" in out
    assert "60 min · 1 credit" in out and "45 min" not in out  # the programme offers 30 and 60
    assert "How many meetings of 30 min?" in ana.say("30 min · 0.5 credits")
    out = ana.say("1")
    assert "New to Eve" not in out  # one short meeting: nothing to nudge
    assert "Pick a day (in your timezone, Asia/Kolkata)" in out and "Tue 5 Mar" in out and "Mon 4 Mar" not in out
    out = ana.say("Tue 5 Mar")
    assert "• Tue 5 Mar 2030, 15:00 (Asia/Kolkata) · 09:30 (Europe/London)" in out
    assert "[1] 14:30" in out
    out = ana.say("15:00")
    assert "Time: Tue 5 Mar 2030, 15:00 (Asia/Kolkata) · 09:30 (Europe/London)." in out
    out = to_eve_details(ana)
    assert "Please check your request to Eve:" in out and "“Seed round plan”" in out
    assert "Desired outcome: I want a plan for our seed round" in out and "Intro: Hi Eve" in out
    assert "• Tue 5 Mar 2030, 15:00 (Asia/Kolkata) · 09:30 (Europe/London), 30 min" in out
    assert "Price: 0.5 credits" in out and "Your balance: 2 credits available" in out
    assert "[1] Confirm  [2] Change time  [3] Cancel" in out
    assert bookings_of(uow, w.ana) == []  # nothing is held before Confirm
    out = ana.say("Confirm")
    assert "Request sent to Eve. I will tell you as soon as they answer (by Tue 5 Mar 2030" in out
    assert "0.5 credits are on hold until it is answered. 1.5 credits are still available." in out
    assert "Your request “Seed round plan” is with Eve" not in out  # one message, not two
    [booking] = bookings_of(uow, w.ana)
    assert booking.status is BookingStatus.REQUESTED and booking.expert_id == w.eve
    assert [(m.start, m.minutes, m.status) for m in booking.meetings] == [(TUE_0930, 30, MeetingStatus.HELD)]
    assert booking.details.intro_note == "Hi Eve, big fan of your posts!" and booking.details.context == ""
    assert credits_of(uow, w.ana) == (1500, 500)
    assert convo(uow, "ana").flow == ""
    out = ana.as_("eve")
    assert "New session request from Ana" in out and "“Seed round plan”" in out
    assert "Tue 5 Mar 2030, 09:30 (Europe/London) · 15:00 (Asia/Kolkata), 30 min" in out
    assert "[1] Accept  [2] Decline  [3] Suggest another time" in out


def test_a_pro_bono_booking_is_one_free_15_minute_meeting(uow, chat):
    w = world(uow, credits="0")
    ana = chat("ana")
    ana.say("/book")
    assert "What do you need help with?" in ana.text
    out = ana.say("fundraising")  # plain words answer the question
    assert "Book Pat" in out
    out = ana.say("Book Pat")
    assert "Pat is a pro-bono expert: the session is one 15-minute meeting, free" in out
    assert "How long" not in out and "How many" not in out and "Pick a day" in out
    ana.say("Tue 5 Mar")
    out = ana.say("14:30")
    assert "short title" in out
    ana.say("Quick deck check")
    ana.say("Two things to fix in my deck")
    ana.say("Skip")
    ana.say("Skip")
    out = ana.say("Done")
    assert "Price: free (pro-bono)" in out and "15 min" in out and "[1] Confirm" in out
    out = ana.say("Confirm")
    assert "Request sent to Pat." in out and "The session is free." in out
    [booking] = bookings_of(uow, w.ana)
    assert booking.expert_id == w.pat and booking.price_milli == 0 and booking.status is BookingStatus.REQUESTED
    assert [m.minutes for m in booking.meetings] == [15]
    assert credits_of(uow, w.ana) == (0, 0)


def test_plain_words_outside_a_flow_search_and_filters_narrow_it(uow, chat):
    world(uow)
    ana = chat("ana")
    out = ana.say("fundraising")
    assert "Book Eve" in out and "Book Pat" in out and "Speaks German" in out  # languages differ: offered
    assert "Speaks English" not in out  # everyone shown speaks English: that filter would narrow nothing
    out = ana.say("Pro-bono only")
    assert "Book Pat" in out and "Book Eve" not in out and "(filters: pro-bono only)" in out
    out = ana.say("Clear filters")
    assert "Book Eve" in out and "Book Pat" in out
    out = ana.say("Paid only")
    assert "Book Eve" in out and "Book Pat" not in out
    out = ana.say("Free this week")
    assert "Book Eve" in out and "paid only, free this week" in out
    ana.say("Clear filters")
    out = ana.say("Speaks German")
    assert "Book Pat" in out and "Book Eve" not in out
    out = ana.say("quantum basket weaving")  # typed while looking at results: a new search
    assert "No expert matches “quantum basket weaving”" in out and "fewer or other words" in out
    out = ana.say("Show pro-bono experts")
    assert "No pro-bono expert matches" in out and "Book Pat" in out and "Book Eve" not in out


def test_more_pages_through_the_results(uow, chat):
    with uow() as u:
        f.person(u, "ana")
        for i in range(7):
            f.expert(u, f"x{i}", topics=("Pricing",))
        u.commit()
    ana = chat("ana")
    out = ana.say("/book pricing")
    assert out.count("Book X") == 5 and "More" in out and "1. X" in out
    out = ana.say("More")
    assert out.count("Book X") == 2 and "6. X" in out and "More" not in out.split("Clear")[-1]


def test_a_typo_keeps_the_step_and_a_typed_time_is_echoed_then_confirmed(uow, chat):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    out = ana.say("tomorow 3pm")
    assert "I could not read “tomorow 3pm” as a date and time" in out and "Pick a day" in out
    assert convo(uow, "ana").step == "day" and convo(uow, "ana").data["len"] == 30
    out = ana.say("wed evening")  # vague: an hour is picked, said, and asked about
    assert "“wed evening” is not an exact time, so I took 18:00." in out
    assert "You mean Wed 6 Mar 2030, 18:00 (Asia/Kolkata) · 12:30 (Europe/London)?" in out
    assert "Pick a day" in ana.say("No") and convo(uow, "ana").data["slots"] == []
    out = ana.say("tomorrow 3pm")
    assert "You mean Tue 5 Mar 2030, 15:00 (Asia/Kolkata) · 09:30 (Europe/London)?" in out
    assert "[1] Yes  [2] No" in out
    assert "Pick a day" in ana.say("No")
    ana.say("tomorrow 3pm")
    out = ana.say("Yes")
    assert "short title" in out
    assert convo(uow, "ana").data["slots"] == [int(TUE_0930.timestamp() // 60)]
    out = to_eve_details(ana)
    ana.say("Confirm")
    [booking] = bookings_of(uow, w.ana)
    assert booking.meetings[0].start == TUE_0930


def test_a_past_time_an_unavailable_time_and_a_day_without_time(uow, chat):
    world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    out = ana.say("yesterday 3pm")
    assert "Sun 3 Mar 2030, 15:00 (Asia/Kolkata) has already passed" in out
    assert "The nearest free times" in out and "[1] Tue 5 Mar 14:30" in out  # the soonest free slots
    assert convo(uow, "ana").step == "day"
    out = ana.say("tomorrow 11pm")  # 17:30 in London: after Eve's hours
    assert "You mean Tue 5 Mar 2030, 23:00 (Asia/Kolkata) · 17:30 (Europe/London)?" in out
    assert "Eve is not available then." in out and "Tue 5 Mar 22:00" in out  # the last slot that day, nearby
    out = ana.say("tomorrow 10am")  # 04:30 in London: before Eve's hours
    assert "You mean Tue 5 Mar 2030, 10:00 (Asia/Kolkata)" in out and "Eve is not available then." in out
    out = ana.say("today 11pm")  # 17:30 UTC today: inside Eve's 12 hours' notice
    assert "You mean Mon 4 Mar 2030, 23:00 (Asia/Kolkata)" in out and "too soon: Eve needs 12 hours notice" in out
    out = ana.say("wednesday")
    assert "“wednesday” is a day without a time" in out and "Free times on Wed 6 Mar" in out
    out = ana.say("Tue 5 Mar 14:30")  # a nearest-slot button from earlier is outdated now: typed text instead
    assert "You mean Tue 5 Mar 2030, 14:30 (Asia/Kolkata)" in out
    assert "short title" in ana.say("Yes")


def test_a_slot_taken_between_showing_and_pressing_offers_the_nearest(uow, chat, clock):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    out = ana.say("Tue 5 Mar")
    assert "[4] 16:00" in out
    with uow() as u:  # Ben takes 15:00 Kolkata (09:30 London) while Ana looks at the list
        booking_service.request_booking(u, clock, client_id=w.ben, expert_id=w.eve,
                                        meetings=[MeetingRequest(TUE_0930, 30)], details=SessionDetails("Ben", "Help"),
                                        policy=booking_service.DEFAULT_POLICY)
        u.commit()
    out = ana.say("15:00")
    assert "Eve already has a meeting then." in out and "The nearest free times" in out
    assert "Tue 5 Mar 15:00" not in out and "Tue 5 Mar 14:30" in out and "Tue 5 Mar 16:00" in out
    assert convo(uow, "ana").data["slots"] == []
    assert "short title" in ana.say("Tue 5 Mar 16:00")


def test_a_slot_taken_before_confirm_keeps_the_summary_and_change_time_works(uow, chat, clock):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    ana.say("15:00")
    to_eve_details(ana)
    with uow() as u:
        booking_service.request_booking(u, clock, client_id=w.ben, expert_id=w.eve,
                                        meetings=[MeetingRequest(TUE_0930, 30)], details=SessionDetails("Ben", "Help"),
                                        policy=booking_service.DEFAULT_POLICY)
        u.commit()
    out = ana.say("Confirm")
    assert "Someone else just took that time" in out
    state = convo(uow, "ana")
    assert state.flow == "book" and state.step == "summary" and state.data["title"] == "Seed round plan"
    assert bookings_of(uow, w.ana) == [] and credits_of(uow, w.ana) == (2000, 0)
    out = ana.say("Change time")
    assert "Let's pick new times." in out and "Pick a day" in out
    out = ana.say("Tue 5 Mar")
    assert "2030, 15:00 (Asia/Kolkata)" not in out and "2030, 16:00 (Asia/Kolkata)" in out
    out = ana.say("16:00")
    assert "Please check your request to Eve" in out and "“Seed round plan”" in out  # details kept
    assert "Request sent" in ana.say("Confirm")
    [booking] = bookings_of(uow, w.ana)
    assert booking.meetings[0].start == datetime(2030, 3, 5, 10, 30, tzinfo=UTC)


def test_out_of_credits_is_said_before_any_detail(uow, chat):
    w = world(uow, credits="0")
    ana = chat("ana")
    ana.say("/book fundraising")
    out = ana.say("Book Eve")
    assert "You have 0 credits, and the shortest session with Eve costs 0.5." in out
    assert "ask your programme staff" in out and "ask your company for a top-up" in out and "buy credits" in out
    assert "How long" not in out and "title" not in out and "[1] Show pro-bono experts" in out
    assert convo(uow, "ana").step == "broke"
    out = ana.say("Show pro-bono experts")
    assert "Book Pat" in out and "Book Eve" not in out
    assert bookings_of(uow, w.ana) == []


def test_more_meetings_than_the_balance_is_said_at_once_and_new_clients_are_nudged(uow, chat):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("60 min · 1 credit")
    out = ana.say("3")
    assert "That is 3 credits for 3 × 60 min, and you have 2" in out and "How many meetings" in out
    out = ana.say("More")
    assert "Type a number up to 10" in out
    assert "between 1 and 10" in ana.say("12")
    out = ana.say("2")
    assert "New to Eve? The marketplace recommends starting with fewer meetings" in out
    assert "shorter meetings are recommended" in out and "Meeting 1 of 2 (60 min)" in out
    ana.say("Tue 5 Mar")
    out = ana.say("15:00")
    assert "Meeting 1: Tue 5 Mar 2030, 15:00 (Asia/Kolkata)" in out and "Meeting 2 of 2" in out
    out = ana.say("Tue 5 Mar")
    for taken in ("14:30", "15:00", "15:30"):  # meeting 1 is 15:00-16:00 and a 14:30 start would overlap it
        assert f"2030, {taken} (Asia/Kolkata)" not in out
    assert "2030, 16:00 (Asia/Kolkata)" in out
    out = ana.say("tomorrow 3:30pm")  # overlaps meeting 1
    assert "That overlaps meeting 1 of this request." in out
    ana.say("wed 3pm")
    ana.say("Yes")
    out = to_eve_details(ana)
    assert "Price: 2 credits" in out and out.count(", 60 min") == 2
    ana.say("Confirm")
    [booking] = bookings_of(uow, w.ana)
    assert len(booking.meetings) == 2 and booking.price_milli == 2000 and credits_of(uow, w.ana) == (0, 2000)


def test_a_crafted_press_cannot_book_a_pro_bono_expert_for_90_minutes(uow, chat):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Pat")
    version = convo(uow, "ana").version
    out = ana.press(f"1|book|len|{version}|90")
    assert "Sessions with pro-bono experts are one 15-minute meeting." in out
    state = convo(uow, "ana")
    assert state.step == "day" and state.data["len"] == 15 and state.data["n"] == 1
    out = ana.press(f"1|book|cnt|{state.version}|3")
    assert "Sessions with pro-bono experts are one 15-minute meeting." in out
    assert convo(uow, "ana").data["n"] == 1
    assert "outdated" not in out
    out = ana.press("1|book|len|1|90")  # an old stamp: outdated, and the current step is shown again
    assert "earlier message" in out and "Pick a day" in out
    assert convo(uow, "ana").data["len"] == 15
    assert "Free times on Tue 5 Mar" in ana.say("Tue 5 Mar")
    ana.say("14:30")
    for line in ("Deck", "Feedback", "Skip", "Skip", "Done", "Confirm"):
        ana.say(line)
    [booking] = bookings_of(uow, w.ana)
    assert booking.expert_id == w.pat and [m.minutes for m in booking.meetings] == [15]


def test_an_admin_assigned_programme_shows_only_assigned_experts(uow, chat):
    w = world(uow, mode=PairingMode.ADMIN_ASSIGNED)
    ana = chat("ana")
    out = ana.say("/book fundraising")
    assert "Your programme has not assigned any experts" in out
    with uow() as u:
        u.people.assign_expert(w.company, w.eve)
        u.commit()
    out = ana.say("/book fundraising")
    assert "Book Eve" in out and "Book Pat" not in out
    out = ana.press(f"1|book|pick|{w.pat}")  # a crafted press for an expert not assigned
    assert "not assigned to you" in out
    assert "How long" in ana.press(f"1|book|pick|{w.eve}")


def test_a_restart_in_the_middle_of_a_booking_continues(uow, chat, clock):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    slot_payload = ana.chat.button("15:00")[0]
    # A new process: a new dispatcher and console over the same database; the old message is still on screen.
    fresh = Transcript(ConsoleChat(Dispatcher(uow, clock, all_flows(), Router(["console"])), uow, "ana"))
    assert "short title" in fresh.press(slot_payload)
    out = to_eve_details(fresh)
    assert "Please check your request to Eve" in out
    fresh2 = Transcript(ConsoleChat(Dispatcher(uow, clock, all_flows(), Router(["console"])), uow, "ana"))
    confirm = fresh.chat.button("confirm")[0]
    assert "Request sent" in fresh2.press(confirm)
    [booking] = bookings_of(uow, w.ana)
    assert booking.status is BookingStatus.REQUESTED and booking.meetings[0].start == TUE_0930


def test_a_double_press_of_confirm_books_once(uow, chat):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    ana.say("15:00")
    to_eve_details(ana)
    confirm = ana.chat.button("confirm")[0]
    assert "Request sent" in ana.press(confirm)
    assert "already been sent" in ana.press(confirm)
    assert len(bookings_of(uow, w.ana)) == 1 and credits_of(uow, w.ana) == (1500, 500)


def test_a_confirm_that_lost_the_race_to_its_own_twin_says_the_request_was_sent(uow, chat, monkeypatch):
    """Two processes take the same Confirm (a double tap reaching two web workers): the second loaded the
    conversation before the first committed, finds the time held by Ana's own new request, and must say so
    as "already sent", not "Someone else just took that time"."""
    import copy

    from storage.chat_repo import SqlConversations

    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    ana.say("15:00")
    to_eve_details(ana)
    confirm = ana.chat.button("confirm")[0]
    with uow() as u:
        stale = u.conversations.load("console", "ana", "ana")  # what the second process read, before
    assert "Request sent" in ana.press(confirm)
    real_load = SqlConversations.load
    handed = []

    def load_once_stale(self, platform, chat_id, user_id):  # type: ignore[no-untyped-def]
        if not handed:
            handed.append(True)
            return copy.deepcopy(stale)
        return real_load(self, platform, chat_id, user_id)

    monkeypatch.setattr(SqlConversations, "load", load_once_stale)
    out = ana.press(confirm)
    assert "already been sent" in out and "Someone else" not in out
    assert len(bookings_of(uow, w.ana)) == 1 and credits_of(uow, w.ana) == (1500, 500)


def test_cancel_in_the_middle_leaves_nothing_booked_or_held(uow, chat):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    ana.say("15:00")
    to_eve_details(ana)
    confirm = ana.chat.button("confirm")[0]
    assert "Stopped. Nothing was booked" in ana.say("/cancel")
    assert convo(uow, "ana").flow == ""
    assert "earlier message" in ana.press(confirm)  # the summary's Confirm no longer books
    assert bookings_of(uow, w.ana) == [] and credits_of(uow, w.ana) == (2000, 0)
    with uow() as u:
        assert u.experts.busy(w.eve, TUE_0930, TUE_0930.replace(hour=10)) == []


def test_the_summary_cancel_button_and_details_validation(uow, chat, dispatcher):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    ana.say("15:00")
    out = ana.say("x" * 100)
    assert "Please keep the title shorter (80 characters at most). Yours has 100." in out and "short title" in out
    assert convo(uow, "ana").step == "title"
    ana.say("  Seed   round  ")
    assert convo(uow, "ana").data["title"] == "Seed round"
    out = ana.say("y" * 600)
    assert "desired outcome shorter" in out and convo(uow, "ana").step == "outcome"
    assert convo(uow, "ana").data["title"] == "Seed round"  # what was typed before is kept
    ana.say("A plan")
    ana.say("Skip")
    ana.say("Context: pre-seed, 3 pilots")
    sender = Sender("console", "ana", "ana", display_name="ana")
    dispatcher.handle(parse_text(sender, "file-1", "", file_ref="deck.pdf"))
    assert "Attached (1 so far)" in "\n".join(ana.chat.pending())
    out = ana.say("Done")
    assert "Attachments: 1" in out and "Context: Context: pre-seed" in out
    assert "Cancelled. Nothing was booked" in ana.say("Cancel")
    assert bookings_of(uow, w.ana) == []


def test_the_deep_link_opens_the_expert_card(uow, chat):
    world(uow)
    ana = chat("ana")
    out = ana.say("/start e_eve")
    assert "Eve — Seed investor" in out and "0.5 credits per 30 min" in out and "[1] Book Eve" in out
    assert "Next free: Tue 5 Mar 2030, 14:30 (Asia/Kolkata)" in out and "Welcome" not in out
    assert "How long should each meeting with Eve be?" in ana.say("Book Eve")
    out = ana.say("/start e_nobody")
    assert "does not lead to an expert I know" in out and "Welcome" not in out and "/book" in out
    assert "What do you need help with?" in ana.press("1|book|again")  # "Find another expert" after a decline


@pytest.mark.parametrize("payload", ["1|book|pick|999", "1|book|ok|5", "1|book|slot|3|123", "1|book|nonsense"])
def test_junk_presses_are_answered_politely(uow, chat, payload):
    w = world(uow)
    ana = chat("ana")
    out = ana.press(payload)
    assert "could not find that expert" in out or "earlier message" in out
    assert bookings_of(uow, w.ana) == []


def test_money_is_shown_for_an_expert_with_an_hourly_rate_and_later_days_page(uow, chat):
    from decimal import Decimal

    from core.amounts import Money
    from core.experts import Expert, ExpertKind
    from core.schedule import BookingRules, Schedule

    w = world(uow)
    with uow() as u:
        p = f.person(u, "max", tz="America/New_York")
        u.experts.put(Expert(None, p.id, "max", "Max", "America/New_York", ExpertKind.COMPENSATED, headline="CFO",
                             topics=("Finance",), rate_multiplier=Decimal("1.5"), hourly_rate=Money(12000, "USD")),
                      Schedule("America/New_York", f.WEEKDAYS_9_TO_17, (), BookingRules()))
        u.commit()
    ben = chat("ben")  # on the marketplace: the expert's money rate is shown too
    assert "0.75 credits per 30 min ($60.00 per 30 min)" in ben.say("/start e_max")
    ana = chat("ana")  # in a programme: she pays programme credits, so no dollar price
    out = ana.say("/start e_max")
    assert "0.75 credits per 30 min" in out and "$" not in out
    ana.say("Book Max")
    ana.say("30 min · 0.75 credits")
    out = ana.say("1")
    # Max's New York afternoons are Kolkata's nights: Monday evening in New York is Tuesday in Kolkata.
    assert "[1] Mon 4 Mar" in out and "[6] Sat 9 Mar" in out and "[12] Sat 16 Mar" in out and "Later days" in out
    out = ana.say("Later days")
    assert "[1] Mon 18 Mar" in out and "Earliest days" in out and "Tue 5 Mar" not in out
    out = ana.say("Mon 18 Mar")
    assert "Mon 18 Mar 2030, 18:30 (Asia/Kolkata) · 09:00 (America/New_York)" in out  # EDT since 10 March
    ana.say("18:30")
    out = to_eve_details(ana)
    assert "Price: 0.75 credits\n" in out and "Your balance: 2 credits available" in out
    ana.say("Confirm")
    [booking] = bookings_of(uow, w.ana)
    assert booking.price_milli == 750 and booking.money_minor == 6000 and booking.currency == "USD"


def test_a_deep_link_from_someone_new_welcomes_them_then_opens_the_card(uow, chat):
    world(uow)
    newbie = chat("newbie")  # never seen before: the link survives the timezone question
    out = newbie.say("/start e_eve")
    assert "Welcome to Headstrt" in out and "Which timezone are you in?" in out and "Book Eve" not in out
    out = newbie.say("Asia/Kolkata")
    assert "Timezone set to Asia/Kolkata" in out and "Which language should I use?" in out and "Book Eve" not in out
    out = newbie.say("English")
    assert "[1] Book Eve" in out and "All set" not in out


def test_out_of_credits_on_the_marketplace_offers_only_what_applies(uow, chat):
    world(uow)
    with uow() as u:
        f.person(u, "chen", tz="Asia/Singapore")  # no company, no programme, no credits
        u.commit()
    chen = chat("chen")
    chen.say("/book fundraising")
    out = chen.say("Book Eve")
    assert "You can buy credits, or book a pro-bono expert" in out and "programme staff" not in out
    out = chen.say("/credits")
    assert "buy credits of your own" in out and "programme staff" not in out
