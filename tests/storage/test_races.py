"""Many threads against one expert and one balance: the database keeps the rules."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from core import booking_service as svc
from core.errors import InsufficientCredits, SlotUnavailable
from core.sessions import MeetingRequest, SessionDetails
from storage.models import LedgerEntryRow, MeetingRow, WalletRow
from tests import factories as f
from tests.factories import T0

THREADS = 32
DETAILS = SessionDetails("Pricing", "A price list I can test")


def _run_all(work):  # type: ignore[no-untyped-def]
    """Start every thread at the same barrier so they really race."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def runner(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_racing_bookings_of_one_expert_never_overlap(uow, clock):
    with uow() as u:
        ex = f.expert(u, "eve")
        clients = [f.person(u, f"client{i}") for i in range(THREADS)]
        for c in clients:
            f.credits(u, amount="5", person_id=c.id)
        u.commit()
    base = T0.replace(hour=9) + timedelta(days=1)  # Tuesday 09:00 London (UTC in March)

    def book(i: int) -> int:
        start = base + timedelta(minutes=15 * (i % 8))  # 8 overlapping 45-minute requests, each asked 4 times
        with uow() as u:
            b = svc.request_booking(u, clock, client_id=clients[i].id, expert_id=ex.id,
                                    meetings=[MeetingRequest(start, 45)], details=DETAILS, policy=svc.DEFAULT_POLICY)
            u.commit()
            return b.id

    results = _run_all(book)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, SlotUnavailable)]
    assert not unexpected, unexpected
    winners = [r for r in results if isinstance(r, int)]
    assert winners, "at least one booking must win"
    with uow() as u:
        rows = u.session.execute(
            select(MeetingRow.starts_at, MeetingRow.ends_at).where(MeetingRow.status == "held").order_by(MeetingRow.starts_at)
        ).all()
    assert len(rows) == len(winners)
    for (s1, e1), (s2, e2) in zip(rows, rows[1:]):
        assert e1 <= s2, f"overlap: {s1}-{e1} and {s2}-{e2}"
    # starts 09:00..10:45 with 45-minute meetings: at most 3 fit (09:00, 09:45, 10:30)
    assert 1 <= len(winners) <= 3


def test_racing_spends_of_one_balance_never_go_negative(uow, clock):
    with uow() as u:
        client = f.person(u, "ana")
        experts = [f.expert(u, f"expert{i}") for i in range(THREADS)]
        f.credits(u, amount="5", person_id=client.id)
        u.commit()
    start = T0.replace(hour=10) + timedelta(days=1)

    def book(i: int) -> int:
        with uow() as u:
            b = svc.request_booking(u, clock, client_id=client.id, expert_id=experts[i].id,
                                    meetings=[MeetingRequest(start, 60)], details=DETAILS, policy=svc.DEFAULT_POLICY)
            u.commit()
            return b.id

    results = _run_all(book)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientCredits)]
    assert not unexpected, unexpected
    assert sum(isinstance(r, int) for r in results) == 5
    with uow() as u:
        wallet = u.session.scalars(select(WalletRow)).one()
        assert (wallet.available, wallet.held) == (0, 5000)
        deltas = u.session.execute(
            select(func.sum(LedgerEntryRow.available_delta), func.sum(LedgerEntryRow.held_delta))
        ).one()
        assert tuple(deltas) == (wallet.available, wallet.held)


def test_racing_same_movement_key_applies_once(uow, clock):
    with uow() as u:
        client = f.person(u, "ana")
        u.commit()

    def grant(i: int) -> bool:
        with uow() as u:
            applied = f.grant_once(u, person_id=client.id, key="same-key")
            u.commit()
            return applied

    results = _run_all(grant)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r is True for r in results) == 1
    with uow() as u:
        assert u.session.scalar(select(WalletRow.available)) == 1000


def test_database_refuses_overlapping_active_meetings_without_the_engine(uow, clock, db):
    """The final guard is the schema itself: raw inserts that overlap are rejected."""
    with uow() as u:
        client = f.person(u, "ana")
        ex = f.expert(u, "eve")
        u.commit()
    insert = text(
        "INSERT INTO bookings (client_id, expert_id, status, title, outcome, context, intro_note, attachments, "
        "price_milli, created_at, expires_at, decline_reason, proposed_by_expert, version) "
        "VALUES (:c, :e, 'requested', 't', 'o', '', '', '', 0, :now, :now, '', false, 1)"
    )
    meeting = text(
        "INSERT INTO meetings (booking_id, expert_id, starts_at, ends_at, status, price_milli, reschedule_count, ics_sequence) "
        "VALUES (:b, :e, :s, :t, :status, 0, 0, 0)"
    )
    s = T0 + timedelta(days=1)
    params = {"c": client.id, "e": ex.id, "now": _db_time(db, T0)}
    with db.begin() as conn:
        booking_id = conn.execute(insert, params).lastrowid if db.dialect.name == "sqlite" else \
            conn.execute(text(insert.text + " RETURNING id"), params).scalar()
        conn.execute(meeting, {"b": booking_id, "e": ex.id, "s": _db_time(db, s), "t": _db_time(db, s + timedelta(minutes=30)), "status": "held"})
        # a released meeting at the same time is fine: only active ones are guarded
        conn.execute(meeting, {"b": booking_id, "e": ex.id, "s": _db_time(db, s), "t": _db_time(db, s + timedelta(minutes=30)), "status": "released"})
        # touching end to start is fine
        conn.execute(meeting, {"b": booking_id, "e": ex.id, "s": _db_time(db, s + timedelta(minutes=30)), "t": _db_time(db, s + timedelta(minutes=45)), "status": "confirmed"})
    with pytest.raises((IntegrityError, OperationalError)):
        with db.begin() as conn:
            conn.execute(meeting, {"b": booking_id, "e": ex.id, "s": _db_time(db, s + timedelta(minutes=15)),
                                   "t": _db_time(db, s + timedelta(minutes=20)), "status": "confirmed"})
    with pytest.raises((IntegrityError, OperationalError)):
        with db.begin() as conn:  # re-activating a released meeting that overlaps is refused too
            conn.execute(text("UPDATE meetings SET status = 'held' WHERE status = 'released'"))


def test_database_refuses_a_negative_balance_without_the_engine(uow, db):
    with uow() as u:
        client = f.person(u, "ana")
        f.credits(u, amount="1", person_id=client.id)
        u.commit()
    with pytest.raises(IntegrityError):
        with db.begin() as conn:
            conn.execute(text("UPDATE wallets SET available = available - 1001"))
    with pytest.raises(IntegrityError):
        with db.begin() as conn:
            conn.execute(text("UPDATE wallets SET held = -1"))


def _db_time(db, at):  # type: ignore[no-untyped-def]
    """Raw SQL bypasses the column type: SQLite stores naive UTC text, PostgreSQL takes aware values."""
    return at.replace(tzinfo=None).isoformat(sep=" ") if db.dialect.name == "sqlite" else at

