"""Finding experts by intent: how text becomes search terms, and how matches are ranked.

Terms are indexed per expert with a weight by where they appear (topics weigh
most, then the headline, then the bio); a query scores an expert by the sum of
the best weights of the query terms it matches. Storage runs the query; the
rules for terms and ranking live here so every backend ranks alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

TOPIC_WEIGHT = 6
HEADLINE_WEIGHT = 3
BIO_WEIGHT = 1

_WORD = re.compile(r"[^\W_]+(?:[+#][^\W_]*)*", re.UNICODE)
_STOPWORDS = frozenset(
    """a about an and are as at be by for from help how i in into is it me my need of on or our
    the to want we with you your advice expert experts mentor mentors session sessions""".split()
)
# Longest first, so "ings" is tried before "s".
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ers", "er", "ed", "es", "s", "e")
_ALIASES = {
    "saas": "saas",
    "b2b": "b2b",
    "b2c": "b2c",
    "gtm": "go-to-market",
    "vc": "fundrais",
    "vcs": "fundrais",
    "investor": "fundrais",
    "investors": "fundrais",
    "raise": "fundrais",
    "raising": "fundrais",
    "ux": "ux",
    "ui": "ui",
    "ml": "machine-learning",
    "ai": "ai",
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately small stemmer: plural and -ing/-ed forms meet ("pricing" ~ "price")."""
    if word in _ALIASES:
        return _ALIASES[word]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    if word.endswith("y") and len(word) > 4:  # "strategy" meets "strategies", "company" meets "companies"
        word = word[:-1]
    return word


def _fold(text: str) -> str:
    if text.isascii():  # most text: nothing to decompose (a fast path, same result)
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def terms(text: str) -> list[str]:
    """Search terms of a text, in order, stopwords dropped. "go-to-market" stays one term too."""
    folded = _fold(text)
    out: list[str] = []
    for phrase in re.findall(r"[^\W_]+(?:-[^\W_]+)+", folded):
        out.append(phrase)
    for word in _WORD.findall(folded):
        if word in _STOPWORDS or (len(word) < 3 and word not in _ALIASES):
            continue  # "go", "to", "of": noise that would match half the experts; "ai", "ux" are kept
        out.append(stem(word))
    return out


def expert_terms(topics: Iterable[str], headline: str, bio: str) -> dict[str, int]:
    """The index of one expert: each term with the weight of the best field it appears in."""
    index: dict[str, int] = {}
    for weight, texts in ((BIO_WEIGHT, [bio]), (HEADLINE_WEIGHT, [headline]), (TOPIC_WEIGHT, list(topics))):
        for text in texts:
            for term in terms(text):
                if index.get(term, 0) < weight:
                    index[term] = weight
    return index


def query_terms(intent: str) -> tuple[str, ...]:
    """Distinct terms of what a client typed, in the order typed."""
    seen: dict[str, None] = {}
    for term in terms(intent):
        seen.setdefault(term, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    pro_bono: bool | None = None  # True: only pro-bono; False: only paid
    max_multiplier: Decimal | None = None  # paid experts up to this credit multiplier
    max_hourly_minor: int | None = None  # paid experts up to this hourly rate, in `currency`'s minor units
    currency: str = "USD"  # the currency max_hourly_minor is in: other currencies cannot be compared
    language: str | None = None
    min_rating: Decimal | None = None
    free_within_days: int | None = None  # has a free slot within N days
    only_expert_ids: frozenset[int] | None = None  # admin-assigned pairing: what staff assigned


@dataclass(frozen=True, slots=True)
class SearchQuery:
    intent: str = ""
    filters: SearchFilters = SearchFilters()
    limit: int = 10
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SearchHit:
    expert_id: int
    score: int
    rating_sum: int
    rating_count: int
    next_free: datetime | None = None


def rank_key(hit: SearchHit) -> tuple[int, int, float, int, int]:
    """Best match first, then soonest availability, then rating, then more reviews.

    The float is only a sort key (a timestamp), never an amount.
    """
    soon = hit.next_free.timestamp() if hit.next_free else float("inf")
    # rating compared exactly: sum/count as a cross-multiplication is not sortable, so scale to milli-stars.
    rating_milli = (hit.rating_sum * 1000 // hit.rating_count) if hit.rating_count else 0
    return (-hit.score, 0 if hit.next_free else 1, soon, -rating_milli, hit.expert_id)
