"""A small dialog engine: steps declared once, and what every flow used to repeat by hand.

A Step names its prompt (how it is shown, and shown again), the wizard presses it takes, what it does with
typed text, the form its reply may ask for and the step that follows it. A Dialog is a set of steps under one
wire name (the flow name its buttons carry, so payloads stay "1|book|day|<stamp>|2030-03-05"). The engine:

- checks a wizard press's stamp (Context.pressed_current) and answers a stale or unknown press as outdated,
  then shows the current step again with fresh buttons (`stale`), so a refusal is never a dead end;
- shows the current step again (`again`), e.g. after a file was attached;
- keeps a dialog stack in the conversation's stored data: `begin` a sub-dialog from a step, `end` it with a
  result, which the calling step's `on_result` receives, with the caller's data back as it was. The stack is
  plain JSON in Conversation.data, so any process can continue it and /cancel (Context.finish) drops it whole.

State between events is JSON. Typed state dataclasses load and save it with their own from_data/to_data and
the helpers here, with ONE encoding for an instant: whole minutes since the Unix epoch, as an int (the same
number a slot button carries). Older drafts saved the digits as a string: `instant` still reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.flows.actions import slot_minutes
from bot.flows.base import Context, Flow, outdated
from bot.replies import Button

STACK = "_up"  # Conversation.data key: the callers of the dialog on top, innermost last
ACTIVE = "_on"  # Conversation.data key: the dialog on top, when it is not the flow's root dialog

Prompt = Callable[[Context], None]
PressHandler = Callable[[Context, tuple[str, ...]], None]  # the press's arguments after its stamp
TextHandler = Callable[[Context, str], None]
ResultHandler = Callable[[Context, Mapping[str, Any]], None]

# ---------------------------------------------------------------- one instant encoding

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def minutes_of(at: datetime) -> int:
    """The stored (and wire) form of an instant: whole minutes since the Unix epoch."""
    return int((at - _EPOCH).total_seconds() // 60)


def instant(value: object) -> datetime | None:
    """An instant from its stored form: an int of epoch minutes (or, from older drafts, its ASCII digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _EPOCH + timedelta(minutes=value) if 0 <= value <= 9_999_999_999 else None
    if isinstance(value, str):
        return slot_minutes(value)
    return None


def instants(values: object) -> list[datetime]:
    """A stored list of instants; what does not read as one is left out."""
    if not isinstance(values, list):
        return []
    return [at for v in values if (at := instant(v)) is not None]


def int_or(value: object, default: int) -> int:
    """A stored whole number (JSON keeps ints as ints; an older draft may hold its digits)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return default


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Step:
    """One step: `prompt` shows it (and shows it again); `actions` are the wizard presses it takes (by their
    wire code); `text` takes typed words (None: the flow's "use the buttons" answer); `form` is the form
    (bot/forms.py) its reply asks for; `next` is where `Dialog.advance` goes; `on_result` takes what a
    sub-dialog begun from this step ended with."""

    name: str
    prompt: Prompt
    actions: Mapping[str, PressHandler] = field(default_factory=dict)
    text: TextHandler | None = None
    form: str = ""
    next: str = ""
    on_result: ResultHandler | None = None


class Dialog:
    """Steps under one name. `flow` is the wire name its buttons carry: a sub-dialog used inside another flow
    carries that flow's name, so presses reach the flow that hosts it and payloads do not change."""

    def __init__(self, name: str, flow: str, steps: Sequence[Step]) -> None:
        self.name = name
        self.flow = flow
        self.steps: dict[str, Step] = {}
        for step in steps:
            if step.name in self.steps:
                raise ValueError(f"dialog {name}: step {step.name!r} declared twice")
            self.steps[step.name] = step
        for step in steps:
            if step.next and step.next not in self.steps:
                raise ValueError(f"dialog {name}: step {step.name!r} goes to undeclared {step.next!r}")

    @property
    def first(self) -> str:
        return next(iter(self.steps))

    def actions(self) -> frozenset[str]:
        """Every wizard action any step takes (to check against the flow's declared vocabulary)."""
        return frozenset(a for step in self.steps.values() for a in step.actions)

    def show(self, ctx: Context, step: str, **data: Any) -> None:
        """Go to `step` (saving `data` with it) and show it."""
        ctx.step(step, **data)
        self.steps[step].prompt(ctx)

    def advance(self, ctx: Context) -> None:
        """Show the step declared to follow the current one."""
        following = self.steps[ctx.convo.step].next
        if not following:
            raise ValueError(f"dialog {self.name}: step {ctx.convo.step!r} declares no next step")
        self.show(ctx, following)

    def again(self, ctx: Context) -> None:
        """Show the step the conversation is at again (buttons stamped for the version this answer saves)."""
        step = self.steps.get(ctx.convo.step)
        if step is not None:
            step.prompt(ctx)

    def stale(self, ctx: Context) -> None:
        """A press from an earlier message: say so, change nothing, and show the current step again.

        This answer saves the conversation too, so the buttons on screen would be stale as well; showing the
        current step again gives fresh ones instead of a dead end."""
        outdated(ctx)
        self.again(ctx)

    def press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        """A current wizard press (its stamp already checked; `args` after it) for the step it is at."""
        step = self.steps.get(ctx.convo.step)
        handler = step.actions.get(action) if step is not None else None
        if handler is None:
            self.stale(ctx)
            return
        handler(ctx, args)

    def type(self, ctx: Context, text: str) -> bool:
        """Typed words for the step it is at; False when that step takes none."""
        step = self.steps.get(ctx.convo.step)
        if step is None or step.text is None:
            return False
        step.text(ctx, text)
        return True

    def button(self, ctx: Context, label: str, action: str, *args: object, form: str = "") -> Button:
        """A wizard button of this dialog, stamped with the version this answer saves."""
        return ctx.step_button(label, self.flow, action, *args, form=form)


# ---------------------------------------------------------------- the stack


def active_name(ctx: Context, root: str) -> str:
    """The dialog on top of this conversation's stack (`root` when nothing was begun)."""
    name = ctx.data.get(ACTIVE)
    return name if isinstance(name, str) and name else root


def depth(ctx: Context) -> int:
    stack = ctx.data.get(STACK)
    return len(stack) if isinstance(stack, list) else 0


def begin(ctx: Context, caller: str, callee: Dialog, data: Mapping[str, Any], *, step: str = "",
          resume: str = "", show: bool = True) -> None:
    """Put `callee` on top of the dialog named `caller`: the caller's data and step (`resume`, default the
    current one) are kept on the
    stack, the callee starts with `data` only, at `step` (default its first), and is shown (show=False: the
    callee shows itself, e.g. with a lead of its own)."""
    frame = {"d": caller, "s": resume or ctx.convo.step,
             "data": {k: v for k, v in ctx.data.items() if k not in (STACK, ACTIVE)}}
    stack = [*_frames(ctx), frame]
    ctx.convo.data = {**data, STACK: stack, ACTIVE: callee.name}
    if show:
        callee.show(ctx, step or callee.first)
    else:
        ctx.step(step or callee.first)


def end(ctx: Context, dialogs: Mapping[str, Dialog], result: Mapping[str, Any]) -> None:
    """Take the top dialog off: the caller's data and step come back, and that step's on_result gets `result`.
    With nothing to return to, the conversation is over."""
    stack = _frames(ctx)
    if not stack:
        ctx.finish()
        return
    frame = stack.pop()
    caller = dialogs[frame["d"]]
    data = dict(frame["data"])
    if stack:
        data[STACK] = stack
        data[ACTIVE] = caller.name
    ctx.convo.data = data
    ctx.convo.step = frame["s"]
    handler = caller.steps[frame["s"]].on_result
    if handler is None:
        raise ValueError(f"dialog {caller.name}: step {frame['s']!r} began a sub-dialog but takes no result")
    handler(ctx, result)


def caller_data(ctx: Context) -> dict[str, Any] | None:
    """The data of the dialog that began the one on top (its draft, e.g. to attach a file to), if any."""
    stack = _frames(ctx)
    return stack[-1]["data"] if stack else None


def _frames(ctx: Context) -> list[dict[str, Any]]:
    stack = ctx.data.get(STACK)
    if not isinstance(stack, list):
        return []
    return [f for f in stack if isinstance(f, dict) and isinstance(f.get("d"), str)
            and isinstance(f.get("s"), str) and isinstance(f.get("data"), dict)]


# ---------------------------------------------------------------- a flow made of dialogs


class DialogFlow(Flow):
    """A flow whose steps are declared: presses and text go to the step the conversation is at, in the dialog
    on top of its stack. `free` actions are not wizard presses (no stamp): they are checked by what they
    carry (a draft mark, an id) and handled before any stamp check."""

    def __init__(self, dialogs: Sequence[Dialog], free: Mapping[str, PressHandler] | None = None) -> None:
        self.dialogs = {d.name: d for d in dialogs}
        self.root = dialogs[0]
        self.free: Mapping[str, PressHandler] = free or {}

    def current(self, ctx: Context) -> tuple[Dialog, Step] | None:
        """The dialog on top and the step the conversation is at, if this flow holds the conversation."""
        if ctx.convo.flow != self.name:
            return None
        dialog = self.dialogs.get(active_name(ctx, self.root.name))
        step = dialog.steps.get(ctx.convo.step) if dialog is not None else None
        return (dialog, step) if dialog is not None and step is not None else None

    def again(self, ctx: Context) -> None:
        """Show the current step again, with buttons stamped for the version this answer saves."""
        here = self.current(ctx)
        if here is not None:
            here[1].prompt(ctx)

    def stale(self, ctx: Context) -> None:
        outdated(ctx)
        self.again(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        handler = self.free.get(action)
        if handler is not None:
            handler(ctx, args)
            return
        if not ctx.pressed_current(self.name, args):
            self.stale(ctx)
            return
        here = self.current(ctx)
        if here is None:
            self.stale(ctx)
            return
        here[0].press(ctx, action, args[1:])

    def on_text(self, ctx: Context, text: str) -> None:
        here = self.current(ctx)
        if here is None or not here[0].type(ctx, text):
            super().on_text(ctx, text)

    def cancel(self, ctx: Context) -> None:
        """Leave every dialog of the stack at once (what /cancel does): nothing of the draft is kept."""
        ctx.finish()
