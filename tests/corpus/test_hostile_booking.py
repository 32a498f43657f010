"""Hostile text through a whole booking (search, expert, length, time, details, confirm, the expert's Accept)
in the console, on Telegram (python-telegram-bot against the fake Bot API) and on Slack (slack-bolt against
the fake Slack, typed in the chat and through the details modal), on SQLite and PostgreSQL. Each field either
books, holding the cleaned text, or is refused with a sentence; every call a fake recorded was accepted; and
what each platform shows is the person's text, never live markup."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.adapters.slack.blocks import escape as slack_escape
from bot.adapters.telegram.render import escape as telegram_escape
from core.lifecycle import BookingStatus
from tests.adapters.slack.harness import RunningSlack, SlackUser
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.corpus.corpus import AT, FIELDS, HOSTILE, LIMITS, OVER, Case, stored
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import FakeTelegram, parse_html
from tests.flows.conftest import Transcript
from tests.flows.test_book import bookings_of, world

ANA_TG, EVE_TG = 7301, 7302
ANA_SL, EVE_SL = "U0ANA", "U0EVE"
CASES = [pytest.param(case, id=case.name) for case in HOSTILE]
REFUSALS = {
    "title": f"Please keep the title shorter ({LIMITS['title']} characters at most). Yours has {LIMITS['title'] + 1}.",
    "outcome": f"Please keep the desired outcome shorter ({LIMITS['outcome']} characters at most). "
               f"Yours has {LIMITS['outcome'] + 1}.",
    "intro": f"Please keep this shorter ({LIMITS['intro']} characters at most); yours has {LIMITS['intro'] + 1}.",
    "context": f"Please keep this shorter ({LIMITS['context']} characters at most); yours has {LIMITS['context'] + 1}.",
}
LIVE_SLACK = ("<!channel>", "<!here>", "<@U123>", "<#C123", "<https://evil", "<!subteam")


def values_of(case: Case) -> dict[str, str]:
    return {field: case.value(field) for field in FIELDS}


def assert_booked(uow, person_id: int, typed: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    [booking] = bookings_of(uow, person_id)
    assert booking.status is BookingStatus.ACCEPTED
    d = booking.details
    assert (d.title, d.outcome, d.intro_note, d.context) == tuple(stored(f, typed[f]) for f in FIELDS)


# ---------------------------------------------------------------- console


def console_booking(uow, chat: Callable[[str], Transcript], typed: dict[str, str], *,  # type: ignore[no-untyped-def]
                    over: bool = False) -> None:
    w = world(uow)
    ana = chat("ana")
    for step in ("/book fundraising", "Book Eve", "30 min · 0.5 credits", "1", "Tue 5 Mar"):
        ana.say(step)
    assert "short title" in ana.say("15:00")
    for field in FIELDS:
        if over:
            assert REFUSALS[field] in ana.say(OVER[field])
        out = ana.say(typed[field])
        assert "Please keep" not in out and "Something went wrong" not in out, (field, out[:300])
    out = ana.say("Done")
    assert "Please check your request to Eve:" in out and f"“{stored('title', typed['title'])}”" in out
    assert "Request sent to Eve" in ana.say("Confirm")
    card = ana.as_("eve")
    assert "New session request from Ana" in card and stored("context", typed["context"])[:50] in card
    assert "Confirmed" in ana.say("Accept")
    assert_booked(uow, w.ana, typed)


@pytest.mark.parametrize("case", CASES)
def test_hostile_text_books_in_the_console(uow, chat, case):
    console_booking(uow, chat, values_of(case))


def test_every_field_one_over_is_refused_and_at_its_limit_books_in_the_console(uow, chat):
    console_booking(uow, chat, AT, over=True)


# ---------------------------------------------------------------- Telegram


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(private_limit=None) as server:
        yield server


def on_telegram(uow):  # type: ignore[no-untyped-def]
    w = world(uow)
    with uow() as u:
        u.people.save(dataclasses.replace(u.people.get(w.ana), telegram_user_id=ANA_TG))
        u.people.save(dataclasses.replace(u.people.get(w.eve_person), telegram_user_id=EVE_TG))
        u.commit()
    return w


def telegram_booking(uow, clock, fake: FakeTelegram, typed: dict[str, str], *,  # type: ignore[no-untyped-def]
                     over: bool = False, polling: bool = True) -> None:
    w = on_telegram(uow)
    with RunningBot(fake, uow, clock, polling=polling) as bot:
        eve = TgUser(bot, EVE_TG, "Eve")
        eve.say("/help")
        ana = TgUser(bot, ANA_TG, "Ana")
        ana.say("/book fundraising")
        ana.tap("Book Eve")
        ana.tap("30 min · 0.5 credits")
        ana.tap("1")
        ana.tap("Tue 5 Mar")
        assert "short title" in ana.tap("15:00")
        for field in FIELDS:
            if over:
                assert REFUSALS[field] in ana.say(OVER[field])
            out = ana.say(typed[field])
            assert "Please keep" not in out and "Something went wrong" not in out, (field, out[:300])
        out = ana.tap("Done")
        assert "Please check your request to Eve:" in out and f"“{stored('title', typed['title'])}”" in out
        assert "Request sent to Eve" in ana.tap("Confirm")
        bot.settle()
        assert telegram_escape(stored("title", typed["title"])) in "\n".join(telegram_card(fake))
        assert "Confirmed" in eve.tap("Accept")
    assert_telegram_accepted(fake)
    assert_booked(uow, w.ana, typed)


def telegram_card(fake: FakeTelegram) -> list[str]:
    """The HTML of the messages the request card went out as (the Accept edits it later)."""
    sends = [str(c.params.get("text") or "") for c in fake.calls
             if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(EVE_TG)]
    start = next(i for i, text in enumerate(sends) if "New session request" in text)
    return [text for text in sends[start:] if "Accept" not in text][:4]


def assert_telegram_accepted(fake: FakeTelegram) -> None:
    """Every Bot API call answered 200 (but a long poll that the bot's own next poll or its stop cut short:
    409 or unanswered), and no message carries an entity: all text was shown as typed."""
    refused = [(c.method, c.status, str(c.params)[:200]) for c in fake.calls
               if c.status != 200 and not (c.method == "getUpdates" and c.status in (0, 409))]
    assert sum(c.method in ("sendMessage", "editMessageText") for c in fake.calls) >= 10
    assert refused == []
    for chat in (ANA_TG, EVE_TG):
        for message in fake.sent(chat):
            assert message.entities == [], (message.text or "")[:200]


@pytest.mark.parametrize("case", CASES)
def test_hostile_text_books_on_telegram(uow, clock, telegram, case):
    telegram_booking(uow, clock, telegram, values_of(case))


@pytest.mark.parametrize("polling", [True, False], ids=["polling", "webhook"])
def test_every_field_one_over_is_refused_and_at_its_limit_books_on_telegram(uow, clock, telegram, polling):
    telegram_booking(uow, clock, telegram, AT, over=True, polling=polling)


def test_telegram_shows_markup_typed_as_text(uow, clock, telegram):
    typed = {"title": "<b>x</b> & <i>", "outcome": "a &amp; b", "intro": "", "context": ""}
    typed["intro"] = typed["context"] = "<a href=\"https://evil.example\">click</a>"
    telegram_booking(uow, clock, telegram, typed)
    card = telegram_card(telegram)[0]
    assert "“&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;”" in card and "a &amp;amp; b" in card
    assert "&lt;a href=\"https://evil.example\"&gt;click&lt;/a&gt;" in card
    text, entities = parse_html(card)
    assert "“<b>x</b> & <i>”" in text and "a &amp; b" in text and entities == []


# ---------------------------------------------------------------- Slack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def on_slack(uow):  # type: ignore[no-untyped-def]
    w = world(uow)
    with uow() as u:
        u.people.save(dataclasses.replace(u.people.get(w.ana), slack_user_id=ANA_SL))
        u.people.save(dataclasses.replace(u.people.get(w.eve_person), slack_user_id=EVE_SL))
        u.commit()
    return w


def slack_booking(uow, clock, fake: FakeSlack, typed: dict[str, str], *, modal: bool,  # type: ignore[no-untyped-def]
                  over: bool = False) -> None:
    w = on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana, eve = SlackUser(bot, ANA_SL, "Ana", tz="Asia/Kolkata"), SlackUser(bot, EVE_SL, "Eve")
        ana.command("/book", "fundraising")
        ana.tap("Book Eve")
        ana.tap("30 min · 0.5 credits")
        ana.tap("1")
        ana.tap("Tue 5 Mar")
        assert "short title" in ana.tap("15:00")
        if modal:
            view = fake.modal(ANA_SL)
            assert view is not None and view.view["callback_id"] == "form:details"
            limits = {b["block_id"]: b["element"]["max_length"] for b in view.view["blocks"] if b["type"] == "input"}
            assert limits == LIMITS  # the modal holds no more than the chat accepts, and no less
            if over:
                for field in FIELDS:  # Slack's own client refuses more than max_length, next to the field
                    with pytest.raises(ValueError, match=f"{LIMITS[field] + 1} characters is outside"):
                        fake.submit(ANA_SL, view.id, {**typed, field: OVER[field]})
            status, answer = fake.submit(ANA_SL, view.id, typed)
            assert (status, answer) == (200, None), answer
            bot.settle()
        else:
            for field in FIELDS:
                if over:
                    assert REFUSALS[field] in ana.say(OVER[field])
                out = ana.say(typed[field])
                assert "Please keep" not in out and "Something went wrong" not in out, (field, out[:300])
        out = ana.tap("Done")
        assert "Please check your request to Eve:" in out
        assert f"“{slack_escape(stored('title', typed['title']))}”" in out
        assert "Request sent to Eve" in ana.tap("Confirm")
        bot.settle()
        card = "\n".join(eve.screen())
        assert "New session request from Ana" in card and slack_escape(stored("title", typed["title"])) in card
        assert "Confirmed" in eve.tap("Accept")
    assert_slack_accepted(fake)
    assert_booked(uow, w.ana, typed)


def assert_slack_accepted(fake: FakeSlack) -> None:
    """Every Web API call was ok, and nothing the app sent can ping, link or mention from typed text."""
    refused = [(c.method, c.status, c.error) for c in fake.calls if c.status != 200 or c.error]
    assert refused == []
    sections = 0
    for call in fake.calls:
        for block in _blocks(call.params.get("blocks")):
            if block.get("type") == "section" and block["text"]["type"] == "mrkdwn":
                assert block["text"].get("verbatim") is True, block  # a typed URL or #channel is no link
                sections += 1
        raw = json.dumps(call.params, ensure_ascii=False)
        for live in LIVE_SLACK:
            assert live not in raw, (call.method, raw[:300])
    assert sections > 10


def _blocks(raw: Any) -> list[dict[str, Any]]:
    blocks = json.loads(raw) if isinstance(raw, str) else raw
    return list(blocks or [])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("modal", [False, True], ids=["chat", "modal"])
def test_hostile_text_books_on_slack(uow, clock, slack, case, modal):
    if not modal and any(case.value(f) != case.value(f).strip() for f in FIELDS):
        pytest.skip("Slack trims a typed message")
    slack_booking(uow, clock, slack, values_of(case), modal=modal)


@pytest.mark.parametrize("modal", [False, True], ids=["chat", "modal"])
def test_every_field_one_over_is_refused_and_at_its_limit_books_on_slack(uow, clock, slack, modal):
    slack_booking(uow, clock, slack, AT, modal=modal, over=True)


def test_slack_shows_markup_typed_as_text(uow, clock, slack):
    """Typed on Slack, "<!channel> & R&D" arrives escaped; it is kept as typed and shown escaped once."""
    typed = {"title": "<!channel> & R&D", "outcome": "<@U123> <https://evil.example|click>", "intro": "a &amp; b",
             "context": "&lt;"}
    slack_booking(uow, clock, slack, typed, modal=False)
    versions = [v for m in slack.messages(slack.dm(EVE_SL)) for v in (m.history or [m.version()])]
    [card] = [v for v in versions if "New session request" in json.dumps(v["blocks"])]  # before Accept edited it
    sections = [b["text"]["text"] for b in card["blocks"] if b["type"] == "section"]
    text = "\n".join(sections)
    assert "“&lt;!channel&gt; &amp; R&amp;D”" in text
    assert "&lt;@U123&gt; &lt;https://evil.example|click&gt;" in text and "a &amp;amp; b" in text
