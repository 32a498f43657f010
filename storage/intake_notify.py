"""PostgreSQL's LISTEN/NOTIFY for durable intake: a worker in another process hears of a stored event at
once instead of at its next poll. The store notifies in its insert transaction (PostgreSQL delivers the
notification at commit, so nobody looks before the row is there); each worker listens on a connection of
its own. Polling stays the fallback: SQLite has no NOTIFY, and a lost connection only costs latency."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "headstrt_intake"  # the one name both sides use
_NOTIFY = text(f"NOTIFY {CHANNEL}")
RECONNECT_PAUSES = (0.5, 1.0, 2.0, 5.0, 10.0)  # after a lost connection, the last repeating


def notify_stored(session: Session) -> None:
    """In the transaction that stored events: wake the listening workers when it commits (PostgreSQL
    folds the notifications of one transaction into one; nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)


class IntakeListener:
    """A thread holding a connection of its own that LISTENs and calls `heard` (from that thread) for
    every notification; it reconnects after a failure, and stops within `tick` seconds when told."""

    def __init__(self, engine: Engine, *, tick: float = 1.0) -> None:
        self.engine = engine
        self.tick = tick
        self.listening = threading.Event()  # set while LISTEN is in effect (tests wait for it)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> IntakeListener | None:
        """A listener on PostgreSQL; None where there is no NOTIFY (SQLite: workers poll)."""
        return cls(engine) if engine.dialect.name == "postgresql" else None

    def start(self, heard: Callable[[], None]) -> None:
        """A thread with a stop of its own: one stopped just before cannot come back to life."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(heard, self._stop), name="intake-listen",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Without waiting: the thread ends at its next tick (it is a daemon, holding nothing to keep)."""
        self._stop.set()

    def _run(self, heard: Callable[[], None], stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                self._listen(heard, stop)
                failures = 0
            except Exception as error:  # noqa: BLE001 - polling covers the gap; said once per outage
                if failures == 0:
                    log.warning("intake: not listening for new events (%s); polling until back",
                                " ".join(str(error).split())[:200])
                pause = RECONNECT_PAUSES[min(failures, len(RECONNECT_PAUSES) - 1)]
                failures += 1
                stop.wait(pause)
            finally:
                self.listening.clear()
        # stopped

    def _listen(self, heard: Callable[[], None], stop: threading.Event) -> None:
        """One connection's life: taken out of the engine's pool for good (a pooled connection would be
        handed to others), closed when done."""
        fairy = self.engine.raw_connection()
        connection: Any = fairy.driver_connection  # psycopg.Connection
        fairy.detach()
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            heard()  # events stored while nobody listened are looked for now
            while not stop.is_set():
                for _notification in connection.notifies(timeout=self.tick, stop_after=1):
                    heard()
        finally:
            connection.close()
