"""The expert's "suggest another time" picks with the shared time picker (bot/flows/time_picker.py) on top of
the suggestion, in the suggestion's own words; a suggestion saved mid-way before that (steps "suggest",
"suggest_slot") carries on; a decline begun from a card while picking answers that card's request."""

from __future__ import annotations

from datetime import UTC, datetime

from core.lifecycle import BookingStatus
from bot.payloads import p
from tests.flows.test_expert import TUE_10, people, request, status  # noqa: F401  (people: a fixture)

WED_10 = datetime(2030, 3, 6, 10, 0, tzinfo=UTC)
THU_10 = datetime(2030, 3, 7, 10, 0, tzinfo=UTC)


def _convo(uow, handle: str):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.conversations.load("console", handle, handle)


def _minutes(at: datetime) -> int:
    return int(at.timestamp() // 60)


def test_the_picker_sits_on_the_suggestion_and_returns_every_time(uow, chat, dispatcher, people):  # type: ignore[no-untyped-def]  # noqa: F811
    booking_id = request(uow, dispatcher, people, TUE_10, THU_10, minutes=30)
    eve = chat("eve")
    eve.as_("eve")
    eve.say("Suggest another time")
    state = _convo(uow, "eve")
    assert state.step == "day" and state.data["_on"] == "time" and state.data["lens"] == [30, 30]
    assert state.data["skip"] == [_minutes(TUE_10), _minutes(THU_10)]  # each meeting's asked time
    [frame] = state.data["_up"]
    assert (frame["d"], frame["s"], frame["data"]["booking"]) == ("suggest", "suggest_confirm", booking_id)
    eve.say("Wed 6 Mar")
    eve.say("10:00")
    eve.say("Wed 6 Mar")
    assert "Suggest these times to Ana" in eve.say("10:30")
    state = _convo(uow, "eve")
    assert state.step == "suggest_confirm" and "_up" not in state.data
    assert state.data["picked"] == [_minutes(WED_10), _minutes(WED_10) + 30]


def test_a_suggestion_saved_at_the_old_day_list_carries_on(uow, chat, dispatcher, people):  # type: ignore[no-untyped-def]  # noqa: F811
    booking_id = request(uow, dispatcher, people, TUE_10, THU_10, minutes=30)
    eve = chat("eve")
    eve.as_("eve")
    with uow() as u:  # the shape a suggestion was saved in before: one flat dict, no stack
        saved = u.conversations.load("console", "eve", "eve")
        saved.flow, saved.step = "req", "suggest"
        saved.data = {"booking": booking_id, "picked": [_minutes(WED_10)]}
        assert u.conversations.save(saved)
        u.commit()
    out = eve.press(p("req", "sday", _convo(uow, "eve").version, "2030-03-06"))
    assert "meeting 2 of 2 (30 min)" in out and "earlier message" not in out
    assert "Wed 6 Mar 2030, 10:30 (Europe/London)" in out and "Wed 6 Mar 2030, 10:15 (Europe/London)" not in out
    assert "Suggest these times to Ana" in eve.say("10:30")


def test_a_decline_begun_while_picking_answers_its_own_request(uow, chat, dispatcher, people):  # type: ignore[no-untyped-def]  # noqa: F811
    first = request(uow, dispatcher, people)
    second = request(uow, dispatcher, people, THU_10, title="Hiring plan")
    eve = chat("eve")
    eve.as_("eve")
    eve.press(p("req", "sug", first))
    assert "Declining “Hiring plan”" in eve.press(p("req", "dec", second))
    assert "Declined ✓ “Hiring plan”" in eve.say("No reason")
    assert status(uow, second).status is BookingStatus.DECLINED
    assert status(uow, first).status is BookingStatus.REQUESTED
