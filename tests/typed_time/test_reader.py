"""The failing examples of issue 14, one by one, and the reader's contract: what each reading carries, the
examples it gives, its limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.typed_time import (
    MAX_CHARS,
    DayOnly,
    Exact,
    MorningOrEvening,
    NotOnSpringForward,
    Past,
    Reading,
    TwiceOnFallBack,
    Unreadable,
    Vague,
    WeekdayMismatch,
    Why,
    instants,
    read_typed_time,
)
from bot.typed_time.vocabulary import EXAMPLES, EXAMPLES_ON_A_DAY
from core.availability import check_slot, nearest_free_slots
from core.schedule import BookingRules, Schedule, SlotProblem, WeeklyWindow
from tests.typed_time.wants import local

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # Monday; 05:00 in New York
READINGS = (Exact, DayOnly, Past, Vague, MorningOrEvening, TwiceOnFallBack, NotOnSpringForward, WeekdayMismatch,
            Unreadable)
NY = "America/New_York"


def read(text: str, language: str = "en", zone: str = NY, *, now: datetime = NOW, day: date | None = None,
         grid: timedelta | None = None) -> Reading:
    return read_typed_time(text, zone=zone, language=language, now=now, day=day, grid=grid)


# ---------------------------------------------------------------- issue 14's examples, each as reported


@pytest.mark.parametrize("text, language, zone", [
    ("mañana a las 3", "es", "Europe/Madrid"),
    ("morgen 15 Uhr", "en", "Europe/Berlin"),
    ("कल 3 बजे", "hi", "Asia/Kolkata"),
])
def test_the_hour_is_never_dropped(text: str, language: str, zone: str) -> None:
    """They offered the current time of day tomorrow; now the hour typed is what is offered."""
    got = read(text, language, zone)
    tomorrow_3 = local(zone, "2027-03-02 03:00")
    tomorrow_15 = local(zone, "2027-03-02 15:00")
    assert got in (Exact(tomorrow_15), MorningOrEvening(Exact(tomorrow_3), Exact(tomorrow_15)))
    assert not any(x.astimezone(UTC).time() == NOW.time() for x in instants(got))


def test_15h_is_an_hour_and_demain_15h_tomorrow_at_that_hour() -> None:
    assert read("15h", zone="Europe/Paris") == Exact(local("Europe/Paris", "2027-03-01 15:00"))
    assert read("demain 15h", zone="Europe/Paris") == Exact(local("Europe/Paris", "2027-03-02 15:00"))


def test_tomorrow_25_00_is_no_time() -> None:
    assert read("tomorrow 25:00") == Unreadable(Why.NO_SUCH_TIME, "tomorrow 3pm")


def test_at_3_is_an_hour_not_march() -> None:
    got = read("at 3")  # at 05:00 on Monday: the next 03:00 is Tuesday's, the next 15:00 Monday's
    assert got == MorningOrEvening(Exact(local(NY, "2027-03-02 03:00")), Exact(local(NY, "2027-03-01 15:00")))


def test_a_weekday_that_contradicts_the_date_is_asked() -> None:
    got = read("Mon 7 Dec 17:00")
    assert isinstance(got, WeekdayMismatch)
    assert (got.day, got.weekday, got.weekday_day) == (date(2027, 12, 7), 0, date(2027, 12, 6))
    assert got.as_dated == Exact(local(NY, "2027-12-07 17:00"))
    assert got.as_weekday == Exact(local(NY, "2027-12-06 17:00"))


def test_the_hour_that_happens_twice_offers_both_with_their_offsets() -> None:
    got = read("Sun 7 Nov 1:30am")
    assert isinstance(got, TwiceOnFallBack)
    assert (got.first, got.second) == (datetime(2027, 11, 7, 5, 30, tzinfo=UTC), datetime(2027, 11, 7, 6, 30, tzinfo=UTC))
    assert (got.first_offset, got.second_offset) == (timedelta(hours=-4), timedelta(hours=-5))


def test_the_hour_that_does_not_exist_is_said_with_the_next_valid_time() -> None:
    got = read("Sun 14 Mar 2:30am")
    assert got == NotOnSpringForward(datetime(2027, 3, 14, 2, 30), datetime(2027, 3, 14, 7, 0, tzinfo=UTC))


def test_an_off_grid_start_is_read_as_typed_and_refused_by_the_engine_with_the_nearest_grid_times() -> None:
    schedule = Schedule(NY, tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5)), (),
                        BookingRules(min_notice=timedelta(hours=1)))
    got = read("tomorrow 9:07am")
    assert got == Exact(local(NY, "2027-03-02 09:07"))
    assert isinstance(got, Exact)
    assert check_slot(schedule, [], got.at, timedelta(minutes=30), NOW) is SlotProblem.OFF_GRID
    assert nearest_free_slots(schedule, [], got.at, timedelta(minutes=30), NOW) == (
        local(NY, "2027-03-02 09:00"), local(NY, "2027-03-02 09:15"))


# ---------------------------------------------------------------- the contract


@pytest.mark.parametrize("language", ["en", "es", "ru", "hi"])
def test_every_example_offered_is_itself_read_as_one_time(language: str) -> None:
    assert isinstance(read(EXAMPLES[language], language), Exact)
    assert isinstance(read(EXAMPLES_ON_A_DAY[language], language, day=date(2027, 3, 4)), Exact)
    assert read("xyzzy", language) == Unreadable(Why.NOT_UNDERSTOOD, EXAMPLES[language])
    assert read("xyzzy", language, day=date(2027, 3, 4)) == Unreadable(Why.NOT_UNDERSTOOD, EXAMPLES_ON_A_DAY[language])


def test_a_locale_variant_reads_as_its_language_and_an_unknown_one_as_english() -> None:
    assert read("mañana a las 15:00", "es-MX") == read("mañana a las 15:00", "es")
    assert read("xyzzy", "pt_BR") == Unreadable(Why.NOT_UNDERSTOOD, "tomorrow 3pm")


def test_an_amount_of_time_is_rounded_up_to_the_grid_on_the_local_clock() -> None:
    now = datetime(2027, 3, 1, 10, 7, 30, tzinfo=UTC)
    assert read("in 2 hours", now=now, grid=timedelta(minutes=15)) == Exact(datetime(2027, 3, 1, 12, 15, tzinfo=UTC))
    assert read("in 2 hours", now=now) == Exact(datetime(2027, 3, 1, 12, 8, tzinfo=UTC))  # no grid: the minute
    # Kathmandu is 5:45 ahead: its quarter hours are UTC's, its half hours are not
    kathmandu = read("in 1 hour", zone="Asia/Kathmandu", now=now, grid=timedelta(minutes=30))
    assert kathmandu == Exact(datetime(2027, 3, 1, 11, 15, tzinfo=UTC))  # 17:00 there


def test_a_typed_zone_is_read_in_that_zone() -> None:
    assert read("tomorrow 10:00 (Asia/Kolkata)") == Exact(datetime(2027, 3, 2, 4, 30, tzinfo=UTC))
    assert read("tomorrow 10:00 UTC") == Exact(datetime(2027, 3, 2, 10, 0, tzinfo=UTC))
    assert read("10:00 Europe/London Asia/Kolkata") == Unreadable(Why.CONFLICTING, "tomorrow 3pm")


def test_instants_lists_every_time_a_reading_offers() -> None:
    got = read("tomorrow at 3")
    assert instants(got) == (local(NY, "2027-03-02 03:00"), local(NY, "2027-03-02 15:00"))
    assert instants(DayOnly(date(2027, 3, 2))) == ()


def test_long_or_odd_input_costs_a_small_fixed_amount() -> None:
    assert read("1" * 10_000) == Unreadable(Why.TOO_LONG, "tomorrow 3pm")
    assert read("a " * (MAX_CHARS // 2)) == Unreadable(Why.TOO_LONG, "tomorrow 3pm")  # too many words
    for odd in ("", "   ", "12:3:4:5", "\x00", "٣ pm", "🙂", "((()))", "-1", "tomorrow\n3pm", "3pm" + "\u202e"):
        got = read(odd)
        assert got is not None  # answered, never raised


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        read("tomorrow 3pm", now=datetime(2027, 3, 1, 10))  # naive
    with pytest.raises(ValueError):
        read("tomorrow 3pm", zone="Mars/Olympus")


_PIECES = (
    "3", "15", "25", "0", "7th", "2027", "12:30", "25:61", "3pm", "15h", "7.12", "7.12.", "31/2", "2027-02-29", "at",
    "in", "next", "this", "the", "tomorrow", "mañana", "завтра", "कल", "a las", "de la tarde", "дня", "बजे", "साढ़े",
    "half past", "quarter to", "noon", "midnight", "Mon", "mar", "Dec", "дек.", "दिस॰", "hours", "час", "घंटे में",
    "morning", "pm", "am", "Uhr", "(Asia/Kolkata)", "UTC", "foo", "१५:००", ",", "-", "el", "que viene", "числа",
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8), st.sampled_from(["en", "es", "ru", "hi"]),
       st.sampled_from(["America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia"]),
       st.booleans())
def test_any_words_are_answered_never_raised(pieces: list[str], language: str, zone: str, on_a_day: bool) -> None:
    got = read(" ".join(pieces), language, zone, day=date(2027, 3, 4) if on_a_day else None, grid=timedelta(minutes=15))
    assert isinstance(got, READINGS)
    for at in instants(got):
        assert at.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.sampled_from(["en", "es", "ru", "hi"]))
def test_any_text_is_answered_never_raised(text: str, language: str) -> None:
    assert isinstance(read(text, language), READINGS)
