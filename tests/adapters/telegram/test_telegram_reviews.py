"""An expert's card on Telegram carries the rating and the latest reviews, escaped for Telegram's HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import booking_service as bs
from core.sessions import MeetingRequest, SessionDetails
from tests import factories as f
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.adapters.telegram.test_telegram_booking import CHEN, fake, people  # noqa: F401

TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)


def test_the_card_shows_reviews_escaped(uow, clock, fake):  # noqa: F811
    chen_id, eve_id = people(uow)
    with uow() as u:
        other = f.person(u, "ola")
        f.credits(u, amount="2", person_id=other.id)
        eve = u.experts.get(eve_id)
        b = bs.request_booking(u, clock, client_id=other.id, expert_id=eve_id, meetings=[MeetingRequest(TUE_10, 30)],
                               details=SessionDetails("Deck", "A deck"), policy=bs.DEFAULT_POLICY)
        bs.accept(u, clock, booking_id=b.id, actor_id=eve.person_id)
        u.commit()
    clock.set(TUE_10 + timedelta(hours=1))
    with uow() as u:
        bs.complete_ended(u, clock, booking_id=b.id)
        bs.leave_review(u, booking_id=b.id, author_id=other.id, stars=5, text="<b>Great</b> & <a href='x'>kind</a>",
                        private_note="<i>secret</i>")
        u.commit()
    with RunningBot(fake, uow, clock, polling=True) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        out = chen.say("/book fundraising")
        assert "Rating: 5.0 ★ (1 review)" in out
        assert "★★★★★ “<b>Great</b> & <a href='x'>kind</a>”" in out  # shown literally
        card = fake.last(CHEN)
        assert "&lt;b&gt;Great&lt;/b&gt; &amp; &lt;a href='x'&gt;kind&lt;/a&gt;" in card.html
        assert "secret" not in card.html
