"""A recurring series across platforms: a founder on Slack (the real slack-bolt app against the fake Slack)
books a weekly series with an expert in New York across the US DST change; the expert, on Telegram (the fake
Bot API), gets one card for the whole series and accepts it at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest

from core.credit_service import balance
from core.lifecycle import BookingStatus
from core.schedule import DateException, ExceptionKind, Schedule
from tests import factories as f
from tests.adapters.slack.harness import RunningSlack, SlackUser
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import FakeTelegram

ANA = "U0ANA"
NIA_TG = 7103
NY = "America/New_York"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def world(uow) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """@ana, a London founder on Slack with 4 credits; @nia, a New York expert on Telegram, off on 19 March."""
    with uow() as u:
        ana = f.person(u, "ana", tz="Europe/London")
        u.people.save(dataclasses.replace(ana, slack_user_id=ANA))
        f.credits(u, amount="4", person_id=ana.id)
        nia = f.expert(u, "nia", tz=NY, headline="Growth")
        u.experts.put(nia, Schedule(NY, f.WEEKDAYS_9_TO_17, (DateException(date(2030, 3, 19), ExceptionKind.OFF),)))
        person = u.people.get(nia.person_id)
        u.people.save(dataclasses.replace(person, telegram_user_id=NIA_TG))
        u.commit()
        return ana.id, nia.id


def test_a_series_booked_on_slack_is_accepted_at_once_by_the_expert_on_telegram(uow, clock, fake):
    ana_id, _ = world(uow)
    platforms = ("slack", "telegram")
    with FakeTelegram(private_limit=None) as tg, RunningBot(tg, uow, clock, polling=True, platforms=platforms) as tbot, \
            RunningSlack(fake, uow, clock, platforms=platforms) as sbot:
        nia = TgUser(tbot, NIA_TG, "Nia")
        nia.say("/help")
        ana = SlackUser(sbot, ANA, "Ana", tz="Europe/London")
        ana.command("/book", "growth")
        ana.tap("Book Nia")
        ana.tap("60 min · 1 credit")
        assert {"Repeat weekly", "Every two weeks", "Monthly"} <= set(ana.labels())
        ana.tap("Repeat weekly")
        ana.tap("4")
        ana.tap("Tue 5 Mar")
        out = ana.tap("15:00")
        assert "weekly, 4 sessions" in out
        assert "Tue 12 Mar 2030, 14:00 (Europe/London) · 10:00 (America/New_York)" in out  # New York moved first
        assert "Tue 19 Mar 2030, 14:00 (Europe/London) · 10:00 (America/New_York): Nia is not available that day" in out
        with uow() as u:
            assert u.bookings.for_person(ana_id) == []  # nothing held at the preview
        out = ana.tap("Go ahead with the 3 free dates")
        assert "short title" in out
        modal = sbot.fake.modal(ANA)
        assert modal is not None and modal.view["callback_id"] == "form:details"
        status, answer = sbot.fake.submit(ANA, modal.id, {"title": "Weekly growth", "outcome": "A growth plan",
                                                           "intro": "", "context": ""})
        assert (status, answer) == (200, None)
        sbot.settle()
        ana.tap("Done")
        out = ana.tap("Confirm")
        assert "Request sent to Nia: weekly, 3 sessions." in out

        tbot.settle()
        card = tg.last(NIA_TG).text
        assert "New series request from Ana: weekly, 3 sessions." in card
        assert "Tue 5 Mar 2030, 10:00 (America/New_York) · 15:00 (Europe/London)" in card
        assert "Tue 26 Mar 2030, 10:00 (America/New_York) · 14:00 (Europe/London)" in card
        assert "19 Mar" not in card
        assert sum("New series request" in text for text in nia.screen()) == 1  # one card, not one per date
        assert "Accepted ✓ the series" in nia.tap("Accept all")
        sbot.runtime.pump.wake()
        sbot.settle()
        assert any("Confirmed: your series is booked (a series of 3 sessions)." in text for text in ana.screen()[-6:])
    with uow() as u:
        stored = u.bookings.for_person(ana_id)
        assert len(stored) == 3 and {b.status for b in stored} == {BookingStatus.ACCEPTED}
        assert len({b.series_id for b in stored}) == 1
        bal = balance(u, ana_id)
        assert (bal.available, bal.held) == (1000, 0)
