"""The dashboard's pages and actions (aiohttp). Each request resolves the signed-in viewer and the
programmes they are staff of, and everything it reads or changes is limited to those; database work runs
in a worker thread, each action in one transaction through the same core use cases as the chat."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, pass_context

from bot.dashboard import charts, security
from bot.dashboard.config import DashboardConfig
from bot.dashboard.export import csv_response
from core import booking_service, expert_admin, support_service
from core.amounts import credits_to_milli, format_credits
from core.availability import availability_intervals, local_day_bounds
from core.credits import Source
from core.errors import DomainError
from core.lifecycle import MeetingStatus
from core.signin import Viewer, redeem_signin_link, sign_out, signed_in
from storage.dashboard_repo import Show
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

CONFIG: web.AppKey[dict[str, DashboardConfig]] = web.AppKey("dashboard_config", dict)  # built on first use
HERE = Path(__file__).resolve().parent
UTILISATION_DAYS = 28
WEEKS_BACK, WEEKS_AHEAD = 12, 4
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
_ID = re.compile(r"[0-9]{1,12}")

SHOWS = [(Show.UPCOMING.value, "Upcoming"), (Show.PAST.value, "Past"), (Show.CANCELLED.value, "Cancelled"),
         (Show.NO_SHOWS.value, "No-shows"), (Show.ALL.value, "All")]
STATUS_WORDS = {
    MeetingStatus.CONFIRMED: "confirmed", MeetingStatus.COMPLETED: "completed", MeetingStatus.CANCELLED: "cancelled",
    MeetingStatus.NO_SHOW_EXPERT: "no-show (expert)", MeetingStatus.NO_SHOW_CLIENT: "no-show (founder)",
    MeetingStatus.HELD: "requested", MeetingStatus.RELEASED: "released",
}
DONE = {
    "grant": "Granted {n} {credits}.", "revoke": "Took back {n} {credits}.", "again": "That was done already: nothing changed.",
    "pause": "Paused: no new requests, and not offered in search.", "resume": "Resumed: taking requests again.",
    "approve": "Approved: the request is now with the expert.", "unchanged": "Nothing changed.",
}
ERRORS = {
    "revoke_too_much": "Only {n} {credits} can be taken back there (held and spent credits stay).",
    "bad_amount": "Give an amount of credits between 0.001 and 100,000, like 2 or 0.5.",
    "not_staff": "That belongs to a programme you are not staff of.",
    "insufficient_credits": "There are not enough credits for that.",
    "expired": "That request has expired.",
    "form": "Something in the form was not valid. Please try again.",
}


class _Stop(Exception):
    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("stop")
        self.response = response


# ---------------------------------------------------------------- set-up


def mount(app: web.Application, config: DashboardConfig | None = None) -> None:
    """Register the dashboard under /dashboard. Without a config the web process's own is built on the first
    request (DATABASE_URL, PUBLIC_URL), so an app that never serves the dashboard opens no database for it."""
    holder: dict[str, DashboardConfig] = {}
    if config is not None:
        holder["config"] = config
    app[CONFIG] = holder
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(when=_when, credits=_credits, percent=_percent)
    app[_ENV] = env
    r = app.router
    r.add_get("/dashboard", _home)
    r.add_get("/dashboard/", _home)
    r.add_get("/dashboard/static/dashboard.css", _css)
    r.add_get("/dashboard/login/{token}", _page(_login_page))
    r.add_post("/dashboard/login", _page(_login))
    r.add_post("/dashboard/logout", _page(_logout))
    r.add_get("/dashboard/sessions", _page(_sessions))
    r.add_get("/dashboard/sessions.csv", _page(_sessions))
    r.add_get("/dashboard/credits", _page(_credits_page))
    r.add_get("/dashboard/credits.csv", _page(_credits_page))
    r.add_post("/dashboard/credits/change", _page(_credits_change))
    r.add_get("/dashboard/experts", _page(_experts))
    r.add_get("/dashboard/experts.csv", _page(_experts))
    r.add_get("/dashboard/feedback.csv", _page(_feedback_csv))
    r.add_post(r"/dashboard/experts/{expert_id:\d{1,12}}/{action:pause|resume}", _page(_expert_action))
    r.add_get("/dashboard/triage", _page(_triage))
    r.add_get("/dashboard/triage.csv", _page(_triage))
    r.add_post(r"/dashboard/triage/{booking_id:\d{1,12}}/approve", _page(_triage_approve))
    r.add_get(r"/dashboard/charts/{name:sessions|credits|experts}.svg", _page(_chart))


_ENV = web.AppKey("dashboard_templates", Environment)


def _config(request: web.Request) -> DashboardConfig:
    holder = request.app[CONFIG]
    if "config" not in holder:
        holder["config"] = DashboardConfig.from_env()
    return holder["config"]


def _page(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Security headers on every answer; a refusal as a page; a bug as a plain 500 with no traceback shown."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except _Stop as stop:
            response = stop.response
        except web.HTTPException:
            raise
        except Exception:  # noqa: BLE001 - logged with its traceback; the browser gets one sentence
            log.exception("dashboard %s %s failed", request.method, request.path)
            response = _message(request, 500, "Something went wrong", "Nothing was changed. Please try again.")
        for name, value in security.HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return wrapped


async def _home(_request: web.Request) -> web.Response:
    return _redirect("/dashboard/sessions")


async def _css(_request: web.Request) -> web.Response:
    response = web.Response(body=(HERE / "static" / "dashboard.css").read_bytes(), content_type="text/css")
    response.headers["Cache-Control"] = "max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def _db(request: web.Request, work: Callable[[SqlUnitOfWork], Any]) -> Any:
    """One unit of work in a worker thread (the event loop keeps answering Slack and Telegram meanwhile)."""
    config = _config(request)

    def run() -> Any:
        with config.uow_factory() as uow:
            return work(uow)

    return await asyncio.to_thread(run)


# ---------------------------------------------------------------- rendering


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    env = request.app[_ENV]
    text = env.get_template(template).render(**context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _message(request: web.Request, status: int, heading: str, text: str) -> web.Response:
    return _render(request, "message.html", status, heading=heading, text=text, viewer=None)


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


@pass_context
def _when(context: Any, at: datetime | None) -> str:
    if at is None:
        return ""
    return at.astimezone(ZoneInfo(context.get("zone") or "UTC")).strftime("%a %d %b %Y %H:%M")


def _credits(milli: int | None) -> str:
    return format_credits(milli or 0)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def _frame(request: web.Request, viewer: Viewer, page: str, programme_id: int | None, names: dict[int, str],
           **context: Any) -> dict[str, Any]:
    session = request.cookies.get(security.SESSION_COOKIE, "")
    flash, error = _flash(request)
    programmes = [{"id": i, "name": names.get(i, str(i))} for i in sorted(viewer.programme_ids, key=lambda i: names.get(i, ""))]
    return dict(viewer=viewer, page=page, zone=viewer.person.timezone, csrf=security.csrf_token(session),
                programmes=programmes, programme_id=programme_id, flash=flash, flash_error=error,
                query_programme=f"?programme={programme_id}" if programme_id else "",
                amp_programme=f"&programme={programme_id}" if programme_id else "", **context)


def _flash(request: web.Request) -> tuple[str, bool]:
    n = request.query.get("n", "")
    amount = format_credits(int(n)) if _ID.fullmatch(n) else ""
    noun = "credit" if amount == "1" else "credits"  # the dashboard is in English only: "1 credit", "0.5 credits"
    if request.query.get("done") in DONE:
        return DONE[request.query["done"]].format(n=amount, credits=noun), False
    code = request.query.get("error", "")
    if code:
        text = ERRORS.get(code) or ("That is no longer possible: the request or session has already moved on."
                                    if code.startswith(("booking_", "meeting_")) else "That did not work.")
        return text.format(n=amount, credits=noun), True
    return "", False


# ---------------------------------------------------------------- who is looking


async def _viewer(request: web.Request) -> Viewer:
    token = request.cookies.get(security.SESSION_COOKIE)
    config = _config(request)
    viewer = await _db(request, lambda uow: signed_in(uow, config.clock, token)) if token else None
    if viewer is None:
        response = _message(request, 401, "Please sign in",
                            "You are not signed in, or your session has ended. Type /dashboard to the bot in your "
                            "chat (Slack or Telegram) for a sign-in link.")
        if token:
            security.clear(response, security.SESSION_COOKIE)
        raise _Stop(response)
    return viewer


async def _form(request: web.Request, viewer: Viewer) -> dict[str, str]:
    """A POST from the dashboard itself: same origin and the session's CSRF token, or 403 and no change."""
    data = await request.post()
    config = _config(request)
    session = request.cookies.get(security.SESSION_COOKIE)
    sent = data.get("csrf")
    if not security.same_origin(request, config.public_url) or not security.csrf_ok(session, sent if isinstance(sent, str) else None):
        log.warning("dashboard: a form for @%s was refused (CSRF or origin)", viewer.person.handle)
        raise _Stop(_message(request, 403, "Refused",
                             "This form has expired or did not come from the dashboard, so nothing was changed. "
                             "Reload the page and try again."))
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _programme(request: web.Request, viewer: Viewer) -> int | None:
    raw = request.query.get("programme", "")
    if not raw:
        return None
    if not _ID.fullmatch(raw) or int(raw) not in viewer.programme_ids:
        raise _Stop(_message(request, 403, "Not your programme",
                             "You are not staff of that programme, so there is nothing to show."))
    return int(raw)


def _scope(viewer: Viewer, programme_id: int | None) -> frozenset[int]:
    return frozenset({programme_id}) if programme_id is not None else viewer.programme_ids


def _programme_names(uow: SqlUnitOfWork, viewer: Viewer) -> dict[int, str]:
    return {i: p.name for i, p in uow.programmes.get_many(viewer.programme_ids).items()}


# ---------------------------------------------------------------- signing in and out


async def _login_page(request: web.Request) -> web.StreamResponse:
    """A GET only shows a button: link previews and scanners that fetch the link do not use it up."""
    token = request.match_info["token"]
    if not _TOKEN.fullmatch(token):
        return _message(request, 403, "This link does not work",
                        "This sign-in link is not valid. Type /dashboard in the chat for a new one.")
    nonce = security.new_nonce()
    response = _render(request, "login.html", token=token, nonce=nonce, viewer=None)
    security.set_cookie(response, request, _config(request).public_url, security.LOGIN_COOKIE, nonce, 900)
    return response


async def _login(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    token, nonce = data.get("token"), data.get("nonce")
    config = _config(request)
    cookie = request.cookies.get(security.LOGIN_COOKIE)
    if not (isinstance(token, str) and isinstance(nonce, str) and cookie and security.csrf_ok_plain(cookie, nonce)
            and security.same_origin(request, config.public_url)):
        return _message(request, 403, "Refused", "This sign-in form did not come from this page. Open your sign-in "
                                                  "link again, or type /dashboard in the chat for a new one.")

    def redeem(uow: SqlUnitOfWork) -> str | None:
        try:
            session = redeem_signin_link(uow, config.clock, token)
        except DomainError:
            return None
        uow.commit()
        return session

    session = await _db(request, redeem)
    if session is None:
        log.info("dashboard: a used, expired or unknown sign-in link was refused")
        return _message(request, 403, "This link does not work any more",
                        "Sign-in links work once and for 15 minutes. Type /dashboard in the chat for a new one.")
    response = _redirect("/dashboard/sessions")
    security.set_session(response, request, config.public_url, session)
    security.clear(response, security.LOGIN_COOKIE)
    return response


async def _logout(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    await _form(request, viewer)
    token = request.cookies.get(security.SESSION_COOKIE)
    config = _config(request)

    def end(uow: SqlUnitOfWork) -> None:
        sign_out(uow, config.clock, token)
        uow.commit()

    await _db(request, end)
    response = _message(request, 200, "Signed out", "You are signed out. Type /dashboard in the chat to come back.")
    security.clear(response, security.SESSION_COOKIE)
    return response


# ---------------------------------------------------------------- sessions


def _day(raw: str, request: web.Request) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise _Stop(_message(request, 400, "Not a date", "Dates are written like 2030-03-04.")) from None
    if not 2000 <= day.year <= 2100:
        raise _Stop(_message(request, 400, "Not a date", "Please pick a date between 2000 and 2100."))
    return day


def _choice(request: web.Request, name: str, allowed: set[int]) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    if not _ID.fullmatch(raw) or int(raw) not in allowed:
        raise _Stop(_message(request, 403, "Not yours", "That is not in your programmes, so there is nothing to show."))
    return int(raw)


async def _sessions(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    programme_id = _programme(request, viewer)
    scope = _scope(viewer, programme_id)
    show_raw = request.query.get("show", Show.UPCOMING.value)
    if show_raw not in {s.value for s in Show}:
        raise _Stop(_message(request, 400, "Unknown view", "Choose upcoming, past, cancelled, no-shows or all."))
    show = Show(show_raw)
    zone = viewer.person.timezone
    first, last = _day(request.query.get("from", ""), request), _day(request.query.get("to", ""), request)
    clock = _config(request).clock

    def read(uow: SqlUnitOfWork) -> dict[str, Any]:
        companies = uow.dashboard.companies(scope)
        experts = uow.dashboard.experts(scope)
        company_id = _choice(request, "company", {c.id for c in companies})
        expert_id = _choice(request, "expert", {e.id for e in experts})
        rows = uow.dashboard.sessions(
            scope, show=show, now=clock.now(), company_id=company_id, expert_id=expert_id,
            start=local_day_bounds(zone, first)[0] if first else None,
            end=local_day_bounds(zone, last)[1] if last else None,
        )
        return dict(companies=companies, experts=experts, company_id=company_id, expert_id=expert_id, rows=rows,
                    names=_programme_names(uow, viewer))

    found = await _db(request, read)
    lines = [dict(start=r.start, minutes=int((r.end - r.start).total_seconds() // 60), status=STATUS_WORDS[r.status],
                  company=r.company, client=r.client, expert=r.expert, title=r.title, credits=format_credits(r.credits_milli),
                  programme=r.programme) for r in found["rows"]]
    if request.path.endswith(".csv"):
        tz = ZoneInfo(zone)
        return csv_response(f"sessions-{show.value}", [
            f"start ({zone})", f"end ({zone})", "minutes", "status", "programme", "company", "founder",
            "founder handle", "expert", "expert handle", "title", "credits", "booking id", "meeting id"], [
            [r.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"), r.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             int((r.end - r.start).total_seconds() // 60), STATUS_WORDS[r.status], r.programme, r.company, r.client,
             r.client_handle, r.expert, r.expert_handle, r.title, format_credits(r.credits_milli), r.booking_id,
             r.meeting_id] for r in found["rows"]])
    query = request.query_string
    return _render(request, "sessions.html", **_frame(
        request, viewer, "sessions", programme_id, found["names"], rows=lines, shows=SHOWS, show=show.value,
        show_label=dict(SHOWS)[show.value], companies=found["companies"], experts=found["experts"],
        company_id=found["company_id"], expert_id=found["expert_id"], date_from=first.isoformat() if first else "",
        date_to=last.isoformat() if last else "", csv_url="/dashboard/sessions.csv" + (f"?{query}" if query else ""),
    ))


# ---------------------------------------------------------------- credits


async def _credits_page(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    programme_id = _programme(request, viewer)
    scope = _scope(viewer, programme_id)

    def read(uow: SqlUnitOfWork) -> dict[str, Any]:
        return dict(companies=uow.dashboard.company_credits(scope), founders=uow.dashboard.founder_credits(scope),
                    company_options=uow.dashboard.companies(scope), founder_options=uow.dashboard.founders(scope),
                    names=_programme_names(uow, viewer))

    found = await _db(request, read)
    if request.path.endswith(".csv"):
        table = request.query.get("table", "companies")
        if table not in ("companies", "founders"):
            raise _Stop(_message(request, 400, "Unknown table", "Export companies or founders."))
        head = ["programme", "company"] + (["founder"] if table == "founders" else []) + [
            "allocated", "available", "held", "spent", "refunded"]
        return csv_response(f"credits-{table}", head, [
            [r.programme, r.company] + ([r.name] if table == "founders" else []) +
            [format_credits(v) for v in (r.allocated, r.available, r.held, r.spent, r.refunded)]
            for r in found[table]])
    return _render(request, "credits.html", **_frame(
        request, viewer, "credits", programme_id, found["names"], companies=found["companies"],
        founders=found["founders"], company_options=found["company_options"],
        founder_options=found["founder_options"], attempt=security.new_nonce()))


async def _credits_change(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    form = await _form(request, viewer)
    target, action = form.get("target", ""), form.get("do", "")
    try:
        source = Source(form.get("source", ""))
        amount = credits_to_milli(form.get("amount", "").strip().replace(",", "."))
    except ValueError:
        return _redirect("/dashboard/credits?error=bad_amount")
    attempt = form.get("attempt", "")
    if action not in ("grant", "revoke") or not re.fullmatch(r"[cp][0-9]{1,12}", target) or not _TOKEN.fullmatch(attempt):
        return _redirect("/dashboard/credits?error=form")
    owner = {"company_id" if target[0] == "c" else "person_id": int(target[1:])}
    note = form.get("note", "")[:300]
    clock = _config(request).clock
    staff_id = viewer.person.id

    def act(uow: SqlUnitOfWork) -> str:
        try:
            if action == "grant":
                done = support_service.grant_credits(uow, clock, staff_id=staff_id, amount_milli=amount, source=source,
                                                     attempt=attempt, note=note, **owner)
                result = f"done=grant&n={amount}" if done else "done=again"
            else:
                taken = support_service.revoke_credits(uow, clock, staff_id=staff_id, source=source, attempt=attempt,
                                                       amount_milli=amount, note=note, **owner)
                result = f"done=revoke&n={taken}" if taken else "done=again"
        except DomainError as error:
            available = error.context.get("available")
            return f"error={error.reason}" + (f"&n={available}" if isinstance(available, int) else "")
        except ValueError:
            return "error=form"
        uow.commit()
        log.info("dashboard: @%s %s %s %s (%s)", viewer.person.handle, action, format_credits(amount), target, source)
        return result

    return _redirect("/dashboard/credits?" + await _db(request, act))


# ---------------------------------------------------------------- experts


def _expert_rows(uow: SqlUnitOfWork, scope: frozenset[int], now: datetime) -> list[dict[str, Any]]:
    since = now - timedelta(days=UTILISATION_DAYS)
    lines = uow.dashboard.expert_lines(scope, since, now)
    schedules = uow.experts.schedules([e.expert_id for e in lines])
    rows = []
    for e in lines:
        schedule = schedules.get(e.expert_id)
        open_minutes = sum(int((b - a).total_seconds() // 60) for a, b in availability_intervals(schedule, since, now)) \
            if schedule else 0
        rows.append(dict(
            expert_id=e.expert_id, name=e.name, handle=e.handle, paused=e.paused, on_roster=e.on_roster,
            utilisation=min(e.booked_minutes / open_minutes, 1.0) if open_minutes else None,
            booked_hours=f"{e.booked_minutes / 60:.1f}", requests=e.requests, acceptance=e.acceptance,
            response="–" if e.response_hours is None else f"{e.response_hours:.1f} h", rating=e.rating,
            rating_count=e.rating_count, latest_review=e.latest_review, accepted=e.accepted, declined=e.declined,
            expired=e.expired,
        ))
    return rows


async def _experts(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    programme_id = _programme(request, viewer)
    scope = _scope(viewer, programme_id)
    clock = _config(request).clock

    def read(uow: SqlUnitOfWork) -> dict[str, Any]:
        return dict(rows=_expert_rows(uow, scope, clock.now()), names=_programme_names(uow, viewer),
                    feedback=support_service.private_feedback(uow, staff_id=viewer.person.id or 0,
                                                              programme_id=programme_id, limit=200))

    found = await _db(request, read)
    if request.path.endswith(".csv"):
        return csv_response("experts", [
            "expert", "handle", "paused", f"utilisation last {UTILISATION_DAYS} days", "booked hours", "requests",
            "accepted", "declined", "expired", "acceptance", "average answer", "rating", "ratings", "latest review"], [
            [r["name"], r["handle"], "yes" if r["paused"] else "no", _percent(r["utilisation"]), r["booked_hours"],
             r["requests"], r["accepted"], r["declined"], r["expired"], _percent(r["acceptance"]), r["response"],
             f"{r['rating']:.2f}" if r["rating"] is not None else "", r["rating_count"], r["latest_review"]]
            for r in found["rows"]])
    return _render(request, "experts.html", **_frame(request, viewer, "experts", programme_id, found["names"],
                                                     rows=found["rows"], feedback=found["feedback"]))


async def _feedback_csv(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    programme_id = _programme(request, viewer)
    zone = ZoneInfo(viewer.person.timezone)
    items = await _db(request, lambda uow: support_service.private_feedback(
        uow, staff_id=viewer.person.id or 0, programme_id=programme_id, limit=5000))
    return csv_response("feedback", [f"when ({viewer.person.timezone})", "session", "founder", "expert", "by",
                                     "stars", "review", "private note", "booking id"], [
        [f.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), f.title, f.client_name, f.expert_name,
         f"@{f.author_handle}", f.stars, f.text, f.private_note, f.booking_id] for f in items])


async def _expert_action(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    await _form(request, viewer)
    expert_id, action = int(request.match_info["expert_id"]), request.match_info["action"]
    clock = _config(request).clock

    def act(uow: SqlUnitOfWork) -> str:
        try:
            if action == "pause":
                changed = expert_admin.pause_expert(uow, clock, expert_id=expert_id, actor_id=viewer.person.id,
                                                    note="from the dashboard")
            else:
                changed = expert_admin.resume_expert(uow, clock, expert_id=expert_id, actor_id=viewer.person.id)
        except DomainError as error:
            return f"error={error.reason}"
        uow.commit()
        return f"done={action}" if changed else "done=unchanged"

    return _redirect("/dashboard/experts?" + await _db(request, act))


# ---------------------------------------------------------------- triage


async def _triage(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    programme_id = _programme(request, viewer)
    scope = _scope(viewer, programme_id)
    found = await _db(request, lambda uow: dict(rows=uow.dashboard.triage(scope), names=_programme_names(uow, viewer)))
    if request.path.endswith(".csv"):
        zone = ZoneInfo(viewer.person.timezone)
        return csv_response("triage", [f"asked ({viewer.person.timezone})", "programme", "company", "founder",
                                       "expert", "title", "outcome", f"first meeting ({viewer.person.timezone})",
                                       "meetings", "credits", "booking id"], [
            [r.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), r.programme, r.company, r.client, r.expert,
             r.title, r.outcome, r.first_start.astimezone(zone).strftime("%Y-%m-%d %H:%M"), r.meetings,
             format_credits(r.credits_milli), r.booking_id] for r in found["rows"]])
    return _render(request, "triage.html", **_frame(request, viewer, "triage", programme_id, found["names"],
                                                    rows=found["rows"]))


async def _triage_approve(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    await _form(request, viewer)
    booking_id = int(request.match_info["booking_id"])
    config = _config(request)

    def act(uow: SqlUnitOfWork) -> str:
        try:
            booking_service.triage_approve(uow, config.clock, booking_id=booking_id, staff_id=viewer.person.id or 0)
        except DomainError as error:
            return f"error={error.reason}"
        config.notify(uow, f"dashboard:approve:{booking_id}", viewer.person.id)  # the expert gets the request
        uow.commit()
        return "done=approve"

    return _redirect("/dashboard/triage?" + await _db(request, act))


# ---------------------------------------------------------------- charts


async def _chart(request: web.Request) -> web.StreamResponse:
    viewer = await _viewer(request)
    programme_id = _programme(request, viewer)
    scope = _scope(viewer, programme_id)
    name = request.match_info["name"]
    clock = _config(request).clock
    zone = ZoneInfo(viewer.person.timezone)

    def draw(uow: SqlUnitOfWork) -> str:
        now = clock.now()
        if name == "sessions":
            today = now.astimezone(zone).date()
            monday = today - timedelta(days=today.weekday())
            weeks = [monday + timedelta(weeks=w) for w in range(-WEEKS_BACK, WEEKS_AHEAD)]
            start = local_day_bounds(viewer.person.timezone, weeks[0])[0]
            end = local_day_bounds(viewer.person.timezone, weeks[-1] + timedelta(days=6))[1]
            counts = [0] * len(weeks)
            for at in uow.dashboard.meeting_starts(scope, start, end):
                local = at.astimezone(zone).date()
                index = (local - weeks[0]).days // 7
                if 0 <= index < len(counts):
                    counts[index] += 1
            return charts.sessions_per_week([w.strftime("%d %b") for w in weeks], counts, WEEKS_BACK)
        if name == "credits":
            companies = uow.dashboard.company_credits(scope)
            founders = uow.dashboard.founder_credits(scope)
            allocated = {c.name: c.allocated for c in companies}
            used = {c.name: 0 for c in companies}
            for f in founders:
                allocated[f.company] = allocated.get(f.company, 0) + f.allocated
                used[f.company] = used.get(f.company, 0) + f.used
            names = sorted(allocated)
            return charts.credits_by_company(names, [allocated[n] / 1000 for n in names], [used.get(n, 0) / 1000 for n in names])
        rows = _expert_rows(uow, scope, now)
        rows = [r for r in rows if r["utilisation"] is not None]
        return charts.utilisation([r["name"] for r in rows], [r["utilisation"] for r in rows])

    svg = await _db(request, draw)
    return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8")
