"""Search by intent over the database, ranked best match first, then soonest availability."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.discovery import SearchFilters, SearchQuery
from core.discovery_service import search_experts
from core.schedule import BookingRules, WeeklyWindow
from tests import factories as f


def _handles(u, clock, intent="", **filters):  # type: ignore[no-untyped-def]
    return [m.expert.handle for m in search_experts(u.experts, clock, SearchQuery(intent, SearchFilters(**filters), 10))]


def _world(u):  # type: ignore[no-untyped-def]
    f.expert(u, "topic", topics=("Pricing", "B2B SaaS"), headline="Operator")
    f.expert(u, "headline", topics=("Hiring",), headline="Pricing advisor for SaaS companies")
    f.expert(u, "bio", topics=("Legal",), bio="I once worked on pricing.", paid=False, languages=("en", "hi"))
    f.expert(u, "nothing", topics=("Design",), headline="UX research")


def test_best_match_first(uow, clock):
    with uow() as u:
        _world(u)
        assert _handles(u, clock, "pricing for B2B SaaS") == ["topic", "headline", "bio"]
        assert _handles(u, clock, "prices") == ["topic", "headline", "bio"]  # stems meet
        assert _handles(u, clock, "ux research") == ["nothing"]
        assert _handles(u, clock, "astrophysics") == []


def test_filters(uow, clock):
    with uow() as u:
        _world(u)
        assert _handles(u, clock, "pricing", pro_bono=True) == ["bio"]
        assert _handles(u, clock, "pricing", pro_bono=False) == ["topic", "headline"]
        assert _handles(u, clock, "pricing", language="hi") == ["bio"]
        ids = {u.experts.by_handle("headline").id}
        assert _handles(u, clock, "pricing", only_expert_ids=frozenset(ids)) == ["headline"]
        assert _handles(u, clock, "pricing", only_expert_ids=frozenset()) == []


def test_rating_and_price_filters(uow, clock):
    with uow() as u:
        cheap = f.expert(u, "cheap", topics=("Pricing",), multiplier="1")
        pricey = f.expert(u, "pricey", topics=("Pricing",), multiplier="2.5")
        for _ in range(3):
            u.experts.add_rating(cheap.id, 5)
        u.experts.add_rating(pricey.id, 3)
        assert _handles(u, clock, "pricing", max_multiplier=Decimal("1.5")) == ["cheap"]
        assert _handles(u, clock, "pricing", min_rating=Decimal("4.5")) == ["cheap"]
        assert _handles(u, clock, "pricing", min_rating=Decimal("3")) == ["cheap", "pricey"]  # rating breaks the tie


def test_min_rating_is_exact_not_truncated_to_tenths(uow, clock):
    with uow() as u:
        quarter = f.expert(u, "quarter", topics=("Pricing",))  # 17 / 4 = 4.25
        fifth = f.expert(u, "fifth", topics=("Pricing",))  # 21 / 5 = 4.2
        for stars in (4, 4, 4, 5):
            u.experts.add_rating(quarter.id, stars)
        for stars in (4, 4, 4, 4, 5):
            u.experts.add_rating(fifth.id, stars)
        assert _handles(u, clock, "pricing", min_rating=Decimal("4.25")) == ["quarter"]
        assert _handles(u, clock, "pricing", min_rating=Decimal("4.2")) == ["quarter", "fifth"]
        assert _handles(u, clock, "pricing", min_rating=Decimal("4.26")) == []


def test_equal_matches_rank_by_soonest_availability(uow, clock):
    with uow() as u:
        # Same topics, so same score; "soon" is free tomorrow, "later" only on Fridays, "never" has no hours.
        f.expert(u, "later", topics=("Pricing",), weekly=(WeeklyWindow(4, 9 * 60, 12 * 60),))
        f.expert(u, "soon", topics=("Pricing",))
        f.expert(u, "never", topics=("Pricing",), weekly=())
        assert _handles(u, clock, "pricing") == ["soon", "later", "never"]
        assert _handles(u, clock, "pricing", free_within_days=2) == ["soon"]
        assert _handles(u, clock, "pricing", free_within_days=7) == ["soon", "later"]


def test_next_free_slot_is_reported_and_respects_notice(uow, clock):
    with uow() as u:
        f.expert(u, "eve", topics=("Pricing",), rules=BookingRules(min_notice=timedelta(hours=48)))
        (match,) = search_experts(u.experts, clock, SearchQuery("pricing"))
        assert match.hit.next_free is not None
        assert match.hit.next_free >= clock.now() + timedelta(hours=48)


def test_browse_without_intent_lists_everyone(uow, clock):
    with uow() as u:
        _world(u)
        assert set(_handles(u, clock)) == {"topic", "headline", "bio", "nothing"}
