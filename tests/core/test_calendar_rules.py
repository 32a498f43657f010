"""The calendar rules: addresses, backoff, when a failing calendar is told, what blocks time, clashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.calendar_service import (
    BusyInterval,
    CalendarProblem,
    RefreshRules,
    SessionTime,
    blocks_time,
    calendar_url,
    check_secret,
    clashes,
    needs_full_read,
)

NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize("typed, expected", [
    ("webcal://calendar.google.com/calendar/ical/x%40gmail.com/private-abc/basic.ics",
     "https://calendar.google.com/calendar/ical/x%40gmail.com/private-abc/basic.ics"),
    ("  https://outlook.office365.com/owa/calendar/a/b/calendar.ics ",
     "https://outlook.office365.com/owa/calendar/a/b/calendar.ics"),
    ("HTTPS://Example.com", "https://example.com/"),
    ("https://example.com:8443/cal.ics?x=1#frag", "https://example.com:8443/cal.ics?x=1"),
])
def test_addresses_people_paste_are_read(typed, expected):
    assert calendar_url(typed) == expected


@pytest.mark.parametrize("typed, reason", [
    ("", "calendar_bad_url"),
    ("ftp://example.com/cal.ics", "calendar_bad_url"),
    ("https://user:pw@example.com/cal.ics", "calendar_bad_url"),
    ("https://exa mple.com/", "calendar_bad_url"),
    ("https://example.com/" + "a" * 2000, "calendar_bad_url"),
    ("https://example.com:99999/", "calendar_bad_url"),
    ("http://127.0.0.1/cal.ics", "calendar_private_address"),
    ("http://localhost:8080/", "calendar_private_address"),
    ("http://169.254.169.254/latest/meta-data", "calendar_private_address"),
    ("http://[::1]/", "calendar_private_address"),
    ("http://10.0.0.5/cal.ics", "calendar_private_address"),
])
def test_bad_and_private_addresses_are_refused_with_a_reason(typed, reason):
    with pytest.raises(CalendarProblem) as refused:
        calendar_url(typed)
    assert refused.value.reason == reason


def test_private_addresses_when_the_deployment_allows_them():
    assert calendar_url("http://127.0.0.1:5232/ana/", allow_private=True) == "http://127.0.0.1:5232/ana/"


def test_backoff_doubles_up_to_a_ceiling_and_a_success_resets_it():
    rules = RefreshRules(interval=10 * MIN, max_backoff=timedelta(hours=6))
    assert [rules.next_attempt(NOW, n) - NOW for n in range(0, 8)] == [
        10 * MIN, 10 * MIN, 20 * MIN, 40 * MIN, 80 * MIN, 160 * MIN, 320 * MIN, timedelta(hours=6)]
    assert rules.next_attempt(NOW, 10_000) - NOW == timedelta(hours=6)


def test_a_failing_calendar_is_told_once_per_streak():
    rules = RefreshRules()
    assert [rules.should_report(n, False) for n in range(5)] == [False, False, False, True, True]
    assert not rules.should_report(7, True)


def test_what_blocks_time():
    assert blocks_time(transparent=False, cancelled=False, declined_by_owner=False)
    assert not blocks_time(transparent=True, cancelled=False, declined_by_owner=False)
    assert not blocks_time(transparent=False, cancelled=True, declined_by_owner=False)
    assert not blocks_time(transparent=False, cancelled=False, declined_by_owner=True)


def test_a_stored_span_is_read_again_in_full_before_it_stops_covering_the_horizon():
    horizon = timedelta(days=60)
    assert needs_full_read(None, NOW, horizon)
    assert not needs_full_read(NOW + horizon + timedelta(days=7), NOW, horizon)
    assert needs_full_read(NOW + horizon + timedelta(hours=23), NOW, horizon)


def test_clashes_are_overlaps_not_touches():
    session = SessionTime(1, 2, NOW, NOW + 30 * MIN)
    before = BusyInterval(NOW - 30 * MIN, NOW, "a")
    inside = BusyInterval(NOW + 10 * MIN, NOW + 20 * MIN, "b")
    after = BusyInterval(NOW + 30 * MIN, NOW + 60 * MIN, "c")
    assert clashes([before, inside, after], [session]) == [(inside, session)]


def test_secrets_keep_their_spaces_but_not_a_files_newline():
    assert check_secret("abcd efgh ijkl\n") == "abcd efgh ijkl"
    assert check_secret("") is None
    with pytest.raises(CalendarProblem):
        check_secret("a\x00b")
