"""Search experts by intent: storage scores the text, the core ranks by availability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from core.availability import first_free_slot
from core.clock import Clock
from core.discovery import SearchHit, SearchQuery, query_terms, rank_key
from core.experts import Expert
from core.schedule import Busy, Schedule
from core.sessions import MIN_MINUTES

NEXT_SLOT_WINDOW = timedelta(days=14)  # how far ahead "next free slot" looks when ranking
SHORTEST = timedelta(minutes=MIN_MINUTES)


class SearchableExperts(Protocol):
    def search(self, query: SearchQuery, terms: Sequence[str], candidates: int) -> list[SearchHit]: ...
    def availability_many(self, expert_ids: Sequence[int], start: datetime, end: datetime,
                          ) -> Mapping[int, tuple[Schedule, list[Busy]]]: ...
    def get_many(self, expert_ids: Sequence[int]) -> Mapping[int, Expert]: ...


@dataclass(frozen=True, slots=True)
class Match:
    expert: Expert
    hit: SearchHit


def search_experts(experts: SearchableExperts, clock: Clock, query: SearchQuery) -> list[Match]:
    """Best matches first, then soonest availability; 'free within N days' filters on the way."""
    now = clock.now()
    terms = query_terms(query.intent)
    want = query.offset + query.limit
    days = query.filters.free_within_days
    horizon = max(NEXT_SLOT_WINDOW, timedelta(days=days or 0))
    ranked: list[SearchHit] = []
    candidates = max(want * 3, 30)
    while True:
        hits = experts.search(query, terms, candidates)
        ids = [h.expert_id for h in hits]
        free = experts.availability_many(ids, now, now + horizon + timedelta(days=1))  # schedules and busy time
        ranked = []
        for hit in hits:
            # Every expert offers 15-minute meetings (pro-bono: only those), so that is the question asked.
            nxt = first_free_slot(*free[hit.expert_id], SHORTEST, now)
            if nxt is not None and nxt > now + horizon:
                nxt = None
            if days is not None and (nxt is None or nxt > now + timedelta(days=days)):
                continue
            ranked.append(replace(hit, next_free=nxt))
        if len(ranked) >= want or len(hits) < candidates:
            break
        candidates *= 4  # the availability filter dropped too many: look deeper
    ranked.sort(key=rank_key)
    page = ranked[query.offset: want]
    profiles = experts.get_many([h.expert_id for h in page])
    return [Match(profiles[h.expert_id], h) for h in page]

