"""Cookies, CSRF and headers. The session cookie is HttpOnly, SameSite=Lax, Secure when the dashboard is
served over HTTPS, and scoped to /dashboard. Every form carries a CSRF token derived from the session
(HMAC of the session token, so it needs no storage and dies with the session); the sign-in form, which has
no session yet, uses a double-submit cookie instead. Cross-site POSTs are refused by Origin as well."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from core.signin import SESSION_TTL

SESSION_COOKIE = "headstrt_session"
LOGIN_COOKIE = "headstrt_login"
PATH = "/dashboard"
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    # A sign-in link never leaks to another site through a Referer; same-origin keeps a real Origin on POSTs
    # ("no-referrer" makes browsers send "Origin: null", which the origin check must refuse).
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"headstrt-dashboard-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str | None, sent: str | None) -> bool:
    return bool(session_token and sent) and hmac.compare_digest(csrf_token(session_token or ""), sent or "")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def secure(request: web.Request, public_url: str | None) -> bool:
    return request.secure or (public_url or "").startswith("https://") or \
        request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(response: web.StreamResponse, request: web.Request, public_url: str | None, name: str, value: str,
               max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="Lax",
                        secure=secure(request, public_url))


def set_session(response: web.StreamResponse, request: web.Request, public_url: str | None, token: str) -> None:
    set_cookie(response, request, public_url, SESSION_COOKIE, token, int(SESSION_TTL.total_seconds()))


def clear(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path=PATH)


def same_origin(request: web.Request, public_url: str | None) -> bool:
    """A browser's POST names where the form was: it must be this site (absent Origin: not a browser form)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    mine = {f"{request.scheme}://{request.host}"}
    if public_url:
        parts = urlsplit(public_url)
        mine.add(f"{parts.scheme}://{parts.netloc}")
    forwarded = request.headers.get("X-Forwarded-Proto")
    if forwarded:
        mine.add(f"{forwarded}://{request.host}")
    return origin in mine


def csrf_ok_plain(expected: str, sent: str) -> bool:
    """Double-submit: the cookie and the form field carry the same nonce."""
    return bool(expected and sent) and hmac.compare_digest(expected, sent)
