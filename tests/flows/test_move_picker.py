"""A reschedule picks its new time with the shared time picker (bot/flows/time_picker.py) on top of the move,
in the reschedule's own words; a move saved mid-way before that (steps "rs_day", "rs_slot") carries on."""

from __future__ import annotations

from tests.flows.test_sessions import TUE_10, WED_10, meeting, request
from tests.flows.test_sessions import people as session_people


def _convo(uow, handle: str):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.conversations.load("console", handle, handle)


def _minutes(at) -> int:  # type: ignore[no-untyped-def]
    return int(at.timestamp() // 60)


def test_the_picker_sits_on_the_move_and_returns_the_new_time(uow, chat, dispatcher, clock):  # type: ignore[no-untyped-def]
    ana_id, bob_id, bob_person = session_people(uow)
    booking_id, meeting_id = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    ana.say("Reschedule 1")
    state = _convo(uow, "ana")
    assert state.step == "day" and state.data["_on"] == "time" and state.data["mv"] == meeting_id
    assert state.data["skip"] == [_minutes(TUE_10)]  # where the meeting already is: never offered
    [frame] = state.data["_up"]
    assert (frame["d"], frame["s"], frame["data"]["booking"]) == ("move", "rs_confirm", booking_id)
    out = ana.say("tuesday 10:00")
    assert "That is when the meeting already is." in out
    ana.say("Wed 6 Mar")
    assert "to Wed 6 Mar 2030, 11:00" in ana.say("11:00")
    state = _convo(uow, "ana")
    assert state.step == "rs_confirm" and "_up" not in state.data and state.data["at"] == _minutes(WED_10) + 60


def test_a_move_saved_at_the_old_day_page_carries_on(uow, chat, dispatcher, clock):  # type: ignore[no-untyped-def]
    ana_id, bob_id, bob_person = session_people(uow)
    booking_id, meeting_id = request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    with uow() as u:  # the shape a move on a day's page was saved in before: one flat dict, no stack
        saved = u.conversations.load("console", "ana", "ana")
        saved.flow, saved.step = "ses", "rs_slot"
        saved.data = {"booking": booking_id, "meeting": meeting_id, "day": "2030-03-06"}
        assert u.conversations.save(saved)
        u.commit()
    out = ana.say("11:00")  # on that day's page, an hour alone is on that day
    assert "to Wed 6 Mar 2030, 11:00 (Europe/London)" in out and "earlier message" not in out
    assert "Moved" in ana.say("Confirm new time")
    assert meeting(uow, booking_id)[1].start == WED_10.replace(hour=11)
    with uow() as u:  # and one at the old day list takes a day's button
        saved = u.conversations.load("console", "ana", "ana")
        saved.flow, saved.step = "ses", "rs_day"
        saved.data = {"booking": booking_id, "meeting": meeting_id}
        assert u.conversations.save(saved)
        u.commit()
    out = ana.press(f"1|ses|rsd|{_convo(uow, 'ana').version}|2030-03-07")
    assert "Free times on Thu 7 Mar:" in out and "earlier message" not in out
