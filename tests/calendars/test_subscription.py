"""A person's private feed served by the web process's route: valid iCalendar listing exactly their
sessions, 404 for a wrong or rotated token, an ETag that gives 304, and headers that keep it private."""

from __future__ import annotations

import asyncio

import icalendar
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.booking_service import DEFAULT_POLICY
from bot.calendars import service
from bot.calendars.web import FeedSource, add_routes
from bot.web import make_app
from core import booking_service
from core.sessions import MeetingRequest, SessionDetails
from tests.calendars.helpers import utc
from tests.flows.test_book import world


class Web:
    """The app on a real loopback port, asked from one event loop."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()

        async def start() -> TestClient:
            client = TestClient(TestServer(app))
            await client.start_server()
            return client
        self.client = self.loop.run_until_complete(start())

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        async def go() -> tuple[int, dict[str, str], bytes]:
            response = await self.client.get(path, headers=headers or {})
            return response.status, response.headers.copy(), await response.read()  # type: ignore[return-value]
        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def _booked(uow, clock, w, client: int, start, *, accept: bool = True, cancel: bool = False) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        booking = booking_service.request_booking(u, clock, client_id=client, expert_id=w.eve,
                                                  meetings=[MeetingRequest(start, 30)],
                                                  details=SessionDetails(f"Session at {start:%d %H:%M}", "A plan"),
                                                  policy=booking_service.DEFAULT_POLICY)
        if accept:
            booking_service.accept(u, clock, booking_id=booking.id, actor_id=w.eve_person)
        if cancel:
            booking_service.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking.id, meeting_id=booking.meetings[0].id,
                                           actor_id=client)
        u.commit()
    return booking.meetings[0].id


def _uids(body: bytes) -> set[str]:
    return {str(e["UID"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def test_the_feed_lists_exactly_the_persons_sessions_and_a_wrong_token_is_404(uow, clock):
    w = world(uow)
    confirmed = _booked(uow, clock, w, w.ana, utc(2030, 3, 5, 10))
    other = _booked(uow, clock, w, w.ana, utc(2030, 3, 6, 10))
    _booked(uow, clock, w, w.ana, utc(2030, 3, 7, 10), cancel=True)  # cancelled: absent
    _booked(uow, clock, w, w.ana, utc(2030, 3, 8, 10), accept=False)  # still a request: absent
    bens = _booked(uow, clock, w, w.ben, utc(2030, 3, 5, 14))
    with uow() as u:
        ana_url = service.subscription_url(u, clock, w.ana, base_url="https://bot.example.com")
        eve_url = service.subscription_url(u, clock, w.eve_person, base_url="https://bot.example.com")
        u.commit()
    with uow() as u:  # the same address every time it is asked for
        assert service.subscription_url(u, clock, w.ana, base_url="https://bot.example.com") == ana_url
    assert ana_url.startswith("https://bot.example.com/calendar/") and ana_url.endswith(".ics")
    app = make_app(None)
    add_routes(app, FeedSource(uow, clock))
    server = Web(app)
    _get = lambda path, headers=None: server.get(path, headers)  # noqa: E731
    ana_path, eve_path = ana_url.removeprefix("https://bot.example.com"), eve_url.removeprefix("https://bot.example.com")

    status, headers, body = _get(ana_path)
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert "private" in headers["Cache-Control"] and headers["Referrer-Policy"] == "no-referrer"
    calendar = icalendar.Calendar.from_ical(body)  # valid iCalendar: parses, required properties present
    assert calendar.name == "VCALENDAR" and str(calendar["VERSION"]) == "2.0" and calendar.get("PRODID")
    for event in calendar.walk("VEVENT"):
        assert all(event.get(p) for p in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"))
        assert "ATTENDEE" not in event and "ORGANIZER" not in event  # nobody's email in a shared address
    assert _uids(body) == {f"headstrt-meeting-{confirmed}@headstrt", f"headstrt-meeting-{other}@headstrt"}
    assert "with Eve" in body.decode()

    status, _, eve_body = _get(eve_path)
    assert status == 200 and _uids(eve_body) == {f"headstrt-meeting-{m}@headstrt" for m in (confirmed, other, bens)}
    assert "with Ana" in eve_body.decode() and "with Ben" in eve_body.decode()

    again, headers2, _ = _get(ana_path, {"If-None-Match": headers["ETag"]})
    assert again == 304 and headers2["ETag"] == headers["ETag"]

    for wrong in ("/calendar/" + "A" * 43 + ".ics", "/calendar/short.ics", "/calendar/%00.ics", ana_path + "x"):
        assert _get(wrong)[0] == 404

    with uow() as u:
        rotated = service.rotate_subscription(u, clock, w.ana, base_url="https://bot.example.com")
        u.commit()
    assert rotated != ana_url
    assert _get(ana_path)[0] == 404
    status, _, body = _get(rotated.removeprefix("https://bot.example.com"))
    assert status == 200 and len(_uids(body)) == 2
    server.close()


def test_tokens_are_stored_hashed_and_sealed(uow, clock):
    w = world(uow)
    with uow() as u:
        url = service.subscription_url(u, clock, w.ana, base_url="https://x.test")
        u.commit()
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    from sqlalchemy import select

    from storage.models import CalendarTokenRow

    with uow() as u:
        row = u.session.scalar(select(CalendarTokenRow))
        assert token not in (row.token_hash, row.token_sealed)


def test_the_real_web_process_serves_the_feed(tmp_path):
    """`headstrt web` with no chat configured still serves /calendar/<token>.ics next to /health."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from tests.calendars.servers import free_port

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'web.db'}", PUBLIC_URL="https://bot.example.com",
               HEADSTRT_SECRET="test-secret-for-calendars")

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=root, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("db", "upgrade")
    cli("demo")
    url = cli("calendar", "feed", "ana").strip()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        feed = httpx.get(base + url.removeprefix("https://bot.example.com"))
        assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
        assert httpx.get(base + "/calendar/" + "B" * 43 + ".ics").status_code == 404
    finally:
        process.terminate()
        process.wait(10)
