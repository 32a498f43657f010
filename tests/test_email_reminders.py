"""The reminder email 24 h before a meeting, through the real scheduler job, the outbox's email pump and a
real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL: in the reader's language with both zones,
the join link and the meeting's invite (its UID and SEQUENCE); once, whatever runs twice; none for a cancelled
meeting, a new one for a moved meeting; a server that is down retried; the opt-out in /settings respected."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from icalendar import Calendar
from sqlalchemy import select

from core.booking_service import DEFAULT_POLICY
from core import booking_service
from core.model import Person
from core.sessions import MeetingRequest, SessionDetails
from bot.adapters.console.chat import ConsoleChat
from bot.delivery import OutboxPump
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.notifications import event_notices
from bot.replies import FileOut
from bot.router import Router
from bot.scheduler import Jobs, SchedulerSettings
from storage.models import OutboxRow
from tests import factories as f
from tests.test_email import free_port, sender_for, smtp  # noqa: F401 - smtp: the server fixture

TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)  # 11:00 in Madrid, 10:00 in London
DAY = timedelta(hours=24)


class World:
    def __init__(self, uow, clock, *, email_enabled: bool = True) -> None:  # type: ignore[no-untyped-def]
        self.uow, self.clock = uow, clock
        self.dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]), email_enabled=email_enabled)
        with uow() as u:
            eve = f.expert(u, "eve")
            eve_person = u.people.get(eve.person_id)
            eve_person.email = "eve@example.test"
            u.people.save(eve_person)
            marta = u.people.add(Person(None, "marta", "Marta", timezone="Europe/Madrid", locale="es",
                                        email="marta@example.test"))
            f.credits(u, amount="10", person_id=marta.id)
            u.commit()
            self.eve, self.eve_person, self.marta = eve.id, eve.person_id, marta.id

    def jobs(self) -> Jobs:
        return Jobs(self.dispatcher, SchedulerSettings())

    def accept(self, start: datetime = TUE_10) -> tuple[int, int]:
        """Marta's request, accepted by Eve; the confirmations (by chat and email) queued as the chat does."""
        with self.uow() as u:
            booking = booking_service.request_booking(
                u, self.clock, client_id=self.marta, expert_id=self.eve, meetings=[MeetingRequest(start, 60)],
                details=SessionDetails("Seed deck review", "A deck I can send to five investors"),
                policy=booking_service.DEFAULT_POLICY)
            booking_service.accept(u, self.clock, booking_id=booking.id, actor_id=self.eve_person)
            for notice in event_notices(u, u.events, key_prefix=f"accept{booking.id}", actor_id=self.eve_person):
                self.dispatcher.queue_notice(u, notice)
            u.commit()
            return booking.id, booking.meetings[0].id

    def reminder_rows(self) -> list[OutboxRow]:
        with self.uow() as u:
            rows = list(u.session.scalars(select(OutboxRow).where(OutboxRow.key.startswith("email:mailremind:"))
                                          .order_by(OutboxRow.id)))
            u.session.expunge_all()
            return rows


def deliver(uow, port: int, **options: object) -> OutboxPump:  # type: ignore[no-untyped-def]
    """One run of the email pump, as the scheduler process runs it (every due row, then marked)."""
    pump = OutboxPump(uow, sender_for(port), **options)  # type: ignore[arg-type]

    async def run() -> None:
        await pump.deliver()
        await pump.drain()

    asyncio.run(run())
    return pump


def reminders(mails: list[EmailMessage]) -> dict[str, EmailMessage]:
    """The reminder mails by recipient (the confirmations carry a "Confirmed" subject)."""
    return {m["To"]: m for m in mails if "Confirm" not in m["Subject"]}


def invite_of(mail: EmailMessage) -> tuple[str, int, str, str]:
    (attachment,) = mail.iter_attachments()
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"]), event.decoded("DTSTART").isoformat()


def body(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_the_reminder_arrives_24_hours_before_in_spanish_with_the_invite(uow, clock, smtp):  # noqa: F811
    handler, port = smtp
    w = World(uow, clock)
    booking_id, meeting_id = w.accept()
    deliver(uow, port)  # the confirmations
    confirmations = {m["To"]: m for m in handler.mails}
    assert set(confirmations) == {"marta@example.test", "eve@example.test"}
    handler.mails.clear()

    jobs = w.jobs()
    clock.set(TUE_10 - DAY - timedelta(seconds=1))
    assert jobs.tick().emailed == 0
    clock.set(TUE_10 - DAY)
    assert jobs.tick().emailed == 2
    deliver(uow, port)
    mails = reminders(handler.mails)
    assert set(mails) == {"marta@example.test", "eve@example.test"} and len(handler.mails) == 2

    marta = mails["marta@example.test"]
    assert marta["Subject"] == "Recordatorio: “Seed deck review” con Eve, mar 5 mar a las 11:00"
    text = body(marta)
    assert "mar 5 mar 2030, 11:00 (Europe/Madrid) · 10:00 (Europe/London)" in text  # Babel's Spanish date, both zones
    assert "empieza en 24 horas" in text and "/settings" in text
    assert "\nUnirse: https://meet.jit.si/headstrt-" in text
    eve = mails["eve@example.test"]
    assert eve["Subject"] == "Reminder: “Seed deck review” with Marta, Tue 5 Mar at 10:00"
    assert "Tue 5 Mar 2030, 10:00 (Europe/London) · 11:00 (Europe/Madrid)" in body(eve)

    uid = f"headstrt-meeting-{meeting_id}@headstrt"
    for to, mail in mails.items():  # the same event as the confirmation's invite: calendars keep one
        assert invite_of(mail) == invite_of(confirmations[to])
        assert invite_of(mail)[:3] == (uid, 0, "CONFIRMED") and invite_of(mail)[3] == TUE_10.isoformat()
    (marta_row,) = [r for r in w.reminder_rows() if r.chat_id == "marta@example.test"]
    summary = Calendar.from_ical(FileOut.from_dict(json.loads(marta_row.payload)["file"]).data).walk("VEVENT")[0]
    assert str(summary["SUMMARY"]) == "Seed deck review con Eve"  # the invite in her language too


def test_two_schedulers_and_repeated_ticks_send_it_once(uow, clock, smtp):  # noqa: F811
    handler, port = smtp
    w = World(uow, clock)
    w.accept()
    first, second = w.jobs(), w.jobs()  # two processes' jobs (a standby that ran before the lock, a restart)
    clock.set(TUE_10 - DAY + timedelta(minutes=5))
    assert first.tick().emailed == 2
    assert first.tick().emailed == 0 and second.tick().emailed == 0
    clock.set(TUE_10 - timedelta(hours=1))  # the 1 h chat reminder: no second email
    assert second.tick().emailed == 0
    deliver(uow, port)
    deliver(uow, port)
    assert sorted(reminders(handler.mails)) == ["eve@example.test", "marta@example.test"]
    assert len([m for m in handler.mails if "Confirm" not in m["Subject"]]) == 2


def test_none_for_a_cancelled_meeting_and_a_new_one_for_a_moved_meeting(uow, clock, smtp):  # noqa: F811
    handler, port = smtp
    w = World(uow, clock)
    booking_id, meeting_id = w.accept()
    moved = TUE_10 + DAY  # Wednesday 10:00
    with uow() as u:
        booking_service.reschedule_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking_id, meeting_id=meeting_id,
                                           actor_id=w.eve_person, new_start=moved)
        u.commit()
    jobs = w.jobs()
    clock.set(TUE_10 - DAY)
    assert jobs.tick().emailed == 0  # the old time has no reminder
    clock.set(moved - DAY)
    assert jobs.tick().emailed == 2
    deliver(uow, port)
    assert {invite_of(m)[1:] for m in reminders(handler.mails).values()} == {(1, "CONFIRMED", moved.isoformat())}

    second_id, second_meeting = w.accept(TUE_10 + 2 * DAY)
    with uow() as u:
        booking_service.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=second_id, meeting_id=second_meeting, actor_id=w.marta)
        u.commit()
    clock.set(TUE_10 + DAY)
    assert jobs.tick().emailed == 0
    assert {r.key.split(":")[2] for r in w.reminder_rows()} == {str(meeting_id)}


def test_a_server_that_is_down_is_retried_on_the_next_run(uow, clock, smtp, caplog):  # noqa: F811
    handler, port = smtp
    w = World(uow, clock)
    w.accept()
    deliver(uow, port)
    handler.mails.clear()
    clock.set(TUE_10 - DAY)
    assert w.jobs().tick().emailed == 2
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        down = deliver(uow, free_port())  # nothing listens there
    assert down.stats.retried == 2 and down.stats.sent == 0
    failures = [r for r in caplog.records if "retried in" in r.getMessage()]
    assert len(failures) == 2 and all("\n" not in r.getMessage() for r in failures)  # one line each
    assert all(r.sent_at is None and r.attempts == 1 and r.gave_up_at is None for r in w.reminder_rows())

    assert deliver(uow, port).stats.sent == 0  # not before its backoff
    clock.set(TUE_10 - DAY + timedelta(minutes=1))
    assert w.jobs().tick().emailed == 0  # the scheduler does not queue it again
    assert deliver(uow, port).stats.sent == 2
    assert sorted(reminders(handler.mails)) == ["eve@example.test", "marta@example.test"]
    assert all(r.sent_at is not None for r in w.reminder_rows())


def test_retries_are_bounded(uow, clock, smtp):  # noqa: F811
    w = World(uow, clock)
    w.accept()
    deliver(uow, smtp[1])  # the confirmations go; then the server is gone for good
    clock.set(TUE_10 - DAY)
    w.jobs().tick()
    dead = free_port()
    for _ in range(3):
        deliver(uow, dead, max_attempts=3)
        clock.advance(timedelta(minutes=10))  # past each backoff
    rows = w.reminder_rows()
    assert len(rows) == 2 and all(r.gave_up_at is not None and r.attempts == 3 for r in rows)
    assert deliver(uow, dead, max_attempts=3).stats.retried == 0  # given up: not tried again


def test_a_pending_reminder_of_a_meeting_cancelled_meanwhile_is_withdrawn(uow, clock, smtp):  # noqa: F811
    handler, port = smtp
    w = World(uow, clock)
    booking_id, meeting_id = w.accept()
    deliver(uow, port)
    handler.mails.clear()
    clock.set(TUE_10 - DAY)
    jobs = w.jobs()
    assert jobs.tick().emailed == 2
    deliver(uow, free_port())  # the server is down: both wait for a retry
    with uow() as u:
        booking_service.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking_id, meeting_id=meeting_id, actor_id=w.marta)
        u.commit()
    clock.set(TUE_10 - DAY + timedelta(minutes=10))
    jobs.tick()
    deliver(uow, port)
    assert reminders(handler.mails) == {}
    assert all(r.gave_up_at is not None and r.sent_at is None for r in w.reminder_rows())


def test_the_opt_out_in_settings_is_respected(uow, clock, smtp):  # noqa: F811
    handler, port = smtp
    w = World(uow, clock)
    chat = ConsoleChat(w.dispatcher, uow, "marta")
    shown = "\n".join(chat.type("/settings"))
    assert "Recordatorios por correo: activados." in shown
    said = "\n".join(chat.type("Desactivar recordatorios por correo"))
    assert "Recordatorios por correo desactivados." in said
    assert "Recordatorios por correo: desactivados." in "\n".join(chat.type("/settings"))
    with uow() as u:
        assert u.people.get(w.marta).email_reminders is False
    w.accept()
    deliver(uow, port)
    handler.mails.clear()
    clock.set(TUE_10 - DAY)
    assert w.jobs().tick().emailed == 1  # Eve still gets hers
    deliver(uow, port)
    assert sorted(reminders(handler.mails)) == ["eve@example.test"]


def test_settings_say_nothing_of_email_without_an_address(uow, clock):
    w = World(uow, clock)
    with uow() as u:
        u.people.add(Person(None, "ana", "Ana", timezone="America/New_York"))
        u.commit()
    out = "\n".join(ConsoleChat(w.dispatcher, uow, "ana").type("/settings"))
    assert "Your settings" in out and "Email reminders" not in out


def test_nothing_without_smtp(uow, clock):
    w = World(uow, clock, email_enabled=False)
    w.accept()
    clock.set(TUE_10 - DAY)
    assert w.jobs().tick().emailed == 0 and w.reminder_rows() == []
