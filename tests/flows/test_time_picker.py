"""The time picker as a sub-dialog of booking: its state on the conversation's stack, and a draft saved in the
shape from before the picker was a sub-dialog carrying on."""

from __future__ import annotations

from tests.flows.test_book import TUE_0930, convo, world


def test_the_picker_sits_on_the_booking_and_returns_the_times_to_it(uow, chat):  # type: ignore[no-untyped-def]
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    state = convo(uow, "ana")
    assert state.step == "day" and state.data["_on"] == "time" and state.data["x"] == w.eve
    [frame] = state.data["_up"]
    assert (frame["d"], frame["s"], frame["data"]["q"]) == ("book", "times", "fundraising")
    ana.say("Tue 5 Mar 15:00")
    assert "short title" in ana.say("Yes")
    state = convo(uow, "ana")
    assert state.step == "title" and "_up" not in state.data and "_on" not in state.data
    assert state.data["q"] == "fundraising" and state.data["slots"] == [int(TUE_0930.timestamp() // 60)]


def test_a_draft_saved_at_the_day_picker_before_the_upgrade_carries_on(uow, chat):  # type: ignore[no-untyped-def]
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    with uow() as u:  # the shape a draft at the day picker was saved in before: one flat dict, no stack
        saved = u.conversations.load("console", "ana", "ana")
        saved.step = "day"
        saved.data = {"q": "fundraising", "f": {}, "x": w.eve, "len": 30, "n": 1, "slots": [], "files": ["f1"]}
        assert u.conversations.save(saved)
        u.commit()
    out = ana.press(f"1|book|day|{convo(uow, 'ana').version}|2030-03-05")
    assert "Free times on Tue 5 Mar" in out and "earlier message" not in out
    assert "short title" in ana.say("15:00")  # the button of that label
    state = convo(uow, "ana")
    assert state.data["slots"] == [int(TUE_0930.timestamp() // 60)] and state.data["files"] == ["f1"]
    assert "_up" not in state.data


def test_the_picker_state_saves_one_encoding_and_loads_it_back() -> None:
    import json
    from datetime import UTC, datetime, date

    from bot.flows.time_picker import PickerState

    at = datetime(2030, 3, 5, 9, 30, tzinfo=UTC)
    state = PickerState(7, 30, count=2, picked=[at], leave_out=[(at, at.replace(hour=10))], series=False,
                        changeable=True, drafted=False, form="details", day=date(2030, 3, 5), typed=at)
    data: dict[str, object] = {}
    state.save(data)
    stored = json.loads(json.dumps(data))  # what the database gives back
    minutes = int(at.timestamp() // 60)
    assert stored["slots"] == [minutes] and stored["typed"] == minutes and stored["out"] == [[minutes, minutes + 60]]
    assert PickerState.load(stored) == state
    state.day = state.typed = None
    state.save(data)
    assert "day" not in data and "typed" not in data
    assert PickerState.load({"x": 7, "len": "30", "slots": [str(minutes), "junk"], "typed": str(minutes)}).picked == [at]
