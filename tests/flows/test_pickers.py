"""The shared day and slot pickers: paging a long list of days, paging or thinning a long day, and a hint
for the starts left out that the typed-time reader really understands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bot.flows import all_flows
from bot.flows.pickers import (
    MAX_DAYS,
    MAX_SLOTS,
    between_hint,
    later_days_start,
    local_day,
    nearest,
    slot_page,
    thin,
)
from bot.i18n import Translator
from core.schedule import WeeklyWindow
from tests import factories as f

TUE = datetime(2030, 3, 5, tzinfo=UTC)  # London is on UTC in March


def starts(first: datetime, every: int, count: int) -> list[datetime]:
    return [first + timedelta(minutes=every * i) for i in range(count)]


# ---------------------------------------------------------------- pure helpers


def test_the_registry_lists_every_flow_in_lookup_order() -> None:
    assert [flow.name for flow in all_flows()] == [
        "start", "help", "book", "req", "avail", "ses", "rev", "ans", "rly", "credits", "buy", "staff", "tri", "dash", "wl",
    ]


def test_later_days_start_is_the_first_start_of_the_first_day_left_out() -> None:
    daily = [TUE + timedelta(days=d, hours=h) for d in range(MAX_DAYS + 2) for h in (9, 14)]
    assert later_days_start(daily, "UTC") == TUE + timedelta(days=MAX_DAYS, hours=9)
    assert later_days_start(daily[: 2 * MAX_DAYS], "UTC") is None  # every day fits
    # Days are local: 23:30 UTC on Tuesday is already Wednesday in Kolkata.
    late = [TUE + timedelta(days=d, hours=23, minutes=30) for d in range(MAX_DAYS + 1)]
    assert local_day(late[0], "Asia/Kolkata") == (TUE + timedelta(days=1)).date()
    assert later_days_start(late, "Asia/Kolkata") == late[MAX_DAYS]


def test_slot_page_says_where_the_next_page_starts() -> None:
    day = starts(TUE.replace(hour=9), 15, MAX_SLOTS + 3)
    page, later = slot_page(day)
    assert page == day[:MAX_SLOTS] and later == day[MAX_SLOTS]
    assert slot_page(day[:MAX_SLOTS]) == (day[:MAX_SLOTS], None)


def test_thin_keeps_short_days_and_prefers_round_times() -> None:
    short = starts(TUE.replace(hour=9), 15, MAX_SLOTS)
    assert thin(short, "UTC") == short
    # 09:00-17:00 in quarter hours (32 starts): the half hours fit on the buttons.
    quarters = starts(TUE.replace(hour=9), 15, 32)
    assert thin(quarters, "UTC") == starts(TUE.replace(hour=9), 30, 16)
    # 08:00-20:00 in half hours (24 starts): the hours.
    halves = starts(TUE.replace(hour=8), 30, 24)
    assert thin(halves, "UTC") == starts(TUE.replace(hour=8), 60, 12)


def test_thin_spreads_a_very_long_day_over_the_whole_day() -> None:
    # A whole day in quarter hours: 96 starts, 24 of them on the hour: every second hour, to the evening.
    whole = starts(TUE, 15, 96)
    shown = thin(whole, "UTC")
    assert shown == starts(TUE, 120, 12)
    assert len(shown) <= MAX_SLOTS and shown[-1].hour == 22
    # A grid that never meets the half hour (windows from :10) is spread, never emptied.
    odd = starts(TUE.replace(hour=8, minute=10), 15, 40)
    shown = thin(odd, "UTC")
    assert 0 < len(shown) <= MAX_SLOTS and shown[0] == odd[0] and shown[-1] > odd[30]


def test_thin_counts_the_minutes_in_the_persons_zone() -> None:
    # Kolkata is UTC+5:30: its round hours are half past in UTC.
    day = starts(TUE.replace(hour=3), 30, 24)
    shown = thin(day, "Asia/Kolkata")
    assert len(shown) == 12 and all(s.minute == 30 for s in shown)


def test_between_hint_names_the_day_of_the_first_start_left_out() -> None:
    ctx = SimpleNamespace(t=Translator("en", "Europe/London"))
    halves = starts(TUE.replace(hour=8), 30, 24)
    shown = thin(halves, "Europe/London")
    assert between_hint(ctx, halves, shown) == (  # type: ignore[arg-type]
        "More times are free in between: type one, for example “Tue 5 Mar 08:30”.")
    assert between_hint(ctx, shown, shown) == ""  # type: ignore[arg-type]


def test_nearest_are_the_closest_in_time_order() -> None:
    day = starts(TUE.replace(hour=9), 60, 8)
    target = TUE.replace(hour=13, minute=20)
    assert nearest(day, target, 3) == [TUE.replace(hour=12), TUE.replace(hour=13), TUE.replace(hour=14)]
    assert nearest(day, target, 0) == []


# ---------------------------------------------------------------- in the chat


def test_a_long_day_in_the_booking_flow_shows_round_times_and_a_typeable_example(uow, chat) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        ben = f.person(u, "ben")
        f.credits(u, amount="5", person_id=ben.id)
        f.expert(u, "ida", weekly=tuple(WeeklyWindow(d, 8 * 60, 20 * 60) for d in range(5)))
        u.commit()
    ben_chat = chat("ben")
    ben_chat.say("/book fundraising")
    ben_chat.say("Book Ida")
    ben_chat.say("30 min · 0.5 credits")
    ben_chat.say("1")
    out = ben_chat.say("Tue 5 Mar")
    # 08:00-20:00 has 24 half-hour starts for a 30-minute meeting: the 12 on the hour are the buttons.
    assert "[1] 08:00  [2] 09:00  [3] 10:00" in out and "[12] 19:00  [13] Other day" in out
    assert "08:30 (Europe/London)" not in out
    assert "More times are free in between: type one, for example “Tue 5 Mar 08:30”." in out
    out = ben_chat.say("Tue 5 Mar 08:30")  # the example, typed as shown, is that day and time
    assert "You mean Tue 5 Mar 2030, 08:30 (Europe/London)" in out
    ben_chat.say("Yes")
    assert "short title" in ben_chat.text
    with uow() as u:
        assert u.bookings.for_person(ben.id or 0) == []  # nothing is held before Confirm
        assert u.conversations.load("console", "ben", "ben").data["slots"] == [
            int((datetime(2030, 3, 5, 8, 30, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 60)
        ]
