"""The dialog engine on its own: steps, stamps and stale presses, showing a step again, typed text, the
dialog stack (begin a sub-dialog, end it with a result), /cancel, and the one instant encoding."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from bot.events import Incoming, Press, Sender
from bot.flows.base import Context
from bot.flows.dialog import ACTIVE, STACK, Dialog, DialogFlow, Step, begin, caller_data, depth, end, instant, \
    instants, int_or, minutes_of
from bot.i18n import Translator
from bot.payloads import decode
from core.clock import FixedClock
from core.model import Person
from storage.chat_repo import Conversation
from storage.uow import SqlUnitOfWork

NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)
SENDER = Sender("console", "ana", "ana")


def _ctx(convo: Conversation, *, press: str | None = None, text: str | None = None) -> Context:
    incoming = Incoming(SENDER, "e1", text=text, press=Press(press, "m1") if press is not None else None)
    return Context(cast(SqlUnitOfWork, None), FixedClock(NOW), Person(1, "ana", "Ana"), SENDER, convo,
                   Translator("en", "UTC"), incoming)


# A small flow: ask a colour (buttons or typed), then a time from a sub-dialog, then done.

def _ask_colour(ctx: Context) -> None:
    ctx.say("colour?", ((COLOURS.button(ctx, "red", "col", "red"), COLOURS.button(ctx, "blue", "col", "blue")),))


def _take_colour(ctx: Context, args: tuple[str, ...]) -> None:
    ctx.data["colour"] = args[0]
    COLOURS.advance(ctx)


def _typed_colour(ctx: Context, text: str) -> None:
    if text not in ("red", "blue"):
        ctx.say("no such colour")
        _ask_colour(ctx)
        return
    _take_colour(ctx, (text,))


def _ask_when(ctx: Context) -> None:
    begin(ctx, COLOURS.name, PICK, {"len": 30, "slots": []})


def _got_time(ctx: Context, result: Mapping[str, Any]) -> None:
    ctx.data["at"] = result["at"]
    ctx.data["back_at"] = ctx.convo.step  # the step that began the sub-dialog
    COLOURS.show(ctx, "done")


def _ask_pick(ctx: Context) -> None:
    ctx.say(f"pick ({ctx.data['len']} min)", ((PICK.button(ctx, "09:00", "slot", "100"),),))


def _take_pick(ctx: Context, args: tuple[str, ...]) -> None:
    end(ctx, FLOW.dialogs, {"at": int(args[0])})


COLOURS = Dialog("colours", "demo", [
    Step("colour", _ask_colour, {"col": _take_colour}, text=_typed_colour, next="when"),
    Step("when", _ask_when, on_result=_got_time),
    Step("done", lambda ctx: ctx.say(f"done: {ctx.data['colour']} at {ctx.data['at']}")),
])
PICK = Dialog("pick", "demo", [Step("slot", _ask_pick, {"slot": _take_pick})])


class DemoFlow(DialogFlow):
    name = "demo"

    def __init__(self) -> None:
        super().__init__([COLOURS, PICK], free={"hello": lambda ctx, args: ctx.say("hello " + "/".join(args))})

    def start(self, ctx: Context, args: str) -> None:
        ctx.goto(self.name, "colour")
        _ask_colour(ctx)


FLOW = DemoFlow()


class Chat:
    """One conversation, carried across events as the dispatcher does (saved JSON, version bumped)."""

    def __init__(self) -> None:
        self.convo = Conversation("console", "ana", "ana")
        self.ctx = _ctx(self.convo)

    def _event(self, **kw: Any) -> Context:
        self.ctx = _ctx(self.convo, **kw)
        return self.ctx

    def _saved(self) -> None:
        self.convo.data = json.loads(json.dumps(self.convo.data))  # what the database gives back
        self.convo.version += 1

    def start(self) -> Context:
        ctx = self._event(text="/demo")
        FLOW.start(ctx, "")
        self._saved()
        return ctx

    def press(self, payload: str) -> Context:
        ctx = self._event(press=payload)
        decoded = decode(payload)
        assert decoded is not None
        FLOW.on_press(ctx, decoded.action, decoded.args)
        self._saved()
        return ctx

    def type(self, text: str) -> Context:
        ctx = self._event(text=text)
        FLOW.on_text(ctx, text)
        self._saved()
        return ctx

    def buttons(self) -> list[str]:
        return [b.payload for r in self.ctx.replies for row in r.buttons for b in row]


def test_a_step_shows_its_prompt_with_buttons_stamped_for_the_version_it_saves() -> None:
    chat = Chat()
    ctx = chat.start()
    assert [r.text for r in ctx.replies] == ["colour?"]
    assert chat.buttons() == ["1|demo|col|1|red", "1|demo|col|1|blue"]  # the wire codes: flow|action|stamp|args
    assert ctx.shown_wizard_buttons


def test_a_press_goes_to_its_step_and_next_is_where_advance_goes() -> None:
    chat = Chat()
    chat.start()
    ctx = chat.press("1|demo|col|1|red")
    assert caller_data(ctx) == {"colour": "red"} and chat.convo.step == "slot"  # kept for the caller
    assert [r.text for r in ctx.replies] == ["pick (30 min)"]


def test_a_stale_press_is_refused_and_the_current_step_shown_again() -> None:
    chat = Chat()
    chat.start()
    chat.type("green")  # a typo answered: the step is shown again with buttons of the new version
    ctx = chat.press("1|demo|col|1|red")  # a button of the first message
    assert ctx.refused and "earlier message" in ctx.replies[0].text and ctx.replies[1].text == "colour?"
    assert "colour" not in chat.convo.data and chat.convo.step == "colour"
    assert chat.buttons() == ["1|demo|col|3|red", "1|demo|col|3|blue"]


def test_an_action_the_current_step_does_not_take_is_refused() -> None:
    chat = Chat()
    chat.start()
    ctx = chat.press("1|demo|slot|1|100")  # the picker's action, but the conversation is at "colour"
    assert ctx.refused and chat.convo.step == "colour" and STACK not in chat.convo.data


def test_typed_text_goes_to_the_step_and_a_step_without_a_parser_says_use_the_buttons() -> None:
    chat = Chat()
    chat.start()
    ctx = chat.type("green")
    assert [r.text for r in ctx.replies] == ["no such colour", "colour?"]
    chat.type("blue")
    ctx = chat.type("anything")  # the picker's step takes no text
    assert "Use the buttons above" in ctx.replies[0].text and chat.convo.step == "slot"


def test_free_actions_need_no_stamp() -> None:
    chat = Chat()
    ctx = chat.press("1|demo|hello|x|y")
    assert [r.text for r in ctx.replies] == ["hello x/y"] and not ctx.refused


def test_a_sub_dialog_keeps_its_caller_on_the_stack_and_returns_a_result() -> None:
    chat = Chat()
    chat.start()
    chat.press("1|demo|col|1|blue")
    data = chat.convo.data
    assert data["len"] == 30 and "colour" not in data  # the sub-dialog sees its own data only
    assert data[ACTIVE] == "pick" and depth(chat.ctx) == 1
    assert data[STACK] == [{"d": "colours", "s": "when", "data": {"colour": "blue"}}]
    assert caller_data(chat.ctx) == {"colour": "blue"}
    assert chat.buttons() == ["1|demo|slot|2|100"]  # the caller's wire name: payloads do not change
    ctx = chat.press("1|demo|slot|2|100")
    assert chat.convo.data == {"colour": "blue", "at": 100, "back_at": "when"} and chat.convo.step == "done"
    assert [r.text for r in ctx.replies] == ["done: blue at 100"]


def test_showing_again_inside_a_sub_dialog_shows_its_step() -> None:
    chat = Chat()
    chat.start()
    chat.press("1|demo|col|1|blue")
    ctx = chat.press("1|demo|col|1|red")  # the caller's old button, while the picker is on top
    assert ctx.refused and ctx.replies[-1].text == "pick (30 min)" and chat.convo.data[ACTIVE] == "pick"


def test_cancel_drops_the_whole_stack() -> None:
    chat = Chat()
    chat.start()
    chat.press("1|demo|col|1|blue")
    FLOW.cancel(chat.ctx)
    assert (chat.convo.flow, chat.convo.step, chat.convo.data) == ("", "", {})


def test_ending_with_no_caller_ends_the_conversation() -> None:
    chat = Chat()
    chat.start()
    end(chat.ctx, FLOW.dialogs, {})
    assert (chat.convo.flow, chat.convo.data) == ("", {})


def test_a_step_that_goes_to_an_undeclared_step_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="undeclared"):
        Dialog("x", "x", [Step("a", _ask_colour, next="b")])
    with pytest.raises(ValueError, match="twice"):
        Dialog("x", "x", [Step("a", _ask_colour), Step("a", _ask_colour)])


def test_one_instant_encoding_epoch_minutes() -> None:
    at = datetime(2030, 3, 5, 9, 30, tzinfo=UTC)
    stored = minutes_of(at)
    assert stored == int(at.timestamp() // 60) and isinstance(stored, int)
    assert instant(stored) == at and instant(str(stored)) == at  # older drafts saved the digits
    assert instant(True) is None and instant("12a") is None and instant(-1) is None and instant(None) is None
    assert instants([stored, "x", str(stored)]) == [at, at] and instants("nope") == []
    assert int_or("30", 0) == 30 and int_or(30, 0) == 30 and int_or("3²", 7) == 7 and int_or(None, 7) == 7
