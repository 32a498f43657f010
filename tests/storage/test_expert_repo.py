"""Experts and their availability survive the round trip through either database unchanged."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core.amounts import Money
from core.experts import Expert, ExpertKind, MeetingLink
from core.schedule import BookingRules, DateException, ExceptionKind, Schedule, WeeklyWindow
from tests import factories as f


def test_schedule_round_trip(uow):
    schedule = Schedule(
        "Asia/Kolkata",
        (WeeklyWindow(0, 9 * 60, 12 * 60), WeeklyWindow(2, 14 * 60, 1440)),
        (DateException(date(2030, 3, 5), ExceptionKind.OFF),
         DateException(date(2030, 3, 6), ExceptionKind.OFF, 10 * 60, 11 * 60),
         DateException(date(2030, 3, 7), ExceptionKind.EXTRA, 18 * 60, 19 * 60 + 30)),
        BookingRules(min_notice=timedelta(hours=6), horizon=timedelta(days=30), buffer=timedelta(minutes=10), daily_cap=3),
    )
    with uow() as u:
        p = f.person(u, "priya", tz="Asia/Kolkata")
        expert = u.experts.put(
            Expert(None, p.id, "priya", "Priya", "Asia/Kolkata", ExpertKind.COMPENSATED, headline="Angel",
                   topics=("Fundraising", "Pitch decks"), languages=("en", "hi"), rate_multiplier=Decimal("1.25"),
                   hourly_rate=Money(250000, "INR"), meeting_link=MeetingLink.from_url("https://zoom.us/j/1")),
            schedule,
        )
        u.commit()
    with uow() as u:
        assert u.experts.schedule(expert.id) == schedule
        assert u.experts.schedules([expert.id]) == {expert.id: schedule}
        again = u.experts.get(expert.id)
        assert again == expert
        assert again.rate_multiplier == Decimal("1.25") and again.hourly_rate == Money(250000, "INR")
        assert u.experts.by_handle("@Priya") == expert
        assert u.experts.get_many([expert.id, 999]) == {expert.id: expert}


def test_put_again_replaces_hours_and_search_terms(uow, clock):
    from core.discovery import SearchQuery
    from core.discovery_service import search_experts

    with uow() as u:
        ex = f.expert(u, "eve", topics=("Pricing",))
        u.experts.put(ex.__class__(**{**{k: getattr(ex, k) for k in ex.__slots__}, "topics": ("Hiring",)}),
                      Schedule("Europe/London", (WeeklyWindow(4, 600, 660),)))
        u.commit()
    with uow() as u:
        assert u.experts.schedule(ex.id).weekly == (WeeklyWindow(4, 600, 660),)
        assert [m.expert.handle for m in search_experts(u.experts, clock, SearchQuery("pricing"))] == []
        assert [m.expert.handle for m in search_experts(u.experts, clock, SearchQuery("hiring"))] == ["eve"]
