"""Any slot the bot offers, typed back in the words it was shown in, in any of the four languages, reads back as
the same instant. A time the clocks show twice (a fall-back night) looks the same both times, so there the
answer is the question with both, one of them the slot.

The displays are the bot's own: bot/i18n.py's patterns through Babel in the person's locale and zone (the
Translator itself for English, whose catalog exists; the other catalogs come later with issue 14's
translations, and then the Translator formats exactly like this)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.i18n import DAY_PATTERN, TIME_PATTERN, WHEN_PATTERN, Translator
from bot.typed_time import Exact, Reading, TwiceOnFallBack, read_typed_time
from core.availability import free_slots
from core.schedule import BookingRules, Schedule, WeeklyWindow

ZONES = (
    "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "Asia/Kathmandu", "Europe/Madrid",
    "Europe/Moscow", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Asia/Tehran", "Pacific/Apia",
    "America/Sao_Paulo", "Pacific/Auckland", "America/Los_Angeles", "UTC",
)
LANGUAGES = ("en", "es", "ru", "hi")
RULES = BookingRules(min_notice=timedelta(hours=1), horizon=timedelta(days=60))


def shown(at: datetime, zone: str, language: str, pattern: str) -> str:
    return format_datetime(at, pattern, tzinfo=ZoneInfo(zone), locale=Locale.parse(language))


def same_instant(reading: Reading, at: datetime) -> bool:
    if isinstance(reading, Exact):
        return reading.at == at
    if isinstance(reading, TwiceOnFallBack):  # shown alike twice: both offered, the slot among them
        return at in (reading.first, reading.second)
    return False


@st.composite
def offered_slots(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """(now, a slot free_slots offers): an expert somewhere, hours starting on any 5 minutes, any week day."""
    expert_zone = draw(st.sampled_from(ZONES))
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 10 * 365 * 24 * 60)))
    start = draw(st.integers(0, 23 * 12)) * 5
    end = min(1440, start + draw(st.integers(30, 16 * 60)))
    weekly = tuple(WeeklyWindow(d, start, end) for d in draw(st.sets(st.integers(0, 6), min_size=1)))
    slots = free_slots(Schedule(expert_zone, weekly, (), RULES), [], timedelta(minutes=30), now)
    if not slots:
        slots = [now + timedelta(minutes=15 * draw(st.integers(8, 4 * 24 * 60)))]
    return now, slots[draw(st.integers(0, len(slots) - 1))]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offered_slots(), st.sampled_from(ZONES), st.sampled_from(LANGUAGES))
# the nights the clocks change: 01:30 in New York on 7 Nov 2027, once in EDT and once in EST, ...
@example((_utc("2027-11-01T12:00Z"), _utc("2027-11-07T05:30Z")), "America/New_York", "ru")
@example((_utc("2027-11-01T12:00Z"), _utc("2027-11-07T06:30Z")), "America/New_York", "en")
@example((_utc("2027-03-10T12:00Z"), _utc("2027-03-14T07:00Z")), "America/New_York", "es")  # 03:00 EDT
@example((_utc("2027-10-25T12:00Z"), _utc("2027-10-31T00:30Z")), "Europe/London", "hi")
@example((_utc("2027-10-25T12:00Z"), _utc("2027-10-31T01:30Z")), "Europe/London", "es")
@example((_utc("2027-03-25T12:00Z"), _utc("2027-03-28T01:00Z")), "Europe/London", "ru")  # 02:00 BST
@example((_utc("2027-04-01T12:00Z"), _utc("2027-04-03T15:30Z")), "Australia/Sydney", "en")  # 02:30 AEDT
@example((_utc("2027-04-01T12:00Z"), _utc("2027-04-03T16:30Z")), "Australia/Sydney", "hi")  # 02:30 AEST
@example((_utc("2027-09-30T12:00Z"), _utc("2027-10-02T16:00Z")), "Australia/Sydney", "ru")  # 03:00 AEDT
@example((_utc("2027-03-01T10:00Z"), _utc("2027-03-02T04:15Z")), "Asia/Kathmandu", "hi")  # 10:00 +05:45
@example((_utc("2027-12-30T10:00Z"), _utc("2028-01-02T09:00Z")), "Asia/Kolkata", "es")  # into the next year
def test_a_slot_shown_reads_back_as_the_same_instant(case: tuple[datetime, datetime], zone: str, language: str) -> None:
    now, at = case
    local_day = at.astimezone(ZoneInfo(zone)).date()
    when = f"{shown(at, zone, language, WHEN_PATTERN)} ({zone})"  # Translator.when: "Tue 5 Mar 2030, 10:00 (Zone)"
    day_and_time = f"{shown(at, zone, language, DAY_PATTERN)} {shown(at, zone, language, TIME_PATTERN)}"  # buttons
    time_alone = shown(at, zone, language, TIME_PATTERN)  # a time button's label, on that day's page
    if language == "en":
        t = Translator("en", zone)
        assert (when, day_and_time, time_alone) == (t.when(at), f"{t.day(at)} {t.time(at)}", t.time(at))
    for text, page in ((when, None), (day_and_time, None), (time_alone, local_day)):
        got = read_typed_time(text, zone=zone, language=language, now=now, day=page)
        assert same_instant(got, at), (text, got)
