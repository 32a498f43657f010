"""Typed answers that are not what was asked get a plain answer, never a silent guess: a bare number is
neither a time nor a date, and a word that is not a day is not offered back as one."""

from __future__ import annotations

from tests.flows.test_book import convo, world
from tests.flows.test_expert import people  # noqa: F401 - fixture
from tests.flows.test_sessions import TUE_10, request
from tests.flows.test_sessions import people as session_people


def test_a_bare_number_while_choosing_a_time_is_not_guessed_as_a_date(uow, chat):
    world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    out = ana.say("25")  # not a button here; the 25th, or 25 o'clock? Not silently "Mon 25 Mar 2030, 00:00"
    assert "Is “25” a day or an hour? Please add the other, for example “tomorrow 3pm”." in out and "You mean" not in out
    assert convo(uow, "ana").step == "day"


def test_a_bare_number_is_not_a_day_off(uow, chat, people):  # noqa: F811
    eve = chat("eve")
    eve.say("/availability")
    eve.say("Add a day off")
    out = eve.say("25")
    assert "I could not read the date “25”" in out and "Save it?" not in out


def test_a_word_that_is_no_day_while_rescheduling(uow, chat, dispatcher, clock):
    ana_id, bob_id, bob_person = session_people(uow)
    request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    ana.say("Reschedule 1")
    out = ana.say("foo")
    assert "I could not read “foo” as a date and time" in out and "“foo 15:00”" not in out
    assert "Free times on Fri 8 Mar:" in ana.say("friday")  # a day alone shows that day's times
    assert "“25” is not a time on the clock." in ana.say("25")  # on a day's page a number is an hour

