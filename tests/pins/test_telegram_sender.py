"""The Telegram sender through the real python-telegram-bot against the fake Bot API: an edit of a message
that cannot be edited is sent as a new message, and each kind of failure gets its verdict: a refusal is
given up at once, a network or server failure waits for its retry and then goes out once, a group that
became a supergroup gets the message at its new id. The real runtime and outbox on both databases."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.replies import Reply
from storage.models import OutboxRow
from tests.adapters.telegram.harness import RunningBot
from tests.fakes.telegram_server import FakeTelegram

CHEN = 7000000001
GROUP, SUPERGROUP = -42, -1001234567890


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(private_limit=None) as server:
        server.user(CHEN, first_name="Chen")
        server.message(CHEN, "/start")  # Chen has talked to the bot, so it may write to him
        yield server


def queue(uow, chat: int, text: str, edit: int | None = None) -> int:  # type: ignore[no-untyped-def]
    payload = json.loads(Reply(text).to_json())
    if edit is not None:
        payload["edit"] = str(edit)
    with uow() as u:
        row_id = u.outbox.add(f"pin:tg:{chat}:{text}", None, "telegram", str(chat), json.dumps(payload))
        u.commit()
    assert row_id is not None
    return row_id


def row(uow, row_id: int) -> OutboxRow:  # type: ignore[no-untyped-def]
    with uow() as u:
        found = u.session.scalar(select(OutboxRow).where(OutboxRow.id == row_id))
        u.session.expunge(found)
        return found


def calls(fake: FakeTelegram, *methods: str) -> list[tuple[str, int]]:
    return [(c.method, c.status) for c in fake.calls if c.method in methods]


def wait_until(check, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# ---- the edit fallback

def test_an_edit_of_a_message_that_is_gone_is_sent_as_a_new_message(uow, clock, fake):
    row_id = queue(uow, CHEN, "Your request was sent", edit=999)  # no message 999 in Chen's chat
    with RunningBot(fake, uow, clock, polling=False) as bot:
        bot.settle()
    assert calls(fake, "editMessageText", "sendMessage") == [("editMessageText", 400), ("sendMessage", 200)]
    [shown] = [m for m in fake.sent(CHEN) if m.text == "Your request was sent"]
    sent = row(uow, row_id)
    assert sent.sent_at is not None and sent.sent_message_id == str(shown.message_id)


def test_an_edit_telegram_refuses_as_too_old_is_sent_as_a_new_message_and_the_old_one_stays(uow, clock, fake):
    with RunningBot(fake, uow, clock, polling=False) as bot:
        queue(uow, CHEN, "Pick a time")
        bot.settle()
        [card] = fake.sent(CHEN)
        fake.fail_next("editMessageText", status=400, description="Bad Request: message can't be edited")
        queue(uow, CHEN, "Booked", edit=card.message_id)
        bot.settle()
    assert [m.text for m in fake.sent(CHEN)] == ["Pick a time", "Booked"]


# ---- what each failure means

def test_a_refusal_is_given_up_at_once_not_retried(uow, clock, fake):
    fake.group(GROUP, title="Cohort")
    fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    row_id = queue(uow, GROUP, "Welcome")
    later = queue(uow, GROUP, "Next")
    with RunningBot(fake, uow, clock, polling=False) as bot:
        bot.settle()
        clock.advance(timedelta(minutes=10))
        bot.runtime.pump.wake()
        bot.settle()
    refused = row(uow, row_id)
    assert refused.gave_up_at is not None and refused.sent_at is None and refused.attempts == 1
    assert "refused" in refused.last_error
    assert row(uow, later).sent_at is not None  # the chat goes on
    assert calls(fake, "sendMessage") == [("sendMessage", 400), ("sendMessage", 200)]
    assert [m.text for m in fake.sent(GROUP)] == ["Next"]


@pytest.mark.parametrize("status, description", [(502, "Bad Gateway"), (500, "Internal Server Error")])
def test_a_server_failure_waits_for_its_retry_then_goes_out_once(uow, clock, fake, status, description):
    fake.fail_next("sendMessage", status=status, description=description)
    row_id = queue(uow, CHEN, "Reminder")
    with RunningBot(fake, uow, clock, polling=False) as bot:
        wait_until(lambda: row(uow, row_id).attempts == 1)
        bot.runtime.pump.wake()
        time.sleep(0.2)
        waiting = row(uow, row_id)
        assert waiting.sent_at is None and waiting.gave_up_at is None, "not retried later"
        assert fake.sent(CHEN) == []  # and not before its retry time
        clock.advance(timedelta(seconds=5))
        bot.runtime.pump.wake()
        bot.settle()
    assert [m.text for m in fake.sent(CHEN)] == ["Reminder"]
    assert calls(fake, "sendMessage") == [("sendMessage", status), ("sendMessage", 200)]


def test_a_group_that_became_a_supergroup_gets_the_message_at_its_new_id(uow, clock, fake):
    fake.group(GROUP, title="Cohort")
    fake.migrate(GROUP, SUPERGROUP)
    row_id = queue(uow, GROUP, "Office hours at 3")
    with RunningBot(fake, uow, clock, polling=False) as bot:
        bot.settle()
    assert [m.text for m in fake.sent(SUPERGROUP)] == ["Office hours at 3"]
    sent = row(uow, row_id)
    assert sent.sent_at is not None and sent.gave_up_at is None
