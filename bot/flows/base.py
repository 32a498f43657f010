"""What every flow gets and gives: a context with the person, their conversation, the unit of
work and a translator; flows answer with replies and never call a platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.clock import Clock
from core.model import Person
from core.booking_service import DEFAULT_POLICY
from core.policy import Policy
from bot.events import Incoming, PaymentIn, Sender
from bot.flows.actions import Actions
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, Reply, chunk_text
from storage.chat_repo import Conversation
from storage.uow import SqlUnitOfWork


@dataclass(frozen=True, slots=True)
class Notice:
    """A message to a person, wherever they are reachable."""

    person_id: int
    reply: Reply
    key: str  # idempotency: the same key is queued once
    platform: str | None = None  # None: the chat they are reachable on; "email": also by mail, when set up


@dataclass
class Context:
    uow: SqlUnitOfWork
    clock: Clock
    person: Person
    sender: Sender
    convo: Conversation
    t: Translator
    incoming: Incoming
    replies: list[Reply] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    shown_wizard_buttons: bool = False  # this answer carries step buttons stamped with the next version
    refused: bool = False  # a press answered as outdated: it changed nothing
    wizard_press: bool = False  # a press on the wizard's latest message: the answer takes its place
    form_errors: dict[str, str] = field(default_factory=dict)  # field -> why, shown next to it on the form
    policy: Policy = DEFAULT_POLICY  # the deployment's rules (REQUEST_EXPIRY)
    # A command (name, args) the dispatcher runs once this step is done: someone new's first command, held
    # while the welcome asked its questions.
    then_command: tuple[str, str] | None = None

    # ---- talking

    def say(self, text: str, buttons: tuple[tuple[Button, ...], ...] = (), *, replace: bool | None = None,
            form: str = "") -> None:
        """Long text is split; buttons go on the last piece. By default the first answer to a wizard press
        replaces the pressed message, so a wizard edits itself in place instead of flooding the chat."""
        if replace is None:
            replace = self.wizard_press and not self.replies
        replace = replace and self.incoming.press is not None
        pieces = chunk_text(text)
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            self.replies.append(Reply(piece, buttons if last else (), replace=replace and n == 0,
                                      form=form if last else ""))

    def notify(self, person_id: int, reply: Reply, key: str) -> None:
        self.notices.append(Notice(person_id, reply, key))

    # ---- state

    @property
    def data(self) -> dict[str, Any]:
        return self.convo.data

    def goto(self, flow: str, step: str, **data: Any) -> None:
        if flow != self.convo.flow:
            self.convo.data = {}
        self.convo.flow, self.convo.step = flow, step
        self.convo.data.update(data)

    def step(self, step: str, **data: Any) -> None:
        self.convo.step = step
        self.convo.data.update(data)

    def finish(self) -> None:
        self.convo.flow, self.convo.step, self.convo.data = "", "", {}

    @property
    def stamp(self) -> str:
        """The conversation version these buttons belong to (the one saved with this reply)."""
        return str(self.convo.version + 1)

    def button(self, label: str, flow: str, action: str, *args: object) -> Button:
        return Button(label, p(flow, action, *args))

    def step_button(self, label: str, flow: str, action: str, *args: object, form: str = "") -> Button:
        """A wizard button: valid only while the conversation is still where it was shown. `form`: the
        form (bot/forms.py) its press may lead to."""
        self.shown_wizard_buttons = True
        return Button(label, p(flow, action, self.stamp, *args), form)

    def is_current(self, stamp: str) -> bool:
        return stamp == str(self.convo.version)

    def pressed_current(self, flow: str, args: tuple[str, ...]) -> bool:
        """A wizard press made on the message this conversation is still at, in this flow."""
        current = bool(args) and self.is_current(args[0]) and self.convo.flow == flow
        self.wizard_press = self.wizard_press or current
        return current


class Flow:
    """A conversation. Steps are named; everything it needs between events is in ctx.data."""

    name: ClassVar[str] = ""
    commands: ClassVar[tuple[str, ...]] = ()
    # Every press this flow takes: action -> its arguments (bot/flows/actions.py). The dispatcher answers any
    # other press as outdated before on_press runs, so a forged payload never reaches the flow.
    actions: ClassVar[Actions] = {}

    def start(self, ctx: Context, args: str) -> None:
        raise NotImplementedError

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.say(ctx.t("I did not understand that here. Use the buttons above, or /cancel to stop."))

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        outdated(ctx)

    def on_file(self, ctx: Context, ref: str) -> None:
        ctx.say(ctx.t("I can only take files while you add details to a booking request."))

    def on_payment(self, ctx: Context, payment: PaymentIn) -> None:
        """Only the flow that sells credits takes payments; anywhere else one is a bug to read in the log."""
        raise RuntimeError(f"payment {payment.charge_id} reached a flow that takes none")

    def on_form(self, ctx: Context, fields: dict[str, str]) -> None:
        """A form answered at once (a Slack modal); errors go to ctx.form_errors, shown next to each field."""
        ctx.form_errors["title"] = ctx.t("This form is out of date: please carry on in the chat.")


def outdated(ctx: Context) -> None:
    ctx.refused = True
    ctx.say(ctx.t("That button belongs to an earlier message, so I left everything as it is. "
                  "Please use the latest message, or type /help."))
