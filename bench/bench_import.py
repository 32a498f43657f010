"""The experts CSV at scale: 50,000 rows read, checked and imported in one transaction, in batches
(target: within 60 s on PostgreSQL), then the same file again (every row an update), on PostgreSQL and
SQLite. Rows are shaped like examples/experts.csv: a bio of a few sentences, three topics, a rate,
weekly hours and both chat ids.

Run standalone: python -m bench.bench_import
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine, func, select

from bench.bench_discovery import TOPICS, WORDS, ZONES
from bench.harness import postgres_available, postgres_db, sqlite_db
from core.clock import FixedClock
from core.expert_import import parse_experts_csv
from core.import_service import import_experts
from storage.models import ExpertRow
from storage.uow import SqlUnitOfWork

NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)

ROWS = 50_000
HOURS = ["Mon-Fri 09:00-12:00", "Mon-Fri 18:00-20:00; Sat 10:00-13:00", "Tue 14:00-18:00; Thu 09:00-12:00",
         "Mon, Wed, Fri 07:30-09:00"]


def sheet(rows: int = ROWS, seed: int = 5) -> str:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "handle", "slack_user_id", "telegram_user_id", "email", "timezone", "languages", "topics",
                     "headline", "bio", "pro_bono", "rate", "availability", "meeting_link"])
    for n in range(rows):
        paid = n % 3 != 0
        writer.writerow([
            f"Expert {n}", f"bench.{n}", f"U{n:010d}", str(5_000_000_000 + n), f"expert{n}@example.com",
            rng.choice(ZONES), "en, hi" if n % 5 == 0 else "en", ", ".join(rng.sample(TOPICS, 3)),
            " ".join(rng.sample(WORDS, 6)).capitalize(),
            ". ".join(" ".join(rng.sample(WORDS, 10)).capitalize() for _ in range(3)) + ".",
            "no" if paid else "yes", rng.choice(["1.5x", "2x; USD 150", "USD 120", "1x"]) if paid else "",
            rng.choice(HOURS), "https://us02web.zoom.us/j/81234567890" if n % 4 == 0 else "",
        ])
    return out.getvalue()


_T = TypeVar("_T")


def timed(fn: Callable[[], _T]) -> tuple[float, _T]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def import_once(engine: Engine, text: str) -> tuple[float, float, int]:
    """(seconds to read and check, seconds to import and commit, experts in the database)."""
    parse_s, parsed = timed(lambda: parse_experts_csv(text))
    assert parsed.ok, parsed.errors[:3]

    def load() -> None:
        with SqlUnitOfWork(engine, FixedClock(NOW)) as uow:
            outcome = import_experts(uow, parsed.records)
            assert not outcome.errors
            uow.commit()

    import_s, _ = timed(load)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(ExpertRow)).scalar_one()
    return parse_s, import_s, count


def run() -> list[tuple[str, str]]:
    text = sheet()
    rows: list[tuple[str, str]] = [("sheet", f"{ROWS:,} rows, {len(text) / 1e6:.1f} MB")]
    targets = [("PostgreSQL", postgres_db)] if postgres_available() else []
    targets.append(("SQLite", sqlite_db))
    for name, database in targets:
        with database() as engine:
            parse_s, import_s, count = import_once(engine, text)
            rows.append((f"{name}: first import (all new)",
                         f"read and check {parse_s:.1f} s + import {import_s:.1f} s = {parse_s + import_s:.1f} s "
                         f"({count:,} experts)"))
            parse_s, import_s, count = import_once(engine, text)
            rows.append((f"{name}: the same file again (all updates)",
                         f"read and check {parse_s:.1f} s + import {import_s:.1f} s = {parse_s + import_s:.1f} s "
                         f"({count:,} experts)"))
    return rows


if __name__ == "__main__":
    for label, value in run():
        print(f"- {label}: {value}")
