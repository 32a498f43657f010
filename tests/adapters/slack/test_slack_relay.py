"""A founder on Slack writes to her mentor on Telegram about their session, and he replies: the real slack-bolt and
python-telegram-bot code against the fake Slack and the fake Bot API. Whatever either typed (HTML, mrkdwn, a
channel ping, a script tag, an entity) arrives as the same visible text, escaped for each platform exactly once.
A mentor who blocked the bot on Telegram stops the relay, and the founder on Slack is told once."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from sqlalchemy import select

from core import booking_service as bs
from core.model import RelayState
from core.sessions import MeetingRequest, SessionDetails
from storage.models import RelayMessageRow
from tests.adapters.slack.harness import RunningSlack, SlackUser
from tests.adapters.slack.test_slack_booking import ANA, EVE_TG, _never_unescaped, fake, on_slack  # noqa: F401
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.fakes.slack_server import all_text
from tests.fakes.telegram_server import FakeTelegram

TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
PLATFORMS = ("slack", "telegram")
FROM_SLACK = "<script>alert(1)</script> &amp; <b>bold</b> <!channel> <@U123> <https://evil.example|click> *x* _y_"
FROM_TELEGRAM = "<i>Sure</i> & <a href=\"https://evil.example\">see</a> <!here> &lt;ok&gt;"


def confirmed(uow, clock, w) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        b = bs.request_booking(u, clock, client_id=w.ana, expert_id=w.eve, meetings=[MeetingRequest(TUE_10, 30)],
                               details=SessionDetails("Seed <plan> & co", "A plan"), policy=bs.DEFAULT_POLICY)
        bs.accept(u, clock, booking_id=b.id, actor_id=w.eve_person)
        u.commit()
        return int(b.id)


def mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_a_message_from_slack_reaches_telegram_and_the_reply_comes_back_escaped_once(uow, clock, fake):  # noqa: F811
    w = on_slack(uow, eve_telegram=True)
    booking_id = confirmed(uow, clock, w)
    with FakeTelegram(private_limit=None) as tg, RunningBot(tg, uow, clock, polling=True, platforms=PLATFORMS) as tbot, \
            RunningSlack(fake, uow, clock, platforms=PLATFORMS) as sbot:
        eve = TgUser(tbot, EVE_TG, "Eve")
        eve.say("/help")  # Telegram lets a bot write only to someone who started it
        ana = SlackUser(sbot, ANA, "Ana", tz="Asia/Kolkata")
        ana.command("/sessions")
        assert "Message Eve 1" in ana.labels()
        out = ana.tap("Message Eve 1")
        assert "Type your message to Eve about “Seed &lt;plan&gt; &amp; co”" in out  # as Slack shows it
        assert "Sent to Eve." in ana.say(FROM_SLACK)
        tbot.settle()

        relayed = tg.last(EVE_TG)
        head = "Ana wrote to you about “Seed <plan> & co” (Tue 5 Mar):"
        assert relayed.html == html.escape(f"{head}\n{FROM_SLACK}", quote=False)
        assert relayed.html == ("Ana wrote to you about “Seed &lt;plan&gt; &amp; co” (Tue 5 Mar):\n"
                                "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &lt;b&gt;bold&lt;/b&gt; &lt;!channel&gt; "
                                "&lt;@U123&gt; &lt;https://evil.example|click&gt; *x* _y_")
        assert relayed.text == f"{head}\n{FROM_SLACK}" and relayed.entities == []  # no bold, no link: plain text
        assert [b["text"] for row in relayed.reply_markup["inline_keyboard"] for b in row] == ["Reply"]

        out = eve.tap("Reply")
        assert "Your last messages with Ana about “Seed <plan> & co”:\nAna, " in out  # the thread first
        assert f"   {FROM_SLACK}" in out
        assert "Sent to Ana." in eve.say(FROM_TELEGRAM)
        sbot.runtime.pump.wake()
        sbot.settle()

        back = fake.last(fake.dm(ANA))
        expected = mrkdwn(f"Eve wrote to you about “Seed <plan> & co” (Tue 5 Mar):\n{FROM_TELEGRAM}")
        assert expected == ("Eve wrote to you about “Seed &lt;plan&gt; &amp; co” (Tue 5 Mar):\n"
                            "&lt;i&gt;Sure&lt;/i&gt; &amp; &lt;a href=\"https://evil.example\"&gt;see&lt;/a&gt; "
                            "&lt;!here&gt; &amp;lt;ok&amp;gt;")
        assert all_text(back).startswith(expected)
        posted = [c for c in fake.calls if c.method == "chat.postMessage" and c.params.get("channel") == ANA]
        assert any(c.params.get("text") == expected for c in posted)  # the notification text too
        assert "Reply" in ana.labels()
        ana.tap("Reply")
        assert "Eve, " in all_text(fake.last(fake.dm(ANA))) and mrkdwn(FROM_TELEGRAM) in all_text(fake.last(fake.dm(ANA)))
    _never_unescaped(fake)
    with uow() as u:
        assert [m.text for m in u.relay.thread(booking_id, 10)] == [FROM_SLACK, FROM_TELEGRAM]


def test_a_mentor_who_blocked_the_bot_on_telegram_stops_the_relay_and_slack_hears_once(uow, clock, fake):  # noqa: F811
    w = on_slack(uow, eve_telegram=True)
    booking_id = confirmed(uow, clock, w)
    with FakeTelegram(private_limit=None) as tg, RunningBot(tg, uow, clock, polling=True, platforms=PLATFORMS) as tbot, \
            RunningSlack(fake, uow, clock, platforms=PLATFORMS) as sbot:
        ana = SlackUser(sbot, ANA, "Ana", tz="Asia/Kolkata")
        tg.user(EVE_TG, first_name="Eve")
        tg.block(EVE_TG)
        ana.command("/sessions")
        ana.tap("Message Eve 1")
        assert "Sent to Eve." in ana.say("Are you there?")
        tbot.settle()  # Telegram answers 403: the outbox gives up, the message is marked, Ana is told
        sbot.runtime.pump.wake()
        sbot.settle()
        told = ("Eve cannot get messages from me any more (they blocked the bot or left the chat), so your message "
                "about “Seed &lt;plan&gt; &amp; co” was not delivered.")
        assert sum(told in text for text in ana.screen()) == 1
        ana.command("/sessions")
        out = ana.tap("Message Eve 1")  # nothing more is taken for her
        assert "Eve cannot get messages from me any more" in out and "Nothing was sent." in out
        assert "Type your message" not in out
        assert tg.sent(EVE_TG) == []
        assert sum(told in text for text in ana.screen()) == 1  # told once
    with uow() as u:
        states = u.session.scalars(select(RelayMessageRow.state).where(RelayMessageRow.booking_id == booking_id)).all()
    assert states == [RelayState.BLOCKED.value]
    _never_unescaped(fake)
