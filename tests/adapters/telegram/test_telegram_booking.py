"""The real python-telegram-bot code against the fake Bot API: whole bookings in polling and webhook mode,
an expert on Telegram answering a request made elsewhere, duplicates, webhook secrets and group chats."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from core.lifecycle import BookingStatus
from tests import factories as f
from tests.adapters.telegram.harness import SECRET, RunningBot, TgUser
from tests.fakes.telegram_server import FakeTelegram

CHEN, EVE, STRANGER = 7001, 7002, 7003
GROUP = -100500


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """Telegram's limits, except one chat's (people here tap faster than any person): the burst test
    checks that one with the real numbers."""
    with FakeTelegram(private_limit=None) as server:
        yield server


def people(uow) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Chen books with his own credits; Eve is a paid expert who answers on Telegram."""
    with uow() as u:
        chen = f.person(u, "chen", tz="Asia/Kolkata")
        u.people.save(dataclasses.replace(chen, telegram_user_id=CHEN))
        f.credits(u, amount="5", person_id=chen.id)
        eve = f.expert(u, "eve", headline="Seed investor", topics=("Fundraising",))
        eve_person = u.people.get(eve.person_id)
        u.people.save(dataclasses.replace(eve_person, telegram_user_id=EVE))
        u.commit()
        return chen.id, eve.id


def book_eve(chen: TgUser, *, attach: tuple[str, bytes] | None = None) -> None:
    """The whole booking by taps and typing; `attach` sends a file right after choosing Eve."""
    out = chen.say("/book fundraising")
    assert "Eve — Seed investor" in out and "Book Eve" in chen.labels()
    out = chen.tap("Book Eve")
    assert "How long should each meeting with Eve be?" in out
    if attach is not None:
        out = chen.send_file(*attach)
        assert "Attached (1 so far)" in out and "How long should each meeting with Eve be?" in out
    chen.tap(next(label for label in chen.labels() if label.startswith("30 min")))
    assert "Pick a day" in chen.tap("1")
    chen.tap("Tue 5 Mar")
    assert "14:30" in chen.labels()
    out = chen.tap("15:00")
    assert "short title" in out
    chen.say("Seed <b>round</b> & plan")
    chen.say("A plan for our seed round")
    chen.tap("Skip")
    chen.tap("Skip")
    out = chen.tap("Done")
    assert "Please check your request to Eve:" in out and "“Seed <b>round</b> & plan”" in out
    out = chen.tap("Confirm")
    assert "Request sent to Eve" in out


@pytest.mark.parametrize("polling", [True, False], ids=["polling", "webhook"])
def test_a_client_and_an_expert_both_on_telegram_book_a_session(uow, clock, fake, polling):
    chen_id, eve_id = people(uow)
    with RunningBot(fake, uow, clock, polling=polling) as bot:
        eve = TgUser(bot, EVE, "Eve")
        eve.say("/help")  # an expert who has started the bot can be messaged by it
        chen = TgUser(bot, CHEN, "Chen")
        book_eve(chen)
        # The wizard edited its own message instead of adding one per step.
        edits = [c for c in fake.calls if c.method.lower() == "editmessagetext" and c.status == 200]
        assert len(edits) >= 6
        assert all(c.params.get("parse_mode") == "HTML" for c in fake.calls if c.method.lower() == "sendmessage")
        # Every press was answered, so no button spins.
        assert len(fake.issued_queries) >= 8 and all(q in fake.answered for q in fake.issued_queries)

        card = fake.last(EVE)
        assert "New session request from Chen" in card.text and "Seed <b>round</b> & plan" in card.text
        assert "&lt;b&gt;round&lt;/b&gt; &amp; plan" in card.html  # shown literally, never as markup
        out = eve.tap("Accept")
        assert "Confirmed" in out
        confirmation, invite = fake.sent(CHEN)[-2:]
        assert "Confirmed: your session is booked." in confirmation.text
        assert invite.document is not None and invite.document["file_name"].endswith(".ics")  # the calendar invite
        assert any("Confirmed" in (m.text or "") for m in fake.sent(EVE)[-3:])
    with uow() as u:
        [booking] = u.bookings.for_person(chen_id)
    assert booking.status is BookingStatus.ACCEPTED and booking.expert_id == eve_id
    assert fake.throttled == []


def test_an_expert_on_telegram_accepts_a_request_made_in_another_chat(uow, clock, fake):
    chen_id, _ = people(uow)
    platforms = ("console", "telegram")
    console = ConsoleChat(Dispatcher(uow, clock, all_flows(), Router(platforms)), uow, "chen")
    with RunningBot(fake, uow, clock, polling=True, platforms=platforms) as bot:
        eve = TgUser(bot, EVE, "Eve")
        eve.say("/help")
        console.type("/book fundraising")
        for step in ("Book Eve", "30 min · 0.5 credits", "1", "Tue 5 Mar", "15:00", "Plan", "A plan", "Skip",
                     "Skip", "Done"):
            console.type(step)
        assert any("Request sent to Eve" in line for line in console.type("Confirm"))
        bot.settle()  # the card reaches Eve through the outbox poll: no Telegram event caused it
        assert "New session request from Chen" in fake.last(EVE).text
        assert "Confirmed" in eve.tap("Accept")
    assert any("Confirmed: your session is booked." in line for line in console.pending())
    with uow() as u:
        [booking] = u.bookings.for_person(chen_id)
    assert booking.status is BookingStatus.ACCEPTED


def test_a_wrong_webhook_secret_is_refused_and_changes_nothing(uow, clock, fake):
    people(uow)
    with RunningBot(fake, uow, clock, polling=False) as bot:
        update = fake.message(CHEN, "/help")
        import json

        assert bot.call(bot.runtime.webhook("wrong", json.dumps(update).encode()))[0] == 403
        assert bot.call(bot.runtime.webhook("", json.dumps(update).encode()))[0] == 403
        bot.settle()
        assert fake.sent(CHEN) == []
        assert bot.call(bot.runtime.webhook(SECRET, json.dumps(update).encode()))[0] == 200
        bot.settle(update["update_id"])
        assert len(fake.sent(CHEN)) == 1


@pytest.mark.parametrize("polling", [True, False], ids=["polling", "webhook"])
def test_a_delivery_seen_twice_acts_once(uow, clock, fake, polling):
    chen_id, _ = people(uow)
    with RunningBot(fake, uow, clock, polling=polling) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        update = fake.message(CHEN, "/credits")
        bot.deliver(update)
        bot.settle(update["update_id"])
        bot.deliver(update)  # Telegram redelivers after a timeout: same update_id
        if polling:
            fake.wait_for(lambda f: not f._updates)  # confirmed, so stored (once)
        bot.settle()
        assert len(fake.sent(CHEN)) == 1
        with uow() as u:
            assert u.intake.counts() == {("telegram", "done"): 1}
        assert "Your credits: 5 available" in chen.screen()[0]


def test_in_a_group_only_the_person_a_button_is_for_can_press_it(uow, clock, fake):
    chen_id, _ = people(uow)
    fake.group(GROUP, title="Founders")
    with RunningBot(fake, uow, clock, polling=True) as bot:
        chen = TgUser(bot, CHEN, "Chen", chat_id=GROUP)
        stranger = TgUser(bot, STRANGER, "Mallory", chat_id=GROUP)
        chen.say(f"/book@{fake.bot_username} fundraising")
        assert "Book Eve" in chen.labels()
        message_id, data = chen.button("Book Eve")
        before = [(m.message_id, m.text, m.edits) for m in fake.sent(GROUP)]
        calls = len(fake.calls)
        assert stranger.tap_data(message_id, data) == ""
        assert [(m.message_id, m.text, m.edits) for m in fake.sent(GROUP)] == before
        answers = [c for c in fake.calls[calls:] if c.method.lower() == "answercallbackquery"]
        assert len(answers) == 1 and answers[0].params.get("text") == "This button is for someone else."
        with uow() as u:
            assert u.people.by_telegram(STRANGER) is None  # a stranger's press doesn't even sign them up
        assert "How long should each meeting with Eve be?" in chen.tap_data(message_id, data)


def test_polling_retries_an_update_the_database_could_not_take(uow, clock, fake):
    """An update stored while the database then failed for the work is retried by the worker (and acts once)."""
    from sqlalchemy.exc import OperationalError

    people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        dispatcher = bot.runtime.dispatcher
        real = dispatcher.handle
        failures = []

        def flaky(incoming):  # type: ignore[no-untyped-def]
            if not failures:
                failures.append(incoming.event_id)
                raise OperationalError("SELECT 1", {}, Exception("database is restarting"))
            return real(incoming)

        dispatcher.handle = flaky  # type: ignore[method-assign]
        chen = TgUser(bot, CHEN, "Chen")
        update = fake.message(CHEN, "/credits")
        bot.deliver(update)
        bot.settle(update["update_id"], timeout=15)
        assert failures and [m.text.startswith("Your credits") for m in fake.sent(CHEN)] == [True]
        assert chen.screen()
