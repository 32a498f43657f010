"""Client and mentor write to each other about a session, in the console: "Message <name>" on the session and on
the confirmation, Reply under a relayed message, the thread shown before typing, the limits (length, a day's
count, the days after the last meeting, a programme's own number of days), a recipient who blocked the bot,
and programme staff reading a thread after a no-show (staff of another programme refused)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from core.booking_service import DEFAULT_POLICY
from core import booking_service as bs
from core import programme_service
from core import relay_service as rs
from core.model import RelayState
from bot.delivery import GiveUp, OutboxPump, Retry
from storage.chat_repo import OutboxMessage
from storage.models import RelayMessageRow, StaffActionRow
from tests.flows.test_session_details import HOSTILE, book
from tests.flows.test_sessions import TUE_10, engine, people
from tests.staff_world import THU_10, two_programmes


def session(uow, dispatcher, clock) -> int:  # type: ignore[no-untyped-def]
    """Ana (client) and Bob (expert, Berlin) with a confirmed meeting on Tuesday; Bob has read his notices."""
    ana_id, bob_id, bob_person = people(uow)
    return book(uow, dispatcher, clock, ana_id, bob_id, bob_person)


def thread(uow, booking_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with uow() as u:
        return [(u.people.get(m.author_id).handle, m.text) for m in u.relay.thread(booking_id, 50)]


def test_a_message_and_its_reply_go_both_ways_and_the_thread_shows_first(uow, chat, dispatcher, clock):
    booking_id = session(uow, dispatcher, clock)
    ana = chat("ana")
    out = ana.as_("ana")
    assert "Confirmed: your session is booked." in out and "[2] Message Bob" in out  # on the confirmation too
    out = ana.say("/sessions")
    assert "[3] Message Bob 1" in out
    out = ana.say("Message Bob 1")
    assert "Your last messages" not in out  # nothing written yet
    assert "Type your message to Bob about “Pitch deck” (at most 2000 characters)." in out
    assert "Sent to Bob. Their answer will come here." in ana.say(f"Hello Bob {HOSTILE} <script>x</script> &amp;")

    out = ana.as_("bob")
    assert (f"Ana wrote to you about “Pitch deck” (Tue 5 Mar):\nHello Bob {HOSTILE} <script>x</script> &amp;\n"
            "  [1] Reply") in out
    out = ana.say("Reply")
    assert "Your last messages with Ana about “Pitch deck”:\nAna, Mon 4 Mar 07:00:\n" in out  # Bob's zone
    assert f"   Hello Bob {HOSTILE} <script>x</script> &amp;" in out
    assert "Type your message to Ana about “Pitch deck”" in out
    clock.advance(timedelta(minutes=5))
    assert "Sent to Ana." in ana.say("Thanks, see you <i>Tuesday</i>")

    out = ana.as_("ana")
    assert "Bob wrote to you about “Pitch deck” (Tue 5 Mar):\nThanks, see you <i>Tuesday</i>" in out
    out = ana.say("Reply")
    assert ("Your last messages with Bob about “Pitch deck”:\nYou, Mon 4 Mar 06:00:\n"
            f"   Hello Bob {HOSTILE} <script>x</script> &amp;\nBob, Mon 4 Mar 06:05:\n"
            "   Thanks, see you <i>Tuesday</i>") in out
    assert "Nothing was sent." in ana.say("Stop")
    assert thread(uow, booking_id) == [("ana", f"Hello Bob {HOSTILE} <script>x</script> &amp;"),
                                       ("bob", "Thanks, see you <i>Tuesday</i>")]

    # After the meeting, the past session keeps the button.
    clock.set(TUE_10 + timedelta(hours=1))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=booking_id))
    assert "Message Bob 1" in ana.say("/sessions past")


def test_text_is_checked_cleaned_and_strangers_are_refused(uow, chat, dispatcher, clock):
    booking_id = session(uow, dispatcher, clock)
    ana = chat("ana")
    ana.as_("ana")
    ana.press(f"1|rly|msg|{booking_id}")
    assert "Please keep it under 2000 characters; it is 2001 now." in ana.say("x" * 2001)
    assert "Sent to Bob." in ana.say("Hi\x00 there\x07\x1b[31m")
    assert thread(uow, booking_id) == [("ana", "Hi there[31m")]  # control characters never reach anyone
    eve = chat("eve")
    eve.as_("eve")
    assert "Only the client or the expert of this session can do that." in eve.press(f"1|rly|msg|{booking_id}")
    assert "I could not find that session." in eve.press("1|rly|msg|999999")
    assert "That button belongs to an earlier message" in eve.press("1|rly|msg|x")


def test_a_day_allows_twenty_messages_per_person(uow, chat, dispatcher, clock):
    booking_id = session(uow, dispatcher, clock)
    ana = chat("ana")
    ana.as_("ana")
    for n in range(rs.DAILY_LIMIT):
        ana.press(f"1|rly|msg|{booking_id}")
        assert "Sent to Bob." in ana.say(f"note {n}")
    out = ana.press(f"1|rly|msg|{booking_id}")
    assert "You have sent 20 messages about “Pitch deck” today, which is the limit." in out
    assert "Type your message" not in out
    bob = chat("bob")
    bob.as_("bob")
    bob.press(f"1|rly|msg|{booking_id}")
    assert "Sent to Ana." in bob.say("my own count")  # the limit is per person
    clock.advance(timedelta(days=1, seconds=1))
    ana.press(f"1|rly|msg|{booking_id}")
    assert "Sent to Bob." in ana.say("next day")
    assert len(thread(uow, booking_id)) == rs.DAILY_LIMIT + 2


def test_messages_close_thirty_days_after_the_last_meeting(uow, chat, dispatcher, clock):
    booking_id = session(uow, dispatcher, clock)
    clock.set(TUE_10 + timedelta(hours=1))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=booking_id))
    ana = chat("ana")
    ana.as_("ana")
    clock.set(TUE_10 + timedelta(minutes=30, days=30))  # the last minute it is open
    assert "Message Bob 1" in ana.say("/sessions past")
    assert "Type your message" in ana.say("Message Bob 1")
    clock.advance(timedelta(minutes=1))
    out = ana.say("Too late?")
    assert "Messages about “Pitch deck” closed on Thu 4 Apr: I pass them on for a while after the last meeting " \
           "only. Nothing was sent." in out
    assert "Message Bob" not in ana.say("/sessions past")
    assert "closed on Thu 4 Apr" in ana.press(f"1|rly|msg|{booking_id}")  # an old button
    assert thread(uow, booking_id) == []


def test_a_programme_sets_its_own_number_of_days(uow, chat, dispatcher, clock):
    a, _b = two_programmes(uow, clock)
    with uow() as u:
        programme_service.update_programme(u, clock.now(), programme_id=a.programme, relay_days=2)
        u.commit()
    clock.set(THU_10 + timedelta(days=2, minutes=59))
    ana = chat("ana")
    ana.as_("ana")
    assert "Type your message to Eve" in ana.press(f"1|rly|msg|{a.confirmed}")
    clock.set(THU_10 + timedelta(days=2, hours=1, minutes=1))
    assert "closed on Sat 9 Mar" in ana.say("hello")


class RefusingSender:
    """The console's platform as Telegram answers someone who blocked the bot: 403 for them, every time."""

    platform = "console"

    def __init__(self, refused_chat: str, reason: str = "forbidden") -> None:
        self.refused_chat = refused_chat
        self.reason = reason
        self.sent: list[tuple[str, str]] = []  # (chat, text) of what went to everyone else

    async def send(self, message: OutboxMessage) -> str | None:
        if message.chat_id == self.refused_chat:
            raise PermissionError("Forbidden: bot was blocked by the user")
        self.sent.append((message.chat_id, json.loads(message.payload)["text"]))
        return None

    def classify(self, error: Exception) -> Retry | GiveUp:
        return GiveUp(self.reason)


def deliver(uow, dispatcher, sender) -> None:  # type: ignore[no-untyped-def]
    """One round of the real outbox pump over the console's rows, with this sender."""
    pump = OutboxPump(uow, sender)
    pump.serve(dispatcher)
    asyncio.run(pump.deliver())


def test_a_recipient_who_blocked_the_bot_stops_the_relay_and_the_sender_is_told_once(uow, chat, dispatcher, clock):
    booking_id = session(uow, dispatcher, clock)
    bob = chat("bob")
    bob.as_("bob")  # Bob has read everything so far
    ana = chat("ana")
    ana.as_("ana")
    ana.press(f"1|rly|msg|{booking_id}")
    assert "Sent to Bob." in ana.say("Are you there?")
    ana.press(f"1|rly|msg|{booking_id}")
    assert "Sent to Bob." in ana.say("Hello?")
    clock.advance(timedelta(minutes=1))
    platform = RefusingSender("bob")
    for _ in range(3):  # the first relayed message is refused as blocked, then the one that waited behind it
        deliver(uow, dispatcher, platform)

    with uow() as u:
        states = [r.state for r in u.session.scalars(select(RelayMessageRow).order_by(RelayMessageRow.id))]
    assert states == [RelayState.BLOCKED.value, RelayState.BLOCKED.value]
    told = ("Bob cannot get messages from me any more (they blocked the bot or left the chat), so your message "
            "about “Pitch deck” was not delivered. Further messages will not be passed on either.")
    assert platform.sent == [("ana", told)]  # once, not for each message refused
    out = ana.press(f"1|rly|msg|{booking_id}")
    assert "Bob cannot get messages from me any more (they blocked the bot or left the chat), so I cannot pass " \
           "yours on. Nothing was sent." in out
    assert "Type your message" not in out

    # Bob writes to the bot again: what it answers reaches him, so the relay works again.
    clock.advance(timedelta(minutes=1))
    bob.as_("bob")
    bob.say("/credits")
    assert "Type your message to Bob" in ana.press(f"1|rly|msg|{booking_id}")
    assert "Sent to Bob." in ana.say("Welcome back")


def test_another_refusal_marks_the_message_failed_without_telling_anyone(uow, chat, dispatcher, clock):
    booking_id = session(uow, dispatcher, clock)
    chat("bob").as_("bob")
    ana = chat("ana")
    ana.as_("ana")
    ana.press(f"1|rly|msg|{booking_id}")
    ana.say("A message")
    deliver(uow, dispatcher, RefusingSender("bob", reason="refused"))
    with uow() as u:
        assert u.session.scalars(select(RelayMessageRow.state)).all() == [RelayState.FAILED.value]
    assert "cannot get messages" not in ana.say("/credits")
    assert "Type your message" in ana.press(f"1|rly|msg|{booking_id}")  # not blocked


def test_staff_read_the_thread_from_the_no_show_notice_only_for_their_programme(uow, chat, dispatcher, clock):
    a, b = two_programmes(uow, clock)
    ana = chat("ana")
    ana.as_("ana")
    ana.press(f"1|rly|msg|{a.confirmed}")
    assert "Sent to Eve." in ana.say(f"Running 5 min late {HOSTILE}")
    clock.set(THU_10 + timedelta(minutes=20))
    eve = chat("eve")
    eve.as_("eve")
    eve.press(f"1|rly|msg|{a.confirmed}")
    assert "Sent to Ana." in eve.say("I am in the room")

    sam = chat("sam")
    sam.as_("sam")
    assert "Staff read a session's messages only after a no-show or a complaint was reported." in \
        sam.press(f"1|rly|staff|{a.confirmed}")

    engine(uow, dispatcher, lambda u: bs.report_no_show(u, clock, policy=DEFAULT_POLICY, booking_id=a.confirmed, meeting_id=a.meeting,
                                                        reporter_id=a.expert_person))
    out = sam.as_("sam")
    assert "No-show: Eve reports that Ana did not come to “Seed round plan” on Thu 7 Mar 2030, 10:00 " \
           "(Europe/London).\n  [1] Read messages" in out
    out = sam.say("Read messages")
    assert ("Messages between Ana and Eve about “Seed round plan”:\nAna, Mon 4 Mar 06:00:\n"
            f"   Running 5 min late {HOSTILE}\nEve, Thu 7 Mar 10:20:\n   I am in the room") in out
    with uow() as u:
        logged = u.session.scalars(select(StaffActionRow.action).where(StaffActionRow.booking_id == a.confirmed)).all()
    assert "read_messages" in logged

    tim = chat("tim")
    out = tim.as_("tim")
    assert "No-show" not in out  # the other programme's staff hear nothing
    out = tim.press(f"1|rly|staff|{a.confirmed}")
    assert "Only programme staff can do that." in out and "Running" not in out
    assert "Only programme staff can do that." in tim.press("1|rly|staff|999999")  # nor whether it exists
    assert "Only programme staff can do that." in sam.press(f"1|rly|staff|{b.confirmed}")


def test_a_low_review_lets_staff_read_the_thread(uow, chat, dispatcher, clock):
    a, _b = two_programmes(uow, clock)
    ana = chat("ana")
    ana.as_("ana")
    ana.press(f"1|rly|msg|{a.confirmed}")
    ana.say("Can we talk about valuation?")
    clock.set(THU_10 + timedelta(hours=2))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=a.confirmed))
    engine(uow, dispatcher, lambda u: bs.leave_review(u, booking_id=a.confirmed, author_id=a.founder, stars=1,
                                                      text="Unhelpful"))
    sam = chat("sam")
    out = sam.as_("sam")
    assert "New review of Eve by Ana" in out and "[2] Read messages" in out
    assert "Can we talk about valuation?" in sam.say("Read messages")
