"""Email beside the chat: the sender against a real SMTP server on loopback (aiosmtpd), what it gives up
on and what it retries, and the dispatcher queueing mail only when SMTP is set up and people have addresses."""

from __future__ import annotations

import asyncio
import json
import smtplib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from core.booking_service import DEFAULT_POLICY
from core import booking_service
from core.model import Person
from core.sessions import MeetingRequest, SessionDetails
from bot.adapters.console.chat import ConsoleChat
from bot.delivery import GiveUp, OutboxPump, Retry
from bot.dispatcher import Dispatcher
from bot.email import EmailSender, SmtpSettings, compose, email_pump, subject
from bot.flows import all_flows
from bot.notifications import event_notices
from bot.replies import FileOut, Reply
from bot.router import Router
from bot.settings import DEFAULT_SMTP_FROM, smtp_url
from storage.chat_repo import OutboxMessage
from tests import factories as f
from tests.local_http import free_port  # noqa: F401 - imported from here by other tests too

TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Headstrt//Booking assistant//EN\r\nMETHOD:REQUEST\r\n"
       b"BEGIN:VEVENT\r\nUID:headstrt-meeting-11@headstrt\r\nSUMMARY:Caf\xc3\xa9\\, plan\r\nEND:VEVENT\r\n"
       b"END:VCALENDAR\r\n")


# ---------------------------------------------------------------- an SMTP server on loopback


class Collector:
    """Accepts every mail except for the addresses it was told to refuse (with that SMTP answer)."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"




@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def sender_for(port: int) -> EmailSender:
    return EmailSender(SmtpSettings.from_url(f"smtp://127.0.0.1:{port}", "Headstrt <bot@headstrt.test>"))


def row(text: str, to: str = "ana@example.test", file: FileOut | None = None) -> OutboxMessage:
    return OutboxMessage(1, 1, "email", to, Reply(text, file=file).to_json())


# ---------------------------------------------------------------- the sender


def test_a_mail_arrives_with_subject_body_and_the_invite(smtp):
    handler, port = smtp
    text = "Confirmed: your session is booked.\n“Seed round plan”\nJoin: https://meet.jit.si/x"
    ics = FileOut("session-11.ics", "text/calendar; method=REQUEST", ICS)
    assert asyncio.run(sender_for(port).send(row(text, file=ics))) is None

    (mail,) = handler.mails
    assert handler.envelopes == [("bot@headstrt.test", ["ana@example.test"])]
    assert mail["Subject"] == "Confirmed: your session is booked."
    assert mail["To"] == "ana@example.test" and mail["From"] == "Headstrt <bot@headstrt.test>"
    assert mail["Auto-Submitted"] == "auto-generated" and mail["Message-ID"].endswith("@headstrt.test>")
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == text  # CRLF on the wire
    (attachment,) = mail.iter_attachments()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST" and attachment.get_filename() == "session-11.ics"
    assert attachment.get_content_charset() == "utf-8"
    data = attachment.get_payload(decode=True)
    assert data == ICS  # byte for byte: CRLF line ends and UTF-8 kept
    assert str(Calendar.from_ical(data).walk("VEVENT")[0]["SUMMARY"]) == "Café, plan"


def test_a_mail_without_a_file_is_plain_text(smtp):
    handler, port = smtp
    asyncio.run(sender_for(port).send(row("The meeting of “Pitch” moved to Wed.")))
    (mail,) = handler.mails
    assert mail.get_content_type() == "text/plain" and not list(mail.iter_attachments())
    assert mail["Subject"] == "The meeting of “Pitch” moved to Wed."


def test_the_subject_is_the_first_line_shortened():
    assert subject("\n  First line  \nsecond") == "First line"
    long = subject("x" * 200)
    assert len(long) == 80 and long.endswith("…")
    assert subject("", "session-1.ics") == "session-1.ics"


def test_a_refused_recipient_is_given_up_and_a_busy_one_retried(smtp):
    handler, port = smtp
    handler.refuse = {"gone@example.test": "550 5.1.1 No such user here",
                      "busy@example.test": "451 4.3.0 Mailbox busy, try later"}
    sender = sender_for(port)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as gone:
        asyncio.run(sender.send(row("Hello", to="gone@example.test")))
    assert isinstance(sender.classify(gone.value), GiveUp)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as busy:
        asyncio.run(sender.send(row("Hello", to="busy@example.test")))
    assert isinstance(sender.classify(busy.value), Retry)
    assert handler.mails == []


def test_refused_sender_or_data_follow_the_code():
    sender = sender_for(25)
    assert isinstance(sender.classify(smtplib.SMTPSenderRefused(553, b"not yours", "bot@x")), GiveUp)
    assert isinstance(sender.classify(smtplib.SMTPSenderRefused(451, b"later", "bot@x")), Retry)
    assert isinstance(sender.classify(smtplib.SMTPDataError(552, b"too big")), GiveUp)
    assert isinstance(sender.classify(smtplib.SMTPDataError(421, b"closing")), Retry)
    assert isinstance(sender.classify(smtplib.SMTPServerDisconnected("gone")), Retry)
    assert isinstance(sender.classify(TimeoutError()), Retry)
    assert isinstance(sender.classify(ValueError("a bug")), GiveUp)


def test_a_server_that_is_down_is_retried():
    sender = sender_for(free_port())  # nothing listens there
    with pytest.raises(OSError) as down:
        asyncio.run(sender.send(row("Hello")))
    assert isinstance(sender.classify(down.value), Retry)


def test_smtp_urls():
    full = SmtpSettings.from_url("smtp://me%40corp:p%3Ass@mail.example.test:587?starttls=true")
    assert (full.host, full.port, full.username, full.password) == ("mail.example.test", 587, "me@corp", "p:ss")
    assert full.starttls and not full.tls and full.sender == DEFAULT_SMTP_FROM
    assert "p:ss" not in repr(full)
    tls = SmtpSettings.from_url("smtps://me:pw@mail.example.test")
    assert tls.tls and not tls.starttls and tls.port == 465
    local = SmtpSettings.from_url("smtp://127.0.0.1:1025")
    assert (local.port, local.username, local.starttls) == (1025, "", False)
    for bad in ("http://mail.example.test", "smtp://", "smtp://h?starttls=maybe"):
        with pytest.raises(ValueError):
            SmtpSettings.from_url(bad)
    assert smtp_url({"SMTP_URL": "  "}) is None and smtp_url({}) is None
    assert EmailSender.from_env({}) is None and email_pump(lambda: None, {}) is None  # type: ignore[arg-type,return-value]
    configured = EmailSender.from_env({"SMTP_URL": "smtp://127.0.0.1:1025", "SMTP_FROM": "Ops <ops@x.test>"})
    assert configured is not None and configured.settings.sender == "Ops <ops@x.test>"


def test_a_file_reference_is_not_attached():
    mail = compose(row("See the deck", file=FileOut("deck.pdf", "application/pdf", ref="telegram:abc#deck.pdf")),
                   DEFAULT_SMTP_FROM)
    assert not list(mail.iter_attachments())


# ---------------------------------------------------------------- the dispatcher


def setup_people(uow, *, emails: bool = True) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """@ana (a client, 10 credits) asks @eve (an expert, London) for a session; both have addresses."""
    with uow() as u:
        eve = f.expert(u, "eve")
        eve_person = u.people.get(eve.person_id)
        ana = u.people.add(Person(None, "ana", "Ana", timezone="America/New_York",
                                  email="ana@example.test" if emails else None))
        if emails:
            eve_person.email = "eve@example.test"
            u.people.save(eve_person)
        f.credits(u, amount="10", person_id=ana.id)
        u.commit()
        return {"ana": ana.id, "eve": eve.id, "eve_person": eve.person_id}


def request(uow, dispatcher: Dispatcher, ids: dict[str, int]) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        booking = booking_service.request_booking(
            u, u.clock, client_id=ids["ana"], expert_id=ids["eve"], meetings=[MeetingRequest(TUE_10, 60)],
            details=SessionDetails("Seed deck review", "A deck I can send to five investors"),
            policy=booking_service.DEFAULT_POLICY)
        for notice in event_notices(u, u.events, key_prefix=f"setup{booking.id}"):
            dispatcher.queue_notice(u, notice)
        u.commit()
        return booking.id


def mail_rows(uow) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.outbox.pending("email")


def accept_in_the_console(uow, clock, *, email_enabled: bool, emails: bool = True) -> tuple[int, Dispatcher]:  # type: ignore[no-untyped-def]
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]), email_enabled=email_enabled)
    ids = setup_people(uow, emails=emails)
    booking_id = request(uow, dispatcher, ids)
    assert mail_rows(uow) == []  # a request is not a confirmation: nothing by email
    eve = ConsoleChat(dispatcher, uow, "eve")
    assert any("New session request from Ana" in line for line in eve.switch("eve"))
    out = "\n".join(eve.type("Accept"))
    assert "Confirmed: your session is booked." in out and "[file: session-1.ics]" in out  # the chat's invite
    ana = "\n".join(ConsoleChat(dispatcher, uow, "ana").switch("ana"))
    assert "Confirmed: your session is booked." in ana and "[file: session-1.ics]" in ana
    return booking_id, dispatcher


def test_accepting_queues_an_email_with_the_invite_when_email_is_on(uow, clock, smtp):
    accept_in_the_console(uow, clock, email_enabled=True)
    rows = {r.chat_id: r for r in mail_rows(uow)}
    assert set(rows) == {"ana@example.test", "eve@example.test"}
    to_ana = rows["ana@example.test"]
    assert to_ana.platform == "email"
    payload = json.loads(to_ana.payload)
    assert payload["text"].startswith("Confirmed: your session is booked.")
    assert payload["file"]["name"] == "session-1.ics" and payload["file"]["type"] == "text/calendar; method=REQUEST"
    file = FileOut.from_dict(payload["file"])
    (event,) = Calendar.from_ical(file.data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Seed deck review with Eve" and event.decoded("DTSTART") == TUE_10

    handler, port = smtp  # and the email pump delivers them
    pump = OutboxPump(uow, sender_for(port))

    async def deliver() -> int:
        sent = await pump.deliver()
        await pump.drain()  # and recorded as sent
        return sent

    assert asyncio.run(deliver()) == 2
    assert sorted(m["To"] for m in handler.mails) == ["ana@example.test", "eve@example.test"]
    assert all(m["Subject"] == "Confirmed: your session is booked." for m in handler.mails)
    assert mail_rows(uow) == []


def test_no_email_is_queued_when_email_is_off(uow, clock):
    accept_in_the_console(uow, clock, email_enabled=False)
    assert mail_rows(uow) == []


def test_no_email_without_addresses(uow, clock):
    accept_in_the_console(uow, clock, email_enabled=True, emails=False)
    assert mail_rows(uow) == []


def test_a_cancellation_sends_a_cancel_invite_to_both_chats_and_both_mailboxes(uow, clock):
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]), email_enabled=True)
    ids = setup_people(uow)
    booking_id = request(uow, dispatcher, ids)
    with uow() as u:
        booking_service.accept(u, clock, booking_id=booking_id, actor_id=ids["eve_person"])
        u.commit()
    with uow() as u:
        meeting_id = u.bookings.get(booking_id).meetings[0].id
        booking_service.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking_id, meeting_id=meeting_id, actor_id=ids["ana"])
        for notice in event_notices(u, u.events, key_prefix=uuid.uuid4().hex, actor_id=ids["ana"]):
            dispatcher.queue_notice(u, notice)
        u.commit()

    def invites(rows: list[OutboxMessage]) -> dict[str, str]:
        found = {}
        for r in rows:
            data = json.loads(r.payload)
            if data.get("file"):
                calendar = Calendar.from_ical(FileOut.from_dict(data["file"]).data)
                (event,) = calendar.walk("VEVENT")
                assert event["SEQUENCE"] == 1 and event["STATUS"] == "CANCELLED"
                found[r.chat_id] = str(calendar["METHOD"])
        return found

    with uow() as u:
        assert invites(u.outbox.pending("console")) == {"ana": "CANCEL", "eve": "CANCEL"}  # the canceller too
    rows = mail_rows(uow)
    assert invites(rows) == {"ana@example.test": "CANCEL", "eve@example.test": "CANCEL"}
    texts = {r.chat_id: json.loads(r.payload)["text"] for r in rows}
    assert texts["eve@example.test"].startswith("The meeting of “Seed deck review” on")
    assert "1 credit is back in your balance" in texts["ana@example.test"]
