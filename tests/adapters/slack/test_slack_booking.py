"""The real slack-bolt code against the fake Slack: a founder books from Slack with an expert on Slack and
with an expert on Telegram, signed requests, retries, escaping, strangers, the modal and App Home."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest

from core.lifecycle import BookingStatus
from tests import factories as f
from tests.adapters.slack.harness import RunningSlack, SlackUser
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import FakeTelegram
from tests.flows.test_book import world

ANA, EVE, MALLORY = "U0ANA", "U0EVE", "U0MAL"
EVE_TG = 7102
HOSTILE = "<!channel> & <@U123> <https://evil.example|click>"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def on_slack(uow, *, eve_telegram: bool = False):  # type: ignore[no-untyped-def]
    """The book-test world (Ana: founder with programme credits; Eve: expert), reachable on Slack."""
    w = world(uow)
    with uow() as u:
        ana = u.people.get(w.ana)
        u.people.save(dataclasses.replace(ana, slack_user_id=ANA))
        eve = u.people.get(w.eve_person)
        u.people.save(dataclasses.replace(eve, slack_user_id=None if eve_telegram else EVE,
                                          telegram_user_id=EVE_TG if eve_telegram else None))
        u.commit()
    return w


def to_the_modal(bot: RunningSlack) -> tuple[SlackUser, str]:
    """Ana at the details form, by the buttons: the open modal's id."""
    ana = SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata")
    ana.command("/book", "fundraising")
    for label in ("Book Eve", "30 min · 0.5 credits", "1", "Tue 5 Mar"):
        ana.tap(label)
    assert "short title" in ana.tap("15:00")
    modal = bot.fake.modal(ANA)
    assert modal is not None and modal.view["callback_id"] == "form:details"
    return ana, modal.id


def book_eve(bot: RunningSlack, ana: SlackUser, *, title: str = "Seed plan") -> None:
    out = ana.command("/book", "fundraising")
    assert "Eve — Seed investor" in out and "Book Eve" in ana.labels()
    ana.tap("Book Eve")
    ana.tap("30 min · 0.5 credits")
    ana.tap("1")
    ana.tap("Tue 5 Mar")
    out = ana.tap("15:00")
    assert "short title" in out
    modal = bot.fake.modal(ANA)
    assert modal is not None and modal.view["callback_id"] == "form:details"  # the questions, as one form
    status, answer = bot.fake.submit(ANA, modal.id, {"title": title, "outcome": f"A plan {HOSTILE}",
                                                     "intro": "", "context": ""})
    assert (status, answer) == (200, None)  # accepted: the modal closes
    bot.settle()
    assert "the details are in" in "\n".join(ana.screen())
    ana.tap("Done")
    out = ana.tap("Confirm")
    assert "Request sent to Eve" in out


def test_a_new_founders_first_slash_command_runs_after_the_welcome(uow, clock, fake):
    """Someone the bot has never met types /book fundraising: welcome, then the experts, in one go."""
    world(uow)
    with RunningSlack(fake, uow, clock) as bot:
        newbie = SlackUser(bot, "U0NEW", "Nadia", tz="Asia/Kolkata")
        out = newbie.command("/book", "fundraising")
        assert "Welcome to Headstrt" in out and "Asia/Kolkata" in out
        assert "Eve — Seed investor" in out and "Book Eve" in newbie.labels()


def test_a_founder_books_on_slack_and_the_expert_accepts_on_slack(uow, clock, fake):
    w = on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana, eve = SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata"), SlackUser(bot, EVE, "Eve")
        book_eve(bot, ana, title=f"Seed {HOSTILE}")
        card = "\n".join(eve.screen())
        assert "New session request from Ana" in card and "Seed &lt;!channel&gt; &amp; &lt;@U123&gt;" in card
        assert {"Accept", "Decline", "Suggest another time"} <= set(eve.labels())
        out = eve.tap("Accept")
        assert "Confirmed" in out
        assert any("Confirmed: your session is booked." in text for text in ana.screen()[-3:])
        assert any(name.endswith(".ics") for name in _files(bot.fake, ANA))  # the calendar invite
    with uow() as u:
        [booking] = u.bookings.for_person(w.ana)
    assert booking.status is BookingStatus.ACCEPTED and booking.details.title == f"Seed {HOSTILE}"
    _never_unescaped(fake)


def _never_unescaped(fake: FakeSlack) -> None:
    """Whatever people typed, nothing the app sent can ping a channel or a person or make a link."""
    for call in fake.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish", "views.open"):
            raw = json.dumps(call.params)
            for bad in ("<!channel>", "<@U123>", "<https://evil"):
                assert bad not in raw, (call.method, raw[:300])


def test_a_founder_on_slack_books_an_expert_who_answers_on_telegram(uow, clock, fake):
    w = on_slack(uow, eve_telegram=True)
    platforms = ("slack", "telegram")
    with FakeTelegram(private_limit=None) as tg, RunningBot(tg, uow, clock, polling=True, platforms=platforms) as tbot, \
            RunningSlack(fake, uow, clock, platforms=platforms) as sbot:
        eve = TgUser(tbot, EVE_TG, "Eve")
        eve.say("/help")
        ana = SlackUser(sbot, ANA, "Ana", tz="Asia/Kolkata")
        book_eve(sbot, ana)
        tbot.settle()
        assert "New session request from Ana" in tg.last(EVE_TG).text
        assert "Confirmed" in eve.tap("Accept")
        sbot.runtime.pump.wake()
        sbot.settle()
        assert any("Confirmed: your session is booked." in text for text in ana.screen()[-3:])
        assert any(name.endswith(".ics") for name in _files(sbot.fake, ANA))  # the calendar invite
    with uow() as u:
        [booking] = u.bookings.for_person(w.ana)
    assert booking.status is BookingStatus.ACCEPTED


def test_forged_and_outdated_signatures_are_refused(uow, clock, fake):
    on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        SlackUser(bot, ANA, "Ana")
        body = fake.dm_event(ANA, "/credits")
        assert fake.post(body, signed=False)[0] == 401
        assert fake.post(body, timestamp=int(time.time()) - 10 * 60)[0] == 401
        bot.settle()
        assert fake.messages(fake.dm(ANA)) == []


def test_a_retried_event_acts_once(uow, clock, fake):
    on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")
        body = fake.dm_event(ANA, "/credits")
        assert bot.post(body)[0] == 200
        assert bot.post(body, retry_num=1)[0] == 200  # Slack's retry: same event_id
        assert bot.post(body, retry_num=2)[0] == 200
        assert len(ana.screen()) == 1 and "Your credits" in ana.screen()[0]


def test_a_stranger_pressing_the_experts_buttons_changes_nothing(uow, clock, fake):
    w = on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana, eve = SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata"), SlackUser(bot, EVE, "Eve")
        SlackUser(bot, MALLORY, "Mallory")
        book_eve(bot, ana)
        ts, action_id = eve.button("Accept")
        card = fake.last(eve.dm)
        assert bot.post(fake.press(MALLORY, eve.dm, ts, action_id))[0] == 200
        assert fake.last(eve.dm).edits == card.edits  # the card is as it was
    with uow() as u:
        [booking] = u.bookings.for_person(w.ana)
    assert booking.status is BookingStatus.REQUESTED


def test_the_modal_shows_errors_next_to_the_field_and_a_time_taken_meanwhile_is_said_in_the_chat(uow, clock, fake):
    w = on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana, modal_id = to_the_modal(bot)
        status, answer = fake.submit(ANA, modal_id, {"title": "Seed plan", "outcome": "   ", "intro": "",
                                                     "context": ""})
        assert status == 200 and answer is not None and answer["response_action"] == "errors"
        assert set(answer["errors"]) == {"outcome"} and fake.modal(ANA) is not None  # still open
        with uow() as u:  # meanwhile Ben takes Tuesday 09:30 London
            from core import booking_service
            from core.sessions import MeetingRequest, SessionDetails
            from tests.flows.test_book import TUE_0930

            booking_service.request_booking(u, clock, client_id=w.ben, expert_id=w.eve,
                                            meetings=[MeetingRequest(TUE_0930, 30)],
                                            details=SessionDetails("Other", "Other outcome"),
                                            policy=booking_service.DEFAULT_POLICY)
            u.commit()
        status, answer = fake.submit(ANA, modal_id, {"title": "Seed plan", "outcome": "A plan", "intro": "",
                                                     "context": ""})
        assert (status, answer) == (200, None) and fake.modal(ANA) is None  # stored and closed at once
        bot.settle()  # the flow finds the time gone: the chat says so, with the details kept
        said = "\n".join(ana.screen()[-2:])
        assert "was just taken" in said and "details are saved" in said
        with uow() as u:
            assert u.bookings.for_person(w.ana) == []
        ana.tap("Tue 5 Mar")
        assert "attach files" in ana.tap("15:30") and fake.modal(ANA) is None  # the files step, no form again
        assert "“Seed plan”" in ana.tap("Done")
        assert "Request sent" in ana.tap("Confirm")
    with uow() as u:
        [booking] = u.bookings.for_person(w.ana)
    assert booking.details.title == "Seed plan" and booking.details.outcome == "A plan"


def test_a_form_submitted_after_the_chat_moved_on_is_said_in_the_chat_and_changes_nothing(uow, clock, fake):
    on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana, modal_id = to_the_modal(bot)
        ana.say("/cancel")  # the booking is dropped while the form is open
        status, answer = fake.submit(ANA, modal_id, {"title": "Seed plan", "outcome": "A plan", "intro": "",
                                                     "context": ""})
        assert (status, answer) == (200, None)  # its own rules pass: stored, closed
        bot.settle()
        said = ana.screen()[-1]
        assert "I could not take those details" in said and "out of date" in said
        assert "the details are in" not in "\n".join(ana.screen())


def test_app_home_shows_sessions_credits_and_a_book_button(uow, clock, fake):
    on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata")
        book_eve(bot, ana)
        bot.post(fake.app_home_opened(ANA))
        home = fake.home(ANA)
        assert home is not None
        text = json.dumps(home)
        assert "Book a session" in text and "Upcoming (1)" in text and "Your credits" in text
        # A button on the Home tab answers in the DM, like any other press.
        [book] = [b for b in home["blocks"] if b.get("type") == "actions"
                  and any(e["text"]["text"] == "Book a session" for e in b["elements"])]
        action = next(e["action_id"] for e in book["elements"] if e["text"]["text"] == "Book a session")
        bot.post(fake.press_view(ANA, home["id"], action))
        assert "What do you need help with?" in ana.screen()[-1]
        stranger = SlackUser(bot, "U0NEW", "Nia")
        bot.post(fake.app_home_opened(stranger.user_id))
        assert "Send me a message" in json.dumps(fake.home("U0NEW"))



def test_acknowledged_within_three_seconds_while_slow_work_goes_on(uow, clock, fake):
    on_slack(uow)
    with RunningSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")
        real = bot.dispatcher.handle

        def slow(incoming):  # type: ignore[no-untyped-def]
            time.sleep(3.5)  # slower than Slack waits
            return real(incoming)

        bot.dispatcher.handle = slow  # type: ignore[method-assign]
        started = time.monotonic()
        status, _, _ = fake.post(fake.slash(ANA, "/credits", ""))
        assert status == 200 and time.monotonic() - started < 1.0
        bot.settle(timeout=15)
        assert "Your credits" in ana.screen()[-1]


def test_staff_grant_credits_from_slack_and_the_founder_hears_of_it(uow, clock, fake):
    w = on_slack(uow)
    with uow() as u:
        sam = f.staff(u, "sam", u.people.company(w.company).programme_id)
        u.people.save(dataclasses.replace(sam, slack_user_id="U0SAM"))
        u.commit()
    with RunningSlack(fake, uow, clock) as bot:
        sam_chat, ana = SlackUser(bot, "U0SAM", "Sam"), SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata")
        assert "Who gets the credits?" in sam_chat.command("/grant")
        assert "Which kind of credits" in sam_chat.say("@ana")
        sam_chat.tap("Individual")
        assert "Grant 1.5 credits" in sam_chat.say("1.5")
        assert "I told them." in sam_chat.tap("Confirm grant")
        assert "Sam granted you 1.5 credits" in ana.screen()[-1]
        assert "Nothing is waiting for triage." in sam_chat.command("/triage")
    with uow() as u:
        from core.credit_service import balance

        assert balance(u, w.ana).available == 3500


def test_a_rate_limited_post_is_retried_and_sent_once(uow, clock, fake):
    on_slack(uow)
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    with RunningSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")
        ana.command("/credits")
        bot.settle(timeout=15)
        assert len(ana.screen()) == 1 and "Your credits" in ana.screen()[0]
    posts = [c for c in fake.calls if c.method == "chat.postMessage"]
    assert [c.status for c in posts] == [429, 200] and posts[1].at - posts[0].at >= 0.9


def _files(fake, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.name for f in fake.files(fake.dm(user))]
