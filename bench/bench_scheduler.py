"""The scheduler under load (issue 6): a burst of reminders through the Telegram flood limits, and
start-up with a large backlog of future meetings.

Delivery (SQLite): CHATS accepted one-meeting bookings, every meeting starting at the same minute. An
expert has one meeting at a time (the overlap guard), so each booking has its own expert and its own
client. Clients are on Telegram (distinct user ids), experts on Slack only, so the client's reminder goes
to a Telegram chat and the expert's to the Slack outbox (queued, never sent here: no Slack pump runs).
The clock is set to one hour before the start and Jobs.tick() queues the "in 1 hour" reminders (timed;
ticked again until a tick queues nothing, as the scheduler would every 30 s, each of those timed too). If
due reminders are still unqueued then (a tick pages through every due meeting), a PROBLEM row says so.
Then a real TelegramRuntime
(PTB, our FloodLimiter with its defaults, the outbox pump polling every 0.5 s, the system clock) is
started against the strict fake Bot API (tests.fakes.telegram_server.FakeTelegram: Telegram's flood
limits, 429 above 30 messages a second overall or 3 in 3 s per chat; no /start needed) and runs until no
Telegram row is left unsent. Measured from runtime start to the fake's receipt of the last message:
total time and messages/s against the ~333 s the overall limit allows (target: within 10%), 429 answers
(target 0), chats that got a reminder more than once (target 0), chats missed and rows given up.

Start-up (SQLite, and PostgreSQL when one is reachable): STARTUP_PAIRS clients each with their own expert,
STARTUP_MEETINGS future confirmed meetings in all (one a day per pair, both sides on Telegram). A fresh
Python process (so imports and memory are its own) runs bot.scheduler.run(), the production entry point:
Leadership.try_acquire, APScheduler with its SQLAlchemyJobStore in the same database, and the first tick
two days before the earliest meeting (nothing due: the expiry, completion and reminder queries over the
whole backlog). Measured: process start -> first tick done (with its parts: imports, run() -> first tick
begins, the tick itself), the tracemalloc peak of a nothing-due tick, one tick when STARTUP_DUE meetings
are due (their "in 24 hours" reminders, client and expert: twice as many rows) and the next tick at the
same minute (nothing new), the tracemalloc peak of another such tick (their "in 1 hour" reminders), and
the process's peak RSS (VmHWM: its own, whatever the parent used).

"Pending jobs" are future meetings: the scheduler keeps a single interval job in APScheduler and asks
the database at every tick, so the job store never holds one job per reminder.

Setup uses SQLAlchemy core inserts (a few big transactions) instead of the booking service: the rows are
what request + accept leave (an accepted booking, a confirmed meeting, an expert with weekly hours), minus
the credit ledger, which reminders never read.

Run: python -m bench scheduler (not in the default run: ~7 minutes), or python -m bench.bench_scheduler.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from bench.harness import postgres_available, postgres_db, sqlite_db
from bot.adapters.telegram.runtime import TelegramRuntime, TelegramSettings
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from bot.scheduler import Jobs, SchedulerSettings
from core.clock import FixedClock, SystemClock
from core.lifecycle import BookingStatus, MeetingStatus
from core.reminders import parse_offsets
from storage.models import BookingRow, ExpertRow, MeetingRow, OutboxRow, PersonRow, WeeklyWindowRow
from storage.uow import SqlUnitOfWork
from tests.fakes.telegram_server import FakeTelegram

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

CHATS = 10_000  # reminders due at the same minute, one per Telegram chat
START = datetime(2030, 3, 5, 9, 0, tzinfo=UTC)  # a Tuesday, 09:00 in London: every meeting of the burst
OVERALL = (30, 1.0)  # the fake's overall flood limit (Telegram's): messages per seconds
IDEAL = CHATS * OVERALL[1] / OVERALL[0]  # the fastest the limit allows: ~333 s
TARGET = IDEAL * 1.10  # the issue: within 10% of it
DEADLINE = IDEAL * 2.5  # give up waiting (and report what is left) after this long

STARTUP_PAIRS = 1_000  # clients, each with their own expert
STARTUP_MEETINGS = 100_000  # future meetings: STARTUP_MEETINGS / STARTUP_PAIRS days, one a day per pair
STARTUP_DUE = STARTUP_PAIRS  # meetings due in the measured tick: one day's worth
BASE = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)  # the earliest meeting of the backlog
CHILD_TIMEOUT = 600.0

CLIENT_IDS = 740_000_000  # Telegram ids: client n is CLIENT_IDS + n, their expert EXPERT_IDS + n
EXPERT_IDS = 750_000_000
OFFSETS = "24h,1h"
MIB = 1024 * 1024


# ------------------------------------------------------------------------------------------ the world

def _ids(conn: Any, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows at once; their new ids, in the order given."""
    table = model.__table__
    return list(conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _seed(engine: Engine, pairs: int, starts: list[datetime], *, experts_on: str) -> None:
    """`pairs` clients on Telegram, each with their own expert (on `experts_on`: "telegram" or "slack";
    open every day 09-17 London), and for every pair one accepted booking per start, each with one confirmed
    30-minute meeting. Core inserts, one transaction per table."""
    created = min(starts) - timedelta(days=7)
    with engine.begin() as conn:
        expert_people = _ids(conn, PersonRow, [
            dict(handle=f"x{n}", name=f"Expert {n}", timezone="Europe/London", locale="en",
                 telegram_user_id=EXPERT_IDS + n if experts_on == "telegram" else None,
                 slack_user_id=f"UX{n:08d}" if experts_on == "slack" else None)
            for n in range(pairs)
        ])
        clients = _ids(conn, PersonRow, [
            dict(handle=f"c{n}", name=f"Client {n}", timezone="Asia/Kolkata", locale="en",
                 telegram_user_id=CLIENT_IDS + n, slack_user_id=None)
            for n in range(pairs)
        ])
    with engine.begin() as conn:
        experts = _ids(conn, ExpertRow, [
            dict(person_id=p, kind="compensated", headline="Operator and advisor", bio="", topics="Fundraising",
                 languages="en", rate_multiplier=Decimal(1), meeting_provider="built_in", rating_sum=0,
                 rating_count=0, session_count=0, min_notice_minutes=12 * 60, horizon_days=180,
                 buffer_minutes=0, active=True)
            for p in expert_people
        ])
        conn.execute(insert(WeeklyWindowRow.__table__), [
            dict(expert_id=e, weekday=d, start_minute=9 * 60, end_minute=17 * 60) for e in experts for d in range(7)
        ])
    for start in starts:
        with engine.begin() as conn:
            bookings = _ids(conn, BookingRow, [
                dict(client_id=c, expert_id=e, status=BookingStatus.ACCEPTED.value, title="Seed plan",
                     outcome="A plan", context="", intro_note="", attachments="", price_milli=500,
                     created_at=created, expires_at=created + timedelta(hours=48),
                     decided_at=created + timedelta(hours=1), decline_reason="", proposed_by_expert=False,
                     version=2)
                for c, e in zip(clients, experts, strict=True)
            ])
            conn.execute(insert(MeetingRow.__table__), [
                dict(booking_id=b, expert_id=e, starts_at=start, ends_at=start + timedelta(minutes=30),
                     status=MeetingStatus.CONFIRMED.value, price_milli=500, reschedule_count=0, ics_sequence=0)
                for b, e in zip(bookings, experts, strict=True)
            ])


def _jobs(engine: Engine, clock: FixedClock, platforms: list[str]) -> Jobs:
    """The scheduler process's Jobs: its own dispatcher, with no sender of its own (it only queues)."""
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    return Jobs(Dispatcher(factory, clock, all_flows(), Router(platforms)), SchedulerSettings(parse_offsets(OFFSETS)))


# ------------------------------------------------------------------------------------------ delivery

def _unsent(engine: Engine) -> tuple[int, int]:
    """Telegram rows (not yet sent, given up)."""
    with engine.connect() as conn:
        pending = conn.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.platform == "telegram", OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None)))
        gave_up = conn.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.platform == "telegram", OutboxRow.gave_up_at.is_not(None)))
    return int(pending or 0), int(gave_up or 0)


def _queued(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {p: n for p, n in conn.execute(select(OutboxRow.platform, func.count()).group_by(OutboxRow.platform))}


async def _pump_until_sent(engine: Engine, fake: FakeTelegram) -> dict[str, Any]:
    clock = SystemClock()  # the pump's leases and retries run on real time, as in production
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    runtime = TelegramRuntime(TelegramSettings(fake.token, fake.base_url),
                              Dispatcher(factory, clock, all_flows(), Router(["telegram"])), factory,
                              poll_seconds=0.5)
    t0 = time.monotonic()
    await runtime.start(polling=False)  # getMe, the command menus, the pump
    pending = gave_up = -1
    try:
        while time.monotonic() - t0 < DEADLINE:
            await asyncio.sleep(1.0)
            pending, gave_up = await asyncio.to_thread(_unsent, engine)
            if pending == 0:
                break
    finally:
        await runtime.stop()
    return {"t0": t0, "pending": pending, "gave_up": gave_up, "stats": runtime.pump.stats,
            "limiter": runtime.limiter.stats}


def delivery() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with FakeTelegram(require_start=False, overall_limit=OVERALL) as fake, sqlite_db() as engine:
        t = time.perf_counter()
        _seed(engine, CHATS, [START], experts_on="slack")
        for n in range(CHATS):
            fake.user(CLIENT_IDS + n, first_name=f"Client{n}")
        rows.append((f"delivery: setup, {CHATS:,} accepted bookings at one minute (SQLite)",
                     f"{time.perf_counter() - t:.1f} s"))

        clock = FixedClock(START - timedelta(hours=1))  # the "in 1 hour" reminders are due for every meeting
        jobs = _jobs(engine, clock, ["telegram", "slack"])
        t = time.perf_counter()
        first = jobs.tick().reminded
        took = time.perf_counter() - t
        rows.append((f"delivery: first tick, {CHATS:,} meetings due at once",
                     f"{first:,} reminders queued in {took:.1f} s ({first / took if took else 0:,.0f}/s; "
                     f"wanted {2 * CHATS:,}: client and expert)"))
        later: list[tuple[int, float]] = []  # the next ticks, at the same minute, until one queues nothing
        while len(later) < 5 and (not later or later[-1][0]):
            t = time.perf_counter()
            later.append((jobs.tick().reminded, time.perf_counter() - t))
        queued = _queued(engine)
        rows.append(("delivery: the next ticks, same minute",
                     "; ".join(f"{n:,} queued in {s:.1f} s" for n, s in later)
                     + f" (reminders already queued are skipped by their done marks, one query per page); "
                     f"Telegram rows queued: {queued.get('telegram', 0):,} of {CHATS:,}"))
        if queued.get("telegram", 0) < CHATS:
            rows.append(("delivery: PROBLEM", f"due reminders never queued: {CHATS - queued.get('telegram', 0):,} "
                         "Telegram chats (Jobs.remind pages through every due meeting: a regression)"))
        to_send = queued.get("telegram", 0)

        throttled_before, calls_before = len(fake.throttled), len(fake.calls)
        result = asyncio.run(_pump_until_sent(engine, fake))
        with fake._lock:  # noqa: SLF001 - a consistent snapshot
            calls = fake.calls[calls_before:]
            throttled = len(fake.throttled) - throttled_before
        ok = [c for c in calls if c.method == "sendMessage" and c.status == 200]
        per_chat = Counter(c.params.get("chat_id") for c in ok)
        duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
        missed = sum(1 for n in range(CHATS) if CLIENT_IDS + n not in per_chat)
        if ok:
            first_at, last_at = min(c.at for c in ok), max(c.at for c in ok)
            total = last_at - result["t0"]
            span = last_at - first_at
            rate = len(ok) / total if total else 0.0
        else:
            total = span = rate = float("nan")
        rows.append((f"delivery: {to_send:,} Telegram reminders through the flood limits (30/s)",
                     f"{total:.1f} s from runtime start to the last message ({span:.1f} s first→last), "
                     f"{rate:.1f} messages/s; {len(ok):,} delivered"
                     + (f", {result['pending']:,} still unsent after {DEADLINE:.0f} s" if result["pending"] else "")))
        ideal = to_send * OVERALL[1] / OVERALL[0]
        rows.append(("delivery: time vs the limit",
                     f"{total / ideal:.3f} × the {ideal:.0f} s the limit allows; target ≤ {ideal * 1.1:.1f} s "
                     f"{'✔' if total <= ideal * 1.1 and not result['pending'] else '✘'}"))
        rows.append(("delivery: 429 answers from the fake",
                     f"{throttled} {'✔' if throttled == 0 else '✘'}"))
        rows.append(("delivery: duplicates (a chat sent the reminder more than once)",
                     f"{duplicates} {'✔' if duplicates == 0 else '✘'}; chats with no reminder: {missed:,}"))
        stats, limiter = result["stats"], result["limiter"]
        rows.append(("delivery: rows given up / retried", f"{result['gave_up']} / {stats.retried}"))
        rows.append(("delivery: FloodLimiter", f"{limiter.counted:,} calls counted, {limiter.delayed:,} delayed, "
                     f"longest wait {limiter.max_wait:.1f} s, {limiter.retried} RetryAfter retries"))
    return rows


# ------------------------------------------------------------------------------------------ start-up

def _backlog_starts() -> list[datetime]:
    return [BASE + timedelta(days=k) for k in range(STARTUP_MEETINGS // STARTUP_PAIRS)]


def _child_target(engine: Engine) -> tuple[str, str]:
    """How a fresh process reaches the same database: its URL and (PostgreSQL) the bench schema."""
    url = engine.url.render_as_string(hide_password=False)
    search_path = ""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            search_path = str(conn.exec_driver_sql("SHOW search_path").scalar()).replace(" ", "")
    return url, search_path


def _startup(database: Callable[[], AbstractContextManager[Engine]], label: str) -> list[tuple[str, str]]:
    with database() as engine:
        t = time.perf_counter()
        _seed(engine, STARTUP_PAIRS, _backlog_starts(), experts_on="telegram")
        seeded = time.perf_counter() - t
        url, search_path = _child_target(engine)
        spawned = time.time()
        done = _spawn_scheduler(url, search_path)
    if done.returncode != 0 or not done.stdout.strip():
        return [(f"start-up, {label}", f"the scheduler process failed ({done.returncode}): "
                 f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    name = f"start-up, {label}, {STARTUP_MEETINGS:,} pending meetings"
    return [
        (f"{name}: setup", f"{seeded:.1f} s"),
        (f"{name}: process start → first tick done",
         f"{r['first_tick_done_at'] - spawned:.2f} s (imports {r['imports']:.2f} s; run() → first tick begins "
         f"{r['lead_and_start'] * 1000:.0f} ms; the tick, nothing due, {r['first_tick'] * 1000:.0f} ms)"),
        (f"{name}: memory",
         f"tick with nothing due: tracemalloc peak {r['idle_peak'] / MIB:.2f} MiB; with {STARTUP_DUE:,} due: "
         f"{r['due_peak'] / MIB:.2f} MiB; process peak RSS {r['rss_after_first_tick'] / 1024:.0f} MiB after the "
         f"first tick, {r['rss_end'] / 1024:.0f} MiB at the end"),
        (f"{name}: one tick with {STARTUP_DUE:,} meetings due",
         f"{r['due_tick'] * 1000:.0f} ms, {r['due_reminded']:,} reminders queued (client and expert); the next "
         f"tick at the same minute {r['due_again'] * 1000:.0f} ms, {r['repeated']:,} queued"),
    ]


def startup() -> list[tuple[str, str]]:
    rows = _startup(sqlite_db, "sqlite")
    if postgres_available():
        rows += _startup(postgres_db, "postgresql")
    else:
        rows.append(("start-up, postgresql", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
    return rows


def _startup_child(url: str, search_path: str, base: str, offsets: str, timeout: float) -> dict[str, float]:
    """The scheduler process, run in a fresh interpreter from this function's source alone (see
    _spawn_scheduler), so its imports and memory are what `headstrt scheduler` has: bot.scheduler.run()
    until its first tick is done, then the extra ticks. Self-contained: it imports everything it uses."""
    import time

    began = time.perf_counter()
    import asyncio
    import resource
    import threading
    import tracemalloc
    from collections.abc import Callable
    from datetime import datetime, timedelta

    import bot.cli  # noqa: F401 - what `headstrt scheduler` loads
    import bot.email  # noqa: F401
    from bot.dispatcher import Dispatcher
    from bot.flows import all_flows
    from bot.router import Router
    from bot.scheduler import Jobs, SchedulerSettings, TickReport, run
    from core.clock import FixedClock
    from core.reminders import parse_offsets
    from storage.db import make_engine
    from storage.uow import SqlUnitOfWork

    imports = time.perf_counter() - began
    first = datetime.fromisoformat(base)
    options = {"connect_args": {"options": f"-c search_path={search_path}"}} if search_path else {}
    engine = make_engine(url, **options)
    clock = FixedClock(first - timedelta(hours=48))  # nothing is due for a day yet
    ticked = threading.Event()
    timings: dict[str, float] = {}

    class FirstTick(Jobs):
        def tick(self) -> TickReport:
            if ticked.is_set():
                return TickReport()  # APScheduler's later runs, if any: the measurements below tick by hand
            timings["tick_began"] = time.perf_counter()
            report = super().tick()
            timings["tick_done"] = time.perf_counter()
            timings["first_tick_done_at"] = time.time()
            ticked.set()
            return report

    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    jobs = FirstTick(Dispatcher(factory, clock, all_flows(), Router(["telegram"])),
                     SchedulerSettings(parse_offsets(offsets)))

    async def lead_and_tick() -> float:
        stop = asyncio.Event()
        t0 = time.perf_counter()
        task = asyncio.create_task(run(engine, jobs, stop, standby_seconds=1.0))
        if not await asyncio.to_thread(ticked.wait, timeout):
            raise RuntimeError("the scheduler never ticked")
        stop.set()
        await task
        return t0

    def peak_rss_kib() -> int:
        """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries the parent's peak over
        into a child started with vfork + exec, as subprocess does."""
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    t0 = asyncio.run(lead_and_tick())
    rss_after_first_tick = peak_rss_kib()

    def peak(fn: Callable[[], object]) -> int:
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    idle_peak = peak(lambda: Jobs.tick(jobs))
    clock.set(first - timedelta(hours=23))  # the first day's meetings: their "in 24 hours" reminders
    t = time.perf_counter()
    due_reminded = Jobs.tick(jobs).reminded
    due_tick = time.perf_counter() - t
    t = time.perf_counter()
    repeated = Jobs.tick(jobs).reminded  # the next tick at the same minute: nothing new to queue
    due_again = time.perf_counter() - t
    clock.set(first - timedelta(minutes=30))  # the same meetings' "in 1 hour" reminders, traced
    due_peak = peak(lambda: Jobs.tick(jobs))
    engine.dispose()
    return {
        "imports": imports, "lead_and_start": timings["tick_began"] - t0,
        "first_tick": timings["tick_done"] - timings["tick_began"],
        "first_tick_done_at": timings["first_tick_done_at"], "idle_peak": idle_peak, "due_peak": due_peak,
        "due_tick": due_tick, "due_reminded": due_reminded, "due_again": due_again, "repeated": repeated,
        "rss_after_first_tick": rss_after_first_tick, "rss_end": peak_rss_kib(),
    }


def _spawn_scheduler(url: str, search_path: str) -> subprocess.CompletedProcess[str]:
    """python -c with _startup_child's source: nothing of this module (PTB, the fakes) is loaded there."""
    source = inspect.getsource(_startup_child) + (
        "\nimport json, sys\nprint(json.dumps(_startup_child(*json.loads(sys.argv[1]))))\n"
    )
    args = [url, search_path, BASE.isoformat(), OFFSETS, CHILD_TIMEOUT - 60]
    return subprocess.run([sys.executable, "-c", source, json.dumps(args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT, check=False)


# ------------------------------------------------------------------------------------------ running

def _quiet() -> None:
    for name in ("httpx", "httpcore", "telegram", "aiohttp.access", "aiohttp.server", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run() -> list[tuple[str, str]]:
    _quiet()
    return delivery() + startup()


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
