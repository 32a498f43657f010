"""What the bot sends, against a fake as strict as Telegram: flood limits under a burst, RetryAfter,
network errors, "message is not modified", long texts, files both ways, the command menu, deep links."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.adapters.telegram.limiter import FloodLimiter
from bot.replies import FileOut, Reply
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.adapters.telegram.test_telegram_booking import CHEN, EVE, book_eve, people
from tests.fakes.telegram_server import FakeTelegram

COUNTED = ("sendmessage", "editmessagetext", "senddocument")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """Telegram's limits, except one chat's (people here tap faster than any person): the burst test
    checks that one with the real numbers."""
    with FakeTelegram(private_limit=None) as server:
        yield server


def queue(uow, chat_id: int, n: int, text: str = "Reminder") -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        for i in range(n):
            u.outbox.add(f"t:{chat_id}:{i}:{text}", None, "telegram", str(chat_id), Reply(f"{text} {i}").to_json())
        u.commit()


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_a_burst_of_notifications_stays_under_every_flood_limit(uow, clock):
    # Telegram's limits, with the group limit shortened so the test takes seconds, not a minute.
    limits = dict(overall_limit=(30, 1.0), private_limit=(3, 3.0), group_limit=(5, 2.0))
    with FakeTelegram(require_start=False, **limits) as fake:
        for chat in range(1, 46):
            fake.user(chat)
        fake.group(-42, title="Cohort")
        for chat in range(1, 46):
            queue(uow, chat, 1)
        queue(uow, 7, 4, text="More")
        queue(uow, -42, 8, text="Group")
        limiter = FloodLimiter(overall=(30, 1.0), private_chat=(3, 3.0), group=(5, 2.0))
        with RunningBot(fake, uow, clock, polling=True, limiter=limiter) as bot:
            bot.settle(timeout=30)
        sends = [c for c in fake.calls if c.method.lower() in COUNTED]
        assert fake.throttled == []
        assert len([c for c in sends if c.status == 200]) == 45 + 4 + 8  # everything arrived, once
        assert max_in_window([c.at for c in sends], 1.0) <= 30
        by_chat: dict[str, list[float]] = defaultdict(list)
        for c in sends:
            by_chat[str(c.params["chat_id"])].append(c.at)
        assert max_in_window(by_chat["7"], 3.0) <= 3
        assert max_in_window(by_chat["-42"], 2.0) <= 5
        assert [m.text for m in fake.sent(7)] == ["Reminder 0", "More 0", "More 1", "More 2", "More 3"]  # in order


def test_retry_after_is_obeyed_and_nothing_is_sent_twice(uow, clock, fake):
    fake.user(CHEN)
    fake.message(CHEN, "/start")  # Chen has talked to the bot, so it may write to him
    fake.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1)
    queue(uow, CHEN, 2)
    with RunningBot(fake, uow, clock, polling=False) as bot:
        bot.settle(timeout=15)
    assert [m.text for m in fake.sent(CHEN)] == ["Reminder 0", "Reminder 1"]
    tries = [c for c in fake.calls if c.method.lower() == "sendmessage"]
    assert [c.status for c in tries] == [429, 200, 200]
    assert tries[1].at - tries[0].at >= 0.95


def test_a_network_error_is_retried_later_and_delivers_once(uow, clock, fake):
    fake.user(CHEN)
    fake.message(CHEN, "/start")
    fake.drop_next("sendMessage")
    queue(uow, CHEN, 1)
    with RunningBot(fake, uow, clock, polling=False) as bot:
        with uow() as u:
            [row] = u.outbox.pending("telegram")
        deadline = time.monotonic() + 10
        while attempts(uow, row.id) == 0:  # the dropped connection has been counted as a failed attempt
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert fake.sent(CHEN) == []
        bot.runtime.pump.wake()
        time.sleep(0.2)
        assert fake.sent(CHEN) == []  # not before its retry time
        clock.advance(timedelta(seconds=5))  # past the backoff
        bot.runtime.pump.wake()
        bot.settle(timeout=10)
    assert [m.text for m in fake.sent(CHEN)] == ["Reminder 0"]


def attempts(uow, row_id: int) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.outbox.attempts(row_id)


def test_a_person_who_never_started_the_bot_is_given_up_not_retried_forever(uow, clock, fake):
    fake.user(EVE)  # known to Telegram, but has never opened the bot
    queue(uow, EVE, 1)
    with RunningBot(fake, uow, clock, polling=False) as bot:
        bot.settle(timeout=10)
    with uow() as u:
        assert u.outbox.pending("telegram") == []
    assert fake.sent(EVE) == []


def test_an_edit_that_changes_nothing_is_not_an_error(uow, clock, fake):
    people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        chen.say("/book fundraising")
        chen.tap("Book Eve")
        edits_before = len([c for c in fake.calls if c.method == "editMessageText"])
        fake.fail_next("editMessageText", status=400, description="Bad Request: message is not modified: specified "
                       "new message content and reply markup are exactly the same as a current content and reply "
                       "markup of the message")
        chen.tap(next(label for label in chen.labels() if label.startswith("30 min")))
        with uow() as u:
            assert u.outbox.pending("telegram") == []  # counted as shown, not retried, not given up
            assert u.session.scalar(text("SELECT count(*) FROM outbox WHERE gave_up_at IS NOT NULL")) == 0
    edits = [c for c in fake.calls if c.method == "editMessageText"][edits_before:]
    assert [c.status for c in edits] == [400]


def test_a_long_answer_is_split_within_4096_characters(uow, clock, fake):
    chen_id, _ = people(uow)
    fake.user(CHEN)
    fake.message(CHEN, "/start")
    text = "\n".join(f"Line {i}: " + "é<&>" * 40 for i in range(120))  # escaping triples its raw length
    with uow() as u:
        u.outbox.add("long", chen_id, "telegram", str(CHEN), json.dumps({"text": text, "buttons": [], "replace": False}))
        u.commit()
    with RunningBot(fake, uow, clock, polling=False) as bot:
        bot.settle()
    pieces = [m.text for m in fake.sent(CHEN)]
    assert len(pieces) >= 4 and "\n".join(pieces) == text


def test_files_go_both_ways(uow, clock, fake):
    """A client's attachment is fetched (getFile and the download), stored once, and follows the request
    card to the expert as an upload of the same bytes; a file we make (the .ics of issue 6) goes out as an
    uploaded document too."""
    people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        TgUser(bot, EVE, "Eve").say("/help")
        chen = TgUser(bot, CHEN, "Chen")
        book_eve(chen, attach=("deck.pdf", b"%PDF-1.4 deck"))
        sent_id = next(c.params["file_id"] for c in fake.calls if c.method == "getFile")
        with uow() as u:
            [booking] = u.bookings.for_person(u.people.by_telegram(CHEN).id)
            assert [a.rsplit("#", 1)[1] for a in booking.details.attachments] == ["deck.pdf"]
            u.outbox.add("ics", booking.client_id, "telegram", str(CHEN),
                         Reply("Your invite", file=FileOut("session.ics", "text/calendar", b"BEGIN:VCALENDAR")).to_json())
            u.commit()
        bot.runtime.pump.wake()
        bot.settle()
    card, document = fake.sent(EVE)[-2:]
    assert "New session request from Chen" in card.text and "Attachments: 1" in card.text
    assert document.document is not None and document.document["file_name"] == "deck.pdf"
    assert booking.details.attachments[0].startswith("file:")  # stored: no platform's id in the booking
    assert document.document["file_id"] != sent_id  # uploaded again, not re-sent by Chen's file id
    assert fake.file_data(document.document["file_id"]) == b"%PDF-1.4 deck"
    [invite] = [m.document for m in fake.sent(CHEN) if m.document]
    assert invite["file_name"] == "session.ics"


def test_the_command_menu_is_set_and_a_deep_link_opens_an_expert_card(uow, clock, fake):
    people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        names = [c["command"] for c in next(iter(fake.commands.values()))]
        assert names == ["book", "sessions", "credits", "availability", "settings", "help", "cancel"]
        newcomer = TgUser(bot, 7777, "Nia", language_code="en")
        out = newcomer.say("/start e_eve")  # t.me/<bot>?start=e_eve
        assert "Welcome" in out
        newcomer.tap(next(label for label in _all_labels(newcomer) if "London" in label or "UTC" in label))
        assert "Eve — Seed investor" in "\n".join(newcomer.screen())
    with uow() as u:
        nia = u.people.by_telegram(7777)
    assert nia is not None and nia.locale == "en"


def _all_labels(user: TgUser) -> list[str]:
    return [b["text"] for m in user.fake.sent(user.chat_id) for row in (m.reply_markup or {}).get("inline_keyboard", [])
            for b in row]


def test_a_reminder_to_someone_reached_on_both_platforms_goes_where_they_talked_last(uow, clock, fake):
    _, eve_id = people(uow)
    with uow() as u:
        eve = u.experts.get(eve_id)
        person = u.people.get(eve.person_id)
        u.people.save(dataclasses.replace(person, slack_user_id="U0EVE"))
        u.commit()
    with RunningBot(fake, uow, clock, polling=True, platforms=("slack", "telegram")) as bot:
        TgUser(bot, EVE, "Eve").say("/help")
        chen = TgUser(bot, CHEN, "Chen")
        book_eve(chen)
        assert "New session request from Chen" in fake.last(EVE).text
