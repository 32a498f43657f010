"""A CalDAV calendar through the `caldav` library: find the calendar behind an address, read its events for
a span (expanded by us, like a feed), and put or delete our sessions' events at a fixed address per
meeting, so doing a write twice changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from caldav.elements import dav
from caldav.lib import error as caldav_error

from core.calendar_service import CalendarProblem
from bot.calendars.feeds import check_host
from bot.settings import CalendarSettings

if TYPE_CHECKING:  # caldav loads its client lazily (niquests, lxml): only when a calendar is opened
    from caldav.calendarobjectresource import CalendarObjectResource
    from caldav.collection import Calendar
    from caldav.lib.url import URL

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_CONFLICT = (403, 409, 412)  # an event with our UID lives elsewhere in the calendar (an imported invite)


@dataclass(frozen=True, slots=True)
class Written:
    href: str
    etag: str | None


def _sync(value: _T | Coroutine[Any, Any, _T]) -> _T:
    """caldav types a calendar's calls for its async client too (a coroutine); ours is the sync one."""
    assert not isinstance(value, Coroutine)
    return value


class CalDavCalendar:
    """One calendar of one account. Every failure is a CalendarProblem with a reason."""

    def __init__(self, url: str, username: str, password: str, settings: CalendarSettings,
                 calendar_url: str | None = None) -> None:
        from caldav.davclient import DAVClient  # the names caldav exports lazily are untyped

        check_host(url, settings)
        self.settings = settings
        self.client = DAVClient(url=url, username=username, password=password, enable_rfc6764=False,
                                timeout=int(max(1, settings.timeout_seconds)))
        self.url = url
        self._calendar: Calendar | None = (
            self.client.calendar(url=calendar_url) if calendar_url else None
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> CalDavCalendar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def calendar(self) -> Calendar:
        if self._calendar is None:
            self._calendar = self._guard(self._discover)
        return self._calendar

    @property
    def calendar_url(self) -> str:
        return str(self.calendar.url)

    def sync_token(self) -> str | None:
        """Changes whenever anything in the calendar changes (None when the server keeps none)."""
        def read() -> str | None:
            props = _sync(self.calendar.get_properties([dav.SyncToken()]))
            value = props.get(dav.SyncToken.tag)
            return str(value)[:300] if value else None
        return self._guard(read)

    def events(self, start: datetime, end: datetime) -> list[str]:
        """The calendar objects (VCALENDAR texts) with events in [start, end): recurring ones unexpanded."""
        def read() -> list[str]:
            found: list[CalendarObjectResource] = _sync(
                self.calendar.search(event=True, start=start, end=end, expand=False, post_filter=False))
            texts = [str(o.data) for o in found if o.data]
            if sum(len(t) for t in texts) > self.settings.max_bytes:
                raise CalendarProblem("the calendar is too large", reason="calendar_too_large")
            return texts
        return self._guard(read)

    def put(self, name: str, uid: str, ics: str, href: str | None = None) -> Written:
        """Write the event at `href` (where it was written before) or at <calendar>/<name>.ics."""
        def write() -> Written:
            target = href or str(self._calendar_url().join(quote(name) + ".ics"))
            response = self.client.put(target, ics, {"Content-Type": "text/calendar; charset=utf-8"})
            if response.status in _CONFLICT:
                existing = self._href_of(uid)
                if existing and existing != target:
                    target = existing
                    response = self.client.put(target, ics, {"Content-Type": "text/calendar; charset=utf-8"})
            if response.status not in (200, 201, 204):
                raise CalendarProblem(f"the calendar refused the event ({response.status})",
                                      reason="calendar_http_error")
            return Written(target, response.headers.get("etag"))
        return self._guard(write)

    def delete(self, href: str) -> None:
        def remove() -> None:
            try:
                response = self.client.delete(href)
            except caldav_error.NotFoundError:
                return
            if response.status not in (200, 204, 404, 410):
                raise CalendarProblem(f"the calendar refused the deletion ({response.status})",
                                      reason="calendar_http_error")
        self._guard(remove)

    # ---- inside

    def _discover(self) -> Calendar:
        """The calendar at the address given, else the account's first calendar that holds events."""
        principal = self.client.principal()
        calendars = principal.calendars()
        wanted = self.url.rstrip("/")
        for calendar in calendars:
            if str(calendar.url).rstrip("/") == wanted:
                return calendar
        for calendar in calendars:
            try:
                components = calendar.get_supported_components()
            except Exception:  # noqa: BLE001 - servers that do not say take events
                components = ["VEVENT"]
            if "VEVENT" in components:
                return calendar
        raise CalendarProblem("no calendar in this account", reason="calendar_no_calendar")

    def _calendar_url(self) -> URL:
        url = self.calendar.url
        assert url is not None  # a calendar found or given has its address
        return url

    def _href_of(self, uid: str) -> str | None:
        try:
            return str(_sync(self.calendar.event_by_uid(uid)).url)
        except Exception:  # noqa: BLE001 - not found, or a server that cannot search by UID
            return None

    def _guard(self, work: Callable[[], _T]) -> _T:
        try:
            return work()
        except CalendarProblem:
            raise
        except caldav_error.AuthorizationError:
            raise CalendarProblem("the user or app password was refused", reason="calendar_auth_failed") from None
        except caldav_error.NotFoundError:
            raise CalendarProblem("no calendar at that address", reason="calendar_no_calendar") from None
        except caldav_error.DAVError as exc:
            raise CalendarProblem(f"the calendar server said no: {str(exc)[:160]}",
                                  reason="calendar_http_error") from None
        except Exception as exc:  # noqa: BLE001 - network errors come from niquests or requests
            name = type(exc).__name__
            reason = "calendar_timeout" if "timeout" in name.lower() else "calendar_unreachable"
            log.info("caldav %s: %s: %s", self.url, name, exc)
            raise CalendarProblem(f"cannot reach the calendar: {name}", reason=reason) from None
