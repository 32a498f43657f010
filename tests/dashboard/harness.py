"""The dashboard served by aiohttp in a background loop (as `headstrt web` serves it), and a browser-like
client with a cookie jar, for tests that read pages and post forms without a real browser."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from bot.dashboard import mount
from bot.dashboard.config import DashboardConfig
from core.clock import Clock
from core.signin import issue_signin_link
from storage.uow import SqlUnitOfWork
from tests.adapters.slack.harness import free_port

T = TypeVar("T")


class RunningDashboard:
    def __init__(self, uow: Callable[[], SqlUnitOfWork], clock: Clock,
                 notify: Callable[[SqlUnitOfWork, str, int | None], None] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.uow, self.clock = uow, clock
        app = web.Application()
        mount(app, DashboardConfig(uow, clock, self.base, notify or (lambda u, key, actor: None)))
        self.runner = web.AppRunner(app)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningDashboard:
        self.thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def link(self, person_id: int) -> str:
        with self.uow() as u:
            token = issue_signin_link(u, self.clock, person_id=person_id)
            u.commit()
        return f"{self.base}/dashboard/login/{token}"

    def browser(self) -> Browser:
        return Browser(self)


class Page:
    def __init__(self, status: int, text: str, headers: Any, url: str) -> None:
        self.status, self.text, self.headers, self.url = status, text, headers, url

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert found, "no form on this page"
        return found.group(1)

    def field(self, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]*)"', self.text)
        assert found, name
        return found.group(1)


class Browser:
    """Keeps cookies like a browser (SameSite and Path respected by aiohttp's jar; unsafe: for 127.0.0.1)."""

    def __init__(self, dashboard: RunningDashboard) -> None:
        self.dashboard = dashboard
        self.session: aiohttp.ClientSession | None = None

    async def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        return self.session

    def get(self, path: str) -> Page:
        return self.dashboard.call(self._request("GET", path))

    def post(self, path: str, data: dict[str, str], *, origin: str | None = "self") -> Page:
        return self.dashboard.call(self._request("POST", path, data, origin))

    async def _request(self, method: str, path: str, data: dict[str, str] | None = None,
                       origin: str | None = None) -> Page:
        session = await self._session()
        url = path if path.startswith("http") else self.dashboard.base + path
        headers = {}
        if origin is not None:
            headers["Origin"] = self.dashboard.base if origin == "self" else origin
        async with session.request(method, url, data=data, headers=headers) as response:
            return Page(response.status, await response.text(), response.headers, str(response.url))

    def sign_in(self, link: str) -> Page:
        page = self.get(link)
        assert page.status == 200, page.text
        return self.post("/dashboard/login", {"token": page.field("token"), "nonce": page.field("nonce")})

    def close(self) -> None:
        if self.session is not None:
            self.dashboard.call(self.session.close())
