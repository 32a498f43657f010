"""LISTEN/NOTIFY on PostgreSQL: a worker whose next poll is 30 s away runs an event another process
(here: another engine) stored, within about a second: the store's NOTIFY wakes it."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import Engine, text

from bot.intake import Processing
from core.clock import SystemClock
from storage.db import make_engine
from storage.intake_notify import IntakeListener
from storage.intake_repo import NewEvent
from storage.uow import SqlUnitOfWork
from tests.intake.test_workers import Recorder, run_workers


def _another_engine(db: Engine) -> Engine:
    """A second pool on the same schema, as another process would have."""
    with db.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return make_engine(db.url.render_as_string(hide_password=False),
                       connect_args={"options": f"-c search_path={schema},public"}, pool_size=1)


def test_a_worker_runs_an_event_stored_elsewhere_long_before_its_next_poll(db):
    if db.dialect.name != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; on SQLite workers poll")
    clock = SystemClock()
    listener = IntakeListener(db)
    processing = Processing(lambda: SqlUnitOfWork(db, clock), kind="test", poll_seconds=30, listener=listener)
    log: list[tuple[str, str, int]] = []
    processing.worker.serve(Recorder("w", log, threading.Lock()))
    other = _another_engine(db)
    stored: list[float] = []

    def store_elsewhere() -> None:
        assert listener.listening.wait(10)
        time.sleep(0.3)  # the worker has looked (nothing there) and waits for its next poll, 30 s away
        with SqlUnitOfWork(other, clock) as uow:
            uow.intake.store([NewEvent("telegram", "e1", "telegram:1", json.dumps({"person": "1", "n": 0}))])
            uow.commit()
        stored.append(time.monotonic())

    storing = threading.Thread(target=store_elsewhere, daemon=True)
    storing.start()
    try:
        run_workers([processing], lambda: bool(log), timeout=8)
    finally:
        storing.join(10)
        other.dispose()
    assert stored and log == [("w", "1", 0)]
    took = time.monotonic() - stored[0]
    assert took < 2.0, took  # the poll alone would have taken up to 30 s
