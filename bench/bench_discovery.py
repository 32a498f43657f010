"""Discovery over 10,000 experts with filters, from the database (target: <= 20 ms).

Run standalone: python -m bench.bench_discovery
"""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert

from bench.harness import postgres_available, postgres_db, sqlite_db, time_ms
from core.clock import FixedClock
from core.discovery import SearchFilters, SearchQuery, expert_terms
from core.discovery_service import search_experts
from storage.models import ExpertLanguageRow, ExpertRow, ExpertTermRow, MeetingRow, BookingRow, PersonRow, WeeklyWindowRow
from storage.uow import SqlUnitOfWork

EXPERTS = 10_000
NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)
TOPICS = ["Fundraising", "Pricing", "B2B SaaS", "Go-to-market", "Hiring", "Product management", "UX research",
          "Legal", "Marketing", "Sales", "Growth", "Engineering leadership", "Data science", "Fintech", "Climate",
          "Healthcare", "Marketplaces", "Community", "Brand", "Operations", "Supply chain", "Hardware", "AI", "Security"]
WORDS = ("helping founders build scale startup teams customers revenue strategy seed series product market "
         "enterprise consumer mobile platform growth retention churn onboarding pipeline partnerships").split()
ZONES = ["Asia/Kolkata", "Australia/Sydney", "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Africa/Lagos",
         "Asia/Singapore", "Europe/London", "America/Los_Angeles", "Asia/Tokyo"]
QUERIES = [
    ("pricing for B2B SaaS", SearchFilters(pro_bono=False, max_multiplier=Decimal("2"), language="en")),
    ("fundraising", SearchFilters(free_within_days=7)),
    ("hiring engineering leadership", SearchFilters(min_rating=Decimal("4"))),
    ("go-to-market for marketplaces", SearchFilters(language="hi", pro_bono=True)),
]


def populate(engine: Engine, experts: int = EXPERTS, seed: int = 11) -> None:
    """Bulk rows straight into the tables (the import path is too slow for 10k in a benchmark)."""
    rng = random.Random(seed)
    persons, rows, terms, langs, windows, bookings, meetings = [], [], [], [], [], [], []
    for i in range(1, experts + 1):
        topics = rng.sample(TOPICS, 3)
        headline = " ".join(rng.sample(WORDS, 5))
        bio = " ".join(rng.sample(WORDS, 15))
        paid = rng.random() < 0.6
        persons.append({"id": i, "handle": f"x{i}", "name": f"Expert {i}", "timezone": rng.choice(ZONES), "locale": "en",
                        "is_staff": False})
        count = rng.randint(0, 40)
        rows.append({"id": i, "person_id": i, "kind": "compensated" if paid else "pro_bono", "headline": headline,
                     "bio": bio, "topics": "\n".join(topics), "languages": "en,hi" if i % 5 == 0 else "en",
                     "rate_multiplier": Decimal(rng.choice(["1", "1.25", "1.5", "2", "3"])) if paid else Decimal(1),
                     "meeting_provider": "built_in", "rating_sum": count * rng.randint(3, 5), "rating_count": count,
                     "session_count": count, "min_notice_minutes": 720, "horizon_days": 60, "buffer_minutes": 0,
                     "active": True})
        for term, weight in expert_terms(topics, headline, bio).items():
            terms.append({"expert_id": i, "term": term[:64], "weight": weight})
        langs.append({"expert_id": i, "code": "en"})
        if i % 5 == 0:
            langs.append({"expert_id": i, "code": "hi"})
        days = rng.sample(range(7), rng.randint(1, 5))
        for d in days:
            start = rng.choice([8, 9, 10, 14, 18]) * 60
            windows.append({"expert_id": i, "weekday": d, "start_minute": start, "end_minute": start + 180})
        if i % 10 == 0:  # some are busy this week
            bookings.append({"id": i, "client_id": 1, "expert_id": i, "status": "accepted", "title": "t", "outcome": "o",
                             "context": "", "intro_note": "", "attachments": "", "price_milli": 0,
                             "created_at": NOW, "expires_at": NOW, "decline_reason": "", "proposed_by_expert": False,
                             "version": 1})
            meetings.append({"booking_id": i, "expert_id": i, "starts_at": NOW + timedelta(days=1, hours=9),
                             "ends_at": NOW + timedelta(days=1, hours=10), "status": "confirmed", "price_milli": 0,
                             "reschedule_count": 0, "ics_sequence": 0})
    with engine.begin() as conn:
        for table, data in ((PersonRow, persons), (ExpertRow, rows), (ExpertTermRow, terms), (ExpertLanguageRow, langs),
                            (WeeklyWindowRow, windows), (BookingRow, bookings), (MeetingRow, meetings)):
            for k in range(0, len(data), 5000):
                conn.execute(insert(table), data[k:k + 5000])
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        # Steady state, as autovacuum leaves a table: statistics and a visibility map for index-only scans.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def measure(engine: Engine, runs: int = 60) -> list[tuple[str, str]]:
    clock = FixedClock(NOW)
    uow = SqlUnitOfWork(engine, clock)
    rows = []
    for intent, filters in QUERIES:
        query = SearchQuery(intent, filters, 10)

        def once() -> object:
            with uow:
                return search_experts(uow.experts, clock, query)

        p50, p99 = time_ms(once, runs)
        with uow:
            found = len(search_experts(uow.experts, clock, query))
        rows.append((f"discovery '{intent}' {_describe(filters)}", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({found} shown)"))
    return rows


def _describe(filters: SearchFilters) -> str:
    """The filters that differ from the defaults, e.g. [pro_bono=False, language=en]."""
    parts = [f"{f.name}={getattr(filters, f.name)}" for f in fields(filters)
             if getattr(filters, f.name) != f.default]
    return "[" + ", ".join(parts) + "]"


def run() -> list[tuple[str, str]]:
    results: list[tuple[str, str]] = []
    with sqlite_db() as engine:
        populate(engine)
        results += [(f"SQLite: {name}", value) for name, value in measure(engine)]
    if postgres_available():
        with postgres_db() as engine:
            populate(engine)
            results += [(f"PostgreSQL: {name}", value) for name, value in measure(engine)]
    else:
        results.append(("PostgreSQL discovery", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
    return results


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
