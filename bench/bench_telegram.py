"""The Telegram webhook under load: 50 people booking at once, against a bare python-telegram-bot echo bot.

Targets (issue): p99 from an update's arrival to the bot's first Bot API call <= 50 ms, and throughput at
least half of a bare PTB echo bot's (issue 4); issue 12 raised the throughput target to 60% of the echo
bot's on PostgreSQL, now that every update is stored before it is answered. Both are measured against the
same fake Bot API in the same run.

One process, as in production plus the outside world:

- The fake Bot API (tests.fakes.telegram_server.FakeTelegram) serves on 127.0.0.1 from its own thread and
  stamps every call it receives with time.monotonic() (`Call.at`).
- The bot runs in this thread's event loop: bot.web.make_app around a real TelegramRuntime (PTB, our
  adapter, the dispatcher, the outbox pump) behind a real aiohttp server on a free 127.0.0.1 port. A
  middleware stamps each webhook request with time.monotonic() on entry: the update's *arrival*.
- USERS simulated people (one aiohttp ClientSession in the same loop) each book a session closed-loop:
  the 12-step conversation of tests/adapters/telegram/test_telegram_booking.py (/book, tap the expert,
  30 min, 1 meeting, Tue 5 Mar, 15:00, a title, an outcome, Skip, Skip, Done, Confirm). A step builds
  the update with fake.message()/fake.press() (callback data from the buttons the bot sent to that
  chat), POSTs it to the webhook with the secret header as Telegram does (and, as Telegram does, has the
  fake perform a Bot API method the 200 carries: our bot answers a private press's spinner there),
  and waits for the answer to
  reach the fake: the webhook's 200 and every outbox row the update queued for Telegram marked sent
  (the pump's `_sent` hook, called after the Bot API accepted the message; an event, not a poll, so
  waiting costs the bot's loop nothing). Each person books their own expert, so no slot clashes.
- The echo baseline: PTB's Application with no rate limiter and no updater, one MessageHandler
  (reply_text with the text, plus a one-button keyboard to press) and one CallbackQueryHandler (answer,
  then edit the message), behind an equally bare aiohttp route that awaits app.process_update(). Its
  people send the same sequence of kinds (text steps as texts, press steps as presses on the echoed
  message) and a step is done when the webhook answers (the handlers have run by then).

Before the crowd, each bot serves a warm-up conversation (not measured) and SOLO people one at a time:
the same latencies without queueing, i.e. the cost of one update through each bot.

Measured per step, from the fake's own timestamps: arrival -> the first API call made for the update (a
call to that chat, or answerCallbackQuery for that press), and arrival -> the last successful message
call (send or edit) to that chat, which is the answer the person sees. Throughput: steps completed per
second of wall time over the whole run (first step sent to last step done).

Two configurations: "capacity" (the fake's flood limits off, our FloodLimiter with limits no run reaches,
the echo bot without a limiter: the like-for-like processing comparison the targets refer to), and
"with flood limits" (Telegram's limits in the fake, our default FloodLimiter for both bots since PTB's
AIORateLimiter needs an extra, people pausing PAUSE seconds on average (0.5-1.5 × PAUSE, so they do not
move in lockstep) between steps like a person; the count of 429 answers must be 0). Capacity also runs our bot on PostgreSQL when one is reachable, compared with
the echo baseline of the SQLite pass (the echo bot touches no database).

Run: python -m bench telegram, or python -m bench.bench_telegram.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Engine
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.harness import percentiles, postgres_available, postgres_db, sqlite_db
from bot.adapters.telegram.limiter import FloodLimiter
from bot.adapters.telegram.runtime import SECRET_HEADER, TelegramRuntime, TelegramSettings
from bot.dispatcher import Dispatcher, Handled
from bot.flows import all_flows
from bot.router import Router
from bot.web import make_app
from core.amounts import credits_to_milli
from core.clock import FixedClock
from core.credit_service import grant
from core.credits import Source
from core.experts import Expert, ExpertKind
from core.model import Person
from core.schedule import Schedule, WeeklyWindow
from storage.chat_repo import OutboxMessage
from storage.uow import SqlUnitOfWork
from tests.fakes.telegram_server import COUNTED, FakeTelegram

log = logging.getLogger(__name__)

USERS = 50  # people booking at once
PAUSE = 3.0  # mean seconds a person takes between taps, with flood limits on (1.5-4.5 s): a human pace
OTHER_EXPERTS = 50  # experts nobody books, so search has more than the booked ones to rank
STEP_TIMEOUT = 30.0  # a step not answered by then counts as an error
NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)  # a Monday: "Tue 5 Mar" is offered
SECRET = "bench-secret_token"
FOUNDER_IDS = 710_000_000  # Telegram ids: founder n is FOUNDER_IDS + n, their expert EXPERT_IDS + n
EXPERT_IDS = 720_000_000
ECHO_IDS = 730_000_000  # the echo bot's people
SHARE_TARGET = 0.6  # throughput as a share of the echo bot's (issue 12)
SOLO = 3  # people who book one at a time before the crowd: latency without queueing
WARMUP = USERS  # index of the extra founder/expert pair that warms caches and is not measured
BOOKERS = USERS + 1 + SOLO  # founder/expert pairs: the crowd, the warm-up, the solos
# Letters that no suffix of core.discovery.stem ends with, so every tag stays its own search term.
_TAG_LETTERS = "bcfhjklmnpqtvwxz"

# (kind, text or button label); a label ending in "…" matches by prefix.
Step = tuple[str, str]


def _tag(n: int) -> str:
    return "zork" + _TAG_LETTERS[n // len(_TAG_LETTERS) % len(_TAG_LETTERS)] + _TAG_LETTERS[n % len(_TAG_LETTERS)]


def _expert_name(n: int) -> str:
    return f"Eve {_tag(n).title()}"


def _script(n: int) -> list[Step]:
    return [
        ("say", f"/book fundraising {_tag(n)}"),
        ("tap", f"Book {_expert_name(n)}"),
        ("tap", "30 min…"),
        ("tap", "1"),
        ("tap", "Tue 5 Mar"),
        ("tap", "15:00"),
        ("say", "Seed round narrative"),
        ("say", "A pitch storyline I can test with five investors"),
        ("tap", "Skip"),
        ("tap", "Skip"),
        ("tap", "Done"),
        ("tap", "Confirm"),
    ]


STEPS = len(_script(0))


# ------------------------------------------------------------------------------------------ the world

def _world(engine: Engine, fake: FakeTelegram) -> None:
    """BOOKERS founders with credits and a Telegram id, each with their own expert (who has started the
    bot and is found first by a tag only they have), plus OTHER_EXPERTS more; weekdays 9-17 London."""
    weekdays = Schedule("Europe/London", tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5)))
    with SqlUnitOfWork(engine, FixedClock(NOW)) as uow:
        for n in range(BOOKERS + OTHER_EXPERTS):
            booked = n < BOOKERS
            tg_id = EXPERT_IDS + n if booked else None
            person = uow.people.add(Person(None, f"x{n}", _expert_name(n) if booked else f"Expert {n}",
                                           timezone="Europe/London", telegram_user_id=tg_id))
            uow.experts.put(
                Expert(None, person.id, f"x{n}", person.name, "Europe/London", ExpertKind.COMPENSATED,
                       headline="Seed fundraising for B2B SaaS" if booked else "Operator and advisor",
                       topics=("Fundraising", _tag(n).title()) if booked else ("Hiring", "Operations")),
                weekdays,
            )
            if tg_id is not None:
                fake.user(tg_id, first_name=person.name.split()[0])
                fake.message(tg_id, "/start")  # started the bot earlier, so it may write to them
        for n in range(BOOKERS):
            founder = uow.people.add(Person(None, f"f{n}", f"Founder {n}", timezone="Asia/Kolkata",
                                            telegram_user_id=FOUNDER_IDS + n))
            grant(uow, key=f"bench:{n}", amount_milli=credits_to_milli(10), source=Source.INDIVIDUAL,
                  person_id=founder.id)
            fake.user(FOUNDER_IDS + n, first_name=f"Founder{n}")
        uow.commit()


# ------------------------------------------------------------------------------------------ measuring

@dataclass
class _StepLog:
    chat_id: int
    update_id: int
    query_id: str | None
    done_at: float


@dataclass
class _Run:
    """What one bot under load produced: its steps, their arrivals and the wall time."""

    steps: list[_StepLog] = field(default_factory=list)
    arrivals: dict[int, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    booked: int = 0


@dataclass(frozen=True)
class Result:
    first50: float
    first99: float
    last50: float
    last99: float
    throughput: float
    steps: int
    errors: int
    throttled: int
    booked: int
    first_error: str


def _stamp(arrived: list[tuple[float, web.Request]]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware: when each webhook request reached the bot (bodies are parsed after the run)."""

    @web.middleware
    async def stamp(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        arrived.append((time.monotonic(), request))
        return await handler(request)

    return stamp


async def _arrivals(arrived: list[tuple[float, web.Request]]) -> dict[int, float]:
    out: dict[int, float] = {}
    for at, request in arrived:
        out[json.loads(await request.read())["update_id"]] = at  # read() returns the cached body
    return out


def _measure(fake: FakeTelegram, run: _Run, throttled_before: int) -> Result:
    """Match each step to the fake's calls: the first one made for it, and the last message to its chat."""
    with fake._lock:  # noqa: SLF001 - a consistent snapshot of the calls list
        calls = list(fake.calls)
        throttled = len(fake.throttled) - throttled_before
    by_chat: dict[int, list[tuple[float, bool]]] = {}
    answered: dict[str, float] = {}
    for call in calls:
        chat = call.params.get("chat_id")
        if isinstance(chat, int):
            by_chat.setdefault(chat, []).append((call.at, call.method in COUNTED and call.status == 200))
        query = call.params.get("callback_query_id")
        if call.method == "answerCallbackQuery" and isinstance(query, str):
            answered.setdefault(query, call.at)
    for timeline in by_chat.values():
        timeline.sort()
    first: list[float] = []
    last: list[float] = []
    for step in run.steps:
        arrival = run.arrivals.get(step.update_id)
        if arrival is None:
            continue
        timeline = by_chat.get(step.chat_id, [])
        i = bisect_left(timeline, (arrival, False))
        firsts = [timeline[i][0]] if i < len(timeline) and timeline[i][0] <= step.done_at else []
        if step.query_id in answered:
            firsts.append(answered[step.query_id])
        if firsts:
            first.append((min(firsts) - arrival) * 1000)
        shown = [at for at, ok in timeline[i:] if ok and at <= step.done_at]
        if shown:
            last.append((max(shown) - arrival) * 1000)
    f50, f99 = percentiles(first) if first else (float("nan"), float("nan"))
    l50, l99 = percentiles(last) if last else (float("nan"), float("nan"))
    return Result(f50, f99, l50, l99, len(run.steps) / run.wall if run.wall else 0.0, len(run.steps),
                  len(run.errors), throttled, run.booked, run.errors[0] if run.errors else "")


# ------------------------------------------------------------------------------------------ people

def _keyboards(fake: FakeTelegram, chat_id: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(message id, button) of the bot's live messages in a chat, newest message first. Reads the fake's
    state under its lock instead of fake.sent(), whose deep copies (every edit's history) cost the shared
    interpreter more than the lookup itself."""
    with fake._lock:  # noqa: SLF001 - benchmark-only shortcut, read-only
        messages = list(fake._messages.get(chat_id, {}).values())  # noqa: SLF001
        found = [(m.message_id, dict(b)) for m in reversed(messages) if m.from_bot and not m.deleted
                 for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row if "callback_data" in b]
    yield from found


def _button(fake: FakeTelegram, chat_id: int, label: str) -> tuple[int, str]:
    """The newest message in the chat with a button called `label` (a trailing "…": starting so)."""
    wanted = label.rstrip("…")
    for message_id, button in _keyboards(fake, chat_id):
        text = str(button.get("text", ""))
        if text.startswith(wanted) if label.endswith("…") else text == wanted:
            return message_id, str(button["callback_data"])
    raise LookupError(f"no button {label!r} in chat {chat_id}")


def _echo_button(fake: FakeTelegram, chat_id: int, _label: str) -> tuple[int, str]:
    """The echo bot's one button, on its newest message that has it."""
    for message_id, button in _keyboards(fake, chat_id):
        return message_id, str(button["callback_data"])
    raise LookupError(f"no button in chat {chat_id}")


class _Person:
    """One person in their private chat: builds each update like Telegram and POSTs it to the webhook."""

    def __init__(self, fake: FakeTelegram, session: aiohttp.ClientSession, url: str, user_id: int,
                 script: list[Step], settle: Callable[[int], Awaitable[None]],
                 pick: Callable[[FakeTelegram, int, str], tuple[int, str]]) -> None:
        self.fake, self.session, self.url, self.user_id = fake, session, url, user_id
        self.script, self.settle, self.pick = script, settle, pick

    async def converse(self, run: _Run, *, start_after: float = 0.0, pause: float = 0.0) -> None:
        """The whole script, one step after the other; with a pause, each wait is drawn from
        pause × [0.5, 1.5] (seeded by the person), so the crowd does not move in lockstep."""
        think = random.Random(self.user_id)
        await asyncio.sleep(start_after)
        for n, (kind, what) in enumerate(self.script):
            if n and pause:
                await asyncio.sleep(pause * think.uniform(0.5, 1.5))
            try:
                query_id = None
                if kind == "say":
                    update = self.fake.message(self.user_id, what)
                else:
                    message_id, data = self.pick(self.fake, self.user_id, what)
                    update = self.fake.press(self.user_id, message_id, data)
                    query_id = update["callback_query"]["id"]
                async with self.session.post(self.url, data=json.dumps(update).encode(), headers={
                    "Content-Type": "application/json", SECRET_HEADER: SECRET,
                }) as response:
                    answer = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"webhook answered {response.status}")
                self.fake.perform_webhook_answer(answer)  # as Telegram does with a method in the 200
                await asyncio.wait_for(self.settle(update["update_id"]), STEP_TIMEOUT)
            except (LookupError, ValueError, RuntimeError, TimeoutError, aiohttp.ClientError) as error:
                run.errors.append(f"user {self.user_id} step {n + 1} ({what}): {error!r}")
                return
            run.steps.append(_StepLog(self.user_id, update["update_id"], query_id, time.monotonic()))


async def _crowd(people: list[_Person], run: _Run, *, pause: float) -> None:
    t0 = time.monotonic()
    await asyncio.gather(*(p.converse(run, start_after=i * pause / len(people), pause=pause)
                           for i, p in enumerate(people)))
    run.wall = time.monotonic() - t0


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


# ------------------------------------------------------------------------------------------ driving

@dataclass
class _Phases:
    """One bot's runs: one person at a time (no queueing; optional), then the crowd."""

    alone: _Run | None
    crowd: _Run


async def _drive(fake: FakeTelegram, url: str, settle: Callable[[int], Awaitable[None]],
                 pick: Callable[[FakeTelegram, int, str], tuple[int, str]], first_id: int, *,
                 pause: float, alone: bool) -> _Phases:
    """A warm-up booking (caches, connections, first-use imports; not measured), then SOLO people one
    after the other, then USERS people at once."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        def person(n: int) -> _Person:
            return _Person(fake, session, url, first_id + n, _script(n), settle, pick)

        warm = _Run()
        await _crowd([person(WARMUP)], warm, pause=0.0)
        if warm.errors:
            raise RuntimeError(f"warm-up conversation failed: {warm.errors[0]}")
        solo = None
        if alone:
            solo = _Run()
            for n in range(SOLO):
                await _crowd([person(WARMUP + 1 + n)], solo, pause=0.0)
        crowd = _Run()
        await _crowd([person(n) for n in range(USERS)], crowd, pause=pause)
    return _Phases(solo, crowd)


async def _stamped(phases: _Phases, arrived: list[tuple[float, web.Request]]) -> _Phases:
    arrivals = await _arrivals(arrived)
    for run in (phases.alone, phases.crowd):
        if run is not None:
            run.arrivals = arrivals
    return phases


# ------------------------------------------------------------------------------------------ our bot

class _Delivered:
    """Which outbox rows the pump has sent: the pump's `_sent` (run in a worker thread after the Bot API
    accepted the message) reports here through the loop, where waiting steps are woken."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.done: set[int] = set()
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.queued: dict[int, list[int]] = {}  # update_id -> its outbox rows for Telegram
        self.handled: dict[int, asyncio.Future[None]] = {}  # update_id -> run by the worker (after the 200)

    def ran(self, update_id: int, message_ids: list[int]) -> None:
        """A worker ran the update (durable intake: the webhook's 200 only says it was stored)."""
        self.queued[update_id] = message_ids
        future = self.handled.setdefault(update_id, self.loop.create_future())
        if not future.done():
            future.set_result(None)

    def report(self, message_id: int) -> None:  # any thread
        self.loop.call_soon_threadsafe(self._mark, message_id)

    def _mark(self, message_id: int) -> None:
        self.done.add(message_id)
        future = self.waiting.pop(message_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def settle(self, update_id: int) -> None:
        await self.handled.setdefault(update_id, self.loop.create_future())
        del self.handled[update_id]
        for message_id in self.queued.pop(update_id, []):
            if message_id not in self.done:
                if message_id not in self.waiting:
                    self.waiting[message_id] = self.loop.create_future()
                await self.waiting[message_id]


async def _our_bot(engine: Engine, fake: FakeTelegram, limiter: FloodLimiter, *, pause: float,
                   alone: bool) -> _Phases:
    clock = FixedClock(NOW)
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    sock = _free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/telegram/webhook"
    runtime = TelegramRuntime(TelegramSettings(fake.token, fake.base_url, url, SECRET),
                              Dispatcher(factory, clock, all_flows(), Router(["telegram"])), factory, limiter=limiter)
    app = make_app(runtime)
    arrived: list[tuple[float, web.Request]] = []
    app.middlewares.append(_stamp(arrived))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # starts the runtime: getMe, the command menus, setWebhook, the pump
    try:
        await web.SockSite(runner, sock).start()
        delivered = _Delivered(asyncio.get_running_loop())
        adapter, pump = runtime.adapter, runtime.pump
        handle, sent, failed = adapter.handle, pump._sent, pump._failed  # noqa: SLF001 - observation hooks

        async def handle_and_note(update: Update, *, answered: bool = False) -> Handled | None:
            handled = await handle(update, answered=answered)
            delivered.ran(update.update_id, [m.id for m in handled.messages if m.platform == "telegram"]
                          if handled is not None else [])
            return handled

        def sent_and_report(batch: list[tuple[int, str | None]]) -> None:
            sent(batch)
            for message_id, _ in batch:
                delivered.report(message_id)

        def failed_and_say(message: OutboxMessage, error: Exception, held_back: list[int]) -> None:
            failed(message, error, held_back)
            log.warning("outbox row %s to chat %s failed: %r", message.id, message.chat_id, error)

        # the bench watches the live adapter and pump (method-assign: instrumentation, on purpose)
        adapter.handle = handle_and_note  # type: ignore[method-assign]
        pump._sent = sent_and_report  # type: ignore[method-assign]  # noqa: SLF001
        pump._failed = failed_and_say  # type: ignore[method-assign]  # noqa: SLF001
        phases = await _drive(fake, url, delivered.settle, _button, FOUNDER_IDS, pause=pause, alone=alone)
        phases.crowd.booked = sum(_booked(fake, FOUNDER_IDS + n) for n in range(USERS))
        return await _stamped(phases, arrived)
    finally:
        await runner.cleanup()  # stops the runtime too


def _booked(fake: FakeTelegram, chat_id: int) -> bool:
    with fake._lock:  # noqa: SLF001 - read-only
        return any("Request sent" in (m.text or "") for m in fake._messages.get(chat_id, {}).values())  # noqa: SLF001


# ------------------------------------------------------------------------------------------ echo

def _echo_application(fake: FakeTelegram, limiter: FloodLimiter | None) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = (Application.builder().token(fake.token).base_url(f"{fake.base_url}/bot")
               .base_file_url(f"{fake.base_url}/file/bot").updater(None).concurrent_updates(256))
    app: Application[Any, Any, Any, Any, Any, Any] = (
        builder.rate_limiter(limiter).build() if limiter is not None else builder.build())
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text, reply_markup=keyboard)

    async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"pressed {query.id}", reply_markup=keyboard)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    return app


async def _echo_bot(fake: FakeTelegram, limiter: FloodLimiter | None, *, pause: float, alone: bool) -> _Phases:
    app = _echo_application(fake, limiter)
    await app.initialize()

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        await app.process_update(Update.de_json(await request.json(), app.bot))
        return web.Response()

    server = web.Application()
    server.router.add_post("/telegram/webhook", webhook)
    arrived: list[tuple[float, web.Request]] = []
    server.middlewares.append(_stamp(arrived))
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    sock = _free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/telegram/webhook"

    async def answered(_update_id: int) -> None:
        """The echo's handlers have run by the time the webhook answers."""

    try:
        await web.SockSite(runner, sock).start()
        phases = await _drive(fake, url, answered, _echo_button, ECHO_IDS, pause=pause, alone=alone)
        return await _stamped(phases, arrived)
    finally:
        await runner.cleanup()
        await app.shutdown()


# ------------------------------------------------------------------------------------------ configurations

@dataclass(frozen=True)
class _Config:
    name: str
    fake: Callable[[], FakeTelegram]
    limiter: Callable[[], FloodLimiter]
    echo_limiter: Callable[[], FloodLimiter | None]
    pause: float
    alone: bool  # also measure one person at a time


CAPACITY = _Config(
    "capacity",
    lambda: FakeTelegram(overall_limit=None, private_limit=None, group_limit=None),
    lambda: FloodLimiter(overall=(10**6, 1.0), private_chat=(10**6, 1.0), group=(10**6, 1.0)),
    lambda: None,
    0.0,
    True,
)
FLOOD = _Config("with flood limits", FakeTelegram, FloodLimiter, FloodLimiter, PAUSE, False)


@dataclass(frozen=True)
class _Measured:
    crowd: Result
    alone: Result | None


def _measured(fake: FakeTelegram, phases: _Phases, throttled_before: int) -> _Measured:
    alone = _measure(fake, phases.alone, throttled_before) if phases.alone is not None else None
    return _Measured(_measure(fake, phases.crowd, throttled_before), alone)


def _pair(config: _Config, database: Callable[[], AbstractContextManager[Engine]], *,
          echo: bool = True) -> tuple[_Measured, _Measured | None]:
    """Our bot, then (optionally) the echo bot, against one fake."""
    with config.fake() as fake, database() as engine:
        _world(engine, fake)
        throttled = len(fake.throttled)
        phases = asyncio.run(_our_bot(engine, fake, config.limiter(), pause=config.pause, alone=config.alone))
        ours = _measured(fake, phases, throttled)
        if not echo:
            return ours, None
        time.sleep(1.5 if config.pause else 0.0)  # the fake's overall window (1 s) empties between the bots
        throttled = len(fake.throttled)
        phases = asyncio.run(_echo_bot(fake, config.echo_limiter(), pause=config.pause, alone=config.alone))
        return ours, _measured(fake, phases, throttled)


def _latency(a: float, b: float) -> str:
    return f"p50 {a:.1f} ms, p99 {b:.1f} ms"


def _rows(label: str, ours: _Measured, echo: _Measured | None, *, targets: bool,
          echo_note: str = "echo baseline") -> list[tuple[str, str]]:
    o, e = ours.crowd, echo.crowd if echo else None
    rows = [
        (f"telegram {label}: arrival→first API call", _latency(o.first50, o.first99)
         + (f" ({echo_note} {_latency(e.first50, e.first99)})" if e else "")),
        (f"telegram {label}: arrival→last reply (what the person sees)", _latency(o.last50, o.last99)
         + (f" ({echo_note} {_latency(e.last50, e.last99)})" if e else "")),
    ]
    if ours.alone is not None:
        a, ea = ours.alone, echo.alone if echo else None
        rows.append((f"telegram {label}: {SOLO} people one at a time, arrival→first API call / →last reply",
                     f"{_latency(a.first50, a.first99)} / {_latency(a.last50, a.last99)}"
                     + (f" ({echo_note} {_latency(ea.first50, ea.first99)} / {_latency(ea.last50, ea.last99)})"
                        if ea else "")))
    share = o.throughput / e.throughput if e and e.throughput else None
    rows.append((f"telegram {label}: throughput",
                 f"{o.throughput:.0f} updates/s"
                 + (f" ({echo_note} {e.throughput:.0f}/s, {share:.0%})" if e and share is not None else "")
                 + f"; {o.steps}/{USERS * STEPS} steps by {USERS} people at once, {o.booked} bookings, {o.errors} errors"))
    for who, r in (("ours", o), ("echo", e)):
        if r is not None and r.errors:
            rows.append((f"telegram {label}: first error ({who})", r.first_error))
    rows.append((f"telegram {label}: 429 answers from the fake",
                 f"{o.throttled}" + (f" ({echo_note} {e.throttled})" if e and echo_note == "echo baseline" else "")))
    if targets:
        p99_ok = o.first99 <= 50
        share_text = "n/a" if share is None else ("✔" if share >= SHARE_TARGET else "✘")
        rows.append((f"telegram {label}: target",
                     f"p99 ≤ 50 ms {'✔' if p99_ok else '✘'} / throughput ≥ {SHARE_TARGET:.0%} of echo {share_text}"))
    return rows


def _quiet() -> None:
    for name in ("httpx", "httpcore", "telegram", "aiohttp.access", "aiohttp.server"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run() -> list[tuple[str, str]]:
    _quiet()
    results: list[tuple[str, str]] = []
    ours, echo = _pair(CAPACITY, sqlite_db)
    results += _rows("capacity, sqlite", ours, echo, targets=True)
    if postgres_available():
        pg, _ = _pair(CAPACITY, postgres_db, echo=False)
        results += _rows("capacity, postgresql", pg, echo, targets=True,
                         echo_note="echo baseline, SQLite pass")
    else:
        results.append(("telegram capacity, postgresql", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
    ours, echo = _pair(FLOOD, sqlite_db)
    results += _rows(f"with flood limits, sqlite, ~{PAUSE:g} s between steps", ours, echo, targets=False)
    return results


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
