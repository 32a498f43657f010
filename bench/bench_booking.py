"""Contended booking: 16 clients racing for one expert's slots on PostgreSQL (and SQLite for reference).

Each client keeps requesting random 30-minute slots of the same expert for a
fixed time; a slot taken by someone else is a normal answer. Reports
bookings per second and checks afterwards that no two active meetings overlap.

Run standalone: python -m bench.bench_booking
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from bench.harness import percentiles, postgres_available, postgres_db, sqlite_db
from core import booking_service as svc
from core.amounts import credits_to_milli
from core.clock import FixedClock
from core.credit_service import grant
from core.credits import Source
from core.errors import SlotUnavailable
from core.experts import Expert, ExpertKind
from core.model import Person
from core.schedule import BookingRules, Schedule, WeeklyWindow
from core.sessions import MeetingRequest, SessionDetails
from storage.models import MeetingRow
from storage.uow import SqlUnitOfWork

CLIENTS = 16
SECONDS = 5.0
NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)
DETAILS = SessionDetails("Pricing review", "A price I can test with customers")


def _setup(engine: Engine) -> tuple[int, list[int]]:
    uow = SqlUnitOfWork(engine, FixedClock(NOW))
    with uow:
        person = uow.people.add(Person(None, "busy", "Busy Expert", timezone="Europe/Berlin"))
        weekly = tuple(WeeklyWindow(d, 0, 1440) for d in range(7))
        expert = uow.experts.put(
            Expert(None, person.id, "busy", "Busy Expert", "Europe/Berlin", ExpertKind.COMPENSATED),
            Schedule("Europe/Berlin", weekly, (), BookingRules(min_notice=timedelta(hours=1), horizon=timedelta(days=60))),
        )
        clients = []
        for i in range(CLIENTS):
            c = uow.people.add(Person(None, f"c{i}", f"Client {i}"))
            grant(uow, key=f"bench:{i}", amount_milli=credits_to_milli(100_000), source=Source.INDIVIDUAL, person_id=c.id)
            clients.append(c.id or 0)
        uow.commit()
    return expert.id or 0, clients


def contend(engine: Engine, seconds: float = SECONDS) -> dict[str, float]:
    expert_id, clients = _setup(engine)
    clock = FixedClock(NOW)
    # 60 days of quarter-hour starts: plenty of contention on neighbouring and identical slots.
    starts = [NOW + timedelta(hours=2, minutes=15 * k) for k in range(4 * 24 * 14)]
    won = [0] * CLIENTS
    lost = [0] * CLIENTS
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)
    deadline = [0.0]

    def client(i: int) -> None:
        rng = random.Random(i)
        uow = SqlUnitOfWork(engine, clock)
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            start = rng.choice(starts)
            t0 = time.perf_counter()
            try:
                with uow:
                    svc.request_booking(uow, clock, client_id=clients[i], expert_id=expert_id,
                                        meetings=[MeetingRequest(start, 30)], details=DETAILS,
                                        policy=svc.DEFAULT_POLICY)
                    uow.commit()
                won[i] += 1
            except SlotUnavailable:
                lost[i] += 1
            latencies[i].append((time.perf_counter() - t0) * 1000)

    deadline[0] = time.perf_counter() + seconds + 0.05
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    overlaps = _overlaps(engine)
    p50, p99 = percentiles([x for xs in latencies for x in xs])
    return {"booked": sum(won), "refused": sum(lost), "per_second": sum(won) / seconds,
            "attempts_per_second": (sum(won) + sum(lost)) / seconds, "p50": p50, "p99": p99, "overlaps": overlaps}


def _overlaps(engine: Engine) -> int:
    with engine.connect() as conn:
        rows = conn.execute(
            select(MeetingRow.starts_at, MeetingRow.ends_at).where(MeetingRow.status.in_(["held", "confirmed"]))
            .order_by(MeetingRow.starts_at)
        ).all()
    return sum(1 for (s1, e1), (s2, e2) in zip(rows, rows[1:]) if s2 < e1)


def _row(name: str, r: dict[str, float]) -> tuple[str, str]:
    return (name, f"{r['per_second']:.0f} bookings/s ({r['attempts_per_second']:.0f} attempts/s, "
                  f"{int(r['booked'])} booked, {int(r['refused'])} refused as taken), "
                  f"latency p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms, overlaps: {int(r['overlaps'])}")


def run() -> list[tuple[str, str]]:
    results = []
    if postgres_available():
        with postgres_db() as engine:
            results.append(_row(f"PostgreSQL contended booking, {CLIENTS} clients, one expert", contend(engine)))
    else:
        results.append(("PostgreSQL contended booking", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
    with sqlite_db() as engine:
        results.append(_row(f"SQLite contended booking, {CLIENTS} clients, one expert", contend(engine)))
    return results


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
