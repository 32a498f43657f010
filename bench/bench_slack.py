"""Slack under load: 50 founders booking at once, against a bare Bolt app that only acknowledges.

Target (issue 5): p99 of the time to acknowledge <= 100 ms (Slack gives up after 3 s and retries).

One process, as in production plus the outside world:

- The fake Slack (tests.fakes.slack_server.FakeSlack) serves the Web API on 127.0.0.1 from its own thread
  and plays Slack towards the app: it builds signed slash commands, button presses and modal submissions
  and POSTs them to `fake.app_url` from its own loop (`apost`), timing each POST until the app's HTTP
  answer (`Delivery.elapsed`), and stamps every Web API call it receives with time.monotonic() (`Call.at`).
- Our bot runs in this thread's event loop: bot.web.make_app(None, SlackRuntime(...)) (slack-bolt's
  AsyncApp, our listeners, the dispatcher, the outbox pump) behind a real aiohttp server on a free port.
- USERS founders (each with their own credits and Slack user id) each book their own expert (found first
  by a search tag only that expert has; OTHER_EXPERTS more experts make search rank something), closed-loop
  and all at once, the conversation of tests/adapters/slack/test_slack_booking.book_eve: /book, Book Eve…,
  30 min, 1 meeting, Tue 5 Mar, 15:00 (which opens the details modal), submit the modal, Done, Confirm.
  A step is done when the bot's answer for it reached the fake: the outbox rows it queued for the
  founder's DM are sent (the pump's `_sent` hook, an event, not a poll), the modal is open for the step
  that opens it; for the submission (checked against the form's rules and stored before its ack), the
  chat's answer too.
- The baseline: a bare slack_bolt AsyncApp (the fake's signing secret, a client pointed at the fake) whose
  listeners only `await ack()` for commands, actions and views, behind an equally bare aiohttp route.
  USERS people send it the same kinds of requests in the same order (the slash command, presses of a
  button seeded in their DM, a submission of a modal opened for them beforehand), closed-loop; a step is
  done when it is acknowledged.

Measured per request:
- time to acknowledge: the fake's own timing of the POST until the app's HTTP answer (what Slack sees),
  for every request answered, late or failed ones included (Bolt answers 404 when no ack() came within
  3 s); also inside the app (a middleware: request handed to the app -> answer ready), which leaves out
  the HTTP transport and the fake's thread, both sharing this process's GIL;
- time to the bot's reply (our bot only): from just before the POST until the fake received the last
  chat.postMessage / chat.update to the founder's DM for that step; views.open for the step that opens
  the modal; for the modal submission, its answer in the chat (the ack only closed the modal);
- throughput: requests completed per second of wall time of the crowd (first sent to last done).

A step that fails (an HTTP error, no modal, no answer within STEP_TIMEOUT) is an error, and that person
stops. Everything runs on this machine's cores together: fake, bot, its worker threads and the people.

Each bot first serves one warm-up conversation (Bolt's auth.test, caches, connections; not measured).
Our bot also runs on PostgreSQL when one is reachable (bench.harness.postgres_available()), compared with
the bare Bolt numbers of the SQLite pass (the bare app touches no database).

Run: python -m bench slack, or python -m bench.bench_slack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bench.bench_telegram import NOW, OTHER_EXPERTS, _Delivered, _expert_name, _free_socket, _tag
from bench.harness import percentiles, postgres_available, postgres_db, sqlite_db
from bot.adapters.slack.runtime import SlackRuntime, SlackSettings, form_view
from bot.flows.book import DETAILS_FORM
from bot.forms import build
from bot.dispatcher import Dispatcher, Handled
from bot.events import Incoming, Sender
from bot.flows import all_flows
from bot.i18n import Translator
from bot.router import Router
from bot.serial import SerialDispatch
from bot.web import make_app
from core.amounts import credits_to_milli
from core.clock import FixedClock
from core.credit_service import grant
from core.credits import Source
from core.experts import Expert, ExpertKind
from core.model import Person
from core.schedule import Schedule, WeeklyWindow
from storage.uow import SqlUnitOfWork
from tests.fakes.slack_server import FakeSlack, all_text, buttons

USERS = 50  # founders booking at once
STEP_TIMEOUT = 30.0  # a step not answered by then counts as an error
ACK_TARGET_MS = 100.0  # issue 5: acknowledge p99 at most this
WARMUP = USERS  # index of the extra founder/expert pair that warms caches and is not measured
BOOKERS = USERS + 1  # founder/expert pairs: the crowd and the warm-up
FOUNDER = "U0F{:04d}"  # Slack user ids: founder n, their expert, the bare app's people
EXPERT = "U0E{:04d}"
BARE = "U0B{:04d}"
FORM = {"title": "Seed round narrative", "outcome": "A pitch storyline I can test with five investors",
        "intro": "", "context": ""}
REPLIES = frozenset({"chat.postMessage", "chat.update"})

# (kind, text or button label). Kinds: "command" (/book with this text), "tap" (a button; a label ending in
# "…" matches by prefix), "modal" (a tap whose answer opens the details modal), "submit" (that modal).
Step = tuple[str, str]


def _script(n: int) -> list[Step]:
    return [
        ("command", f"fundraising {_tag(n)}"),
        ("tap", f"Book {_expert_name(n)}"),
        ("tap", "30 min…"),
        ("tap", "1"),
        ("tap", "Tue 5 Mar"),
        ("modal", "15:00"),
        ("submit", FORM["title"]),
        ("tap", "Done"),
        ("tap", "Confirm"),
    ]


STEPS = len(_script(0))


# ------------------------------------------------------------------------------------------ the world

def _world(engine: Engine, fake: FakeSlack) -> None:
    """BOOKERS founders with 10 credits of their own and a Slack id, each with their own expert on Slack
    (found first by a tag only they have), plus OTHER_EXPERTS more; weekdays 9-17 London."""
    weekdays = Schedule("Europe/London", tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5)))
    with SqlUnitOfWork(engine, FixedClock(NOW)) as uow:
        for n in range(BOOKERS + OTHER_EXPERTS):
            booked = n < BOOKERS
            slack_id = EXPERT.format(n) if booked else None
            person = uow.people.add(Person(None, f"x{n}", _expert_name(n) if booked else f"Expert {n}",
                                           timezone="Europe/London", slack_user_id=slack_id))
            uow.experts.put(
                Expert(None, person.id, f"x{n}", person.name, "Europe/London", ExpertKind.COMPENSATED,
                       headline="Seed fundraising for B2B SaaS" if booked else "Operator and advisor",
                       topics=("Fundraising", _tag(n).title()) if booked else ("Hiring", "Operations")),
                weekdays,
            )
            if slack_id is not None:
                fake.user(slack_id, name=f"expert{n}", real_name=person.name, tz="Europe/London")
        for n in range(BOOKERS):
            founder = uow.people.add(Person(None, f"f{n}", f"Founder {n}", timezone="Asia/Kolkata",
                                            slack_user_id=FOUNDER.format(n)))
            grant(uow, key=f"bench:{n}", amount_milli=credits_to_milli(10), source=Source.INDIVIDUAL,
                  person_id=founder.id)
            fake.user(FOUNDER.format(n), name=f"founder{n}", real_name=f"Founder {n}", tz="Asia/Kolkata")
        uow.commit()


# ------------------------------------------------------------------------------------------ measuring

@dataclass
class _StepLog:
    user: str
    kind: str
    body: bytes = field(repr=False)
    sent: float  # time.monotonic() just before the POST
    done: float  # when the founder saw the answer and could go on
    trigger: str | None = None  # the "modal" step: the trigger views.open exchanged
    ok: bool = True  # False: posted, but the step failed (its ack still counts; nothing else does)


@dataclass
class _Run:
    steps: list[_StepLog] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inside: list[float] = field(default_factory=list)  # ms from the request reaching the app to its answer
    wall: float = 0.0
    booked: int = 0
    retried: int = 0  # outbox sends the pump had to retry
    gave_up: int = 0  # outbox rows it gave up on


@dataclass(frozen=True)
class Result:
    ack: tuple[float, float]
    inside: tuple[float, float]
    ack_by_kind: dict[str, tuple[float, float]]
    reply: tuple[float, float] | None
    reply_by_kind: dict[str, tuple[float, float]]
    throughput: float
    steps: int
    errors: int
    first_error: str
    booked: int
    retried: int
    gave_up: int


NAN = (float("nan"), float("nan"))


def _p(samples: list[float]) -> tuple[float, float]:
    return percentiles(samples) if samples else NAN


def _measure(fake: FakeSlack, run: _Run, *, replies: bool) -> Result:
    """Each step's ack from the fake's delivery timing; its reply from the fake's call timestamps."""
    with fake._lock:  # noqa: SLF001 - a consistent snapshot, no deep copies
        acked = {d.body: (d.status, d.elapsed) for d in fake.deliveries}
        calls = [(c.method, c.params, c.at) for c in fake.calls if c.status == 200 and c.error is None]
    to_chat: dict[str, list[float]] = {}
    opened: dict[str, float] = {}
    for method, params, at in calls:
        if method in REPLIES:
            channel = str(params.get("channel") or "")
            to_chat.setdefault(channel[1:] if channel.startswith("D") else channel, []).append(at)
        elif method == "views.open":
            opened.setdefault(str(params.get("trigger_id")), at)
    ack: list[float] = []
    by_kind: dict[str, list[float]] = {}
    reply: dict[str, list[float]] = {}
    errors = list(run.errors)
    for step in run.steps:
        status, elapsed = acked.get(step.body, (0, 0.0))
        if status:  # answered, even if late or with an error: the time Slack waited
            ack.append(elapsed * 1000)
            by_kind.setdefault(step.kind, []).append(elapsed * 1000)
        if not step.ok or not replies:
            continue
        replied = reply.setdefault(step.kind, [])
        if step.trigger is not None and step.trigger in opened:
            replied.append((opened[step.trigger] - step.sent) * 1000)
        else:
            shown = [at for at in to_chat.get(step.user, []) if step.sent <= at <= step.done]
            if shown:
                replied.append((max(shown) - step.sent) * 1000)
            else:
                errors.append(f"{step.user} {step.kind}: no reply in the DM")
    done = sum(step.ok for step in run.steps)
    every_reply = [ms for samples in reply.values() for ms in samples]
    return Result(_p(ack), _p(run.inside), {k: _p(v) for k, v in by_kind.items()},
                  _p(every_reply) if replies else None, {k: _p(v) for k, v in reply.items()},
                  done / run.wall if run.wall else 0.0, done, len(errors),
                  errors[0] if errors else "", run.booked, run.retried, run.gave_up)


def _timed(samples: list[float]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware: how long the app took from having a request to having its answer (no transport)."""

    @web.middleware
    async def timed(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        t0 = time.monotonic()
        try:
            return await handler(request)
        finally:
            samples.append((time.monotonic() - t0) * 1000)

    return timed


# ------------------------------------------------------------------------------------------ people

def _button(fake: FakeSlack, dm: str, label: str) -> tuple[str, str]:
    """(ts, action_id) of the newest bot message in the DM with a button called `label` (a trailing "…":
    starting so). Reads the fake's state under its lock: fake.messages() deep-copies every message."""
    wanted = label.rstrip("…")
    with fake._lock:  # noqa: SLF001 - benchmark-only shortcut, read-only
        for message in reversed(list(fake._messages.get(dm, {}).values())):  # noqa: SLF001
            if message.bot and not message.deleted:
                for text, action_id, _value in buttons(message):
                    if text.startswith(wanted) if label.endswith("…") else text == wanted:
                        return message.ts, action_id
    raise LookupError(f"no button {label!r} in {dm}")


def _open_modal(fake: FakeSlack, user: str) -> str:
    with fake._lock:  # noqa: SLF001 - read-only
        stack = fake._stacks.get(user)  # noqa: SLF001
        if not stack:
            raise LookupError(f"{user} has no modal open")
        return stack[-1]


def _answered_submission(fake: FakeSlack, user: str, view_id: str, answer: bytes) -> None:
    """What Slack does with an empty answer to a submission: close the modal. Anything else is an error."""
    if answer.strip():
        raise RuntimeError(f"the submission was answered {answer[:200]!r}")
    with fake._lock:  # noqa: SLF001 - FakeSlack.submit() does the same, but blocks
        fake._close(user, view_id)  # noqa: SLF001


def _trigger(body: bytes) -> str | None:
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    return str(payload.get("trigger_id")) if payload.get("trigger_id") else None


@dataclass
class _Actor:
    """How a person's steps become requests and when a step counts as done."""

    body: Callable[[str, str, str, int], bytes]  # (user, kind, what, founder n) -> the request
    expect: Callable[[str, bool], None]  # before the POST: (user, whether a modal will open)
    settle: Callable[[str], Awaitable[None]]  # after the POST answered: until the answer reached the fake
    forget: Callable[[str], None]  # a step failed: drop what was expected


async def _converse(fake: FakeSlack, actor: _Actor, user: str, n: int, run: _Run) -> None:
    """The whole script, one request after the other, each sent when the previous one was answered."""
    for i, (kind, what) in enumerate(_script(n)):
        body, sent = b"", 0.0
        try:
            body = actor.body(user, kind, what, n)
            view_id = _open_modal(fake, user) if kind == "submit" else ""
            actor.expect(user, kind == "modal")
            sent = time.monotonic()
            status, _headers, answer = await fake.apost(body)
            if status != 200:
                raise RuntimeError(f"the app answered HTTP {status} after {time.monotonic() - sent:.1f} s")
            if kind == "submit":
                _answered_submission(fake, user, view_id, answer)
            await asyncio.wait_for(actor.settle(user), STEP_TIMEOUT)
        except (LookupError, ValueError, RuntimeError, TimeoutError) as error:
            actor.forget(user)
            run.errors.append(f"{user} step {i + 1} ({what}): {error!r}")
            if sent:
                run.steps.append(_StepLog(user, kind, body, sent, time.monotonic(), ok=False))
            return
        run.steps.append(_StepLog(user, kind, body, sent, time.monotonic(),
                                  _trigger(body) if kind == "modal" else None))


async def _crowd(fake: FakeSlack, actor: _Actor, people: list[tuple[str, int]]) -> _Run:
    run = _Run()
    t0 = time.monotonic()
    await asyncio.gather(*(_converse(fake, actor, user, n, run) for user, n in people))
    run.wall = time.monotonic() - t0
    return run


# ------------------------------------------------------------------------------------------ our bot

class _Watch:
    """Per founder, what their current step is waiting for: the outbox rows its dispatch queued for their
    DM (reported by the dispatch wrapper), each of them sent (the pump's hook), and the modal opened."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.delivered = _Delivered(loop)
        self.dispatched: dict[str, asyncio.Future[list[int]]] = {}
        self.opened: dict[str, asyncio.Future[None]] = {}
        self._keys = itertools.count()

    def expect(self, user: str, modal: bool) -> None:
        self.dispatched[user] = self.loop.create_future()
        if modal:
            self.opened[user] = self.loop.create_future()

    def forget(self, user: str) -> None:
        self.dispatched.pop(user, None)
        self.opened.pop(user, None)

    def on_dispatched(self, user: str, rows: list[int]) -> None:
        future = self.dispatched.get(user)
        if future is not None and not future.done():
            future.set_result(rows)

    def on_opened(self, user: str) -> None:
        future = self.opened.get(user)
        if future is not None and not future.done():
            future.set_result(None)

    async def settle(self, user: str) -> None:
        rows = await self.dispatched[user]
        key = next(self._keys)
        self.delivered.ran(key, rows)
        await self.delivered.settle(key)
        if user in self.opened:
            await self.opened[user]
        self.forget(user)


class _WatchedDispatch(SerialDispatch):
    """The runtime's SerialDispatch, telling the watch which rows each event queued for the sender's DM."""

    def __init__(self, runtime: SlackRuntime, watch: _Watch) -> None:
        super().__init__(runtime.dispatcher)
        self.watch = watch

    async def __call__(self, incoming: Incoming) -> Handled:
        handled = await super().__call__(incoming)
        user = incoming.sender.user_id
        self.watch.on_dispatched(user, [m.id for m in handled.messages
                                        if m.platform == "slack" and m.chat_id == user])
        return handled


def _watch(runtime: SlackRuntime) -> _Watch:
    watch = _Watch(asyncio.get_running_loop())
    runtime.dispatch = _WatchedDispatch(runtime, watch)
    pump, open_form = runtime.pump, runtime._open_form  # noqa: SLF001 - observation hooks
    sent = pump._sent  # noqa: SLF001

    def sent_and_report(batch: list[tuple[int, str | None]]) -> None:  # a worker thread
        sent(batch)
        for message_id, _ in batch:
            watch.delivered.report(message_id)

    async def open_and_report(trigger_id: str, sender: Sender, name: str) -> str | None:
        try:
            return await open_form(trigger_id, sender, name)
        finally:
            watch.on_opened(sender.user_id)

    # the bench watches the live pump and runtime (method-assign: instrumentation, on purpose)
    pump._sent = sent_and_report  # type: ignore[method-assign]  # noqa: SLF001
    runtime._open_form = open_and_report  # type: ignore[method-assign]  # noqa: SLF001
    return watch


def _founder_body(fake: FakeSlack) -> Callable[[str, str, str, int], bytes]:
    def body(user: str, kind: str, what: str, _n: int) -> bytes:
        if kind == "command":
            return fake.slash(user, "/book", what)
        if kind == "submit":
            return fake.view_submission(user, _open_modal(fake, user), FORM)
        ts, action_id = _button(fake, fake.dm(user), what)
        return fake.press(user, fake.dm(user), ts, action_id)

    return body


async def _our_bot(engine: Engine, fake: FakeSlack) -> _Run:
    clock = FixedClock(NOW)
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    runtime = SlackRuntime(SlackSettings(fake.bot_token, fake.signing_secret, "", fake.api_url),
                           Dispatcher(factory, clock, all_flows(), Router(["slack"])), factory)
    app = make_app(None, runtime)
    inside: list[float] = []
    app.middlewares.append(_timed(inside))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # starts the runtime's outbox pump
    sock = _free_socket()
    try:
        await web.SockSite(runner, sock).start()
        fake.app_url = f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
        watch = _watch(runtime)

        async def settle(user: str) -> None:
            modal = user in watch.opened
            await watch.settle(user)
            if modal and not _pending_modal(fake, user):
                raise RuntimeError(f"the details modal did not open: views.open {_views_open_error(fake, user)}")

        actor = _Actor(_founder_body(fake), watch.expect, settle, watch.forget)
        warm = await _crowd(fake, actor, [(FOUNDER.format(WARMUP), WARMUP)])
        if warm.errors:
            raise RuntimeError(f"warm-up conversation failed: {warm.errors[0]}")
        inside.clear()
        crowd = await _crowd(fake, actor, [(FOUNDER.format(n), n) for n in range(USERS)])
        crowd.inside = list(inside)
    finally:
        await runner.cleanup()  # stops the runtime: waits for acknowledged work and drains the pump
    crowd.booked = sum(_booked(fake, FOUNDER.format(n)) for n in range(USERS))
    crowd.retried, crowd.gave_up = runtime.pump.stats.retried, runtime.pump.stats.gave_up
    return crowd


def _pending_modal(fake: FakeSlack, user: str) -> bool:
    with fake._lock:  # noqa: SLF001 - read-only
        return bool(fake._stacks.get(user))  # noqa: SLF001


def _views_open_error(fake: FakeSlack, user: str) -> str:
    """The error of the last views.open for the person's DM (the modal remembers its chat), if any."""
    with fake._lock:  # noqa: SLF001 - read-only
        for call in reversed(fake.calls):
            view = call.params.get("view")
            if call.method == "views.open" and isinstance(view, dict) \
                    and json.loads(view.get("private_metadata") or "{}").get("chat") == user:
                return str(call.error or call.status)
    return "not called"


def _booked(fake: FakeSlack, user: str) -> bool:
    """The founder was told their request went out ("Request sent…", whatever follows)."""
    with fake._lock:  # noqa: SLF001 - read-only
        shown = fake._messages.get(fake.dm(user), {}).values()  # noqa: SLF001
        return any("Request sent" in all_text(m) for m in shown)


# ------------------------------------------------------------------------------------------ bare Bolt

def _bare_app(fake: FakeSlack) -> AsyncApp:
    app = AsyncApp(signing_secret=fake.signing_secret,
                   client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url))

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    app.command(re.compile(r"^/.+"))(ack_only)
    app.action(re.compile(r".*"))(ack_only)
    app.view(re.compile(r".*"))(ack_only)
    return app


SEED_BLOCKS = [{"type": "actions", "block_id": "again",
                "elements": [{"type": "button", "action_id": "again", "value": "again",
                              "text": {"type": "plain_text", "text": "Again"}}]}]


async def _seed(fake: FakeSlack, client: AsyncWebClient, user: str) -> str:
    """A bare-app person's DM gets a message with a button to press, and a modal open to submit (the same
    details form our bot opens); returns the button message's ts."""
    fake.user(user, name=user.lower(), real_name=f"Person {user}", tz="Asia/Kolkata")
    posted = await client.chat_postMessage(channel=user, text="Again", blocks=SEED_BLOCKS)
    trigger = parse_qs(fake.slash(user, "/book", "").decode())["trigger_id"][0]
    form = build(DETAILS_FORM, Translator())
    assert form is not None
    await client.views_open(trigger_id=trigger, view=form_view(form, user, "en"))
    return str(posted["ts"])


async def _bare_bolt(fake: FakeSlack) -> _Run:
    app = _bare_app(fake)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server = web.Application()
    server.router.add_post("/slack/events", events)
    inside: list[float] = []
    server.middlewares.append(_timed(inside))
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    sock = _free_socket()
    seeded: dict[str, str] = {}  # user -> ts of the message with their button
    people = [(BARE.format(n), n) for n in range(BOOKERS)]

    def body(user: str, kind: str, what: str, _n: int) -> bytes:
        if kind == "command":
            return fake.slash(user, "/book", what)
        if kind == "submit":
            return fake.view_submission(user, _open_modal(fake, user), FORM)
        return fake.press(user, fake.dm(user), seeded[user], "again")

    async def answered(_user: str) -> None:
        """The bare app has done everything by the time it answers."""

    try:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        for user, _n in people:
            seeded[user] = await _seed(fake, client, user)
        await web.SockSite(runner, sock).start()
        fake.app_url = f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
        actor = _Actor(body, lambda _u, _m: None, answered, lambda _u: None)
        warm = await _crowd(fake, actor, people[WARMUP:])
        if warm.errors:
            raise RuntimeError(f"bare Bolt warm-up failed: {warm.errors[0]}")
        inside.clear()
        crowd = await _crowd(fake, actor, people[:USERS])
        crowd.inside = list(inside)
        return crowd
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------------------------------ report

def _pass(database: Callable[[], AbstractContextManager[Engine]], *, bare: bool
          ) -> tuple[Result, Result | None]:
    """Our bot, then (optionally) the bare Bolt app, against one fake."""
    with FakeSlack() as fake, database() as engine:
        _world(engine, fake)
        ours = _measure(fake, asyncio.run(_our_bot(engine, fake)), replies=True)
        if not bare:
            return ours, None
        return ours, _measure(fake, asyncio.run(_bare_bolt(fake)), replies=False)


def _latency(p: tuple[float, float]) -> str:
    return f"p50 {p[0]:.1f} ms, p99 {p[1]:.1f} ms"


def _rows(label: str, ours: Result, bare: Result | None, note: str = "bare Bolt") -> list[tuple[str, str]]:
    name = f"slack, {label}"
    kinds = {"command": "/book", "tap": "button", "modal": "button opening the modal", "submit": "modal submission"}
    rows = [
        (f"{name}: acknowledge", _latency(ours.ack) + (f" ({note} {_latency(bare.ack)})" if bare else "")),
        (f"{name}: acknowledge, inside the app (request in → answer out)", _latency(ours.inside)
         + (f" ({note} {_latency(bare.inside)})" if bare else "")),
        (f"{name}: acknowledge by kind", "; ".join(
            f"{kinds[k]} {_latency(v)}" for k, v in ours.ack_by_kind.items())),
        (f"{name}: time to the bot's reply", _latency(ours.reply or NAN)),
        (f"{name}: time to the bot's reply by kind", "; ".join(
            f"{kinds[k]} {_latency(v)}" for k, v in ours.reply_by_kind.items())),
        (f"{name}: throughput",
         f"{ours.throughput:.0f} requests/s" + (f" ({note} {bare.throughput:.0f}/s)" if bare else "")
         + f"; {ours.steps}/{USERS * STEPS} requests by {USERS} founders at once, {ours.booked} bookings"),
        (f"{name}: errors", f"{ours.errors}" + (f" ({note} {bare.errors})" if bare else "")
         + f"; outbox retries {ours.retried}, given up {ours.gave_up}"),
    ]
    for who, r in (("ours", ours), ("bare Bolt", bare if note == "bare Bolt" else None)):
        if r is not None and r.errors:
            rows.append((f"{name}: first error ({who})", r.first_error))
    ok = ours.ack[1] <= ACK_TARGET_MS
    rows.append((f"{name}: target", f"ack p99 ≤ {ACK_TARGET_MS:.0f} ms {'✔' if ok else '✘'}"))
    return rows


def run() -> list[tuple[str, str]]:
    # Bolt gives each app's loggers the root's level when it builds them, and under load it warns about
    # every late ack; what matters is counted in the rows instead (errors, outbox retries).
    logging.disable(logging.WARNING)
    try:
        ours, bare = _pass(sqlite_db, bare=True)
        results = _rows("sqlite", ours, bare)
        if postgres_available():
            pg, _ = _pass(postgres_db, bare=False)
            results += _rows("postgresql", pg, bare, note="bare Bolt, SQLite pass")
        else:
            results.append(("slack, postgresql", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
        return results
    finally:
        logging.disable(logging.NOTSET)


if __name__ == "__main__":
    for row_name, value in run():
        print(f"{row_name}: {value}")
