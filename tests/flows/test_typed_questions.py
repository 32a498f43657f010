"""Typed times that could mean two things are asked about in the chat, never guessed: an hour that happens twice
or never on a DST night, an hour without am/pm where the expert's hours allow both, a weekday that contradicts
its date. One that the expert's hours settle is taken; an off-grid start is refused with the grid named.
T0 is Monday 4 March 2030, 06:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from core.credits import Source
from core.schedule import WeeklyWindow
from tests import factories as f

ALL_DAY = tuple(WeeklyWindow(d, 0, 24 * 60) for d in range(7))


def _world(uow, client_tz: str, *, all_day: bool = True, locale: str = "en") -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        programme = f.programme(u, lengths=(30, 60))
        acme = u.people.add_company("Acme", programme.id)
        client = f.person(u, "nia", tz=client_tz, company_id=acme.id)
        client.locale = locale
        u.people.save(client)
        f.credits(u, amount="5", source=Source.PROGRAMME, company_id=acme.id)
        f.expert(u, "owl", weekly=ALL_DAY if all_day else f.WEEKDAYS_9_TO_17, topics=("Fundraising",))
        u.commit()


def _to_time_step(chat):  # type: ignore[no-untyped-def]
    nia = chat("nia")
    nia.say("/book fundraising")
    nia.say("1")  # Book Owl, in any language
    nia.say("1")  # the first length
    nia.say("1")  # one meeting
    return nia


def test_an_hour_the_clocks_skip_is_named_and_the_next_valid_time_offered(uow, chat):
    _world(uow, "America/New_York")
    nia = _to_time_step(chat)
    out = nia.say("Sun 10 Mar 2:30am")  # New York springs forward at 02:00 that night
    assert "02:30 does not exist on Sun 10 Mar in America/New_York: the clocks go forward that night." in out
    assert "The first time that exists is 03:00." in out
    assert "You mean Sun 10 Mar 2030, 03:00 (America/New_York)" in out
    assert "short title" in nia.say("Yes")


def test_an_hour_that_happens_twice_offers_both_with_their_offsets(uow, chat):
    _world(uow, "Australia/Sydney")
    nia = _to_time_step(chat)
    out = nia.say("Sun 7 Apr 2:30am")  # Sydney falls back at 03:00 that night
    assert "02:30 happens twice on Sun 7 Apr in Australia/Sydney: the clocks go back that night." in out
    assert "[1] 02:30 (UTC+11:00)  [2] 02:30 (UTC+10:00)" in out and "You mean" not in out
    assert "short title" in nia.say("2")
    with uow() as u:
        convo = u.conversations.load("console", "nia", "nia")
    assert convo.data["slots"] == [int(datetime(2030, 4, 6, 16, 30, tzinfo=UTC).timestamp() // 60)]  # the second


def test_an_hour_without_am_or_pm_is_asked_when_the_expert_is_free_at_both(uow, chat):
    _world(uow, "Europe/London")
    nia = _to_time_step(chat)
    out = nia.say("tomorrow at 3")
    assert "Do you mean 03:00 or 15:00?" in out and "[1] Tue 5 Mar 03:00  [2] Tue 5 Mar 15:00" in out
    assert "You mean" not in out
    assert "short title" in nia.say("2")


def test_an_hour_without_am_or_pm_is_settled_by_the_experts_hours(uow, chat):
    _world(uow, "Europe/Madrid", all_day=False, locale="es")
    nia = _to_time_step(chat)
    out = nia.say("mañana a las 3")  # 03:00 in Madrid is 02:00 in London, outside Owl's 9-17: so 15:00
    assert "mar 5 mar 2030, 15:00 (Europe/Madrid) · 14:00 (Europe/London)" in out and "03:00" not in out


def test_a_weekday_that_contradicts_its_date_is_asked_about(uow, chat):
    _world(uow, "Europe/London")
    nia = _to_time_step(chat)
    out = nia.say("Mon 7 Mar 10:00")  # 7 March 2030 is a Thursday
    assert "Thu 7 Mar is a Thursday, not a Monday. Which day do you mean?" in out
    assert "[1] Thu 7 Mar 10:00" in out and "You mean" not in out
    assert "short title" in nia.say("1")


def test_an_off_grid_start_is_refused_with_the_grid_and_the_nearest_times(uow, chat):
    _world(uow, "Europe/London", all_day=False)
    nia = _to_time_step(chat)
    out = nia.say("tomorrow 9:07am")
    assert "Meetings start on the quarter hour (:00, :15, :30, :45), so that time cannot be booked." in out
    assert "The nearest free times" in out and "Tue 5 Mar 09:00" in out
