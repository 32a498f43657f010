"""A change made in the chat is answered once to the person who made it; the engine's notice goes to the other side."""

from __future__ import annotations

from tests.flows.test_sessions import TUE_10, request
from tests.flows.test_sessions import people as session_people


def test_who_cancels_or_moves_is_answered_once_and_the_other_side_is_told(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = session_people(uow)
    request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    ana.say("Reschedule 1")
    ana.say("Wed 6 Mar")
    ana.say("11:00")
    out = ana.say("Confirm new time")
    assert "Moved: “Pitch deck” is now on" in out and "The meeting of “Pitch deck” moved" not in out
    ana.say("/sessions")
    ana.say("Cancel 1")
    ana.say("No reason, continue")
    out = ana.say("Confirm cancellation")
    assert "Cancelled. 0.5 credits are back" in out and "is cancelled" not in out
    out = ana.as_("bob")
    assert "The meeting of “Pitch deck” moved to" in out and "The meeting of “Pitch deck” on" in out
