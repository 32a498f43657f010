"""The booking details answered as one form (Slack's modal), through the real dispatcher: refused field by
field with nothing changed (the same rules a chat checks before storing it), a time taken meanwhile, and a
good form moving the booking on."""

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


def test_a_time_taken_while_the_form_was_open_keeps_the_details_and_asks_for_another_time(uow, chat, dispatcher,
                                                                                          clock):
    w = world(uow)
    to_title_step(chat)
    with uow() as u:  # Ben takes Tuesday 09:30 London first
        booking_service.request_booking(u, clock, client_id=w.ben, expert_id=w.eve,
                                        meetings=[MeetingRequest(TUE_0930, 30)],
                                        details=SessionDetails("Other", "Other outcome"),
                                        policy=booking_service.DEFAULT_POLICY)
        u.commit()
    handled = submit(dispatcher, {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": ""})
    assert handled.form_errors == ()  # the form is closed by now (Slack's ack): the chat says it
    ana = chat("ana")
    said = "\n".join(ana.chat.pending())
    assert "was just taken" in said and "details are saved" in said
    state = convo(uow, "ana")
    [booking] = state.data["_up"]  # the time picker on top of the booking, which keeps the details
    assert (state.step, booking["data"]["title"], booking["data"]["outcome"]) == ("day", "Seed plan", "A plan")
    ana.say("Tue 5 Mar")
    out = ana.say("15:30")
    assert "attach files" in out and "short title" not in out  # the details kept: on to the files step
    out = ana.say("Done")
    assert "“Seed plan”" in out  # and the summary has them


def test_a_form_for_a_conversation_that_moved_on_is_refused(uow, chat, dispatcher):
    world(uow)
    chat("ana").say("/credits")
    handled = submit(dispatcher, {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": ""})
    assert "out of date" in dict(handled.form_errors)["title"]


def test_the_forms_own_rules_need_no_state_and_agree_with_the_flow(uow, chat, dispatcher):
    """What Slack checks in the ack (bot.forms.check) is what the flow refuses, in the form's language."""
    from bot import forms
    from bot.flows.book import DETAILS_FORM
    from bot.i18n import Translator

    world(uow)
    to_title_step(chat)
    for fields in ({"title": "Seed plan", "outcome": "  ", "intro": "", "context": ""},
                   {"title": "x" * 81, "outcome": "A plan", "intro": "", "context": ""},
                   {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": "y" * 5000}):
        assert forms.check(DETAILS_FORM, Translator(), fields) == dict(submit(dispatcher, fields).form_errors) != {}
    good = {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": ""}
    assert forms.check(DETAILS_FORM, Translator(), good) == {}
    assert forms.check("no-such-form", Translator(), good) == {}
    [spanish] = forms.check(DETAILS_FORM, Translator("es"), {**good, "outcome": ""}).values()
    assert spanish != forms.check(DETAILS_FORM, Translator(), {**good, "outcome": ""})["outcome"]
