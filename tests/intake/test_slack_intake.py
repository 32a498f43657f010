"""Slack is acknowledged only once a request is stored: with the database down the answer is a 500 and one
log line (no traceback), nothing is acted on; Slack's retry of the same event is then stored and acted on once.
A modal's submission likewise: stored, then acknowledged (closed) before any work."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine

from bot.intake import Processing
from storage.uow import SqlUnitOfWork
from tests.adapters.slack.harness import RunningSlack
from tests.adapters.slack.test_slack_booking import ANA, on_slack, to_the_modal
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


DETAILS = {"title": "Seed plan", "outcome": "A plan", "intro": "", "context": ""}


def test_a_modal_submission_is_stored_and_closed_before_any_work(uow, clock):
    """The ack does not wait for the flow: with no worker running the modal closes, the submission is
    stored, and nothing has happened yet; a worker then takes it, once."""
    on_slack(uow)
    with FakeSlack() as fake, RunningSlack(fake, uow, clock) as bot:
        _, view_id = to_the_modal(bot)
        processing = bot.runtime.processing
        bot.call(processing.stop())  # as `headstrt web` with its worker elsewhere: only the insert
        before = len(fake.messages(fake.dm(ANA)))
        assert fake.submit(ANA, view_id, DETAILS) == (200, None) and fake.modal(ANA) is None
        with uow() as u:
            assert u.intake.counts()[("slack", "pending")] == 1
        assert len(fake.messages(fake.dm(ANA))) == before  # not worked on before the answer
        worker = Processing(uow, kind="slack")  # a worker process of its own, as `headstrt worker`
        worker.worker.serve(bot.runtime)
        bot.call(worker.start())
        bot.settle()
        bot.call(worker.stop())
        bot.call(worker.goodbye())
        processing._users = 1  # let the runtime's stop() run as usual
        said = [m for m in fake.messages(fake.dm(ANA))[before:] if "the details are in" in str(m.text)]
        assert len(said) == 1
        with uow() as u:
            assert ("slack", "pending") not in u.intake.counts()


def test_a_submission_that_cannot_be_stored_stays_open_with_what_was_typed(uow, clock, db, caplog):
    """The database away at the submission: the modal stays open with an error (Slack keeps what was typed),
    one log line, nothing saved; submitted again, it is taken once."""
    caplog.set_level(logging.INFO)
    on_slack(uow)
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", pool_pre_ping=False)
    down = [False]

    def factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(broken if down[0] else db, clock)

    with FakeSlack() as fake, RunningSlack(fake, factory, clock) as bot:
        _, view_id = to_the_modal(bot)
        down[0] = True
        status, answer = fake.submit(ANA, view_id, DETAILS)
        down[0] = False
        assert status == 200 and answer is not None and answer["response_action"] == "errors"
        assert "submit it again" in answer["errors"]["title"] and fake.modal(ANA) is not None
        assert fake.submit(ANA, view_id, DETAILS) == (200, None)
        bot.settle()
        assert len([m for m in fake.messages(fake.dm(ANA)) if "the details are in" in str(m.text)]) == 1
    broken.dispose()
    assert any("slack form" in r.getMessage() and "not stored" in r.getMessage() for r in caplog.records)
    no_traceback(caplog)


def test_a_submission_sent_again_is_one_event_and_an_edited_one_another():
    """The key a submission is stored under (a lost ack makes Slack keep the modal open for another try)."""
    from bot.adapters.slack.runtime import _submission_id

    view = {"id": "V1", "hash": "1.abc", "state": {"values": {"title": {"title": {"value": "Seed plan"}}}}}
    edited = {**view, "state": {"values": {"title": {"title": {"value": "Seed round plan"}}}}}
    assert _submission_id(view) == _submission_id(dict(view)) != _submission_id(edited)
    assert len(_submission_id(view)) <= 128  # the column's width
