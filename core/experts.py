"""Expert profiles: who gives sessions, on what terms, and how to reach them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlparse

from core.amounts import Money


class ExpertKind(StrEnum):
    PRO_BONO = "pro_bono"
    COMPENSATED = "compensated"


class MeetingProvider(StrEnum):
    ZOOM = "zoom"
    GOOGLE_MEET = "google_meet"
    TEAMS = "teams"
    BUILT_IN = "built_in"  # a generated link on the product's own video room
    OTHER = "other"


_PROVIDER_HOSTS: tuple[tuple[str, MeetingProvider], ...] = (
    ("zoom.us", MeetingProvider.ZOOM),
    ("zoom.com", MeetingProvider.ZOOM),
    ("meet.google.com", MeetingProvider.GOOGLE_MEET),
    ("teams.microsoft.com", MeetingProvider.TEAMS),
    ("teams.live.com", MeetingProvider.TEAMS),
)


@dataclass(frozen=True, slots=True)
class MeetingLink:
    provider: MeetingProvider = MeetingProvider.BUILT_IN
    url: str | None = None

    @classmethod
    def from_url(cls, url: str | None) -> MeetingLink:
        """Recognise Zoom, Meet and Teams by host; no URL means the built-in room."""
        if not url:
            return cls()
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.netloc:
            raise ValueError(f"meeting link must be an https:// URL, not {url!r}")
        host = parsed.hostname or ""
        for suffix, provider in _PROVIDER_HOSTS:
            if host == suffix or host.endswith("." + suffix):
                return cls(provider, url)
        return cls(MeetingProvider.OTHER, url)


@dataclass(frozen=True, slots=True)
class Rating:
    """Kept as an exact sum and count; the average is derived when shown."""

    stars_sum: int = 0
    count: int = 0

    @property
    def average(self) -> Decimal | None:
        if not self.count:
            return None
        return (Decimal(self.stars_sum) / self.count).quantize(Decimal("0.1"))

    def at_least(self, minimum: Decimal) -> bool:
        return self.count > 0 and Decimal(self.stars_sum) >= minimum * self.count


@dataclass(frozen=True, slots=True)
class Expert:
    id: int | None
    person_id: int | None
    handle: str
    name: str
    timezone: str
    kind: ExpertKind = ExpertKind.PRO_BONO
    headline: str = ""
    bio: str = ""
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    # Compensated experts: credits cost minutes/60 x multiplier; marketplace price is money per hour.
    rate_multiplier: Decimal = Decimal(1)
    hourly_rate: Money | None = None
    meeting_link: MeetingLink = field(default_factory=MeetingLink)
    rating: Rating = field(default_factory=Rating)
    session_count: int = 0
    paused_at: datetime | None = None  # paused by staff: takes no new requests until resumed

    @property
    def is_pro_bono(self) -> bool:
        return self.kind is ExpertKind.PRO_BONO
