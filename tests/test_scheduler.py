"""The scheduler's jobs with a controlled clock, on SQLite and PostgreSQL: reminders at the right instants
(across a DST change), moved by a reschedule and dropped by a cancellation; expiry releasing credits;
completion prompts; a crash in the middle of a batch; two schedulers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.booking_service import DEFAULT_POLICY
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from bot.scheduler import Jobs, Leadership, SchedulerSettings
from core import booking_service
from core.credit_service import balance
from core.lifecycle import BookingStatus
from core.reminders import due_reminder, parse_offsets
from core.sessions import MeetingRequest, SessionDetails
from storage.models import OutboxRow
from tests.flows.test_book import world

# Europe/London springs forward on Sunday 31 March 2030 at 01:00 UTC; Eve works 9-17 London time.
MON_1_APRIL_0900_BST = datetime(2030, 4, 1, 8, 0, tzinfo=UTC)
HOURS = timedelta(hours=1)


def jobs(uow, clock) -> Jobs:  # type: ignore[no-untyped-def]
    return Jobs(Dispatcher(uow, clock, all_flows(), Router(["console"])), SchedulerSettings(parse_offsets("24h,1h")))


def accepted(uow, clock, w, start: datetime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        booking = booking_service.request_booking(u, clock, client_id=w.ana, expert_id=w.eve,
                                                  meetings=[MeetingRequest(start, 30)],
                                                  details=SessionDetails("Seed plan", "A plan"),
                                                  policy=booking_service.DEFAULT_POLICY)
        booking_service.accept(u, clock, booking_id=booking.id, actor_id=w.eve_person)
        u.commit()
        return booking.id, booking.meetings[0].id


def reminders(uow) -> list[str]:  # type: ignore[no-untyped-def]
    with uow() as u:
        return sorted(k for k in u.session.scalars(select(OutboxRow.key)) if ":remind:" in k)


def test_the_nearest_due_offset_only_and_none_once_started():
    start = datetime(2030, 4, 1, 8, 0, tzinfo=UTC)
    offsets = parse_offsets("1h, 24h")
    assert offsets == (timedelta(hours=24), timedelta(hours=1))
    assert due_reminder(start, offsets, start - timedelta(hours=25)) is None
    assert due_reminder(start, offsets, start - timedelta(hours=24)) == timedelta(hours=24)
    assert due_reminder(start, offsets, start - timedelta(minutes=30)) == timedelta(hours=1)  # the 24 h one is past
    assert due_reminder(start, offsets, start) is None
    with pytest.raises(ValueError, match="24x"):
        parse_offsets("24x")


def test_reminders_at_the_right_instants_across_a_dst_change(uow, clock):
    w = world(uow)
    clock.set(datetime(2030, 3, 29, 12, 0, tzinfo=UTC))  # Friday, before the clocks change
    booking_id, meeting_id = accepted(uow, clock, w, MON_1_APRIL_0900_BST)
    j = jobs(uow, clock)
    clock.set(MON_1_APRIL_0900_BST - 24 * HOURS - timedelta(seconds=1))
    assert j.tick().reminded == 0
    clock.set(MON_1_APRIL_0900_BST - 24 * HOURS)  # Sunday 09:00 BST: 24 real hours, after the change
    assert j.tick().reminded == 2  # the client and the expert
    assert j.tick().reminded == 0  # a second tick: nothing twice
    clock.set(MON_1_APRIL_0900_BST - HOURS)
    assert j.tick().reminded == 2
    clock.set(MON_1_APRIL_0900_BST)
    assert j.tick().reminded == 0
    keys = reminders(uow)
    assert len(keys) == 4 and sum(":86400:" in k for k in keys) == 2 and sum(":3600:" in k for k in keys) == 2
    with uow() as u:
        first = [r.payload for r in u.session.scalars(select(OutboxRow)) if ":86400:" in r.key]
    assert all("Reschedule" in p and "Cancel" in p for p in first)
    assert any("starts in 24 hours" in p and "09:00 (Europe/London)" in p for p in first)


def test_a_reschedule_moves_the_reminders_and_a_cancellation_drops_them(uow, clock):
    w = world(uow)
    clock.set(datetime(2030, 3, 29, 12, 0, tzinfo=UTC))
    booking_id, meeting_id = accepted(uow, clock, w, MON_1_APRIL_0900_BST)
    j = jobs(uow, clock)
    clock.set(MON_1_APRIL_0900_BST - 23 * HOURS)
    assert j.tick().reminded == 2
    later = MON_1_APRIL_0900_BST + 24 * HOURS  # Tuesday 09:00
    with uow() as u:
        booking_service.reschedule_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking_id, meeting_id=meeting_id,
                                           actor_id=w.eve_person, new_start=later)
        u.commit()
    clock.set(MON_1_APRIL_0900_BST - HOURS)
    assert j.tick().reminded == 0  # the old time has no reminders any more
    clock.set(later - 24 * HOURS)
    assert j.tick().reminded == 2  # the new time gets its own
    with uow() as u:
        booking_service.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking_id, meeting_id=meeting_id, actor_id=w.eve_person)
        u.commit()
    clock.set(later - HOURS)
    assert j.tick().reminded == 0


def test_expiry_releases_the_credits_and_offers_other_experts(uow, clock):
    w = world(uow)
    with uow() as u:
        booking = booking_service.request_booking(u, clock, client_id=w.ana, expert_id=w.eve,
                                                  meetings=[MeetingRequest(datetime(2030, 3, 6, 10, 0, tzinfo=UTC), 30)],
                                                  details=SessionDetails("Seed plan", "A plan"),
                                                  policy=booking_service.DEFAULT_POLICY)
        u.commit()
        assert balance(u, w.ana).held == 500
    clock.set(booking.expires_at)
    j = jobs(uow, clock)
    assert j.tick().expired == 1 and j.tick().expired == 0
    with uow() as u:
        assert u.bookings.get(booking.id).status is BookingStatus.EXPIRED
        assert balance(u, w.ana).held == 0 and balance(u, w.ana).available == 2000
        told = [r.payload for r in u.session.scalars(select(OutboxRow)) if r.person_id == w.ana]
    assert any("expired" in p and "Find another expert" in p for p in told)


def test_ended_meetings_get_a_feedback_prompt_once(uow, clock):
    w = world(uow)
    start = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
    accepted(uow, clock, w, start)
    clock.set(start + timedelta(minutes=31))
    j = jobs(uow, clock)
    assert j.tick().completed == 1 and j.tick().completed == 0
    with uow() as u:
        prompts = [r.payload for r in u.session.scalars(select(OutboxRow)) if "How was" in r.payload]
    assert len(prompts) == 2 and all(p.count("|rev|star|") == 5 and "|ses|ns|" in p for p in prompts)


def test_a_crash_in_the_middle_of_a_batch_then_a_restart_sends_each_reminder_once(uow, clock, monkeypatch):
    monkeypatch.setattr("bot.scheduler.BATCH", 2)  # two meetings (four reminders) per transaction
    w = world(uow, credits="5")
    starts = [datetime(2030, 3, 5, 9, 0, tzinfo=UTC) + timedelta(hours=h) for h in range(6)]
    for start in starts:
        accepted(uow, clock, w, start)
    clock.set(datetime(2030, 3, 5, 8, 30, tzinfo=UTC))  # every one of them within 24 h: all due
    crashing = jobs(uow, clock)
    real = crashing.dispatcher.queue_notice
    calls = {"n": 0}

    def dies_on_the_fifth(uow_, notice):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("the process was killed")
        return real(uow_, notice)

    crashing.dispatcher.queue_notice = dies_on_the_fifth  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        crashing.tick()
    assert len(reminders(uow)) == 4  # the first transaction was committed, the second died with the process
    assert jobs(uow, clock).tick().reminded == 8  # the restarted scheduler: the rest, and nothing twice
    assert jobs(uow, clock).tick().reminded == 0
    assert len(reminders(uow)) == 12


def test_two_schedulers_at_once_act_once(uow, clock, db):
    w = world(uow)
    for h in range(4):
        accepted(uow, clock, w, datetime(2030, 3, 5, 9, 0, tzinfo=UTC) + timedelta(hours=h))
    clock.set(datetime(2030, 3, 5, 8, 30, tzinfo=UTC))
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def scheduler() -> None:
        j = jobs(uow, clock)
        barrier.wait()
        counts.append(j.tick().reminded)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 8 and len(reminders(uow)) == 8  # even without the lead, nothing twice


def test_only_one_scheduler_leads_on_postgresql_and_a_standby_takes_over(db, tmp_path, monkeypatch):
    if db.dialect.name != "postgresql":
        monkeypatch.chdir(tmp_path)  # SQLite's lock file lies next to the database
    first, second = Leadership(db), Leadership(db)
    assert first.try_acquire() and first.held()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_the_scheduler_process_ticks_through_apscheduler_and_its_job_store(uow, clock, db, tmp_path, monkeypatch):
    import asyncio

    from bot.scheduler import run

    if db.dialect.name != "postgresql":
        monkeypatch.chdir(tmp_path)
    w = world(uow)
    accepted(uow, clock, w, datetime(2030, 3, 5, 9, 0, tzinfo=UTC))
    clock.set(datetime(2030, 3, 5, 8, 30, tzinfo=UTC))
    j = Jobs(Dispatcher(uow, clock, all_flows(), Router(["console"])),
             SchedulerSettings(parse_offsets("24h,1h"), tick_seconds=0.2))

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run(db, j, stop, standby_seconds=0.1))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(reminders(uow)) == 2:
                break
        stop.set()
        await task

    asyncio.run(scenario())
    assert len(reminders(uow)) == 2
    with db.connect() as conn:  # the tick is kept in APScheduler's job store, in the product's database
        assert conn.exec_driver_sql("SELECT id FROM apscheduler_jobs").scalars().all() == ["tick"]


def test_request_expiry_is_a_setting_and_the_flow_uses_it(uow, clock):
    from bot.adapters.console.chat import ConsoleChat
    from bot.settings import policy

    assert policy({}).request_expiry == timedelta(hours=48)
    assert policy({"REQUEST_EXPIRY": "6h"}).request_expiry == timedelta(hours=6)
    with pytest.raises(ValueError):
        policy({"REQUEST_EXPIRY": "6h,1h"})
    w = world(uow)
    clock.set(datetime(2030, 3, 1, 6, 0, tzinfo=UTC))  # days before the meeting: the setting decides
    chat = ConsoleChat(Dispatcher(uow, clock, all_flows(), Router(["console"]), policy=policy({"REQUEST_EXPIRY": "6h"})),
                       uow, "ana")
    for line in ("/book fundraising", "Book Eve", "30 min · 0.5 credits", "1", "Tue 5 Mar", "15:00", "Seed plan",
                 "A plan", "Skip", "Skip", "Done", "Confirm"):
        chat.type(line)
    with uow() as u:
        [booking] = u.bookings.for_person(w.ana)
    assert booking.expires_at == clock.now() + timedelta(hours=6)


def test_more_due_meetings_than_a_page_are_all_reminded_once(uow, clock, monkeypatch):
    monkeypatch.setattr("bot.scheduler.PAGE", 2)
    monkeypatch.setattr("bot.scheduler.BATCH", 1)
    w = world(uow, credits="5")
    for h in range(5):
        accepted(uow, clock, w, datetime(2030, 3, 5, 9, 0, tzinfo=UTC) + timedelta(hours=h))
    clock.set(datetime(2030, 3, 5, 8, 30, tzinfo=UTC))
    j = jobs(uow, clock)
    assert j.tick().reminded == 10
    calls = []
    real = j._remind
    j._remind = lambda *a: calls.append(a) or real(*a)  # type: ignore[method-assign]
    assert j.tick().reminded == 0 and calls == []  # the next tick skips them without building them again
    assert len(reminders(uow)) == 10


def test_a_scheduler_without_chat_tokens_queues_reminders_for_the_chat_processes(uow, clock, monkeypatch):
    """No silent drops: a scheduler started without TELEGRAM_BOT_TOKEN or SLACK_BOT_TOKEN still queues each
    reminder for the person's chat; it waits, visible in `outbox status`, until a Telegram sender takes it."""
    from bot.router import CHAT_PLATFORMS

    w = world(uow)
    with uow() as u:
        for person_id, telegram_id in ((w.ana, 4001), (w.eve_person, 4002)):
            person = u.people.get(person_id)
            assert person is not None
            person.telegram_user_id = telegram_id
            u.people.save(person)
        u.commit()
    clock.set(datetime(2030, 3, 29, 12, 0, tzinfo=UTC))
    accepted(uow, clock, w, MON_1_APRIL_0900_BST)
    tokenless = Jobs(Dispatcher(uow, clock, all_flows(), Router([], reach_beyond=CHAT_PLATFORMS)),
                     SchedulerSettings(parse_offsets("24h,1h")))
    clock.set(MON_1_APRIL_0900_BST - 24 * HOURS)
    assert tokenless.tick().reminded == 2
    with uow() as u:
        waiting = {(r.platform, r.chat_id) for r in u.session.scalars(select(OutboxRow)) if ":remind:" in r.key}
        [status] = [s for s in u.outbox.status() if s.platform == "telegram"]
    assert waiting == {("telegram", "4001"), ("telegram", "4002")}
    assert status.pending >= 2 and status.oldest_waiting is not None
    with uow() as u:  # a Telegram process starts: its sender leases them
        taken = u.outbox.claim("telegram-sender", timedelta(minutes=1), platform="telegram")
        u.commit()
    assert {m.chat_id for m in taken} >= {"4001", "4002"}

    # Before: a router that only knew this process's (no) chats dropped the reminder for good.
    assert Router([]).address(person_of(uow, w.ana), None) is None  # type: ignore[arg-type]


def person_of(uow, person_id: int):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.people.get(person_id)


def test_finished_chat_events_are_forgotten_after_a_week_and_unfinished_ones_never(uow, clock):
    from bot.scheduler import INTAKE_KEPT
    from storage.intake_repo import NewEvent

    with uow() as u:
        done, failed, waiting = u.intake.store([NewEvent("telegram", str(n), "telegram:1", "{}") for n in range(3)])
        assert done is not None and failed is not None and waiting is not None
        u.intake.complete([done])
        u.intake.fail(failed, "poison", retry_in=None)
        u.commit()
    j = jobs(uow, clock)
    assert j.tick().events_pruned == 0  # finished just now: kept for looking into
    clock.advance(INTAKE_KEPT + HOURS)
    assert j.tick().events_pruned == 2
    with uow() as u:
        assert u.intake.counts() == {("telegram", "pending"): 1}
    assert j.tick().events_pruned == 0
