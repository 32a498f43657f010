"""Fetching an iCalendar feed: conditional (ETag / Last-Modified, so an unchanged feed costs a 304), bounded
in size (decompressed bytes counted as they arrive) and in time (one deadline for the whole exchange,
redirects included), and never to a private address unless the deployment allows it."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from core.calendar_service import CalendarProblem, calendar_url, is_private_address
from bot.settings import CalendarSettings

USER_AGENT = "Headstrt-calendar/1.0 (+busy times for booking)"
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    not_modified: bool
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


def fetch(url: str, settings: CalendarSettings, *, etag: str | None = None, last_modified: str | None = None,
          auth: tuple[str, str] | None = None, client: httpx.Client | None = None) -> Fetched:
    deadline = time.monotonic() + settings.timeout_seconds
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    http = client or httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            check_host(url, settings)
            try:
                with http.stream("GET", url, headers=headers, auth=auth,
                                 timeout=_left(deadline)) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = calendar_url(urljoin(url, response.headers["location"]),
                                           allow_private=settings.allow_private)
                        continue
                    return _read(response, settings.max_bytes, deadline)
            except httpx.TimeoutException:
                raise CalendarProblem("the calendar did not answer in time", reason="calendar_timeout") from None
            except httpx.HTTPError as exc:
                raise CalendarProblem(f"cannot reach the calendar: {type(exc).__name__}",
                                      reason="calendar_unreachable") from None
        raise CalendarProblem("too many redirects", reason="calendar_http_error")
    finally:
        if own:
            http.close()


def check_host(url: str, settings: CalendarSettings) -> None:
    """Refuse a host that resolves to a loopback, private or link-local address (unless allowed): a feed
    address is typed by anyone, and must not become a way into the deployment's own network."""
    if settings.allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        # sockaddr[0] is the address text for IPv4 and IPv6 (typeshed allows an int for other families)
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        raise CalendarProblem(f"no such host {host!r}", reason="calendar_unreachable") from None
    if any(is_private_address(a) for a in addresses):
        raise CalendarProblem("that address is on a private network", reason="calendar_private_address")


def _read(response: httpx.Response, max_bytes: int, deadline: float) -> Fetched:
    if response.status_code == 304:
        return Fetched(True, etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))
    if response.status_code in (401, 403):
        raise CalendarProblem(f"the calendar refused us ({response.status_code})", reason="calendar_auth_failed")
    if response.status_code != 200:
        raise CalendarProblem(f"the calendar answered {response.status_code}", reason="calendar_http_error")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in response.headers:
        raise CalendarProblem(f"the calendar is larger than {max_bytes} bytes", reason="calendar_too_large")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise CalendarProblem(f"the calendar is larger than {max_bytes} bytes", reason="calendar_too_large")
        if time.monotonic() > deadline:
            raise CalendarProblem("the calendar took too long to download", reason="calendar_timeout")
        chunks.append(chunk)
    return Fetched(False, b"".join(chunks), response.headers.get("etag"), response.headers.get("last-modified"))


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise CalendarProblem("the calendar did not answer in time", reason="calendar_timeout")
    return left
