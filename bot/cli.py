"""The `headstrt` command: database, import, credits, demo data and a look at the engine."""

from __future__ import annotations

import argparse
import logging
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import InterfaceError, OperationalError

from core.amounts import credits_to_milli, format_credits
from core.availability import free_slots
from core.clock import SystemClock
from core.credit_service import balance, grant
from core.credits import MAX_GRANT_MILLI, Source
from core.discovery import SearchFilters, SearchQuery
from core.discovery_service import search_experts
from core.errors import DomainError
from core.expert_import import MAX_RATE_MULTIPLIER, parse_experts_csv
from core.import_service import import_experts
from core.text import clean_text
from bot.progress import progress_bar
from storage.db import DatabaseProblem, connection_problem, database_url, make_engine
from storage.migrate import current, known, upgrade
from storage.readiness import require, schema_problem
from storage.uow import SqlUnitOfWork

if TYPE_CHECKING:  # what the parts each command imports when it runs return
    from sqlalchemy import Engine

    from bot.adapters.slack.runtime import SlackSettings
    from bot.adapters.telegram.runtime import TelegramSettings
    from bot.bootstrap import Parts
    from bot.dispatcher import Dispatcher
    from bot.intake import Processing
    from bot.settings import CalendarSettings, WorkerSettings

log = logging.getLogger("headstrt")

SETUP_ERROR = 2  # the exit status of a command that could not start: a set-up problem, in one line
KEY_MAX = 190  # credits grant --key: the ledger's key column holds 200 with the "grant:" prefix
NOTE_MAX = 300  # credits grant --note: the ledger's note column


class SetupError(Exception):
    """Something the operator has to set up before this command can run; its text is the one line."""


def _uow() -> SqlUnitOfWork:
    return SqlUnitOfWork(make_engine(), SystemClock())


def _ready() -> None:
    """The database is reachable and its schema is the one this code needs (else DatabaseProblem)."""
    require(schema=True)


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise argparse.ArgumentTypeError(f"unknown timezone {text[:64]!r}: use an IANA name like Europe/London") from None
    return text


def when(at: datetime, tz: str) -> str:
    """A time in a person's zone, always with the zone's name."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a %d %b %Y %H:%M} {tz}"


# ---------------------------------------------------------------- db


def cmd_db(args: argparse.Namespace) -> int:
    """upgrade creates the database (a SQLite file) if need be; current reports, and exits 2 (with the
    one line saying what to run) unless the schema is the one this code needs."""
    if args.action == "upgrade":
        found = require(schema=False, create=True)
        if found.revision is not None and not known(found.revision):  # a newer version migrated it
            raise DatabaseProblem(schema_problem(found.revision, found.head, database_url()) or "")
        engine = make_engine()
        try:
            upgrade(engine)
            print(f"database at revision {current(engine)} ({_safe_url()})")
        finally:
            engine.dispose()
    else:
        found = require(schema=True)
        print(f"{found.revision} (head)")
    return 0


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url()).render_as_string(hide_password=True)


# ---------------------------------------------------------------- experts


def cmd_experts_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 1
    parsed = parse_experts_csv(text)
    errors = list(parsed.errors)
    if not errors:
        uow = _uow()
        with uow, progress_bar("importing", len(parsed.records)) as shown:
            outcome = import_experts(uow, parsed.records, link_existing=args.link_existing, progress=shown)
            errors = list(outcome.errors)
            if not errors and args.programme:  # on that programme's roster: its staff set rules and pause them
                programme = uow.programmes.by_name(args.programme)
                if programme is None:
                    print(f"no programme {args.programme!r}: nothing imported", file=sys.stderr)
                    return 1
                for record in parsed.records:
                    expert = uow.experts.by_handle(record.handle)
                    if expert is not None and expert.id is not None:
                        uow.programmes.add_to_roster(programme.id, expert.id)
            if not errors:
                uow.commit()
        if not errors:
            linked = f", {outcome.linked} existing people made experts" if outcome.linked else ""
            print(f"imported {len(parsed.records)} experts: {outcome.created} new, {outcome.updated} updated{linked}")
            return 0
    print(f"{path}: nothing imported, {len(errors)} problem(s):", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)
    return 1


def cmd_experts_search(args: argparse.Namespace) -> int:
    filters = SearchFilters(
        pro_bono=True if args.pro_bono else (False if args.paid else None),
        max_multiplier=args.max_multiplier,
        language=args.language,
        min_rating=args.min_rating,
        free_within_days=args.free_within,
    )
    uow = _uow()
    with uow:
        matches = search_experts(uow.experts, uow.clock, SearchQuery(" ".join(args.query), filters, args.limit))
        for match in matches:
            e = match.expert
            price = "pro-bono" if e.is_pro_bono else f"{e.rate_multiplier}x credits"
            nxt = when(match.hit.next_free, args.tz) if match.hit.next_free else "no free slot soon"
            rating = f"{e.rating.average}*" if e.rating.count else "new"
            print(f"@{e.handle:<12} {e.name:<22} {price:<14} {rating:<5} next: {nxt}")
            print(f"    {e.headline}  [{', '.join(e.topics)}]")
    if not matches:
        print("no experts match; try fewer words or filters")
    return 0


def cmd_experts_slots(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        expert = uow.experts.by_handle(args.handle)
        if expert is None or expert.id is None:
            print(f"no expert @{args.handle}", file=sys.stderr)
            return 1
        now = uow.clock.now()
        end = now + timedelta(days=args.days)
        schedule = uow.experts.schedule(expert.id)
        busy = uow.experts.busy(expert.id, now, end + timedelta(days=1))
        minutes = 15 if expert.is_pro_bono else args.minutes
        slots = free_slots(schedule, busy, timedelta(minutes=minutes), now, end=end)
        tz = args.tz or expert.timezone
        print(f"@{expert.handle}: {len(slots)} free {minutes}-minute slots in the next {args.days} days")
        for slot in slots[: args.limit]:
            print(f"  {when(slot, tz)}   (expert: {when(slot, expert.timezone)})")
    return 0


# ---------------------------------------------------------------- credits


def cmd_credits_grant(args: argparse.Namespace) -> int:
    try:
        amount = credits_to_milli(args.amount.strip())
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if amount <= 0:
        print("grant a positive amount", file=sys.stderr)
        return 1
    if amount > MAX_GRANT_MILLI:
        print(f"grant at most {format_credits(MAX_GRANT_MILLI)} credits at a time", file=sys.stderr)
        return 1
    uow = _uow()
    with uow:
        person_id = company_id = None
        if args.person:
            person = uow.people.by_handle(args.person)
            if person is None:
                print(f"no person @{args.person}", file=sys.stderr)
                return 1
            person_id = person.id
        else:
            company = uow.people.company_by_name(args.company)
            if company is None:
                print(f"no company {args.company!r}", file=sys.stderr)
                return 1
            company_id = company.id
        source = Source(args.source or (Source.INDIVIDUAL if args.person else Source.PROGRAMME))
        if source is Source.INDIVIDUAL and person_id is None:
            print("individual credits are granted to a person (--person)", file=sys.stderr)
            return 1
        key = args.key or uuid.uuid4().hex
        actor = None
        if args.as_handle:  # a staff member: only people and companies of their programmes
            staff = uow.people.by_handle(args.as_handle)
            if staff is None:
                print(f"no person @{args.as_handle}", file=sys.stderr)
                return 1
            actor = staff.id
        applied = grant(uow, key=key, amount_milli=amount, source=source, person_id=person_id,
                        company_id=company_id, actor_id=actor, note=args.note or "")
        uow.commit()
    target = f"@{args.person}" if args.person else args.company
    print(f"granted {format_credits(amount)} {source} credits to {target}" if applied
          else f"grant {key!r} was already applied: nothing changed")
    return 0


def cmd_credits_show(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        person = uow.people.by_handle(args.handle)
        if person is None or person.id is None:
            print(f"no person @{args.handle}", file=sys.stderr)
            return 1
        bal = balance(uow, person.id)
    print(f"@{person.handle}: {format_credits(bal.available)} credits available, {format_credits(bal.held)} held")
    for wallet in bal.wallets:
        print(f"  {wallet.label}: {format_credits(wallet.available)} available, {format_credits(wallet.held)} held")
    if bal.history:
        print("recent movements:")
        for at, kind, amount, label, note in bal.history:
            print(f"  {when(at, person.timezone)}  {kind:<8} {format_credits(amount):>6}  {label}  {note}")
    return 0


# ---------------------------------------------------------------- calendars


def _calendar_problem(exc: Exception) -> int:
    from bot.calendars.notices import problem_sentence
    from bot.i18n import Translator

    print(f"calendar: {problem_sentence(Translator(), getattr(exc, 'reason', ''))} ({exc})", file=sys.stderr)
    return 1


def _calendar_settings() -> CalendarSettings:
    from bot.settings import calendar_settings

    try:
        return calendar_settings()
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc


def cmd_calendar_connect(args: argparse.Namespace) -> int:
    """Try the calendar first (no database transaction open meanwhile), then store it."""
    from bot.calendars import service
    from core.calendar_service import CalendarProblem

    settings = _calendar_settings()
    password = None
    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"cannot read {args.password_file}: {exc}", file=sys.stderr)
            return 1
    if args.user and password is None:
        print("give the app password in a file: --password-file FILE (it is never taken on the command line)",
              file=sys.stderr)
        return 1
    caldav = bool(args.user) and not args.feed
    uow = _uow()
    with uow:
        person = uow.people.by_handle(args.handle)
    if person is None or person.id is None:
        print(f"no person @{args.handle}", file=sys.stderr)
        return 1
    try:
        probe = None
        if not args.no_check:
            probe = (service.check_caldav(args.url, args.user, password or "", settings=settings, zone=person.timezone)
                     if caldav else service.check_feed(args.url, settings=settings, zone=person.timezone))
        with uow:
            if caldav:
                st = service.connect_caldav(uow, uow.clock, person.id, args.url, args.user, password or "",
                                            probe=probe, settings=settings)
            else:
                st = service.connect_feed(uow, uow.clock, person.id, args.url, probe=probe, username=args.user,
                                          password=password, settings=settings)
            uow.commit()
    except CalendarProblem as exc:
        return _calendar_problem(exc)
    found = f", {probe.busy_count} busy times found" if probe is not None else ""
    print(f"@{person.handle}: {st.kind} calendar {st.address} connected (#{st.id}){found}; "
          f"the scheduler reads it every {int(settings.refresh.total_seconds() // 60)} minutes")
    return 0


def cmd_calendar_status(args: argparse.Namespace) -> int:
    from bot.calendars import service

    uow = _uow()
    with uow:
        if args.handle:
            person = uow.people.by_handle(args.handle)
            if person is None or person.id is None:
                print(f"no person @{args.handle}", file=sys.stderr)
                return 1
            people = {person.id: person.handle}
        else:
            connections = uow.calendars.all()
            people = uow.calendars.handles({c.person_id for c in connections})
        rows = [(handle, service.status(uow, uow.clock, pid)) for pid, handle in sorted(people.items(), key=lambda x: x[1])]
    shown = 0
    for handle, statuses in rows:
        for st in statuses:
            shown += 1
            last = when(st.last_success_at, "UTC") if st.last_success_at else "never"
            state = "ok" if st.ok else f"FAILING x{st.failures} since {when(st.failing_since, 'UTC')}: {st.problem}" \
                if st.failing_since else f"failing: {st.problem}"
            writes = f", {st.writes_failing} writes to retry" if st.writes_failing else ""
            print(f"@{handle} #{st.id} {st.kind:<6} {st.address:<40} {state}; last read {last}; "
                  f"{st.busy_count} busy times ahead{writes}")
    if not shown:
        print("no calendars connected")
    return 0


def cmd_calendar_refresh(args: argparse.Namespace) -> int:
    from bot.calendars.sync import CalendarSync

    dispatcher, factory = _chat_dispatcher()
    sync = CalendarSync(factory, dispatcher.clock, _calendar_settings(), queue_notice=dispatcher.queue_notice)
    person_ids = None
    if args.handle:
        with factory() as uow:
            person = uow.people.by_handle(args.handle)
        if person is None or person.id is None:
            print(f"no person @{args.handle}", file=sys.stderr)
            return 1
        person_ids = [person.id]
    try:
        report = sync.refresh(person_ids)
        writes = sync.write_pending()
    finally:
        sync.close()
    print(f"{report.read} read, {report.unchanged} unchanged, {report.failed} failing, {report.clashes} clashes told; "
          f"{writes.written} sessions written, {writes.deleted} removed, {writes.failed} writes to retry")
    for connection_id, reason in sorted(report.problems.items()):
        print(f"  #{connection_id}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_calendar_disconnect(args: argparse.Namespace) -> int:
    from bot.calendars import service

    uow = _uow()
    with uow:
        person = uow.people.by_handle(args.handle)
        if person is None or person.id is None:
            print(f"no person @{args.handle}", file=sys.stderr)
            return 1
        if not service.disconnect(uow, person.id, args.id):
            print(f"@{person.handle} has no calendar #{args.id}", file=sys.stderr)
            return 1
        uow.commit()
    print(f"calendar #{args.id} of @{person.handle} disconnected")
    return 0


def cmd_calendar_feed(args: argparse.Namespace) -> int:
    from bot.calendars import service
    from core.calendar_service import CalendarProblem

    uow = _uow()
    with uow:
        person = uow.people.by_handle(args.handle)
        if person is None or person.id is None:
            print(f"no person @{args.handle}", file=sys.stderr)
            return 1
        try:
            url = (service.rotate_subscription if args.rotate else service.subscription_url)(uow, uow.clock, person.id)
        except (CalendarProblem, ValueError) as exc:
            return _calendar_problem(exc)
        uow.commit()
    print(url)
    return 0


def cmd_calendar_rekey(args: argparse.Namespace) -> int:
    """Seal every stored secret again with the current HEADSTRT_SECRET (opened with it or a previous one)."""
    from bot.calendars.crypto import Sealer
    from core.calendar_service import CalendarProblem

    sealer = Sealer.from_env()
    uow = _uow()
    done = failed = 0
    with uow:
        for value in uow.calendars.sealed_values():
            try:
                uow.calendars.reseal(value, sealer.reseal(value.sealed))
                done += 1
            except CalendarProblem:
                failed += 1
        if failed:
            print(f"nothing changed: {failed} secret(s) open with neither HEADSTRT_SECRET nor HEADSTRT_SECRET_PREVIOUS",
                  file=sys.stderr)
            return 1
        uow.commit()
    print(f"{done} secret(s) sealed again with the current HEADSTRT_SECRET; HEADSTRT_SECRET_PREVIOUS can go")
    return 0


# ---------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import load_demo

    summary = load_demo(_uow())
    print(f"demo data ready: {summary.experts_created} experts added, {summary.experts_updated} refreshed, "
          f"{summary.people} people (founders @ana and @ben, individual @chen, staff @sam)")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from bot.adapters.console.chat import ConsoleChat, run, valid_handle

    handle = args.as_handle.lstrip("@").lower()
    if not valid_handle(handle):
        raise SetupError(f"--as {handle!r} is not a handle: up to 32 letters, digits, _ . or -")
    parts = _parts(console=True)
    dispatcher, factory = parts.dispatcher, parts.uow
    from bot.settings import file_settings

    files = file_settings().directory / "console"  # copies of what the person was sent, beside the stored files
    chat = ConsoleChat(dispatcher, factory, handle, files_dir=files)
    run(chat, sys.stdin, print, echo=not sys.stdin.isatty())
    return 0


def _parts(**kw: Any) -> Parts:
    """This process's engine, clock, policy and dispatcher (bot.bootstrap); a wrong setting is one line."""
    from bot.bootstrap import build

    try:
        return build(**kw)
    except ValueError as exc:
        raise SetupError(str(exc)) from exc


def _chat_dispatcher(engine: Engine | None = None) -> tuple[Dispatcher, Callable[[], SqlUnitOfWork]]:
    """The dispatcher of a chat process: notices go to every platform this deployment has a token for."""
    parts = _parts(engine=engine)
    return parts.dispatcher, parts.uow


def _worker_settings() -> WorkerSettings:
    from bot.settings import worker_settings

    try:
        return worker_settings()
    except ValueError as exc:
        raise SetupError(str(exc)) from exc


def _processing(factory: Callable[[], SqlUnitOfWork], kind: str, no_worker: bool = False, *,
                always: bool = False, engine: Engine | None = None) -> Processing:
    """This process's heartbeat and, unless it only receives, its intake worker (always: a worker's),
    woken on PostgreSQL by the events other processes store (engine given)."""
    from bot.intake import Processing
    from storage.intake_notify import IntakeListener

    settings = _worker_settings()
    return Processing(factory, kind=kind, embedded=always or (settings.embedded and not no_worker),
                      concurrency=settings.concurrency, poll_seconds=settings.poll_seconds,
                      heartbeat_seconds=settings.heartbeat_seconds,
                      listener=IntakeListener.for_engine(engine) if engine is not None else None)


@overload
def _telegram_settings(required: Literal[True]) -> TelegramSettings: ...
@overload
def _telegram_settings(required: bool) -> TelegramSettings | None: ...
def _telegram_settings(required: bool) -> TelegramSettings | None:
    from bot.adapters.telegram.runtime import TelegramSettings

    try:
        settings = TelegramSettings.from_env()
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    if settings is None and required:
        raise SetupError("TELEGRAM_BOT_TOKEN is not set: nothing to run")
    return settings


@overload
def _slack_settings(required: Literal[True], socket_mode: bool = False, for_worker: bool = False) -> SlackSettings: ...
@overload
def _slack_settings(required: bool, socket_mode: bool = False, for_worker: bool = False) -> SlackSettings | None: ...
def _slack_settings(required: bool, socket_mode: bool = False, for_worker: bool = False) -> SlackSettings | None:
    from bot.adapters.slack.runtime import SlackSettings

    settings = SlackSettings.from_env()
    if settings is None:
        if required:
            raise SetupError("SLACK_BOT_TOKEN is not set: nothing to run")
        return None
    if for_worker:  # a worker only calls the Web API: the bot token is all it needs
        return settings
    if socket_mode and not settings.app_token:
        raise SetupError("SLACK_APP_TOKEN (xapp-...) is required for Socket Mode")
    if not socket_mode and not settings.signing_secret:
        raise SetupError("SLACK_SIGNING_SECRET must be set for the web process to accept Slack's requests")
    return settings


def cmd_slack(args: argparse.Namespace) -> int:
    """Socket Mode: Slack over a websocket the app opens, for hosts Slack cannot reach."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.adapters.slack.runtime import SlackRuntime
    from bot.process import quick_thread_switches, run_until_signalled
    from bot.settings import configure_logging

    if not args.socket:
        raise SetupError("use `headstrt web` for Slack over HTTP, or `headstrt slack --socket` for Socket Mode")
    settings = _slack_settings(required=True, socket_mode=True)
    _ready()
    configure_logging()
    quick_thread_switches()  # its acks and its database threads share the interpreter
    parts = _parts()
    dispatcher, factory = parts.dispatcher, parts.uow
    runtime = SlackRuntime(settings, dispatcher, factory, socket_mode=True,
                           processing=_processing(factory, "slack", args.no_worker, engine=parts.engine))
    handlers: list[AsyncSocketModeHandler] = []

    async def start() -> None:
        handlers.append(AsyncSocketModeHandler(runtime.app, runtime.settings.app_token))
        await runtime.start()
        await handlers[0].connect_async()

    async def stop() -> None:
        if handlers:
            await handlers[0].close_async()
        await runtime.stop()

    return run_until_signalled(start, stop)


def cmd_telegram(args: argparse.Namespace) -> int:
    """Long polling: for a machine that Telegram cannot reach (no public URL), or development."""
    from bot.adapters.telegram.runtime import TelegramRuntime
    from bot.process import quick_thread_switches, run_until_signalled
    from bot.settings import configure_logging

    settings = _telegram_settings(required=True)
    _ready()
    configure_logging()
    quick_thread_switches()  # its acks and its database threads share the interpreter
    parts = _parts()
    dispatcher, factory = parts.dispatcher, parts.uow
    runtime = TelegramRuntime(settings, dispatcher, factory,
                              processing=_processing(factory, "telegram", args.no_worker, engine=parts.engine))
    return run_until_signalled(lambda: runtime.start(polling=True), runtime.stop)


def cmd_worker(args: argparse.Namespace) -> int:
    """Runs stored events (from `headstrt web`, `telegram`, `slack --socket`) and sends what they queue;
    as many as needed, on any machines sharing the database."""
    from bot.adapters.slack.runtime import SlackRuntime
    from bot.adapters.telegram.runtime import TelegramRuntime
    from bot.process import lower_priority, run_until_signalled
    from bot.settings import configure_logging

    telegram_settings = _telegram_settings(required=False)
    slack_settings = _slack_settings(required=False, for_worker=True)
    if telegram_settings is None and slack_settings is None:
        raise SetupError("neither TELEGRAM_BOT_TOKEN nor SLACK_BOT_TOKEN is set: a worker has nothing to run")
    _ready()
    configure_logging()
    lower_priority(_worker_settings().nice)
    parts = _parts()
    dispatcher, factory = parts.dispatcher, parts.uow
    processing = _processing(factory, "worker", always=True,  # HEADSTRT_EMBEDDED_WORKER is for the others
                             engine=parts.engine)
    runtimes: list[TelegramRuntime | SlackRuntime] = []
    if telegram_settings is not None:
        runtimes.append(TelegramRuntime(telegram_settings, dispatcher, factory, processing=processing))
    if slack_settings is not None:
        runtimes.append(SlackRuntime(slack_settings, dispatcher, factory, processing=processing, socket_mode=True))

    async def start() -> None:
        for runtime in runtimes:
            if isinstance(runtime, TelegramRuntime):
                await runtime.start(polling=False, receive=False)
            else:
                await runtime.start(receive=False)
        log.info("worker running (%s)", ", ".join(r.platform for r in runtimes))

    async def stop() -> None:
        for runtime in runtimes:
            await runtime.stop()

    return run_until_signalled(start, stop)


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Reminders, expiries and follow-ups; one acts at a time, others stand by."""
    import asyncio

    from bot.email import email_pump
    from bot.process import run_until_signalled
    from bot.scheduler import Jobs, SchedulerSettings, run
    from bot.settings import configure_logging

    try:
        settings = SchedulerSettings.from_env()
    except ValueError as exc:
        raise SetupError(str(exc)) from exc
    _ready()
    configure_logging()
    from bot.settings import enabled_platforms

    if not enabled_platforms():
        logging.getLogger("headstrt.scheduler").warning(
            "no chat platform configured here (TELEGRAM_BOT_TOKEN, SLACK_BOT_TOKEN): reminders and notices are "
            "queued for the telegram and slack processes to send; `headstrt outbox status` shows what waits")
    parts = _parts()
    engine, dispatcher = parts.engine, parts.dispatcher
    try:
        mail = email_pump(dispatcher.uow_factory)  # email leaves from here: one process, always running
    except ValueError as exc:
        raise SetupError(f"SMTP_URL: {exc}") from exc
    from bot.calendars.sync import CalendarSync

    calendars = CalendarSync(dispatcher.uow_factory, dispatcher.clock, _calendar_settings(),
                             queue_notice=dispatcher.queue_notice)
    sending: list[asyncio.Task[None]] = []

    async def start() -> None:
        if mail is not None:
            sending.append(asyncio.get_running_loop().create_task(mail.run()))

    async def serve(stopping: asyncio.Event) -> None:
        await run(engine, Jobs(dispatcher, settings), stopping, calendars=calendars)

    async def stop() -> None:
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)

    return run_until_signalled(start, stop, serve=serve)


def cmd_web(args: argparse.Namespace) -> int:
    """The web process: Telegram's webhook, Slack's /slack/events (each when configured) and /health, on $PORT.
    It refuses to start on a database that is not ready; /health says so if that changes while it runs."""
    from aiohttp import web

    from bot.adapters.slack.runtime import SlackRuntime
    from bot.adapters.telegram.runtime import TelegramRuntime
    from bot.process import run_until_signalled
    from bot.settings import configure_logging, port
    from bot.web import make_app

    telegram_settings = _telegram_settings(required=False)
    if telegram_settings is not None and not telegram_settings.webhook_secret:
        raise SetupError("TELEGRAM_WEBHOOK_SECRET must be set for the web process to accept Telegram's webhook")
    slack_settings = _slack_settings(required=False)
    _ready()
    configure_logging()
    parts = _parts()  # one engine, clock, policy and dispatcher for Telegram, Slack, the dashboard and feeds
    telegram = slack = None
    processing = _processing(parts.uow, "web", args.no_worker, engine=parts.engine)
    if telegram_settings is not None:
        telegram = TelegramRuntime(telegram_settings, parts.dispatcher, parts.uow, processing=processing)
    if slack_settings is not None:
        slack = SlackRuntime(slack_settings, parts.dispatcher, parts.uow, processing=processing)
    from bot.calendars.web import FeedSource, add_routes

    app = make_app(telegram, slack, parts=parts)
    add_routes(app, FeedSource(parts.uow))  # /calendar/<token>.ics
    # aiohttp waits this long for requests in flight when stopping, within the process's stop budget.
    runner = web.AppRunner(app, shutdown_timeout=1.0)

    async def start() -> None:
        await runner.setup()
        try:
            await web.TCPSite(runner, args.host, args.port or port()).start()
        except OSError as exc:
            raise SetupError(f"cannot listen on {args.host}:{args.port or port()}: {exc.strerror or exc}") from None
        log.info("web process serving on %s:%s", args.host, args.port or port())

    return run_until_signalled(start, runner.cleanup)


def cmd_payments_refund(args: argparse.Namespace) -> int:
    """Give a credit purchase back: its credits leave the buyer's wallet (only while unspent), Stars return
    through Telegram, money paid through a provider is recorded as refunded (return it in the provider)."""
    from telegram.error import TelegramError

    from bot.adapters.telegram.payments import star_refunder
    from bot.i18n import Translator
    from bot.payments import RefundImpossible, refund_purchase
    from core.errors import InsufficientCredits

    settings = _telegram_settings(required=False)
    refunder = star_refunder(settings.token, settings.api_base_url) if settings is not None else None
    dispatcher, factory = _chat_dispatcher()
    try:
        done = refund_purchase(factory, dispatcher.clock, args.charge_id, star_refund=refunder,
                               queue_notice=dispatcher.queue_notice)
    except InsufficientCredits as exc:
        print(f"not refunded: {exc.detail} (spent or held for a request); nothing was changed", file=sys.stderr)
        return 1
    except RefundImpossible as exc:
        print(f"not refunded: {exc}; nothing was changed", file=sys.stderr)
        return 1
    except TelegramError as exc:
        print(f"not refunded: Telegram refused ({exc}); nothing was changed", file=sys.stderr)
        return 1
    purchase = done.purchase
    price = Translator("en").price(purchase.price_minor, purchase.currency)
    taken = f"{format_credits(purchase.credits_milli)} credits taken back from @{done.handle}"
    if done.stars_returned:
        print(f"refunded {args.charge_id}: {taken}; {price} returned through Telegram")
    else:
        print(f"refunded {args.charge_id}: {taken}; now return {price} (provider charge "
              f"{purchase.provider_charge_id or '-'}) in your payment provider's dashboard")
    return 0


def cmd_outbox_status(args: argparse.Namespace) -> int:
    """What waits to go out, per platform: a notice no chat process sends stays here, visible, never dropped."""
    with _uow() as uow:
        rows = uow.outbox.status()
        now = uow.clock.now()
    if not rows:
        print("nothing waiting: every message was sent")
        return 0
    print(f"{'platform':<10} {'pending':>8} {'retrying':>9} {'given up':>9}  oldest waiting")
    for row in rows:
        age = f"{int((now - row.oldest_waiting).total_seconds() // 60)} min ago" if row.oldest_waiting else "-"
        print(f"{row.platform:<10} {row.pending:>8} {row.retrying:>9} {row.given_up:>9}  {age}")
    return 0


def cmd_i18n(args: argparse.Namespace) -> int:
    from bot.catalog import update
    from bot.i18n import available_locales

    for locale, count in update(available_locales() or ("en",)).items():
        print(f"{locale}: {count} messages")
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    from bot.tour import run_tour

    return run_tour(_uow(), print)


# ---------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (the usage is one `--help` away), with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(SETUP_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _decimal(low: Decimal, high: Decimal) -> Callable[[str], Decimal]:
    def parse(text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"not a number: {text}") from None
        if not value.is_finite() or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
        return value

    return parse


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        text = text.strip()
        if not re.fullmatch(r"-?[0-9]{1,12}", text):
            raise argparse.ArgumentTypeError(f"not a whole number: {text}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
        return value

    return parse


def _text(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > limit:
            raise argparse.ArgumentTypeError(f"keep it to {limit} characters (it has {len(text)})")
        return text

    return parse


# What each command needs from the database before it runs (main checks it first):
SCHEMA = "schema"  # reachable, and the schema at this code's revision
OWN = "own"  # the command checks it itself, after its cheaper settings checks (the processes, db)
NONE = "none"  # no database at all


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="headstrt", description="Headstrt booking assistant")
    parser.set_defaults(database=SCHEMA)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db, database=OWN)

    experts = sub.add_parser("experts", help="import, search and inspect experts").add_subparsers(dest="action", required=True)
    imp = experts.add_parser("import", help="import or update experts from a CSV file (all rows or none)")
    imp.add_argument("file")
    imp.add_argument("--programme", metavar="NAME", help="put every expert of the file on this programme's roster")
    imp.add_argument("--link-existing", action="store_true",
                     help="a handle that belongs to someone who is not an expert yet makes them one "
                          "(without it, such a row is an error)")
    imp.set_defaults(func=cmd_experts_import)
    search = experts.add_parser("search", help="search experts by intent")
    search.add_argument("query", nargs="*")
    kind = search.add_mutually_exclusive_group()
    kind.add_argument("--pro-bono", action="store_true")
    kind.add_argument("--paid", action="store_true")
    search.add_argument("--max-multiplier", type=_decimal(Decimal(0), MAX_RATE_MULTIPLIER))
    search.add_argument("--language", type=_text(8))
    search.add_argument("--min-rating", type=_decimal(Decimal(0), Decimal(5)))
    search.add_argument("--free-within", type=_int(1, 366), metavar="DAYS")
    search.add_argument("--limit", type=_int(1, 1000), default=10)
    search.add_argument("--tz", default="UTC", type=_zone, help="show times in this IANA timezone")
    search.set_defaults(func=cmd_experts_search)
    slots = experts.add_parser("slots", help="an expert's free slots")
    slots.add_argument("handle")
    slots.add_argument("--minutes", type=_int(5, 480), default=30)
    slots.add_argument("--days", type=_int(1, 366), default=7)
    slots.add_argument("--limit", type=_int(1, 10_000), default=20)
    slots.add_argument("--tz", type=_zone, help="show times in this IANA timezone (default: the expert's)")
    slots.set_defaults(func=cmd_experts_slots)

    credits = sub.add_parser("credits", help="grant credits and show balances").add_subparsers(dest="action", required=True)
    g = credits.add_parser("grant", help="add credits to a person's or a company's wallet")
    owner = g.add_mutually_exclusive_group(required=True)
    owner.add_argument("--person", metavar="HANDLE")
    owner.add_argument("--company", metavar="NAME")
    g.add_argument("--source", choices=[s.value for s in Source],
                   help="which wallet (default: individual for --person, programme for --company)")
    g.add_argument("--key", type=_text(KEY_MAX), help="idempotency key: the same key is applied once (default: a new one)")
    g.add_argument("--note", type=_text(NOTE_MAX))
    g.add_argument("--as", dest="as_handle", metavar="HANDLE", help="act as this staff member (only their programmes)")
    g.add_argument("amount", help=f"credits, e.g. 5 or 0.5 (at most {format_credits(MAX_GRANT_MILLI)})")
    g.set_defaults(func=cmd_credits_grant)
    show = credits.add_parser("show", help="balance and where it came from")
    show.add_argument("handle")
    show.set_defaults(func=cmd_credits_show)
    from bot.admin_cli import add_commands

    add_commands(sub, experts, credits)  # programmes, companies, members; experts rules/pause/resume; credits revoke

    payments = sub.add_parser("payments", help="credit purchases made in Telegram").add_subparsers(
        dest="action", required=True)
    rp = payments.add_parser("refund", help="refund a purchase: its credits are taken back only if unspent")
    rp.add_argument("charge_id", metavar="CHARGE_ID", type=_text(255), help="the telegram_payment_charge_id")
    rp.set_defaults(func=cmd_payments_refund)

    cal = sub.add_parser("calendar", help="people's own calendars: connect, status, refresh, feeds, rekey") \
        .add_subparsers(dest="action", required=True)
    con = cal.add_parser("connect", help="connect an iCalendar feed, or a CalDAV account with --user")
    con.add_argument("handle")
    con.add_argument("url", help="the feed address (https/webcal), or the CalDAV server or calendar address")
    con.add_argument("--user", help="CalDAV user (makes it a CalDAV connection unless --feed)")
    con.add_argument("--password-file", metavar="FILE", help="a file holding the app password")
    con.add_argument("--feed", action="store_true", help="a feed behind HTTP authentication, not CalDAV")
    con.add_argument("--no-check", action="store_true", help="store it without trying it first")
    con.set_defaults(func=cmd_calendar_connect)
    st = cal.add_parser("status", help="connected calendars and how reading them goes")
    st.add_argument("handle", nargs="?")
    st.set_defaults(func=cmd_calendar_status)
    rf = cal.add_parser("refresh", help="read calendars now (everyone's, or one person's) and write pending sessions")
    rf.add_argument("handle", nargs="?")
    rf.set_defaults(func=cmd_calendar_refresh)
    dc = cal.add_parser("disconnect", help="forget a calendar (its number is in `calendar status`)")
    dc.add_argument("handle")
    dc.add_argument("id", type=int)
    dc.set_defaults(func=cmd_calendar_disconnect)
    fd = cal.add_parser("feed", help="a person's private subscription address (made on first use)")
    fd.add_argument("handle")
    fd.add_argument("--rotate", action="store_true", help="a new address; the old one stops working")
    fd.set_defaults(func=cmd_calendar_feed)
    cal.add_parser("rekey", help="seal stored calendar secrets again with the current HEADSTRT_SECRET") \
        .set_defaults(func=cmd_calendar_rekey)
    sub.add_parser("demo", help="load demo data (safe to repeat)").set_defaults(func=cmd_demo)
    console = sub.add_parser("console", help="chat with the bot in this terminal (reads piped input too)")
    console.add_argument("--as", dest="as_handle", default="ana", metavar="HANDLE", help="who you are (default: ana); a new handle meets the bot for the first time")
    console.set_defaults(func=cmd_console)
    tg = sub.add_parser("telegram", help="run the Telegram bot with long polling")
    tg.add_argument("--no-worker", action="store_true", help="only store updates; `headstrt worker` runs them")
    tg.set_defaults(func=cmd_telegram, database=OWN)
    sub.add_parser("worker", help="run stored chat events and send what they queue (any number of them)") \
        .set_defaults(func=cmd_worker, database=OWN)
    slackp = sub.add_parser("slack", help="run the Slack app in Socket Mode (HTTP mode is `headstrt web`)")
    slackp.add_argument("--socket", action="store_true", help="connect with SLACK_APP_TOKEN over Socket Mode")
    slackp.add_argument("--no-worker", action="store_true", help="only store events; `headstrt worker` runs them")
    slackp.set_defaults(func=cmd_slack, database=OWN)
    sub.add_parser("scheduler", help="reminders, expiries and follow-ups (one leads, others stand by)") \
        .set_defaults(func=cmd_scheduler, database=OWN)
    webp = sub.add_parser("web", help="serve Telegram's webhook, Slack's requests and /health over HTTP")
    webp.add_argument("--host", default="0.0.0.0")
    webp.add_argument("--port", type=_int(1, 65535), help="default: $PORT, else 8080")
    webp.add_argument("--no-worker", action="store_true", help="only store events; `headstrt worker` runs them")
    webp.set_defaults(func=cmd_web, database=OWN)
    outbox = sub.add_parser("outbox", help="messages waiting to go out")
    outbox.add_argument("action", choices=["status"])
    outbox.set_defaults(func=cmd_outbox_status)
    i18n = sub.add_parser("i18n", help="translation catalogs")
    i18n.add_argument("action", choices=["update"])
    i18n.set_defaults(func=cmd_i18n, database=NONE)
    sub.add_parser("tour", help="walk through a booking on the demo data (changes nothing)").set_defaults(func=cmd_tour)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Every command first checks its set-up (settings, database URL, connection, schema): a problem is
    one line on stderr and exit status 2, never a traceback, and nothing is created by looking."""
    raw = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args([clean_text(arg) for arg in raw])
    try:
        if args.database == SCHEMA:
            _ready()
        return int(args.func(args))
    except (SetupError, DatabaseProblem) as exc:
        print(f"headstrt: {exc}", file=sys.stderr)
        return SETUP_ERROR
    except (OperationalError, InterfaceError) as exc:  # the database went away in the middle of the command
        print(f"headstrt: {connection_problem(exc, database_url())}", file=sys.stderr)
        return SETUP_ERROR
    except DomainError as exc:
        print(f"error: {exc.detail or exc.reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
