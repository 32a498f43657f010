"""Slack's App Home carries the join link and the details of a confirmed session, escaped for mrkdwn."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core import booking_service as bs
from core.sessions import MeetingRequest, SessionDetails
from tests.adapters.slack.harness import RunningSlack, SlackUser
from tests.adapters.slack.test_slack_booking import ANA, HOSTILE, _never_unescaped, fake, on_slack  # noqa: F401
from tests.flows.test_session_details import with_link

ZOOM = "https://zoom.us/j/987?pwd=x&y=1"
TUE_0930 = datetime(2030, 3, 5, 9, 30, tzinfo=UTC)


def test_app_home_shows_the_join_link_and_the_details_escaped(uow, clock, fake):  # noqa: F811
    w = on_slack(uow)
    with_link(uow, w.eve, ZOOM)
    with uow() as u:
        b = bs.request_booking(u, clock, client_id=w.ana, expert_id=w.eve, meetings=[MeetingRequest(TUE_0930, 30)],
                               details=SessionDetails(f"Seed {HOSTILE}", f"Plan {HOSTILE}",
                                                      attachments=("slack:F01#deck <v2>.pdf",)),
                               policy=bs.DEFAULT_POLICY)
        bs.accept(u, clock, booking_id=b.id, actor_id=w.eve_person)
        u.commit()
    with RunningSlack(fake, uow, clock) as bot:
        SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata")
        bot.post(fake.app_home_opened(ANA))
        home = fake.home(ANA)
        assert home is not None
        text = json.dumps(home, ensure_ascii=False)
        assert "Upcoming (1)" in text
        assert "Join: https://zoom.us/j/987?pwd=x&amp;y=1" in text  # & escaped, the link still whole
        assert "Seed &lt;!channel&gt; &amp; &lt;@U123&gt;" in text
        assert "Desired outcome: Plan &lt;!channel&gt;" in text
        assert "Files: deck &lt;v2&gt;.pdf" in text
        assert "with Eve" in text and "(Asia/Kolkata) · " in text  # the other side, both zones
    _never_unescaped(fake)
