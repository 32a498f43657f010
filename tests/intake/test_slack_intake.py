"""Slack is acknowledged only once a request is stored: with the database down the answer is a 500 and one
log line (no traceback), nothing is acted on; Slack's retry of the same event is then stored and acted on once."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine

from storage.uow import SqlUnitOfWork
from tests.adapters.slack.harness import RunningSlack
from tests.adapters.test_web_bodies import no_traceback
from tests.fakes.slack_server import FakeSlack

USER = "U0DOWN0001"


def test_database_down_is_not_acknowledged_and_the_retry_acts_once(uow, clock, db, caplog):
    caplog.set_level(logging.INFO)
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", pool_pre_ping=False)
    down = [False]

    def factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(broken if down[0] else db, clock)

    with FakeSlack() as fake, RunningSlack(fake, factory, clock) as bot:
        fake.user(USER, name="dana", real_name="Dana", tz="Europe/London")
        body = fake.dm_event(USER, "hello")
        down[0] = True
        assert fake.post(body)[0] == 500
        down[0] = False
        with uow() as u:
            assert u.intake.counts() == {}
        assert not [m for m in fake.messages(fake.dm(USER)) if m.bot]  # nothing was acted on
        assert bot.post(body, retry_num=1)[0] == 200  # Slack tries again
        answered = len([m for m in fake.messages(fake.dm(USER)) if m.bot])
        assert answered >= 1
        assert bot.post(body, retry_num=2)[0] == 200  # and again: stored once, acted on once
        with uow() as u:
            assert u.intake.counts() == {("slack", "done"): 1}
        assert len([m for m in fake.messages(fake.dm(USER)) if m.bot]) == answered
    broken.dispose()
    assert any("not stored, the database failed" in r.getMessage() for r in caplog.records)
    no_traceback(caplog)
