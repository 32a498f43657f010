"""The Telegram webhook answers 200 only once the update is stored: with nothing running it (a receiving
process with no worker) the row is there when the answer comes; with the database down the answer is
500, so Telegram delivers it again, and the redelivery is then stored and acted on once."""

from __future__ import annotations

import json

from sqlalchemy import create_engine

from bot.intake import Processing
from storage.uow import SqlUnitOfWork
from tests.adapters.telegram.harness import SECRET, RunningBot
from tests.fakes.telegram_server import FakeTelegram

CHEN = 7000000001


def test_200_means_stored_even_with_no_worker_running(uow, clock):
    with FakeTelegram() as fake, RunningBot(fake, uow, clock, polling=False) as bot:
        bot.runtime.processing.embedded = False  # as `headstrt web --no-worker`: only the insert
        bot.runtime.processing.worker.wake = lambda: None  # type: ignore[method-assign]
        bot.call(bot.runtime.processing.stop())  # its worker is not running
        fake.user(CHEN)
        update = fake.message(CHEN, "/credits")
        status = bot.call(bot.runtime.webhook(SECRET, json.dumps(update).encode()))[0]
        assert status == 200
        with uow() as u:
            assert u.intake.counts() == {("telegram", "pending"): 1}
        assert fake.sent(CHEN) == []  # nothing was worked on before the answer
        bot.runtime.processing._users = 1  # let stop() run as usual


def test_database_down_is_not_200_and_the_redelivery_acts_once(uow, clock, db):
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", pool_pre_ping=False)
    down = [False]

    def factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(broken if down[0] else db, clock)

    with FakeTelegram() as fake, RunningBot(fake, factory, clock, polling=False) as bot:
        fake.user(CHEN)
        update = fake.message(CHEN, "/credits")
        body = json.dumps(update).encode()
        down[0] = True
        assert bot.call(bot.runtime.webhook(SECRET, body))[0] == 500
        down[0] = False
        with uow() as u:
            assert u.intake.counts() == {}
        assert bot.call(bot.runtime.webhook(SECRET, body))[0] == 200  # Telegram tries again
        bot.settle()
        answered = len(fake.sent(CHEN))
        assert answered >= 1
        assert bot.call(bot.runtime.webhook(SECRET, body))[0] == 200  # and again: stored once, acted on once
        bot.settle()
        with uow() as u:
            assert u.intake.counts() == {("telegram", "done"): 1}
        assert len(fake.sent(CHEN)) == answered
    broken.dispose()


_ = Processing  # the class the first test stands in for
