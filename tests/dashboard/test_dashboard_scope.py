"""The dashboard over real HTTP, on SQLite and PostgreSQL: sign-in by a one-time link, a session cookie,
CSRF on every form, and a staff member of one programme who can neither see nor change the other."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from core.credits import Source
from core.signin import LINK_TTL
from tests.dashboard.harness import RunningDashboard
from tests.staff_world import two_programmes


def company_available(uow, company_id: int) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.credits.wallet(source=Source.PROGRAMME, company_id=company_id, create=False).available


@pytest.fixture
def world(uow, clock):  # type: ignore[no-untyped-def]
    return two_programmes(uow, clock)


def test_staff_of_one_programme_see_and_act_only_on_theirs(uow, clock, world):
    a, b = world
    with RunningDashboard(uow, clock) as dash:
        sam = dash.browser()
        page = sam.sign_in(dash.link(a.staff))
        assert page.status == 200 and page.url.endswith("/dashboard/sessions")
        for path in ("/dashboard/sessions?show=all", "/dashboard/triage", "/dashboard/credits", "/dashboard/experts",
                     "/dashboard/sessions.csv?show=all", "/dashboard/triage.csv", "/dashboard/credits.csv?table=founders",
                     "/dashboard/experts.csv"):
            text = sam.get(path).text
            assert "Autumn" not in text and "Beta" not in text and "Ola" not in text and "@max" not in text, path
        assert "Seed round plan" in sam.get("/dashboard/sessions").text
        assert "Seed round plan (follow-up)" in sam.get("/dashboard/triage").text
        for path in (f"/dashboard/sessions?programme={b.programme}", f"/dashboard/credits?programme={b.programme}",
                     f"/dashboard/sessions?company={b.company}", f"/dashboard/sessions?expert={b.expert}",
                     f"/dashboard/charts/sessions.svg?programme={b.programme}"):
            assert sam.get(path).status == 403, path
        csrf = sam.get("/dashboard/credits").csrf()
        attempt = sam.get("/dashboard/credits").field("attempt")
        before = company_available(uow, b.company)
        page = sam.post("/dashboard/credits/change", {"csrf": csrf, "attempt": attempt, "target": f"c{b.company}",
                                                      "source": "programme", "amount": "5", "do": "grant"})
        assert "That belongs to a programme you are not staff of." in page.text
        page = sam.post(f"/dashboard/triage/{b.waiting}/approve", {"csrf": csrf})
        assert "not staff of" in page.text
        page = sam.post(f"/dashboard/experts/{b.expert}/pause", {"csrf": csrf})
        assert "not staff of" in page.text
        assert company_available(uow, b.company) == before
        with uow() as u:
            assert u.bookings.get(b.waiting).status.value == "awaiting_triage"
            assert u.experts.get(b.expert).paused_at is None
        sam.close()


def test_grant_once_approve_and_pause_through_the_core(uow, clock, world):
    a, _b = world
    told: list[str] = []
    with RunningDashboard(uow, clock, notify=lambda u, key, actor: told.extend(e.name for e in u.events)) as dash:
        sam = dash.browser()
        sam.sign_in(dash.link(a.staff))
        page = sam.get("/dashboard/credits")
        form = {"csrf": page.csrf(), "attempt": page.field("attempt"), "target": f"c{a.company}",
                "source": "programme", "amount": "2.5", "do": "grant"}
        before = company_available(uow, a.company)
        assert "Granted 2.5 credits." in sam.post("/dashboard/credits/change", form).text
        assert "That was done already" in sam.post("/dashboard/credits/change", form).text  # a double submit
        assert company_available(uow, a.company) == before + 2500
        too_much = dict(form, attempt=sam.get("/dashboard/credits").field("attempt"), amount="999", do="revoke")
        assert "Only 6 credits can be taken back" in sam.post("/dashboard/credits/change", too_much).text
        one = dict(form, attempt=sam.get("/dashboard/credits").field("attempt"), amount="1")
        assert "Granted 1 credit." in sam.post("/dashboard/credits/change", one).text  # not "1 credits"
        assert "Approved" in sam.post(f"/dashboard/triage/{a.waiting}/approve", {"csrf": page.csrf()}).text
        assert told == ["booking_requested"]  # the expert is sent the request
        assert "Paused" in sam.post(f"/dashboard/experts/{a.expert}/pause", {"csrf": page.csrf()}).text
        assert "paused" in sam.get("/dashboard/experts").text
        rows = list(csv.reader(io.StringIO(sam.get("/dashboard/credits.csv?table=companies").text.lstrip("\ufeff"))))
        assert rows[0][:3] == ["programme", "company", "allocated"] and rows[1][1] == "Acme"
        sam.close()


def test_links_sessions_and_forms_are_refused_when_they_should_be(uow, clock, world):
    a, _b = world
    with RunningDashboard(uow, clock) as dash:
        nobody = dash.browser()
        page = nobody.get("/dashboard/sessions")
        assert page.status == 401 and "Type /dashboard" in page.text  # no session
        assert nobody.get("/dashboard/sessions.csv").status == 401
        assert nobody.get("/dashboard/charts/credits.svg").status == 401

        link = dash.link(a.staff)
        first = dash.browser()
        assert first.sign_in(link).status == 200
        second = dash.browser()
        assert second.sign_in(link).status == 403  # a link works once

        stale = dash.link(a.staff)
        clock.advance(LINK_TTL + timedelta(seconds=1))
        late = dash.browser()
        assert late.sign_in(stale).status == 403  # and only for 15 minutes
        assert late.get("/dashboard/sessions").status == 401

        assert first.get("/dashboard/sessions").status == 200
        page = first.get("/dashboard/credits")
        form = {"attempt": page.field("attempt"), "target": f"c{a.company}", "source": "programme", "amount": "1",
                "do": "grant"}
        before = company_available(uow, a.company)
        assert first.post("/dashboard/credits/change", dict(form, csrf="forged")).status == 403
        assert first.post("/dashboard/credits/change", form).status == 403  # no token at all
        assert first.post("/dashboard/credits/change", dict(form, csrf=page.csrf()),
                          origin="https://evil.example").status == 403  # another site's form
        assert company_available(uow, a.company) == before

        # The sign-in form itself: without the cookie the page set, a posted link is refused (login CSRF).
        fresh = dash.link(a.staff)
        token = fresh.rsplit("/", 1)[1]
        assert dash.browser().post("/dashboard/login", {"token": token, "nonce": "guess"}).status == 403

        assert first.post("/dashboard/logout", {"csrf": "forged"}).status == 403
        page = first.post("/dashboard/logout", {"csrf": page.csrf()})
        assert page.status == 200 and "signed out" in page.text
        assert first.get("/dashboard/sessions").status == 401
        for b in (nobody, first, second, late):
            b.close()


def test_every_user_string_is_escaped_and_csv_cells_cannot_become_formulas(uow, clock, world):
    a, _b = world
    with uow() as u:
        booking = u.bookings.get(a.confirmed)
        from dataclasses import replace

        booking.details = replace(booking.details, title="<script>alert(1)</script>")
        u.bookings.save(booking)
        person = u.people.get(a.founder)
        u.people.save(replace(person, name="=HYPERLINK(\"x\")"))
        u.commit()
    with RunningDashboard(uow, clock) as dash:
        sam = dash.browser()
        sam.sign_in(dash.link(a.staff))
        page = sam.get("/dashboard/sessions")
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        rows = list(csv.reader(io.StringIO(sam.get("/dashboard/sessions.csv").text.lstrip("\ufeff"))))
        assert rows[1][6] == "'=HYPERLINK(\"x\")"
        svg = sam.get("/dashboard/charts/sessions.svg")
        assert svg.headers["Content-Type"].startswith("image/svg+xml") and "<svg" in svg.text
        sam.close()


def test_the_session_cookie_is_secure_when_served_over_https(uow, clock, world):
    import asyncio

    import aiohttp
    from aiohttp import web

    from bot.dashboard import mount
    from bot.dashboard.config import DashboardConfig
    from tests.adapters.slack.harness import free_port

    a, _b = world
    port = free_port()

    async def main() -> str:
        app = web.Application()
        mount(app, DashboardConfig(uow, clock, "https://dash.example.com", lambda u, k, actor: None))
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            with uow() as u:
                from core.signin import issue_signin_link

                token = issue_signin_link(u, clock, person_id=a.staff)
                u.commit()
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                async with http.get(f"http://127.0.0.1:{port}/dashboard/login/{token}") as page:
                    nonce = page.cookies["headstrt_login"].value
                async with http.post(f"http://127.0.0.1:{port}/dashboard/login", data={"token": token, "nonce": nonce},
                                     headers={"Origin": "https://dash.example.com", "Cookie": f"headstrt_login={nonce}"},
                                     allow_redirects=False) as answer:
                    assert answer.status == 303
                    return answer.headers.getall("Set-Cookie")[0]
        finally:
            await runner.cleanup()

    cookie = asyncio.run(main())
    assert cookie.startswith("headstrt_session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/dashboard"):
        assert attribute in cookie, cookie
