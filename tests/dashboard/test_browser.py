"""The dashboard in a real headless browser: Debian's Chromium driven by Playwright (never `playwright
install`: ./dev test installs the `chromium` package when it is missing). A real `headstrt web` process
serves the dashboard; a real `headstrt console` process is the chat that hands out the sign-in link.

Scenario: a programme set up from nothing with the command line; sign in through the link from the chat,
see a chart and a table, export CSV, grant credits, sign out; an expired or reused link, a missing session
and a forged CSRF token are refused. UPDATE_SCREENSHOT=1 writes docs/dashboard.png."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import booking_service as bs
from core.clock import FixedClock
from core.credit_service import balance
from core.credits import Source
from core.schedule import BookingRules, WeeklyWindow
from core.sessions import MeetingRequest, SessionDetails
from core.signin import LINK_TTL, issue_signin_link
from storage.db import make_engine
from storage.uow import SqlUnitOfWork
from tests import factories as f
from tests.local_http import free_port, healthy_within

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
WHY_MISSING = ROOT / ".venv" / ".chromium-missing"  # written by ./dev test when the install failed
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "docs" / "dashboard.png"


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if WHY_MISSING.exists():
        pytest.skip(f"Chromium could not be installed on this machine: {WHY_MISSING.read_text().strip()}")
    pytest.skip("/usr/bin/chromium is missing: run the tests with ./dev test, which installs Debian's chromium")


@pytest.fixture
def site(tmp_path):  # type: ignore[no-untyped-def]
    """A programme set up from nothing on a SQLite file, a web process serving it, and the console's chat."""
    _browser_or_skip()
    port = free_port()
    url = f"sqlite:///{tmp_path / 'site.db'}"
    env = {**os.environ, "DATABASE_URL": url, "PUBLIC_URL": f"http://127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("SLACK_BOT_TOKEN", None)

    def headstrt(*args: str, stdin: str = "") -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    headstrt("db", "upgrade")
    headstrt("programmes", "create", "Spring cohort", "--pairing", "self-select", "--lengths", "30,60",
             "--credits-per-founder", "2", "--credits-per-company", "10")
    headstrt("members", "import", str(ROOT / "examples" / "members.csv"))
    headstrt("experts", "import", str(ROOT / "examples" / "experts.csv"), "--programme", "Spring cohort")
    engine = make_engine(url)
    _sessions(engine)
    web = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
                           env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert healthy_within(port, 30, every=0.2), "the web process did not start"
        yield {"base": f"http://127.0.0.1:{port}", "headstrt": headstrt, "engine": engine}
    finally:
        web.terminate()
        try:
            output, _ = web.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()
            output, _ = web.communicate()
        engine.dispose()
        assert "Traceback" not in output, output


def _sessions(engine) -> None:  # type: ignore[no-untyped-def]
    """Sessions to show: some held in past weeks, some ahead, with a review."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rules = BookingRules(min_notice=timedelta(hours=1), horizon=timedelta(days=90))
    anytime = tuple(WeeklyWindow(d, 0, 24 * 60) for d in range(7))
    with SqlUnitOfWork(engine, FixedClock(now)) as u:
        expert = f.expert(u, "mentor.mia", tz="UTC", weekly=anytime, rules=rules, headline="Go-to-market")
        u.programmes.add_to_roster(u.programmes.by_name("Spring cohort").id, expert.id)
        u.commit()
    ana = ben = 0
    with SqlUnitOfWork(engine, FixedClock(now)) as u:
        ana, ben = u.people.by_handle("ana").id, u.people.by_handle("ben").id
    for n, (client, days, title) in enumerate([
        (ana, -20, "Pricing for B2B SaaS"), (ben, -13, "Hiring a first engineer"), (ana, -6, "Seed deck review"),
        (ben, 3, "Board meeting prep"), (ana, 9, "Fundraising <strategy> & \"next\" steps"),
    ]):
        start = (now + timedelta(days=days)).replace(hour=10, minute=0)
        clock = FixedClock(start - timedelta(days=2))
        with SqlUnitOfWork(engine, clock) as u:
            booking = bs.request_booking(u, clock, client_id=client, expert_id=expert.id,
                                         meetings=[MeetingRequest(start, 60 if n % 2 else 30)],
                                         details=SessionDetails(title, "A clear next step"), policy=bs.DEFAULT_POLICY)
            bs.accept(u, clock, booking_id=booking.id, actor_id=expert.person_id)
            u.commit()
        if days < 0:
            later = FixedClock(start + timedelta(hours=2))
            with SqlUnitOfWork(engine, later) as u:
                bs.complete_ended(u, later, booking_id=booking.id)
                bs.leave_review(u, booking_id=booking.id, author_id=client, stars=5 - n % 2,
                                text="Sharp and practical.", private_note="Asked about follow-ups.")
                u.commit()


def _link_from_the_chat(site) -> str:  # type: ignore[no-untyped-def]
    out = site["headstrt"]("console", "--as", "sam", stdin="/dashboard\n")
    found = re.search(r"(http://127\.0\.0\.1:\d+/dashboard/login/[A-Za-z0-9_-]+)", out)
    assert found, out
    return found.group(1)


def _company_available(engine) -> int:  # type: ignore[no-untyped-def]
    with SqlUnitOfWork(engine) as u:
        company = u.people.company_by_name("Acme Robotics")
        return u.credits.wallet(source=Source.PROGRAMME, company_id=company.id, create=False).available


def test_the_dashboard_in_a_real_browser(site, tmp_path):
    from playwright.sync_api import sync_playwright

    base, engine = site["base"], site["engine"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()

            # Sign in through the link the chat gave.
            link = _link_from_the_chat(site)
            page.goto(link)
            page.click("button:has-text('Sign in')")
            page.wait_for_url(f"{base}/dashboard/sessions")
            cookie = next(c for c in context.cookies() if c["name"] == "headstrt_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/dashboard"

            # A chart and a table.
            chart = page.locator("img[alt='Sessions per week']")
            chart.wait_for()
            assert page.evaluate("img => img.complete && img.naturalWidth > 0", chart.element_handle())
            page.select_option("select[name=show]", "all")
            page.click("button:has-text('Filter')")
            rows = page.locator("#sessions tbody tr")
            assert rows.count() == 5
            page.wait_for_function("() => { const i = document.querySelector(\"img[alt='Sessions per week']\");"
                                   " return i && i.complete && i.naturalWidth > 0; }")
            assert "Fundraising <strategy> & \"next\" steps" in page.inner_text("#sessions")  # shown as text, escaped
            if os.environ.get("UPDATE_SCREENSHOT") == "1":
                SCREENSHOT.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)

            # Export CSV: the same rows, times in the viewer's zone.
            with page.expect_download() as download:
                page.click("a.export")
            text = Path(download.value.path()).read_text(encoding="utf-8-sig")
            table = list(csv.reader(io.StringIO(text)))
            assert table[0][0] == "start (Europe/London)" and len(table) == 6
            assert {r[10] for r in table[1:]} >= {"Pricing for B2B SaaS", "Board meeting prep"}

            # Credits: the chart, then grant 2 credits to Acme Robotics.
            page.goto(f"{base}/dashboard/credits")
            assert page.evaluate("img => img.complete && img.naturalWidth > 0",
                                 page.locator("img[alt^='Credits used']").element_handle())
            before = _company_available(engine)
            page.select_option("select[name=target]", label="Acme Robotics (company)")
            page.fill("input[name=amount]", "2")
            page.click("button[value=grant]")
            page.wait_for_selector("text=Granted 2 credits.")
            assert _company_available(engine) == before + 2000

            # A forged CSRF token changes nothing.
            page.evaluate("document.querySelector('form.action input[name=csrf]').value = 'forged'")
            page.fill("input[name=amount]", "3")
            page.click("button[value=grant]")
            page.wait_for_selector("text=nothing was changed")
            assert _company_available(engine) == before + 2000

            # Experts and triage pages render for this programme; a phone screen needs no sideways scroll.
            page.goto(f"{base}/dashboard/experts")
            assert page.locator("#experts tbody tr").count() >= 10
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.add_cookies([dict(cookie)])
            mobile = phone.new_page()
            mobile.goto(f"{base}/dashboard/credits")
            assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            phone.close()

            # Sign out: the session is gone.
            page.goto(f"{base}/dashboard/sessions")
            page.click("button:has-text('Sign out')")
            page.wait_for_selector("text=You are signed out")
            response = page.goto(f"{base}/dashboard/sessions")
            assert response is not None and response.status == 401

            # The link again: used once already.
            page.goto(link)
            page.click("button:has-text('Sign in')")
            page.wait_for_selector("text=does not work any more")

            # A link older than 15 minutes.
            with SqlUnitOfWork(engine) as u:
                past = FixedClock(datetime.now(UTC) - LINK_TTL - timedelta(minutes=1))
                old = issue_signin_link(u, past, person_id=u.people.by_handle("sam").id)
                u.commit()
            page.goto(f"{base}/dashboard/login/{old}")
            page.click("button:has-text('Sign in')")
            page.wait_for_selector("text=does not work any more")

            # No session at all.
            fresh = browser.new_context().new_page()
            response = fresh.goto(f"{base}/dashboard/credits")
            assert response is not None and response.status == 401 and "Please sign in" in fresh.inner_text("h1")
        finally:
            browser.close()
    with SqlUnitOfWork(engine) as u:
        # Ana sees Acme's shared credits (with the grant) and her own founder allocation of 2.
        assert balance(u, u.people.by_handle("ana").id).available == before + 2000 + 2000
