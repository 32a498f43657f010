"""GET /calendar/<token>.ics on the web process: a person's private feed of their sessions, for Google,
Outlook and Apple calendars to subscribe to. An unknown or malformed token is a plain 404; the answer has
an ETag (a calendar asking again with If-None-Match gets a 304) and may be cached privately for a while."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

from aiohttp import web

from core.clock import Clock, SystemClock
from bot.calendars.subscription import feed_for_token
from storage.uow import SqlUnitOfWork

FEEDS: web.AppKey[FeedSource] = web.AppKey("calendar_feeds")
MAX_AGE = 300  # seconds: subscribers poll far less often, and a change shows within five minutes anyway


class FeedSource:
    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], clock: Clock | None = None) -> None:
        self.uow = uow_factory
        self.clock = clock or SystemClock()

    def feed(self, token: str) -> bytes | None:
        with self.uow() as uow:
            return feed_for_token(uow, token, self.clock.now())


def add_routes(app: web.Application, source: FeedSource) -> None:
    app[FEEDS] = source
    app.router.add_get(r"/calendar/{token:[^/]{1,200}}.ics", _feed)


async def _feed(request: web.Request) -> web.Response:
    source = request.app[FEEDS]
    body = await asyncio.to_thread(source.feed, request.match_info["token"])
    if body is None:
        return web.Response(status=404, text="not found", headers=_private())
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**_private(), "ETag": etag, "Cache-Control": f"private, max-age={MAX_AGE}"}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    headers["Content-Disposition"] = 'inline; filename="headstrt-sessions.ics"'
    return web.Response(body=body, headers=headers, content_type="text/calendar", charset="utf-8")


def _private() -> dict[str, str]:
    """Never in a shared cache, a referrer or a search index: the address is the password."""
    return {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
