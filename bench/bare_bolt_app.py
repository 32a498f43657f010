"""A bare slack_bolt app that only acknowledges, in a process of its own (the baseline of
bench.bench_slack_split): python -m bench.bare_bolt_app. Reads SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
SLACK_API_URL and PORT; serves POST /slack/events and GET /health."""

from __future__ import annotations

import os
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def bare_app() -> web.Application:
    """Commands, presses and submissions: `await ack()`, nothing else (Bolt checks the signature)."""
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"],
                   client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]))

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    app.command(re.compile(r"^/.+"))(ack_only)
    app.action(re.compile(r".*"))(ack_only)
    app.view(re.compile(r".*"))(ack_only)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_post("/slack/events", events)
    server.router.add_get("/health", health)
    return server


if __name__ == "__main__":
    web.run_app(bare_app(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)
