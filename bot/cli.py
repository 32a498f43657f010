"""The `headstrt` command: database, import, credits, demo data and a look at the engine."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.amounts import credits_to_milli, format_credits
from core.availability import free_slots
from core.clock import SystemClock
from core.credit_service import balance, grant
from core.credits import Source
from core.discovery import SearchFilters, SearchQuery
from core.discovery_service import search_experts
from core.errors import DomainError
from core.expert_import import parse_experts_csv
from core.import_service import import_experts
from storage.db import database_url, make_engine
from storage.migrate import current, upgrade
from storage.uow import SqlUnitOfWork


def _uow() -> SqlUnitOfWork:
    return SqlUnitOfWork(make_engine(), SystemClock())


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"unknown timezone {text!r}: use an IANA name like Europe/London") from exc
    return text


def when(at: datetime, tz: str) -> str:
    """A time in a person's zone, always with the zone's name."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a %d %b %Y %H:%M} {tz}"


# ---------------------------------------------------------------- db


def cmd_db(args: argparse.Namespace) -> int:
    engine = make_engine()
    if args.action == "upgrade":
        upgrade(engine)
        print(f"database at revision {current(engine)} ({_safe_url()})")
    else:
        print(current(engine) or "empty: run `headstrt db upgrade`")
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
        with uow:
            outcome = import_experts(uow, parsed.records)
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
                print(f"imported {len(parsed.records)} experts: {outcome.created} new, {outcome.updated} updated")
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
        amount = credits_to_milli(args.amount)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if amount <= 0:
        print("grant a positive amount", file=sys.stderr)
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


def _calendar_settings():  # type: ignore[no-untyped-def]
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
    from bot.adapters.console.chat import ConsoleChat, run
    from bot.dispatcher import Dispatcher
    from bot.flows import all_flows
    from bot.router import Router

    engine = make_engine()
    clock = SystemClock()
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    from bot.settings import policy

    dispatcher = Dispatcher(factory, clock, all_flows(), Router(["console"]), policy=policy())
    files = Path(os.environ.get("HEADSTRT_FILES_DIR") or "headstrt-files")
    chat = ConsoleChat(dispatcher, factory, args.as_handle.lstrip("@").lower(), files_dir=files)
    run(chat, sys.stdin, print, echo=not sys.stdin.isatty())
    return 0


def _chat_dispatcher(engine=None):  # type: ignore[no-untyped-def]
    """The dispatcher of a chat process: notices go to every platform this deployment has a token for."""
    from bot.dispatcher import Dispatcher
    from bot.flows import all_flows
    from bot.router import Router
    from bot.settings import enabled_platforms, policy, smtp_url

    engine = engine or make_engine()
    clock = SystemClock()
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    try:
        rules = policy()
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    dispatcher = Dispatcher(factory, clock, all_flows(), Router(enabled_platforms()),
                            email_enabled=smtp_url() is not None, policy=rules)
    return dispatcher, factory


def _telegram_runtime(required: bool):  # type: ignore[no-untyped-def]
    from bot.adapters.telegram.runtime import TelegramRuntime, TelegramSettings

    settings = TelegramSettings.from_env()
    if settings is None:
        if required:
            raise SystemExit("TELEGRAM_BOT_TOKEN is not set: nothing to run")
        return None
    dispatcher, factory = _chat_dispatcher()
    return TelegramRuntime(settings, dispatcher, factory)


def _slack_runtime(required: bool, socket_mode: bool = False):  # type: ignore[no-untyped-def]
    from bot.adapters.slack.runtime import SlackRuntime, SlackSettings

    settings = SlackSettings.from_env()
    if settings is None:
        if required:
            raise SystemExit("SLACK_BOT_TOKEN is not set: nothing to run")
        return None
    if socket_mode and not settings.app_token:
        raise SystemExit("SLACK_APP_TOKEN (xapp-...) is required for Socket Mode")
    if not socket_mode and not settings.signing_secret:
        raise SystemExit("SLACK_SIGNING_SECRET must be set for the web process to accept Slack's requests")
    dispatcher, factory = _chat_dispatcher()
    return SlackRuntime(settings, dispatcher, factory, socket_mode=socket_mode)


def _until_signalled(start: Callable[[], Awaitable[object]], stop: Callable[[], Awaitable[object]]) -> int:
    """Run a chat process until SIGINT or SIGTERM, then stop it cleanly (what it queued is delivered)."""
    import asyncio
    import signal

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await start()
        try:
            await stopping.wait()
        finally:
            await stop()

    asyncio.run(main())
    return 0


def cmd_slack(args: argparse.Namespace) -> int:
    """Socket Mode: Slack over a websocket the app opens, for hosts Slack cannot reach."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.settings import configure_logging

    if not args.socket:
        raise SystemExit("use `headstrt web` for Slack over HTTP, or `headstrt slack --socket` for Socket Mode")
    configure_logging()
    runtime = _slack_runtime(required=True, socket_mode=True)
    handlers: list[AsyncSocketModeHandler] = []

    async def start() -> None:
        handlers.append(AsyncSocketModeHandler(runtime.app, runtime.settings.app_token))
        await runtime.start()
        await handlers[0].connect_async()

    async def stop() -> None:
        if handlers:
            await handlers[0].close_async()
        await runtime.stop()

    return _until_signalled(start, stop)


def cmd_telegram(args: argparse.Namespace) -> int:
    """Long polling: for a machine that Telegram cannot reach (no public URL), or development."""
    from bot.settings import configure_logging

    configure_logging()
    runtime = _telegram_runtime(required=True)
    return _until_signalled(lambda: runtime.start(polling=True), runtime.stop)


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Reminders, expiries and follow-ups; one acts at a time, others stand by."""
    import asyncio
    import signal

    from bot.email import email_pump
    from bot.scheduler import Jobs, SchedulerSettings, run
    from bot.settings import configure_logging

    configure_logging()
    try:
        settings = SchedulerSettings.from_env()
    except ValueError as exc:
        raise SystemExit(f"REMINDER_OFFSETS: {exc}") from exc
    engine = make_engine()
    dispatcher, _ = _chat_dispatcher(engine)

    try:
        mail = email_pump(dispatcher.uow_factory)  # email leaves from here: one process, always running
    except ValueError as exc:
        raise SystemExit(f"SMTP_URL: {exc}") from exc
    from bot.calendars.sync import CalendarSync

    calendars = CalendarSync(dispatcher.uow_factory, dispatcher.clock, _calendar_settings(),
                             queue_notice=dispatcher.queue_notice)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sending = loop.create_task(mail.run()) if mail is not None else None
        try:
            await run(engine, Jobs(dispatcher, settings), stop, calendars=calendars)
        finally:
            if sending is not None:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)

    asyncio.run(main())
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    """The web process: Telegram's webhook, Slack's /slack/events (each when configured) and /health, on $PORT."""
    from aiohttp import web

    from bot.settings import configure_logging, port
    from bot.web import make_app

    configure_logging()
    telegram = _telegram_runtime(required=False)
    if telegram is not None and not telegram.settings.webhook_secret:
        raise SystemExit("TELEGRAM_WEBHOOK_SECRET must be set for the web process to accept Telegram's webhook")
    slack = _slack_runtime(required=False)
    app = make_app(telegram, slack)
    from bot.calendars.web import FeedSource, add_routes

    feed_engine = make_engine()
    add_routes(app, FeedSource(lambda: SqlUnitOfWork(feed_engine, SystemClock())))  # /calendar/<token>.ics
    web.run_app(app, host=args.host, port=args.port or port(), print=None)
    return 0


def cmd_i18n(args: argparse.Namespace) -> int:
    from bot.catalog import update

    for locale, count in update().items():
        print(f"{locale}: {count} messages")
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    from bot.tour import run_tour

    return run_tour(_uow(), print)


# ---------------------------------------------------------------- parser


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headstrt", description="Headstrt booking assistant")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db)

    experts = sub.add_parser("experts", help="import, search and inspect experts").add_subparsers(dest="action", required=True)
    imp = experts.add_parser("import", help="import or update experts from a CSV file (all rows or none)")
    imp.add_argument("file")
    imp.add_argument("--programme", metavar="NAME", help="put every expert of the file on this programme's roster")
    imp.set_defaults(func=cmd_experts_import)
    search = experts.add_parser("search", help="search experts by intent")
    search.add_argument("query", nargs="*")
    kind = search.add_mutually_exclusive_group()
    kind.add_argument("--pro-bono", action="store_true")
    kind.add_argument("--paid", action="store_true")
    search.add_argument("--max-multiplier", type=_decimal)
    search.add_argument("--language")
    search.add_argument("--min-rating", type=_decimal)
    search.add_argument("--free-within", type=int, metavar="DAYS")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--tz", default="UTC", type=_zone, help="show times in this IANA timezone")
    search.set_defaults(func=cmd_experts_search)
    slots = experts.add_parser("slots", help="an expert's free slots")
    slots.add_argument("handle")
    slots.add_argument("--minutes", type=int, default=30)
    slots.add_argument("--days", type=int, default=7)
    slots.add_argument("--limit", type=int, default=20)
    slots.add_argument("--tz", type=_zone, help="show times in this IANA timezone (default: the expert's)")
    slots.set_defaults(func=cmd_experts_slots)

    credits = sub.add_parser("credits", help="grant credits and show balances").add_subparsers(dest="action", required=True)
    g = credits.add_parser("grant", help="add credits to a person's or a company's wallet")
    owner = g.add_mutually_exclusive_group(required=True)
    owner.add_argument("--person", metavar="HANDLE")
    owner.add_argument("--company", metavar="NAME")
    g.add_argument("--source", choices=[s.value for s in Source],
                   help="which wallet (default: individual for --person, programme for --company)")
    g.add_argument("--key", help="idempotency key: the same key is applied once (default: a new one)")
    g.add_argument("--note")
    g.add_argument("--as", dest="as_handle", metavar="HANDLE", help="act as this staff member (only their programmes)")
    g.add_argument("amount", help="credits, e.g. 5 or 0.5")
    g.set_defaults(func=cmd_credits_grant)
    show = credits.add_parser("show", help="balance and where it came from")
    show.add_argument("handle")
    show.set_defaults(func=cmd_credits_show)
    from bot.admin_cli import add_commands

    add_commands(sub, experts, credits)  # programmes, companies, members; experts rules/pause/resume; credits revoke

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
    sub.add_parser("telegram", help="run the Telegram bot with long polling").set_defaults(func=cmd_telegram)
    slackp = sub.add_parser("slack", help="run the Slack app in Socket Mode (HTTP mode is `headstrt web`)")
    slackp.add_argument("--socket", action="store_true", help="connect with SLACK_APP_TOKEN over Socket Mode")
    slackp.set_defaults(func=cmd_slack)
    sub.add_parser("scheduler", help="reminders, expiries and follow-ups (one leads, others stand by)") \
        .set_defaults(func=cmd_scheduler)
    webp = sub.add_parser("web", help="serve Telegram's webhook, Slack's requests and /health over HTTP")
    webp.add_argument("--host", default="0.0.0.0")
    webp.add_argument("--port", type=int, help="default: $PORT, else 8080")
    webp.set_defaults(func=cmd_web)
    i18n = sub.add_parser("i18n", help="translation catalogs")
    i18n.add_argument("action", choices=["update"])
    i18n.set_defaults(func=cmd_i18n)
    sub.add_parser("tour", help="walk through a booking on the demo data (changes nothing)").set_defaults(func=cmd_tour)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"error: {exc.detail or exc.reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
