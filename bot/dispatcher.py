"""One transaction per incoming event:
1. drop a delivery already seen, 2. load the conversation, 3. run the flow step,
4. save state and outbox rows and commit, 5. only then send."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.errors import DomainError
from core.model import Person
from core.booking_service import DEFAULT_POLICY
from core.policy import Policy
from bot.events import Incoming, Sender
from bot.files.outgoing import fit as fit_files
from bot.files.refusal import refusal
from bot.flows.actions import press_fits
from bot.flows.base import Context, Flow, Notice, outdated
from bot.flows.start import StartFlow
from bot.flows.errors import explain
from bot.i18n import Translator, normalise_locale
from bot.notifications import event_notices
from bot.payloads import decode
from bot.platforms import CONSOLE, platform
from bot.replies import Reply
from bot.router import Router
from storage.chat_repo import Conversation, OutboxMessage, Outgoing
from storage.errors import ConcurrentChange, unavailable
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

PAYMENTS_FLOW = "buy"  # the flow that sells credits receives every completed payment

@dataclass(frozen=True, slots=True)
class Handled:
    duplicate: bool
    messages: tuple[OutboxMessage, ...]
    form_errors: tuple[tuple[str, str], ...] = ()  # a form's refusals, field by field; nothing was changed
    flow: str = ""  # where the conversation is now
    step: str = ""
    form: str = ""  # the form (bot/forms.py) the step's reply asks for: a chat that shows forms whole may keep it open


class Dispatcher:
    def __init__(
        self, uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, flows: Sequence[Flow], router: Router,
        *, email_enabled: bool = False, policy: Policy = DEFAULT_POLICY,
    ) -> None:
        self.uow_factory = uow_factory
        self.policy = policy  # the deployment's rules: how long a request waits for an answer (REQUEST_EXPIRY)
        self.email_enabled = email_enabled  # SMTP is configured: notices meant for email are queued
        self.clock = clock
        self.router = router
        self.flows = {f.name: f for f in flows}
        self.commands = {c: f for f in flows for c in f.commands}
        # Platforms this process sends itself: their rows are leased to its sender as they are queued.
        self.local_senders: dict[str, tuple[str, timedelta]] = {}
        self.hand_overs: dict[str, Callable[[Sequence[OutboxMessage]], None]] = {}  # ... and start sending them

    def hand_over(self, messages: Sequence[OutboxMessage]) -> None:
        """Rows a step just committed, to this process's sender of each platform (from the event loop): one
        dispatcher serves every chat a process runs, so a Slack step's notice to a Telegram expert leaves
        at once too."""
        for take in self.hand_overs.values():
            take(messages)

    def handle(self, incoming: Incoming) -> Handled:
        seen: list[int] = []
        try:
            messages, after = self._handle(incoming, failure=None, seen=seen)
        except _Duplicate:
            return Handled(True, ())
        except _FormRefused as refused:
            return Handled(False, (), refused.errors)
        except (DomainError, ConcurrentChange) as error:  # the change is rolled back; say why, lose nothing
            if incoming.press is not None and seen and self._moved_on(incoming, seen[0]):
                # The press lost a race to another event of this conversation (a double Confirm handled by
                # two processes): answer it as the state that won has it ("already sent"), not with the error.
                try:
                    messages, after = self._handle(incoming, failure=None)
                except (DomainError, ConcurrentChange) as again:
                    messages, after = self._handle(incoming, failure=again)
            else:
                messages, after = self._handle(incoming, failure=error)
        except Exception as error:  # a bug: roll back, log it, and still answer the person
            if unavailable(error):
                raise  # the database is away: nothing was recorded, the caller retries (or answers 500)
            log.exception("event %s on %s failed", incoming.event_id, incoming.sender.platform)
            messages, after = self._handle(incoming, failure=error)
        return Handled(False, tuple(messages), (), after.flow, after.step, _asked_form(messages))

    def _moved_on(self, incoming: Incoming, version: int) -> bool:
        """Whether the conversation was saved by another event since this one loaded it at `version`."""
        sender = incoming.sender
        with self.uow_factory() as uow:
            return uow.conversations.load(sender.platform, sender.chat_id, sender.user_id).version != version

    def _handle(self, incoming: Incoming, failure: Exception | None,
                seen: list[int] | None = None) -> tuple[list[OutboxMessage], Conversation]:
        uow = self.uow_factory()
        with uow:
            if not uow.inbox.first_time(incoming.sender.platform, incoming.event_id):
                raise _Duplicate
            sender = incoming.sender
            convo = uow.conversations.load(sender.platform, sender.chat_id, sender.user_id)
            if seen is not None:
                seen.append(convo.version)
            before = _state(convo)
            person, is_new = self._identify(uow, sender, convo.person_id)
            convo.person_id = person.id
            t = Translator(person.locale, person.timezone)
            ctx = Context(uow, self.clock, person, sender, convo, t, incoming, policy=self.policy)
            if failure is not None:
                ctx.say(explain(t, failure, person))
            else:
                self._run(ctx, is_new)
                if ctx.form_errors:  # refused field by field on the form itself: roll back, say nothing in chat
                    raise _FormRefused(tuple(ctx.form_errors.items()))
                ctx.notices.extend(event_notices(uow, uow.events, key_prefix=incoming.event_id,
                                                 actor_id=person.id))
            if failure is None and not _kept(ctx, before):
                if not uow.conversations.save(convo):
                    raise ConcurrentChange("another message changed this conversation first")
            elif convo.id is None:
                uow.conversations.save(convo)  # a refusal leaves the state (and its buttons) as they were
            messages = self._queue(uow, ctx, incoming)
            uow.commit()
            return messages, convo

    # ---- routing an event to a flow

    def _run(self, ctx: Context, is_new: bool) -> None:
        self._route(ctx, is_new)
        if ctx.then_command is not None:  # the onboarding is over: now what they first asked for
            name, args = ctx.then_command
            ctx.then_command = None
            self._command(ctx, name, args)

    def _route(self, ctx: Context, is_new: bool) -> None:
        incoming = ctx.incoming
        if incoming.kind == "payment":  # money taken is counted whoever pays, even someone new to us
            assert incoming.payment is not None
            (self.flows.get(PAYMENTS_FLOW) or Flow()).on_payment(ctx, incoming.payment)
            return
        if is_new:
            start = self.flows["start"]
            assert isinstance(start, StartFlow)
            command = incoming.command if incoming.kind == "command" else None
            held = command if command in self.commands and command not in _NOT_HELD else None
            start.welcome(ctx, then=incoming.args if command == "start" else "",
                          command=(held, incoming.args) if held else None)
            return
        if incoming.kind == "form":
            flow = self.flows.get(ctx.convo.flow)
            (flow or Flow()).on_form(ctx, dict(incoming.form or ()))
        elif incoming.kind == "command":
            self._command(ctx, incoming.command or "", incoming.args)
        elif incoming.kind == "press":
            assert incoming.press is not None
            payload = decode(incoming.press.payload)
            flow = self.flows.get(payload.flow) if payload else None
            if payload is None or flow is None or not press_fits(flow.actions, payload.action, payload.args,
                                                                 self.clock.now()):
                outdated(ctx)  # unknown, forged or garbled: nothing of the flow runs
            else:
                flow.on_press(ctx, payload.action, payload.args)
        elif incoming.kind == "file":
            flow = self.flows.get(ctx.convo.flow)
            if incoming.file_problem:
                ctx.say(refusal(ctx.t, incoming.file_problem, (incoming.file_ref or "").rpartition("#")[2] or "file"))
            elif flow is None:
                ctx.say(ctx.t("Thanks! Files go with a booking request: start one with /book."))
            else:
                flow.on_file(ctx, incoming.file_ref or "")
        else:
            text = incoming.text or ""
            flow = self.flows.get(ctx.convo.flow)
            if flow is not None:
                flow.on_text(ctx, text)
            elif text and _GREETING.fullmatch(text.lower()) is None and "book" in self.flows:
                self.flows["book"].start(ctx, text)  # plain words outside a flow: what do they need help with?
            else:
                self._command(ctx, "help", "")

    def _command(self, ctx: Context, name: str, args: str) -> None:
        if name == "cancel":
            was = ctx.convo.flow
            ctx.finish()
            ctx.say(ctx.t("Stopped. Nothing was booked or changed.") if was else ctx.t("There was nothing to stop."))
            return
        flow = self.commands.get(name)
        if flow is None:
            ctx.say(ctx.t("I don't know the command /{name}. Type /help to see what I can do.", name=name))
            return
        flow.start(ctx, args)

    # ---- who is this

    def _identify(self, uow: SqlUnitOfWork, sender: Sender, known: int | None = None) -> tuple[Person, bool]:
        person = find_person(uow, sender, known)
        if person is not None:
            return person, False
        chat = platform(sender.platform)
        handle = sender.user_id.lower() if chat is CONSOLE else _free_handle(uow, sender)
        person = Person(
            None, handle, (sender.display_name or sender.user_id)[:120],
            timezone=sender.timezone or "UTC", locale=normalise_locale(sender.language), **chat.fields(sender.user_id),
        )
        return uow.people.add(person), True

    # ---- the outbox

    def _queue(self, uow: SqlUnitOfWork, ctx: Context, incoming: Incoming) -> list[OutboxMessage]:
        """The step's replies, then its notices, queued in one INSERT."""
        target = incoming.press.message_id if incoming.press else None
        sender = incoming.sender
        outgoing = [
            Outgoing(f"{sender.platform}:{incoming.event_id}:r{i}", ctx.person.id, sender.platform, sender.chat_id,
                     _payload(reply, target if reply.replace else None), self.local_senders.get(sender.platform))
            for i, reply in enumerate(ctx.replies)
        ]
        outgoing += [m for notice in ctx.notices if (m := self._notice_message(uow, notice)) is not None]
        return _added(uow, outgoing)

    def queue_notice(self, uow: SqlUnitOfWork, notice: Notice) -> list[OutboxMessage]:
        return self.queue_notices(uow, [notice])

    def queue_notices(self, uow: SqlUnitOfWork, notices: Sequence[Notice], *, lease: bool = True) -> list[OutboxMessage]:
        """Notices for their people, where each can be reached, in one INSERT. lease=False: no sender of this
        process takes them at once (a pump queueing from inside its own bookkeeping); the next poll does."""
        return _added(uow, [m for notice in notices if (m := self._notice_message(uow, notice, lease)) is not None])

    def _notice_message(self, uow: SqlUnitOfWork, notice: Notice, lease: bool = True) -> Outgoing | None:
        person = uow.people.get(notice.person_id)
        if person is None:
            return None
        if notice.platform == "email":
            return self._email_message(uow, person, notice)
        address = self.router.address(person, uow.conversations)
        if address is None:
            log.warning("person %s cannot be reached on %s", person.handle, self.router.platforms)
            return None
        platform, chat_id = address
        reply = fit_files(uow, self.clock, notice.reply, person, platform)  # a file too big for it: a link
        return Outgoing(f"{platform}:{notice.key}", person.id, platform, chat_id, _payload(reply, None),
                        self.local_senders.get(platform) if lease else None)

    def _email_message(self, uow: SqlUnitOfWork, person: Person, notice: Notice) -> Outgoing | None:
        """Email comes on top of the chat, so without SMTP or an address it is simply left out."""
        address = (person.email or "").strip()
        if not self.email_enabled or not address:
            return None
        if len(address) > _MAX_CHAT_ID:  # the outbox could not store it: skip the mail, keep the change
            log.warning("email to %s skipped: address longer than %s characters", person.handle, _MAX_CHAT_ID)
            return None
        reply = fit_files(uow, self.clock, notice.reply, person, "email")
        return Outgoing(f"email:{notice.key}", person.id, "email", address, _payload(reply, None),
                        self.local_senders.get("email"))


def _added(uow: SqlUnitOfWork, outgoing: list[Outgoing]) -> list[OutboxMessage]:
    """Queue them; the messages queued for this process's senders to take at once (a key seen before is not
    queued again, and a row whose claim was refused, behind a chat's earlier pending ones, waits for a poll)."""
    ids = uow.outbox.add_many(outgoing)
    return [OutboxMessage(queued, m.person_id, m.platform, m.chat_id, m.payload)
            for queued, m in zip(ids, outgoing)
            if queued is not None and queued not in uow.outbox.unclaimed]  # refused: the pump sends it in turn


_MAX_CHAT_ID = 64  # the outbox's chat_id column

# Someone new's first command runs after the welcome, except those the welcome itself answers.
_NOT_HELD = frozenset({"start", "help", "settings"})

# "hello" is not a search for experts called hello: it gets the list of what the bot can do.
_GREETING = re.compile(r"\W*(hi|hello|hey|hallo|hola|namaste|good (morning|afternoon|evening)|help|start|menu|thanks?( you)?)\W*")


class _Duplicate(Exception):
    pass


class _FormRefused(Exception):
    def __init__(self, errors: tuple[tuple[str, str], ...]) -> None:
        super().__init__("form refused")
        self.errors = errors


def _state(convo: Conversation) -> tuple[object, ...]:
    return (convo.person_id, convo.flow, convo.step, json.dumps(convo.data, sort_keys=True, default=str))


def _kept(ctx: Context, before: tuple[object, ...]) -> bool:
    """An answer that changed nothing (a typo answered, /credits, /help, an outdated press) keeps the version,
    so the wizard buttons on screen stay current. Presses that did something are always saved: the version
    check is what stops two racing presses from both winning."""
    if ctx.convo.id is None or ctx.shown_wizard_buttons or _state(ctx.convo) != before:
        return False
    return ctx.incoming.kind != "press" or ctx.refused


def _payload(reply: Reply, edit: str | None) -> str:
    data = json.loads(reply.to_json())
    if edit:
        data["edit"] = edit
    return json.dumps(data)


def find_person(uow: SqlUnitOfWork, sender: Sender, known: int | None = None) -> Person | None:
    """The person behind a platform account, if we know them. `known`: who this chat's conversation
    last belonged to (loaded with it): still them if the account matches, without another query."""
    if known is not None:
        person = uow.people.get(known)
        if person is not None and _account_of(person, sender):
            return person
    return platform(sender.platform).find(uow, sender.user_id)


def _account_of(person: Person, sender: Sender) -> bool:
    """Is this the account find_person looks the sender up by?"""
    return platform(sender.platform).knows(person, sender.user_id)


def _free_handle(uow: SqlUnitOfWork, sender: Sender) -> str:
    base = re.sub(r"[^a-z0-9_]", "", (sender.display_name or "").lower().replace(" ", "_"))[:20] or "user"
    candidate, n = base, 1
    while uow.people.by_handle(candidate) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _asked_form(messages: Sequence[OutboxMessage]) -> str:
    """The form a reply of this step asks for (Reply.form), read back from the queued payloads."""
    for message in messages:
        if '"form"' in message.payload:  # JSON escapes quotes inside strings: only the key matches
            form = json.loads(message.payload).get("form")
            if isinstance(form, str) and form:
                return form
    return ""
