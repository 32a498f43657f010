"""The booking details answered as one form (Slack's modal), through the real dispatcher: refused field by
field with nothing changed, a time taken meanwhile refused, and a good form moving the booking on."""

from __future__ import annotations

import uuid

from bot.adapters.console.chat import ConsoleChat
from bot.events import Incoming
from core import booking_service
from core.sessions import MeetingRequest, SessionDetails
from tests.flows.test_book import TUE_0930, convo, world


def to_title_step(chat) -> None:  # type: ignore[no-untyped-def]
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    assert "short title" in ana.say("15:00")


def submit(dispatcher, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    sender = ConsoleChat(dispatcher, dispatcher.uow_factory, "ana").sender()
    return dispatcher.handle(Incoming(sender, uuid.uuid4().hex, form=tuple(fields.items())))


def test_a_form_is_refused_field_by_field_and_changes_nothing(uow, chat, dispatcher):
    world(uow)
    to_title_step(chat)
    before = convo(uow, "ana")
    handled = submit(dispatcher, {"title": "Seed plan", "outcome": "", "intro": "", "context": ""})
    assert dict(handled.form_errors).keys() == {"outcome"} and handled.messages == ()
    handled = submit(dispatcher, {"title": "x" * 81, "outcome": "A plan", "intro": "", "context": ""})
    assert "80" in dict(handled.form_errors)["title"]
    after = convo(uow, "ana")
    assert (after.step, after.version, after.data) == (before.step, before.version, before.data)


def test_a_good_form_moves_on_to_files_and_the_summary_has_it_all(uow, chat, dispatcher):
    world(uow)
    to_title_step(chat)
    handled = submit(dispatcher, {"title": "Seed plan", "outcome": "A plan for the round", "intro": "Hi Eve",
                                  "context": ""})
    assert handled.form_errors == () and (handled.flow, handled.step) == ("book", "files")
    state = convo(uow, "ana")
    assert (state.data["title"], state.data["outcome"], state.data["intro"]) == ("Seed plan", "A plan for the round",
                                                                                  "Hi Eve")
    ana = chat("ana")
    assert any("the details are in" in line for line in ana.chat.pending())  # the form's answer, in the chat
    out = ana.say("Done")
    assert "“Seed plan”" in out and "Intro: Hi Eve" in out


def test_a_time_taken_while_the_form_was_open_is_said_on_the_form(uow, chat, dispatcher, clock):
    w = world(uow)
    to_title_step(chat)
    with uow() as u:  # Ben takes Tuesday 09:30 London first
        booking_service.request_booking(u, clock, client_id=w.ben, expert_id=w.eve,
                                        meetings=[MeetingRequest(TUE_0930, 30)],
                                        details=SessionDetails("Other", "Other outcome"),
                                        policy=booking_service.DEFAULT_POLICY)
        u.commit()
    handled = submit(dispatcher, {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": ""})
    assert "was just taken" in dict(handled.form_errors)["title"]
    assert convo(uow, "ana").step == "title"


def test_a_form_for_a_conversation_that_moved_on_is_refused(uow, chat, dispatcher):
    world(uow)
    chat("ana").say("/credits")
    handled = submit(dispatcher, {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": ""})
    assert "out of date" in dict(handled.form_errors)["title"]
