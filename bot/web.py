"""The web process: one aiohttp server for the platforms that push to us (Telegram's webhook, Slack's
events, commands and interactions) and a health check. Any number of web processes can run: every event is
deduplicated in the database and every message leaves through the leased outbox."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot.adapters.slack.runtime import SlackRuntime
from bot.adapters.telegram.runtime import SECRET_HEADER, TelegramRuntime
from bot.dashboard import mount as mount_dashboard

log = logging.getLogger(__name__)

TELEGRAM = web.AppKey("telegram", TelegramRuntime)
SLACK = web.AppKey("slack", SlackRuntime)
MAX_BODY = 1024 * 1024
SWITCH_INTERVAL = 0.001  # an update is a few kB; refuse anything huge before parsing it


def make_app(telegram: TelegramRuntime | None, slack: SlackRuntime | None = None) -> web.Application:
    # The event loop shares the interpreter with the dispatcher's worker threads: switching between
    # threads more often (default 5 ms) keeps acknowledgements prompt while a booking is being written.
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/health", _health)
    mount_dashboard(app)  # the staff dashboard under /dashboard (its database is opened on first use)
    if slack is not None:
        app[SLACK] = slack
        app.router.add_post("/slack/events", _slack)

        async def slack_lifecycle(_app: web.Application):  # type: ignore[no-untyped-def]
            await slack.start()
            yield
            await slack.stop()

        app.cleanup_ctx.append(slack_lifecycle)
    if telegram is not None:
        app[TELEGRAM] = telegram
        app.router.add_post("/telegram/webhook", _telegram_webhook)

        async def lifecycle(_app: web.Application):  # type: ignore[no-untyped-def]
            await telegram.start(polling=False)
            yield
            await telegram.stop()

        app.cleanup_ctx.append(lifecycle)
    return app


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _telegram_webhook(request: web.Request) -> web.Response:
    runtime = request.app[TELEGRAM]
    status = await runtime.webhook(request.headers.get(SECRET_HEADER, ""), await request.read())
    return web.Response(status=status)


async def _slack(request: web.Request) -> web.Response:
    return await request.app[SLACK].http(request)
