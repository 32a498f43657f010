"""One encoding for an instant in a conversation's stored data: whole minutes since the Unix epoch, as an int
(bot/flows/dialog.py), in the expert's "suggest another time" and in a reschedule as in booking."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.flows.test_expert import people  # noqa: F401  (a fixture)
from tests.flows.test_expert import request as expert_request
from tests.flows.test_sessions import TUE_10, WED_10
from tests.flows.test_sessions import people as session_people
from tests.flows.test_sessions import request as session_request


def _data(uow, handle: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with uow() as u:
        return dict(u.conversations.load("console", handle, handle).data)


def _minutes(at: datetime) -> int:
    return int(at.timestamp() // 60)


def test_the_suggested_starts_are_stored_as_epoch_minutes(uow, chat, dispatcher, people):  # type: ignore[no-untyped-def]  # noqa: F811
    expert_request(uow, dispatcher, people, TUE_10, datetime(2030, 3, 7, 10, 0, tzinfo=UTC), minutes=30)
    eve = chat("eve")
    eve.as_("eve")
    eve.say("Suggest another time")
    eve.say("Wed 6 Mar")
    eve.say("10:00")
    assert _data(uow, "eve")["picked"] == [_minutes(WED_10)]
    assert "since" not in _data(uow, "eve")
    eve.say("Later dates")
    assert isinstance(_data(uow, "eve")["since"], int)


def test_a_new_time_waiting_for_confirm_is_stored_as_epoch_minutes(uow, chat, dispatcher, clock):  # type: ignore[no-untyped-def]
    ana_id, bob_id, bob_person = session_people(uow)
    session_request(uow, dispatcher, clock, ana_id, bob_id, TUE_10, accept_as=bob_person)
    ana = chat("ana")
    ana.as_("ana")
    ana.say("/sessions")
    ana.say("Reschedule 1")
    ana.say("Wed 6 Mar")
    ana.say("11:00")
    assert _data(uow, "ana")["at"] == _minutes(WED_10) + 60
    assert "Moved" in ana.say("Confirm new time")
