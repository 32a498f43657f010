"""The web process: one aiohttp server for the platforms that push to us (Telegram's webhook, Slack's
events, commands and interactions) and a health check. Any number of web processes can run: every event is
deduplicated in the database and every message leaves through the leased outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from sqlalchemy import Engine

from bot.adapters.slack.runtime import SlackRuntime
from bot.adapters.telegram.runtime import SECRET_HEADER, TelegramRuntime
from bot.bootstrap import Parts
from bot.process import quick_thread_switches
from bot.dashboard import mount as mount_dashboard
from bot.dashboard.config import DashboardConfig
from bot.files.web import FilesConfig
from bot.files.web import mount as mount_files
from storage.migrate import head
from storage.readiness import Readiness, check
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

TELEGRAM = web.AppKey("telegram", TelegramRuntime)
SLACK = web.AppKey("slack", SlackRuntime)
ENGINE = web.AppKey("engine", Engine)
MAX_BODY = 1024 * 1024  # an update is a few kB; refuse anything huge before reading it
HEALTH_SECONDS = 5.0  # /health answers within this even when the database does not


def make_app(telegram: TelegramRuntime | None, slack: SlackRuntime | None = None, *,
             engine: Engine | None = None, parts: Parts | None = None) -> web.Application:
    """engine: the database /health looks at (default: the one the chats use). parts: the process's engine,
    clock and dispatcher (bot.bootstrap), shared by the dashboard and file downloads; without them each
    builds its own on its first request."""
    quick_thread_switches()  # the loop's acks and the database threads share the interpreter
    app = web.Application(client_max_size=MAX_BODY)
    runtime = telegram or slack
    engine = engine or (parts.engine if parts is not None else None) or (_engine_of(runtime.uow_factory) if runtime is not None else None)
    if engine is not None:
        app[ENGINE] = engine
    app.router.add_get("/health", _health)
    # the staff dashboard under /dashboard; files too big for a chat, for the people of their session
    mount_dashboard(app, DashboardConfig.from_parts(parts) if parts is not None else None)
    mount_files(app, FilesConfig.from_parts(parts) if parts is not None else None)
    if slack is not None:
        app[SLACK] = slack
        app.router.add_post("/slack/events", _slack)

        async def slack_lifecycle(_app: web.Application) -> AsyncIterator[None]:
            await slack.start()
            yield
            await slack.stop()

        app.cleanup_ctx.append(slack_lifecycle)
    if telegram is not None:
        app[TELEGRAM] = telegram
        app.router.add_post("/telegram/webhook", _telegram_webhook)

        async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
            await telegram.start(polling=False)
            yield
            await telegram.stop()

        app.cleanup_ctx.append(lifecycle)
    return app


def _engine_of(uow_factory: Callable[[], SqlUnitOfWork]) -> Engine:
    with uow_factory() as uow:
        bind = uow.session.get_bind()
    assert isinstance(bind, Engine)
    return bind


async def _health(request: web.Request) -> web.Response:
    """{"status": "ok", "database": {"reachable": true, "revision": "0004", "head": "0004"}}, 200; or
    status "unavailable" with the database's "problem" in one line, 503: the database cannot be reached,
    does not answer within HEALTH_SECONDS, or its schema is not the one this code needs."""
    engine = request.app.get(ENGINE)
    if engine is None:
        return web.json_response({"status": "ok"})
    try:
        found = await asyncio.wait_for(asyncio.to_thread(check, engine), HEALTH_SECONDS)
    except TimeoutError:
        found = Readiness(False, None, head(), f"the database did not answer within {HEALTH_SECONDS:.0f} s")
    except Exception as error:  # noqa: BLE001 - a health check reports, it never fails
        found = Readiness(False, None, head(), f"the database check failed: {type(error).__name__}: {error}")
    body = {"status": "ok" if found.ready else "unavailable", "database": found.as_json()}
    return web.json_response(body, status=200 if found.ready else 503)


async def _telegram_webhook(request: web.Request) -> web.Response:
    runtime = request.app[TELEGRAM]
    status, answer = await runtime.webhook(request.headers.get(SECRET_HEADER, ""), await request.read())
    if answer is not None:  # a Bot API method Telegram performs on receiving this answer
        return web.json_response(answer, status=status)
    return web.Response(status=status)


async def _slack(request: web.Request) -> web.Response:
    return await request.app[SLACK].http(request)
