"""What the kill -9 tests read once everything settled: the stored events, the inbox, the outbox."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text

from storage.db import make_engine


@dataclass(frozen=True)
class Settled:
    stored: list[tuple[str, str]]  # (event_key, status) of every stored event
    processed: set[str]  # the dispatcher's inbox: each event id that took effect
    rows: Counter[str]  # outbox rows per chat
    keys: set[str]  # outbox keys
    unsent: int


def wait_until_settled(url: str, timeout: float = 60) -> Settled:
    """Poll until no stored event is unfinished and the outbox holds nothing unsent (or `timeout`)."""
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(text("SELECT count(*) FROM inbound_events WHERE status != 'done'")).scalar()
                unsent = conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar()
            if pending == 0 and unsent == 0:
                break
            time.sleep(0.1)
        with engine.connect() as conn:
            return Settled(
                [(str(r[0]), str(r[1])) for r in conn.execute(text("SELECT event_key, status FROM inbound_events"))],
                {str(r[0]) for r in conn.execute(text("SELECT event_id FROM processed_events"))},
                Counter(str(r[0]) for r in conn.execute(text("SELECT chat_id FROM outbox"))),
                {str(r[0]) for r in conn.execute(text("SELECT key FROM outbox"))},
                int(conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar() or 0),
            )
    finally:
        engine.dispose()
