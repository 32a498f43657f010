"""/files/<id>: a stored file in the browser, for someone who signed in by the link the chat sent them
(the dashboard's mechanism: a one-time link, then a session cookie), and only if they may open it (the
booking's two sides, its programme's staff). Never a public URL: without the session, nothing.

GET /files/<id>?t=<token> shows a button; pressing it (a POST, so link previews and mail scanners that
fetch the link do not use it up) redeems the link and sets a cookie scoped to /files, and GET /files/<id>
then serves the file as a download."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from core.clock import Clock
from core.errors import DomainError
from core.files import file_for_session, redeem_link
from core.signin import SESSION_TTL
from bot.dashboard.security import HEADERS, csrf_ok_plain, new_nonce, same_origin, secure
from bot.files.store import FileStore
from storage.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import Parts

log = logging.getLogger(__name__)

PATH = "/files"
SESSION_COOKIE = "headstrt_files"
LOGIN_COOKIE = "headstrt_files_login"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
_DOWNLOAD_HEADERS = {"Content-Security-Policy": "sandbox; default-src 'none'", "X-Content-Type-Options": "nosniff",
                     "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class FilesConfig:
    uow_factory: Callable[[], SqlUnitOfWork]
    clock: Clock
    store: FileStore
    public_url: str | None

    @classmethod
    def from_env(cls) -> FilesConfig:
        """For an app built without the process's parts: DATABASE_URL, PUBLIC_URL, HEADSTRT_FILES_DIR."""
        from bot.bootstrap import build

        return cls.from_parts(build(with_flows=False))

    @classmethod
    def from_parts(cls, parts: Parts) -> FilesConfig:
        from bot.settings import file_settings, public_url

        return cls(parts.uow, parts.clock, FileStore(file_settings().directory), public_url())


CONFIG: web.AppKey[dict[str, FilesConfig]] = web.AppKey("files_config", dict)


def mount(app: web.Application, config: FilesConfig | None = None) -> None:
    """Without a config, the web process's own is built on the first request (DATABASE_URL, PUBLIC_URL,
    HEADSTRT_FILES_DIR)."""
    app[CONFIG] = {"config": config} if config is not None else {}
    app.router.add_get(r"/files/{file_id:\d{1,12}}", _get)
    app.router.add_post(r"/files/{file_id:\d{1,12}}", _post)


def _config(request: web.Request) -> FilesConfig:
    holder = request.app[CONFIG]
    if "config" not in holder:
        holder["config"] = FilesConfig.from_env()
    return holder["config"]


async def _db(config: FilesConfig, work: Callable[[SqlUnitOfWork], Any]) -> Any:
    def run() -> Any:
        with config.uow_factory() as uow:
            return work(uow)

    return await asyncio.to_thread(run)


async def _get(request: web.Request) -> web.StreamResponse:
    config = _config(request)
    file_id = int(request.match_info["file_id"])
    token = request.query.get("t")
    if token is not None:
        if not _TOKEN.fullmatch(token):
            return _page(403, "This link does not work", "Open the link from the chat again.")
        nonce = new_nonce()
        response = _page(200, "A file was shared with you", "Press the button to sign in and download it.",
                         form=(f"/files/{file_id}", token, nonce))
        _cookie(response, request, config, LOGIN_COOKIE, nonce, 900)
        return response

    def find(uow: SqlUnitOfWork) -> Any:
        try:
            return file_for_session(uow, config.clock, request.cookies.get(SESSION_COOKIE), file_id)
        except DomainError:
            return None

    file = await _db(config, find)
    if file is None:
        return _page(403, "Sign in first",
                     "This file opens only for the people of its session, after signing in by the link the chat "
                     "sent them. Open that link again.")
    data = await asyncio.to_thread(config.store.read, file.path)
    if data is None:
        return _page(404, "This file is gone", "It was deleted with the session's records.")
    response = web.Response(body=data, content_type=file.content_type.split(";")[0])
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file.name, safe='')}"
    response.headers.update(_DOWNLOAD_HEADERS)
    return response


async def _post(request: web.Request) -> web.StreamResponse:
    config = _config(request)
    file_id = int(request.match_info["file_id"])
    data = await request.post()
    token, nonce = data.get("token"), data.get("nonce")
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not (isinstance(token, str) and isinstance(nonce, str) and cookie and csrf_ok_plain(cookie, nonce)
            and same_origin(request, config.public_url)):
        return _page(403, "Refused", "This form did not come from this page. Open the link from the chat again.")

    def redeem(uow: SqlUnitOfWork) -> str | None:
        try:
            session = redeem_link(uow, config.clock, token, file_id)
        except DomainError:
            return None
        uow.commit()
        return session

    session = await _db(config, redeem)
    if session is None:
        log.info("files: a used, expired or unknown link was refused")
        return _page(403, "This link does not work any more",
                     "Links to files work once. If you opened it before, use the same browser.")
    response = web.Response(status=303, headers={"Location": f"/files/{file_id}"})
    _cookie(response, request, config, SESSION_COOKIE, session, int(SESSION_TTL.total_seconds()))
    response.del_cookie(LOGIN_COOKIE, path=PATH)
    return response


def _cookie(response: web.StreamResponse, request: web.Request, config: FilesConfig, name: str, value: str,
            max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="Lax",
                        secure=secure(request, config.public_url))


def _page(status: int, heading: str, text: str, *, form: tuple[str, str, str] | None = None) -> web.Response:
    """A small page (the web side speaks English, as the dashboard does)."""
    body = f"<h1>{html.escape(heading)}</h1><p>{html.escape(text)}</p>"
    if form is not None:
        action, token, nonce = (html.escape(v) for v in form)
        body += (f'<form method="post" action="{action}"><input type="hidden" name="token" value="{token}">'
                 f'<input type="hidden" name="nonce" value="{nonce}"><button type="submit">Download</button></form>')
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(heading)}</title></head>'
            f"<body>{body}</body></html>")
    response = web.Response(status=status, text=page, content_type="text/html")
    response.headers.update(HEADERS)
    return response
