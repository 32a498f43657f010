"""The web process: one aiohttp server for the platforms that push to us (Telegram's webhook; Slack's
events come in issue 5) and a health check. Any number of web processes can run: every event is
deduplicated in the database and every message leaves through the leased outbox."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.adapters.telegram.runtime import SECRET_HEADER, TelegramRuntime

log = logging.getLogger(__name__)

TELEGRAM = web.AppKey("telegram", TelegramRuntime)
MAX_BODY = 1024 * 1024  # an update is a few kB; refuse anything huge before parsing it


def make_app(telegram: TelegramRuntime | None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/health", _health)
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
