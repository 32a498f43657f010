"""Files arrive as files: a deck attached on Slack reaches an expert on Telegram as a document with the same
bytes and the reverse (the real adapters against the fakes), refusals say why and store nothing, a file too
big for the recipient's platform becomes a link that opens only after signing in by it and only for the
session's people, a mail carries the files, and the scheduler deletes them with the booking's retention."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.dispatcher import Dispatcher
from bot.email import EmailSender, SmtpSettings
from bot.files import outgoing
from bot.files.intake import FileIntake
from bot.files.outgoing import FileReader
from bot.files.store import FileStore
from bot.files.web import FilesConfig, mount
from bot.flows import all_flows
from bot.notifications import event_notices
from bot.router import Router
from bot.scheduler import Jobs, SchedulerSettings
from bot.settings import FileSettings, file_settings
from core import booking_service
from core.errors import NotAllowed
from core.files import attach_to_booking, issue_link, ref, sniff
from core.reminders import parse_offsets
from core.sessions import MeetingRequest, SessionDetails
from core.signin import token_hash
from tests import factories as f
from tests.adapters.slack.harness import RunningSlack, SlackUser, free_port
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.adapters.telegram.test_telegram_booking import book_eve as book_eve_on_telegram
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import FakeTelegram
from tests.flows.test_book import world
from tests.test_email import TUE_10, Collector, free_port as smtp_port, mail_rows, setup_people
from aiosmtpd.controller import Controller

ANA_SLACK, EVE_SLACK = "U0ANA", "U0EVE"
ANA_TG, EVE_TG, MAL_TG = 7101, 7102, 7103
DECK = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n"


# ---------------------------------------------------------------- what a file is


def test_kinds_are_read_from_the_first_bytes_not_the_name():
    assert sniff(DECK, "deck.pdf") == "application/pdf"
    assert sniff(DECK, "deck.txt") == "application/pdf"  # a PDF by any name
    assert sniff(b"\x89PNG\r\n\x1a\n....", "shot.png") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0....", "me.jpg") == "image/jpeg"
    assert sniff(b"PK\x03\x04....", "deck.pptx").startswith("application/vnd.openxmlformats")  # type: ignore[union-attr]
    assert sniff(b"PK\x03\x04....", "bundle.zip") == "application/zip"
    assert sniff("Notes: café\n".encode(), "notes.txt") == "text/plain; charset=utf-8"
    assert sniff(b"MZ\x90\x00\x03 an executable", "deck.pdf") is None
    assert sniff(b"#!/bin/sh\nrm -rf /\n", "run.sh") is None
    assert sniff(b"text with a \x00 NUL", "notes.txt") is None
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "old.doc") == "application/msword"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "setup.msi") is None


def test_settings_have_defaults_and_refuse_nonsense(tmp_path):
    default = file_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/data/headstrt.db"})
    assert default.directory == tmp_path / "data" / "headstrt-files"
    assert default.max_bytes == 20 * 1024 * 1024 and default.retention == timedelta(days=90)
    assert file_settings({"DATABASE_URL": "postgresql://u@h/db"}).directory == Path("headstrt-files")
    chosen = file_settings({"HEADSTRT_FILES_DIR": "/srv/files", "HEADSTRT_MAX_FILE_MB": "5",
                            "HEADSTRT_FILE_RETENTION_DAYS": "30"})
    assert (chosen.directory, chosen.max_bytes, chosen.retention) == (Path("/srv/files"), 5 * 1024 * 1024,
                                                                      timedelta(days=30))
    for bad in ({"HEADSTRT_MAX_FILE_MB": "0"}, {"HEADSTRT_MAX_FILE_MB": "big"}, {"HEADSTRT_FILE_RETENTION_DAYS": "-1"}):
        with pytest.raises(ValueError):
            file_settings(bad)


# ---------------------------------------------------------------- across platforms


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(private_limit=None) as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def founders(uow, *, ana_on: str, eve_on: str):  # type: ignore[no-untyped-def]
    """The book-test world: Ana (a founder with programme credits) and Eve (a paid expert), each on one chat."""
    w = world(uow)
    with uow() as u:
        ana = u.people.get(w.ana)
        u.people.save(dataclasses.replace(ana, slack_user_id=ANA_SLACK if ana_on == "slack" else None,
                                          telegram_user_id=ANA_TG if ana_on == "telegram" else None))
        eve = u.people.get(w.eve_person)
        u.people.save(dataclasses.replace(eve, slack_user_id=EVE_SLACK if eve_on == "slack" else None,
                                          telegram_user_id=EVE_TG if eve_on == "telegram" else None))
        u.commit()
    return w


def book_on_slack(bot: RunningSlack, ana: SlackUser, attach: tuple[str, bytes]) -> str:
    """Ana books Eve from Slack and shares a file at the attachments step; what the file's answer said."""
    ana.command("/book", "fundraising")
    ana.tap("Book Eve")
    ana.tap("30 min · 0.5 credits")
    ana.tap("1")
    ana.tap("Tue 5 Mar")
    ana.tap("15:00")
    modal = bot.fake.modal(ANA_SLACK)
    assert modal is not None
    assert bot.fake.submit(ANA_SLACK, modal.id, {"title": "Seed plan", "outcome": "A plan for the seed round",
                                                 "intro": "", "context": ""}) == (200, None)
    bot.settle()
    out = ana._act(lambda: bot.post(bot.fake.dm_file_event(ANA_SLACK, *attach)))
    if "Attached (1 so far)" in out:
        ana.tap("Done")
        assert "Request sent to Eve" in ana.tap("Confirm")
    return out


def documents(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [m.document for m in fake.sent(chat_id) if m.document]


def test_a_deck_from_slack_arrives_as_a_document_on_telegram(uow, clock, tg, slack):
    founders(uow, ana_on="slack", eve_on="telegram")
    both = ("slack", "telegram")
    with RunningBot(tg, uow, clock, polling=True, platforms=both) as tbot, \
            RunningSlack(slack, uow, clock, platforms=both) as sbot:
        TgUser(tbot, EVE_TG, "Eve").say("/help")
        ana = SlackUser(sbot, ANA_SLACK, "Ana", tz="Asia/Kolkata")
        assert "Attached (1 so far)" in book_on_slack(sbot, ana, ("deck.pdf", DECK))
        tbot.settle()
    assert [c.method for c in slack.calls if c.method == "files.info"] == ["files.info"]  # fetched once
    card = next(m for m in tg.sent(EVE_TG) if m.text and "New session request from Ana" in m.text)
    assert "Attachments: 1" in (card.text or "")
    [document] = documents(tg, EVE_TG)
    assert document["file_name"] == "deck.pdf"
    assert tg.file_data(document["file_id"]) == DECK  # the same bytes, uploaded by sendDocument
    upload = next(c for c in tg.calls if c.method == "sendDocument")
    assert upload.status == 200 and upload.params["chat_id"] == EVE_TG
    with uow() as u:
        [stored] = u.files.for_booking(u.bookings.for_person(u.people.by_slack(ANA_SLACK).id)[0].id)
    assert (stored.name, stored.content_type, stored.size) == ("deck.pdf", "application/pdf", len(DECK))
    assert (Path(file_settings().directory) / stored.path).read_bytes() == DECK  # stored once, in the directory


def test_a_deck_from_telegram_arrives_as_a_file_on_slack(uow, clock, tg, slack):
    founders(uow, ana_on="telegram", eve_on="slack")
    both = ("slack", "telegram")
    with RunningBot(tg, uow, clock, polling=True, platforms=both) as tbot, \
            RunningSlack(slack, uow, clock, platforms=both) as sbot:
        SlackUser(sbot, EVE_SLACK, "Eve")
        ana = TgUser(tbot, ANA_TG, "Ana")
        ana.say("/help")
        book_eve_on_telegram(ana, attach=("deck.pdf", DECK))
        sbot.runtime.pump.wake()
        sbot.settle()
        eve_dm = slack.dm(EVE_SLACK)
    assert [c.method for c in tg.calls if c.method == "getFile"] == ["getFile"]
    assert any("New session request from Ana" in m.text for m in slack.messages(eve_dm))
    [shared] = slack.files(eve_dm)
    assert shared.name == "deck.pdf" and shared.data == DECK  # files_upload_v2 to Eve's DM, the same bytes
    assert any(c.method == "files.completeUploadExternal" and c.status == 200 for c in slack.calls)


def test_a_file_too_big_or_of_a_kind_not_taken_is_refused_with_a_sentence(uow, clock, tg, monkeypatch):
    monkeypatch.setenv("HEADSTRT_MAX_FILE_MB", "1")
    founders(uow, ana_on="telegram", eve_on="telegram")
    with RunningBot(tg, uow, clock, polling=True) as bot:
        ana = TgUser(bot, ANA_TG, "Ana")
        ana.say("/book fundraising")
        ana.tap("Book Eve")
        out = ana.send_file("deck.pdf", b"MZ\x90\x00 this is a program, not a deck")
        assert "I cannot take “deck.pdf”: I accept PDF, images, office documents, text files and zip archives." in out
        out = ana.send_file("huge.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1))
        assert "“huge.pdf” is too large: I take files up to 1 MB. Nothing was saved" in out
        assert "Attached" not in "\n".join(ana.screen())
    with uow() as u:
        assert u.files.get_many(list(range(1, 10))) == {}
    assert not [p for p in file_settings().directory.rglob("*") if p.is_file()]  # no bytes kept either


def test_a_deck_from_slack_too_big_for_the_workspace_is_refused_there(uow, clock, slack, monkeypatch):
    monkeypatch.setenv("HEADSTRT_MAX_FILE_MB", "1")
    founders(uow, ana_on="slack", eve_on="slack")
    with RunningSlack(slack, uow, clock) as sbot:
        ana = SlackUser(sbot, ANA_SLACK, "Ana")
        out = book_on_slack(sbot, ana, ("deck.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1)))
    assert "“deck.pdf” is too large: I take files up to 1 MB." in out
    assert not [p for p in file_settings().directory.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- the link, for a file too big to send


class Files:
    """bot.files.web served in a background loop, and browsers with their own cookie jars."""

    def __init__(self, uow: Any, clock: Any) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        app = web.Application()
        mount(app, FilesConfig(uow, clock, FileStore(file_settings().directory), self.base))
        self.runner = web.AppRunner(app)
        self.loop = asyncio.new_event_loop()
        import threading

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sessions: list[aiohttp.ClientSession] = []

    def __enter__(self) -> Files:
        self.thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        for session in self.sessions:
            self.call(session.close())
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def browser(self) -> aiohttp.ClientSession:
        async def make() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

        session = self.call(make())
        self.sessions.append(session)
        return session

    def get(self, browser: aiohttp.ClientSession, url: str) -> tuple[int, bytes, Any]:
        async def go() -> tuple[int, bytes, Any]:
            async with browser.get(url if url.startswith("http") else self.base + url) as response:
                return response.status, await response.read(), response.headers

        return self.call(go())

    def open_link(self, browser: aiohttp.ClientSession, link: str) -> tuple[int, bytes, Any]:
        """What a person does: open the link, press the button (the POST follows its redirect)."""
        status, page, _ = self.get(browser, link)
        assert status == 200, page
        token = re.search(rb'name="token" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        nonce = re.search(rb'name="nonce" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        action = re.search(rb'action="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]

        async def go() -> tuple[int, bytes, Any]:
            async with browser.post(self.base + action, data={"token": token, "nonce": nonce},
                                    headers={"Origin": self.base}) as response:
                return response.status, await response.read(), response.headers

        return self.call(go())


def test_a_file_too_big_for_telegram_becomes_a_link_that_opens_only_after_signing_in(uow, clock, tg, monkeypatch):
    w = founders(uow, ana_on="telegram", eve_on="telegram")
    monkeypatch.setitem(outgoing.PLATFORM_LIMITS, "telegram", len(DECK) - 1)  # Telegram's 50 MB, scaled down
    with uow() as u:
        programme_id = u.people.company(w.company).programme_id
        staff = f.staff(u, "sam", programme_id)
        mallory = f.person(u, "mallory")
        u.commit()
    with Files(uow, clock) as files, RunningBot(tg, uow, clock, polling=True) as bot:
        monkeypatch.setenv("PUBLIC_URL", files.base)
        TgUser(bot, EVE_TG, "Eve").say("/help")
        ana = TgUser(bot, ANA_TG, "Ana")
        book_eve_on_telegram(ana, attach=("deck.pdf", DECK))
        bot.settle()
        assert documents(tg, EVE_TG) == []  # not sent as a document: over the limit
        text = next(m.text for m in tg.sent(EVE_TG) if m.text and "too large to send here" in m.text)
        assert "“deck.pdf” (0.0 MB) is too large to send here. Open it in your browser:" in text
        link = re.search(r"http://127\.0\.0\.1:\d+/files/(\d+)\?t=[A-Za-z0-9_-]+", text)
        assert link is not None
        file_id, url = int(link.group(1)), link.group(0)

        stranger = files.browser()
        assert files.get(stranger, f"/files/{file_id}")[0] == 403  # nobody signed in: nothing
        eve = files.browser()
        status, body, headers = files.open_link(eve, url)
        assert (status, body) == (200, DECK)
        assert "deck.pdf" in headers["Content-Disposition"] and headers["X-Content-Type-Options"] == "nosniff"
        assert files.get(eve, f"/files/{file_id}")[:2] == (200, DECK)  # signed in: opens again
        assert files.open_link(files.browser(), url)[0] == 403  # the link works once: a second browser gets no
        # Someone signed in (to something of their own) who is not on this session: refused.
        nosy = files.browser()
        session = secrets.token_urlsafe(32)
        with uow() as u:
            u.signins.add_session(token_hash(session), mallory.id, clock.now(), clock.now() + timedelta(hours=1))
            u.commit()
        nosy.cookie_jar.update_cookies({"headstrt_files": session}, response_url=aiohttp.client.URL(files.base + "/files/"))
        assert files.get(nosy, f"/files/{file_id}")[0] == 403
        # The client and the programme's staff may have a link; someone else may not.
        with uow() as u:
            assert issue_link(u, clock, person_id=w.ana, file_id=file_id)
            assert issue_link(u, clock, person_id=staff.id, file_id=file_id)
            with pytest.raises(NotAllowed):
                issue_link(u, clock, person_id=mallory.id, file_id=file_id)


# ---------------------------------------------------------------- email


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = smtp_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def request_with(uow, clock, ids: dict[str, int], files: list[tuple[str, bytes]], dispatcher: Dispatcher) -> int:  # type: ignore[no-untyped-def]
    """Ana attaches the files (stored as the adapters store them) and asks Eve for a session."""
    intake = FileIntake(uow, clock, file_settings())
    refs = [ref(intake.keep(ids["ana"], name, sniff(data, name) or "", data)) for name, data in files]
    with uow() as u:
        booking = booking_service.request_booking(
            u, u.clock, client_id=ids["ana"], expert_id=ids["eve"], meetings=[MeetingRequest(TUE_10, 60)],
            details=SessionDetails("Seed deck review", "A deck I can send to five investors", attachments=tuple(refs)),
            policy=booking_service.DEFAULT_POLICY)
        attach_to_booking(u, booking)
        dispatcher.queue_notices(u, event_notices(u, u.events, key_prefix=f"req{booking.id}"))
        u.commit()
        assert booking.id is not None
        return booking.id


def send_mails(uow, port: int) -> None:  # type: ignore[no-untyped-def]
    """The email pump's sender, with the files directory, over the mails the dispatcher queued."""
    sender = EmailSender(SmtpSettings.from_url(f"smtp://127.0.0.1:{port}", "Headstrt <bot@headstrt.test>"),
                         FileReader.from_settings(uow, file_settings()))
    for row in mail_rows(uow):
        asyncio.run(sender.send(row))


def test_the_request_mail_carries_the_files_and_links_what_is_over_10_mb(uow, clock, smtp, monkeypatch):
    handler, port = smtp
    monkeypatch.setenv("PUBLIC_URL", "https://headstrt.example")
    ids = setup_people(uow)
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]), email_enabled=True)
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)  # with the deck, over one mail's 10 MB
    request_with(uow, clock, ids, [("deck.pdf", DECK), ("appendix.pdf", big)], dispatcher)
    send_mails(uow, port)
    [mail] = handler.mails
    assert isinstance(mail, EmailMessage) and handler.envelopes[0][1] == ["eve@example.test"]
    assert mail["Subject"] == "New session request from Ana."
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "deck.pdf" and attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == DECK
    body = mail.get_body(("plain",)).get_content()
    assert "“appendix.pdf” (10.0 MB) is too large to send here. Open it in your browser: " \
           "https://headstrt.example/files/" in body


def test_a_request_without_files_is_not_mailed(uow, clock, smtp):
    handler, port = smtp
    ids = setup_people(uow)
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]), email_enabled=True)
    request_with(uow, clock, ids, [], dispatcher)
    send_mails(uow, port)
    assert handler.mails == []


# ---------------------------------------------------------------- retention


def test_files_go_with_the_bookings_retention_and_abandoned_ones_sooner(uow, clock):
    ids = setup_people(uow)
    settings = FileSettings(file_settings().directory, retention=timedelta(days=90))
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]))
    booking_id = request_with(uow, clock, ids, [("deck.pdf", DECK)], dispatcher)
    intake = FileIntake(uow, clock, settings)
    abandoned = intake.keep(ids["ana"], "draft.pdf", "application/pdf", DECK)  # a draft never sent
    with uow() as u:
        [kept] = u.files.for_booking(booking_id)
    store = FileStore(settings.directory)
    jobs = Jobs(dispatcher, SchedulerSettings(parse_offsets("24h")), settings)

    clock.advance(timedelta(days=4))  # the draft's file is abandoned; the request's meeting has not even happened
    assert jobs.purge_files() == 1
    assert store.read(abandoned.path) is None and store.read(kept.path) == DECK
    clock.set(TUE_10 + timedelta(days=89))  # the meeting ended 89 days ago: kept
    assert jobs.tick().files_deleted == 0 and store.read(kept.path) == DECK
    clock.set(TUE_10 + timedelta(days=91))
    assert jobs.tick().files_deleted == 1
    assert store.read(kept.path) is None
    with uow() as u:
        assert u.files.get(kept.id or 0) is None and u.files.for_booking(booking_id) == []
