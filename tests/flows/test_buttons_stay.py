"""An answer that changes nothing (a typo, /credits, a press on an old message) leaves the buttons on screen
working: in a real chat they are the only way on, and the answer itself often says "press Back"."""

from __future__ import annotations

from bot.payloads import p
from tests.flows.test_expert import people, request  # noqa: F401 - fixtures


def version(uow, handle: str) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.conversations.load("console", handle, handle).version


def test_a_typo_keeps_the_back_button_of_the_question(uow, chat, people):  # noqa: F811
    eve = chat("eve")
    eve.say("/availability")
    assert "Which day are you off?" in eve.say("Add a day off")
    back = p("avail", "view", version(uow, "eve"))  # the Back button under the question
    assert "I could not read the date “blah”" in eve.say("blah")
    out = eve.press(back)
    assert "earlier message" not in out and "Your availability" in out


def test_credits_asked_mid_way_keeps_the_wizard_going(uow, chat, people):  # noqa: F811
    eve = chat("eve")
    eve.say("/availability")
    eve.say("Add a day off")
    back = p("avail", "view", version(uow, "eve"))
    assert "Your credits" in eve.say("/credits")
    assert "Your availability" in eve.press(back)


def test_a_press_on_an_old_message_leaves_the_latest_one_working(uow, chat, people):  # noqa: F811
    eve = chat("eve")
    eve.say("/availability")
    old = p("avail", "off", version(uow, "eve"))
    eve.say("Edit weekly hours")
    back = p("avail", "view", version(uow, "eve"))
    assert "belongs to an earlier message" in eve.press(old)  # a second tap on the first message
    assert "Your availability" in eve.press(back)  # "use the latest message": it still works


def test_a_too_long_reason_keeps_no_reason_pressable(uow, chat, dispatcher, people):  # noqa: F811
    request(uow, dispatcher, people)
    eve = chat("eve")
    eve.as_("eve")
    assert "press “No reason”" in eve.say("Decline")
    no_reason = p("req", "dnone", version(uow, "eve"))
    assert "keep the reason shorter" in eve.say("x" * 501)
    assert "Declined ✓" in eve.press(no_reason)


def test_a_press_that_did_something_still_retires_its_buttons(uow, chat, people):  # noqa: F811
    eve = chat("eve")
    eve.say("/availability")
    eve.say("Add a day off")
    eve.say("2030-03-12")
    save = p("avail", "save", version(uow, "eve"))
    assert "Saved ✓" in eve.press(save)
    assert "belongs to an earlier message" in eve.press(save)
    with uow() as u:
        assert len(u.experts.schedule(people["eve"].id).exceptions) == 1
